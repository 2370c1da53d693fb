"""Watch-officer shifts as a service the API drives: a shift with its staff, its log (events,
calls, decisions), and the handoff. At the end of a shift the outgoing watch officer generates the
briefing (what is open: argus/api/shift_briefing.py gathers it through the caller's view), edits
it and hands it to the incoming watch officer, who acknowledges it. Every step is saved against the
version its editor read and audited, so nothing handed over is lost or changed unseen."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime
from typing import Any

from argus.records import utcnow
from argus.security.audit import AuditTrail
from argus.stores.shifts import ShiftStore, StaleShift
from argus.workflows.case_model import new_id
from argus.workflows.cases import CaseRefused
from argus.workflows.sar_review import Actor

LOG_KINDS = ("event", "call", "decision")
STATES = ("ON_DUTY", "BRIEFED", "HANDED_OVER", "ACKNOWLEDGED")


@dataclasses.dataclass
class Shifts:
    store: ShiftStore
    audit: AuditTrail
    clock: Callable[[], datetime] = utcnow

    def open(self, actor: Actor, start: datetime, end: datetime, staff: list[str], marks: dict[str, Any]) -> dict:
        """`marks`: where the shift's stream begins (the alerts topic's offsets, dead letters so far)."""
        if end <= start:
            raise CaseRefused(422, "end", "after start")
        shift = {
            "id": new_id("SHIFT"),
            "agency": actor.agency,
            "watch_officer": actor.subject,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "staff": sorted(set(staff) | {actor.subject}),
            "state": "ON_DUTY",
            "marks": marks,
            "briefing": None,
            "notes": "",
            "incoming": "",
            "handed_at": "",
            "acknowledged_by": "",
            "acknowledged_at": "",
        }
        return self._save(shift, None, actor, "opened")

    def get(self, shift_id: str, actor: Actor) -> dict[str, Any]:
        s = self.store.get(shift_id)
        if s is None or s["agency"] != actor.agency:
            raise CaseRefused(404, "shift", f"no shift {shift_id!r} of your agency")
        return s

    def log(self, shift_id: str, actor: Actor, kind: str, text: str, ref: str = "") -> dict[str, Any]:
        s = self.get(shift_id, actor)
        if kind not in LOG_KINDS:
            raise CaseRefused(422, "kind", f"one of {', '.join(LOG_KINDS)}")
        if s["state"] == "ACKNOWLEDGED":
            raise CaseRefused(409, "state", "the shift is over and handed over")
        entry = {"at": self.clock().isoformat(), "kind": kind, "text": text, "ref": ref, "actor": actor.subject}
        self.store.log(shift_id, entry)
        self.audit.record(
            "write",
            actor=actor.subject,
            agency=actor.agency,
            object=shift_id,
            source=actor.source,
            reason=f"shift log: {kind}",
        )
        return entry

    def brief(self, shift_id: str, expected: int, actor: Actor, briefing: dict[str, Any]) -> dict[str, Any]:
        s = self._outgoing(shift_id, actor, ("ON_DUTY", "BRIEFED"))
        return self._save(s | {"briefing": briefing, "state": "BRIEFED"}, expected, actor, "briefing generated")

    def hand_over(self, shift_id: str, expected: int, actor: Actor, notes: str, incoming: str) -> dict[str, Any]:
        s = self._outgoing(shift_id, actor, ("BRIEFED", "HANDED_OVER"))
        if incoming == actor.subject:
            raise CaseRefused(422, "incoming", "the incoming watch officer is someone else")
        done = s | {"notes": notes, "incoming": incoming, "state": "HANDED_OVER", "handed_at": self.clock().isoformat()}
        return self._save(done, expected, actor, f"handed over to {incoming}")

    def acknowledge(self, shift_id: str, expected: int, actor: Actor) -> dict[str, Any]:
        s = self.get(shift_id, actor)
        if s["state"] != "HANDED_OVER" or s["incoming"] != actor.subject:
            raise CaseRefused(409, "state", "only the incoming watch officer acknowledges a handed-over briefing")
        done = s | {
            "state": "ACKNOWLEDGED",
            "acknowledged_by": actor.subject,
            "acknowledged_at": self.clock().isoformat(),
        }
        saved = self._save(done, expected, actor, "briefing acknowledged", action="acknowledge")
        return saved

    def _outgoing(self, shift_id: str, actor: Actor, states: tuple[str, ...]) -> dict[str, Any]:
        s = self.get(shift_id, actor)
        if s["watch_officer"] != actor.subject:
            raise CaseRefused(403, "shift", "the shift's own watch officer writes its briefing")
        if s["state"] not in states:
            raise CaseRefused(409, "state", f"the shift is {s['state']}")
        return s

    def _save(self, s: dict[str, Any], expected: int | None, actor: Actor, what: str, action: str = "write") -> dict:
        try:
            saved = self.store.put(s, expected)
        except StaleShift:
            raise CaseRefused(409, "version", "the shift changed since you read it; reload") from None
        self.audit.record(
            action,
            actor=actor.subject,
            agency=actor.agency,
            object=saved["id"],
            source=actor.source,
            reason=f"shift {what}",
        )
        return saved
