"""Requests for information between agencies and to the fusion centre: a question from one
agency to others, with a priority and a due date, answered with text and the records that answer
it, then closed by the asking agency. An RFI is seen by the asking agency and the agencies it is
addressed to, nobody else; an open RFI past its due date is overdue on the watch board. Every
step is saved against the version its editor read and audited."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime
from typing import Any

from argus.records import utcnow
from argus.security.audit import AuditTrail
from argus.stores.cases import CaseStore, StaleRow
from argus.workflows.case_model import new_id
from argus.workflows.cases import CaseRefused
from argus.workflows.sar_review import Actor

PRIORITIES = ("ROUTINE", "PRIORITY", "URGENT")
STATES = ("OPEN", "ANSWERED", "CLOSED")


def party(rfi: dict[str, Any], agency: str) -> bool:
    return agency == rfi["requester_agency"] or agency in rfi["addressees"]


@dataclasses.dataclass
class Rfis:
    store: CaseStore
    audit: AuditTrail
    clock: Callable[[], datetime] = utcnow

    def ask(
        self,
        actor: Actor,
        question: str,
        addressees: list[str],
        priority: str,
        due: datetime,
        case_id: str = "",
        tlp: str = "AMBER",
    ) -> dict[str, Any]:
        if priority not in PRIORITIES:
            raise CaseRefused(422, "priority", f"one of {', '.join(PRIORITIES)}")
        if due <= self.clock():
            raise CaseRefused(422, "due", "the due date is in the future")
        others = sorted(set(addressees) - {actor.agency})
        if not others:
            raise CaseRefused(422, "addressees", "an RFI is addressed to another agency or the fusion centre")
        rfi = {
            "id": new_id("RFI"),
            "question": question,
            "requester": actor.subject,
            "requester_agency": actor.agency,
            "addressees": others,
            "priority": priority,
            "due": due.isoformat(),
            "case_id": case_id,
            "tlp": tlp,
            "status": "OPEN",
            "answer": "",
            "answer_records": [],
            "answered_by": "",
            "answered_agency": "",
            "answered_at": "",
            "created_at": self.clock().isoformat(),
        }
        return self._save(rfi, None, actor, "asked")

    def get(self, rfi_id: str, agency: str) -> dict[str, Any]:
        rfi = self.store.rfi(rfi_id)
        if rfi is None or not party(rfi, agency):
            raise CaseRefused(404, "rfi", f"no RFI {rfi_id!r} asked by or of your agency")
        return rfi

    def answer(self, rfi_id: str, expected: int, actor: Actor, text: str, records: list[str]) -> dict[str, Any]:
        rfi = self.get(rfi_id, actor.agency)
        if actor.agency not in rfi["addressees"]:
            raise CaseRefused(403, "rfi", "only an agency it is addressed to answers an RFI")
        if rfi["status"] == "CLOSED":
            raise CaseRefused(409, "status", "the RFI is closed")
        done = rfi | {
            "status": "ANSWERED",
            "answer": text,
            "answer_records": records,
            "answered_by": actor.subject,
            "answered_agency": actor.agency,
            "answered_at": self.clock().isoformat(),
        }
        return self._save(done, expected, actor, "answered")

    def close(self, rfi_id: str, expected: int, actor: Actor) -> dict[str, Any]:
        rfi = self.get(rfi_id, actor.agency)
        if actor.agency != rfi["requester_agency"]:
            raise CaseRefused(403, "rfi", "the asking agency closes its RFI")
        if rfi["status"] == "CLOSED":
            raise CaseRefused(409, "status", "the RFI is already closed")
        return self._save(rfi | {"status": "CLOSED"}, expected, actor, "closed")

    def overdue(self, agency: str | None, limit: int = 200) -> list[dict[str, Any]]:
        now = self.clock().isoformat()
        return [r for r in self.store.rfis(agency, ["OPEN"], limit) if r["due"] < now]

    def _save(self, rfi: dict[str, Any], expected: int | None, actor: Actor, what: str) -> dict[str, Any]:
        try:
            saved = self.store.put_rfi(rfi, expected)
        except StaleRow:
            raise CaseRefused(409, "version", "the RFI changed since you read it; reload") from None
        self.audit.record(
            "write",
            actor=actor.subject,
            agency=actor.agency,
            object=saved["id"],
            source=actor.source,
            reason=f"RFI {what}",
            detail={"addressees": saved["addressees"]},
        )
        return saved
