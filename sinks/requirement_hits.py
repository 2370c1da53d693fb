"""The reporting that answered each requirement, into the requirement store (the gap view counts
it per reader). Idempotent: a report answers a requirement once however often it is replayed."""

from __future__ import annotations

from argus.contracts import Context, Sink
from argus.records import Record
from argus.security.policy import Marking
from argus.stores.requirements import Hit, RequirementStore


class RequirementHitSink(Sink):
    accepts = ("requirement_hit.v1",)
    stores = ("requirements",)

    def setup(self, ctx: Context) -> None:
        self._store: RequirementStore = ctx.stores["requirements"]
        self._pending: list[Hit] = []

    def add(self, record: Record) -> None:
        b = record.body
        self._pending.append(Hit(b["requirement_id"], b["report_id"], b["report_type"], list(b["matched"]),
                                 b["occurred_at"].isoformat(), Marking.from_envelope(record.envelope),
                                 b["via"]))  # fmt: skip

    def flush(self) -> None:
        self._store.add_hits(self._pending)
        self._pending.clear()
