"""Stakeholder engagement: the partner organisations an agency (a fusion centre) works with — law
enforcement, private sector, community organisations — with their contacts and agreements (MOUs
with their dates), the meetings, outreach and feedback recorded with them, and a view of the
engagement per partner and period: what was done with them, what they submitted to Argus and what
Argus disseminated to them (from the audit trail, where every submission and dissemination is)."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from typing import Any

from argus.records import utcnow
from argus.security.audit import AuditTrail
from argus.stores.cases import CaseStore, StaleRow
from argus.workflows.case_model import new_id
from argus.workflows.cases import CaseRefused
from argus.workflows.sar_review import Actor

KINDS = ("law_enforcement", "private_sector", "community", "government", "academic")
ENGAGEMENTS = ("meeting", "outreach", "training", "call", "feedback")


@dataclasses.dataclass
class Partners:
    store: CaseStore
    audit: AuditTrail
    clock: Callable[[], datetime] = utcnow

    def put(self, actor: Actor, partner: dict[str, Any], expected: int | None) -> dict[str, Any]:
        if partner["kind"] not in KINDS:
            raise CaseRefused(422, "kind", f"one of {', '.join(KINDS)}")
        if expected is not None:
            old = self.get(partner["id"], actor)
            partner = partner | {"created_at": old["created_at"]}
        else:
            partner = partner | {"id": new_id("PTR"), "created_at": self.clock().isoformat()}
        try:
            saved = self.store.put_partner(partner | {"owner": actor.agency}, expected)
        except StaleRow:
            raise CaseRefused(409, "version", "the partner changed since you read it; reload") from None
        self.audit.record(
            "write",
            actor=actor.subject,
            agency=actor.agency,
            object=saved["id"],
            source=actor.source,
            reason="partner recorded",
        )
        return saved

    def get(self, partner_id: str, actor: Actor) -> dict[str, Any]:
        p = self.store.partner(partner_id)
        if p is None or p["owner"] != actor.agency:
            raise CaseRefused(404, "partner", f"no partner {partner_id!r} of your agency")
        return p

    def engage(
        self, partner_id: str, actor: Actor, kind: str, at: datetime, summary: str, rating: int | None = None
    ) -> dict[str, Any]:
        self.get(partner_id, actor)
        if kind not in ENGAGEMENTS:
            raise CaseRefused(422, "kind", f"one of {', '.join(ENGAGEMENTS)}")
        e = {"at": at.isoformat(), "kind": kind, "summary": summary, "rating": rating, "by": actor.subject}
        self.store.add_engagement(partner_id, e)
        self.audit.record(
            "write",
            actor=actor.subject,
            agency=actor.agency,
            object=partner_id,
            source=actor.source,
            reason=f"partner engagement: {kind}",
        )
        return e

    def engagement(self, partner_id: str, actor: Actor, since: datetime, until: datetime) -> dict[str, Any]:
        p = self.get(partner_id, actor)
        done = self.store.engagements(partner_id, since.isoformat(), until.isoformat())
        ratings = [e["rating"] for e in done if e.get("rating")]
        out: dict[str, Any] = {
            "partner": p["id"],
            "name": p["name"],
            "since": since.isoformat(),
            "until": until.isoformat(),
            "engagements": dict(Counter(e["kind"] for e in done)),
            "feedback_average": round(sum(ratings) / len(ratings), 2) if ratings else None,
            "agreements_in_force": [
                a for a in p.get("agreements", []) if a["start"] < until.isoformat() and a["end"] >= since.isoformat()
            ],
            "submitted": 0,
            "received": 0,
            "log": done,
        }
        if p.get("ori"):  # a partner in the directory: what it sent in and what it was sent
            q = {"since": since.isoformat(), "until": until.isoformat(), "limit": 100_000}
            out["submitted"] = len(self.audit.query(action="submit", agency=p["ori"], **q))
            sent = self.audit.query(action="disseminate", visible_to_agency=p["ori"], **q)
            out["received"] = sum(e["agency"] != p["ori"] for e in sent)
        return out
