"""Risk scores into the risk store (the threat views and notices read it). Idempotent: a replayed
score does not roll a newer one back, and a crossing is noticed once."""

from __future__ import annotations

from typing import Any

from argus.contracts import Context, Sink
from argus.records import Record
from argus.stores.risk import RiskStore


class RiskScoreSink(Sink):
    accepts = ("risk_score.v1", "purge.v1")
    stores = ("risk",)

    def setup(self, ctx: Context) -> None:
        self._store: RiskStore = ctx.stores["risk"]
        self._pending: list[dict[str, Any]] = []
        self._purged: list[str] = []

    def add(self, record: Record) -> None:
        if "purge_id" in record.value:  # a purged report: no score or notice may name it
            self.flush()
            self._purged.append(record.value["record_id"])
            return
        self._pending.append(dict(record.body))

    def flush(self) -> None:
        for rid in self._purged:
            self._store.forget(rid)
        self._purged.clear()
        self._store.put(self._pending)
        self._pending.clear()
