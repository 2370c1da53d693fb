"""Retention review (28 CFR 23.20(h)): criminal intelligence and SARs carry a review-by date
(five years from submission unless the agency's policy says less); when it comes, a named
reviewer either revalidates the record with a reason (a new review-by date) or lets it lapse,
and a lapsed record is purged everywhere.

What is due is read from the `reports` topic (the deduplicated record of everything that came
in), so nothing beside the log has to be kept in step with it. The decisions are the audit
trail's `review` entries (one write per decision, so a decision is never made without its audit
entry, and every host of an API or CLI sharing the trail sees the same decisions).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

from argus.backends import read_topic
from argus.bus.base import Bus
from argus.records import RETENTION, utcnow
from argus.schemas import SchemaSet
from argus.security.audit import AuditTrail
from argus.security.purge import purge_records
from argus.topology import Topology

_PAGE = 1000


class RetentionError(ValueError):
    pass


class Retention:
    def __init__(self, topo: Topology, bus: Bus, schemas: SchemaSet, audit: AuditTrail) -> None:
        self.topo, self.bus, self.schemas, self.audit = topo, bus, schemas, audit
        self.topic = next((n for n, t in topo.topics.items() if t.schema_ == "report.v2"), None)
        if self.topic is None:
            raise RetentionError("this topology has no topic carrying report.v2")

    def size(self) -> int:
        """How many records the scan for review reads (a progress display's total)."""
        assert self.topic is not None
        return sum(self.bus.end_offset(self.topic, p) for p in range(self.bus.partitions(self.topic)))

    def _held(self, on_read: Callable[[int], None] | None = None) -> dict[str, dict[str, Any]]:
        """Every record under review, latest version, with its effective review-by date."""
        out: dict[str, dict[str, Any]] = {}
        assert self.topic is not None
        reader = self.schemas.get(self.topo.topics[self.topic].schema_)
        for r in read_topic(self.bus, self.schemas, self.topic, reader, on_read=on_read):
            env = r.envelope
            if env.get("review_by") is None:
                continue
            out[env["id"]] = {
                "record_id": env["id"],
                "type": env["type"],
                "agency": env["source_agency"],
                "tlp": env["tlp"],
                "ratings": f"{env['reliability']}{env['validity']}",
                "predicate": env.get("criminal_predicate"),
                "submitted": env["ingested_at"].isoformat(),
                "review_by": env["review_by"].isoformat(),
                "revalidated": 0,
            }
        for e in self._reviews():
            rid, decision = e["object"], e["detail"].get("decision")
            if rid not in out:
                continue
            if decision == "lapse":
                out.pop(rid)
            elif decision == "revalidate":
                out[rid]["review_by"] = e["detail"]["review_by"]
                out[rid]["revalidated"] += 1
        return out

    def _reviews(self) -> Iterator[dict[str, Any]]:
        """Every review decision, in the order made."""
        after = 0
        while True:
            page = self.audit.query(action="review", after=after, limit=_PAGE)
            yield from page
            if len(page) < _PAGE:
                return
            after = page[-1]["seq"]

    def due(
        self, as_of: datetime | None = None, agency: str | None = None, on_read: Callable[[int], None] | None = None
    ) -> list[dict[str, Any]]:
        cutoff = (as_of or utcnow()).isoformat()
        held = self._held(on_read).values()
        rows = [h for h in held if h["review_by"] <= cutoff and (agency is None or h["agency"] == agency)]
        return sorted(rows, key=lambda h: (h["review_by"], h["record_id"]))

    def revalidate(self, record_id: str, reviewer: str, reason: str, years: float = 5.0) -> str:
        """Extend the review-by date (at most five years from today) for a stated reason."""
        held = self._held().get(record_id)
        if held is None:
            raise RetentionError(f"{record_id} is not a record under review (or has lapsed)")
        if not reason.strip() or not reviewer.strip():
            raise RetentionError("a revalidation needs a named reviewer and a reason")
        new = (utcnow() + min(timedelta(days=365 * years), RETENTION)).isoformat()
        self.audit.record(
            "review",
            actor=reviewer,
            agency=held["agency"],
            object=record_id,
            reason=reason,
            detail={"decision": "revalidate", "review_by": new, "was": held["review_by"]},
        )
        return new

    def lapse(self, record_id: str, reviewer: str, reason: str) -> dict[str, Any]:
        """Let the record lapse: it is purged everywhere."""
        held = self._held().get(record_id)
        if held is None:
            raise RetentionError(f"{record_id} is not a record under review (or has lapsed)")
        self.audit.record(
            "review",
            actor=reviewer,
            agency=held["agency"],
            object=record_id,
            reason=reason,
            detail={"decision": "lapse"},
        )
        return purge_records(
            self.topo,
            self.bus,
            self.schemas,
            self.audit,
            [
                {
                    "record_id": record_id,
                    "agency": held["agency"],
                    "reason": f"retention lapse: {reason}",
                    "by": reviewer,
                }
            ],
        )

    def close(self) -> None:
        """Closes the audit trail it was given (the CLI opens one per command)."""
        self.audit.close()
