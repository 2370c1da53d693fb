"""Deconfliction notices into the operations store, where the workbench and the watch board read
them. Idempotent: a notice is kept once by its deterministic id."""

from __future__ import annotations

from typing import Any

from argus.contracts import Context, Sink
from argus.records import Record
from argus.stores.operations import OperationStore


class DeconflictionNoticeSink(Sink):
    accepts = ("deconfliction_notice.v1",)
    stores = ("operations",)

    def setup(self, ctx: Context) -> None:
        self._store: OperationStore = ctx.stores["operations"]
        self._pending: list[dict[str, Any]] = []

    def add(self, record: Record) -> None:
        self._pending.append(dict(record.body))

    def flush(self) -> None:
        self._store.add_notices(self._pending)
        self._pending.clear()
