"""Risk scores into the risk store (the threat views and notices read it). Idempotent: a replayed
score does not roll a newer one back, and a crossing is noticed once."""

from __future__ import annotations

from typing import Any

from argus.contracts import Context, Sink
from argus.records import Record
from argus.stores.risk import RiskStore


class RiskScoreSink(Sink):
    accepts = ("risk_score.v1",)
    stores = ("risk",)

    def setup(self, ctx: Context) -> None:
        self._store: RiskStore = ctx.stores["risk"]
        self._pending: list[dict[str, Any]] = []

    def add(self, record: Record) -> None:
        self._pending.append(dict(record.body))

    def flush(self) -> None:
        self._store.put(self._pending)
        self._pending.clear()
