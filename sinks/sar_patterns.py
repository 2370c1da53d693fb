"""Detected SAR patterns into the SAR review store, where each recipient agency's analysts find
them (GET /api/v1/sar/patterns). Idempotent: a pattern replaces the one of its id."""

from __future__ import annotations

from typing import Any

from argus.contracts import Context, Sink
from argus.records import Record
from argus.stores.sar_reviews import SarReviewStore


class SarPatternSink(Sink):
    accepts = ("sar_pattern.v1",)
    stores = ("sar_reviews",)

    def setup(self, ctx: Context) -> None:
        self._store: SarReviewStore = ctx.stores["sar_reviews"]
        self._pending: dict[str, dict[str, Any]] = {}

    def add(self, record: Record) -> None:
        self._pending[record.body["pattern_id"]] = record.body

    def flush(self) -> None:
        self._store.add_patterns(list(self._pending.values()))
        self._pending.clear()
