"""Joint case workspaces as a service the API drives (argus/workflows/case_model.py holds the
values). The lead agency opens a case and names its members, from any agency, each with a role in
the case; membership is written to the identity directory, so a member's need-to-know is the
policy's case membership. A case is seen only by its members, and only while the policy admits
them to its marking (criminal intelligence: law-enforcement members with current 28 CFR 23
training). Every change is saved against the version its editor read, audited and published as a
case event.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime
from typing import Any

from argus.records import Tlp, utcnow
from argus.security.audit import AuditTrail
from argus.security.identity import IdentityDirectory, IdentityError
from argus.security.policy import FULL, Recipient, Rules, decide
from argus.stores.cases import CaseStore, StaleRow
from argus.workflows.case_model import (
    CASE_ROLES,
    CASE_STATES,
    TASK_STATES,
    WRITERS,
    Case,
    Entry,
    Member,
    Task,
    new_id,
)
from argus.workflows.refusal import Refused
from argus.workflows.sar_review import Actor

Publish = Callable[[str, dict[str, Any], str], None]


class CaseRefused(Refused):
    """A change the rules do not allow: the status and the field it is about."""


def sees(case: Case, subject: str, who: Recipient, rules: Rules | None = None) -> bool:
    """A member the policy admits in full to the case's marking (with its agency's rules)."""
    v = decide(case.marking, who, rules)
    return case.member(subject) is not None and v is not None and v.level == FULL


@dataclasses.dataclass
class Casework:
    store: CaseStore
    directory: IdentityDirectory
    audit: AuditTrail
    publish: Publish | None = None
    events_topic: str | None = None
    rules: Rules | None = None  # the originating agencies' dissemination rules
    clock: Callable[[], datetime] = utcnow

    # --- reading --------------------------------------------------------------------------------
    def get(self, case_id: str, actor: Actor, who: Recipient) -> Case:
        case = self.store.case(case_id)
        if case is None or not sees(case, actor.subject, who, self.rules):
            raise CaseRefused(404, "case", f"no case {case_id!r} you are a member of")
        return case

    def writable(self, case_id: str, actor: Actor, who: Recipient, lead: bool = False) -> Case:
        case = self.get(case_id, actor, who)
        m = case.member(actor.subject)
        assert m is not None
        if (lead and m.role != "lead") or m.role not in WRITERS:
            raise CaseRefused(403, "role", f"your role in the case ({m.role}) may not do that")
        if case.status == "CLOSED" and not lead:
            raise CaseRefused(409, "status", "the case is closed")
        return case

    # --- the case -------------------------------------------------------------------------------
    def open(self, case: Case, actor: Actor) -> Case:
        if case.ci and len(case.predicate.strip()) < 20:
            raise CaseRefused(
                422,
                "predicate",
                "criminal intelligence needs its criminal predicate "
                "(28 CFR 23.20(a): reasonable suspicion of criminal conduct), in at least 20 characters",
            )
        now = self.clock().isoformat()
        lead = Member(actor.subject, actor.agency, "lead", actor.subject, now)
        new = dataclasses.replace(
            case,
            id=new_id("CASE"),
            lead_agency=actor.agency,
            created_by=actor.subject,
            created_at=now,
            members=(lead,),
            status="OPEN",
        )
        saved = self._save(new, None)
        self.directory.add_member(actor.subject, "case", saved.id)
        self._event(saved, actor, "opened", saved.title)
        return saved

    def set_member(
        self, case_id: str, expected: int, actor: Actor, who: Recipient, subject: str, role: str | None
    ) -> Case:
        """Add or change a member (`role`), or remove one (None); the lead's call."""
        case = self.writable(case_id, actor, who, lead=True)
        if role is not None and role not in CASE_ROLES:
            raise CaseRefused(422, "role", f"one of {', '.join(CASE_ROLES)}")
        if subject == actor.subject:
            raise CaseRefused(422, "subject", "the lead stays on the case")
        try:
            agency = str(self.directory.subject(subject)["agency"])
        except IdentityError:
            raise CaseRefused(422, "subject", f"no user {subject!r} in the directory") from None
        kept = tuple(m for m in case.members if m.subject != subject)
        if role is not None:
            kept += (Member(subject, agency, role, actor.subject, self.clock().isoformat()),)
        saved = self._save(dataclasses.replace(case, members=kept), expected)
        if role is None:
            self.directory.remove_member(subject, "case", case_id)
        else:
            self.directory.add_member(subject, "case", case_id)
        self._event(saved, actor, "member", f"{subject} ({agency}): {role or 'removed'}", ref=subject)
        return saved

    def set_status(self, case_id: str, expected: int, actor: Actor, who: Recipient, status: str) -> Case:
        if status not in CASE_STATES:
            raise CaseRefused(422, "status", f"one of {', '.join(CASE_STATES)}")
        case = self.writable(case_id, actor, who, lead=True)
        saved = self._save(dataclasses.replace(case, status=status), expected)
        self._event(saved, actor, "status", status)
        return saved

    def save_chart(self, case_id: str, expected: int, actor: Actor, who: Recipient, chart: dict[str, Any]) -> Case:
        case = self.writable(case_id, actor, who)
        saved = self._save(dataclasses.replace(case, chart=chart), expected)
        self._event(saved, actor, "chart", f"link chart saved ({len(chart.get('nodes') or [])} nodes)")
        return saved

    # --- inside the case ------------------------------------------------------------------------
    def put_task(self, case_id: str, actor: Actor, who: Recipient, task: Task, expected: int | None) -> Task:
        case = self.writable(case_id, actor, who)
        if task.assignee and case.member(task.assignee) is None:
            raise CaseRefused(422, "assignee", "a task is assigned to a member of the case")
        if task.state not in TASK_STATES:
            raise CaseRefused(422, "state", f"one of {', '.join(TASK_STATES)}")
        if expected is not None:
            old = next((t for t in self.store.tasks(case_id) if t.id == task.id), None)
            if old is None:
                raise CaseRefused(404, "task", f"no task {task.id!r} in the case")
            task = dataclasses.replace(task, created_by=old.created_by, created_at=old.created_at)
        else:
            task = dataclasses.replace(
                task, id=new_id("TASK"), created_by=actor.subject, created_at=self.clock().isoformat()
            )
        try:
            saved = self.store.put_task(dataclasses.replace(task, case_id=case_id), expected)
        except StaleRow:
            raise CaseRefused(409, "version", "the task changed since you read it; reload") from None
        self._event(case, actor, "task", f"{saved.title}: {saved.state} ({saved.assignee or 'unassigned'})", saved.id)
        return saved

    def note(self, case_id: str, actor: Actor, who: Recipient, text: str) -> Entry:
        case = self.writable(case_id, actor, who)
        return self._event(case, actor, "note", text)

    def link(self, case_id: str, actor: Actor, who: Recipient, kind: str, ref: str, note: str) -> Entry:
        case = self.writable(case_id, actor, who)
        return self._event(case, actor, f"link:{kind}", note, ref=ref)

    # --- the record -----------------------------------------------------------------------------
    def _save(self, case: Case, expected: int | None) -> Case:
        try:
            return self.store.put_case(case, expected)
        except StaleRow:
            raise CaseRefused(409, "version", "the case changed since you read it; reload") from None

    def _event(self, case: Case, actor: Actor, kind: str, text: str, ref: str = "") -> Entry:
        now = self.clock()
        e = Entry(new_id("EV"), case.id, kind, now.isoformat(), actor.subject, actor.agency, text[:4000], ref)
        self.store.add_entry(e)
        self.audit.record(
            "write",
            actor=actor.subject,
            agency=actor.agency,
            object=case.id,
            source=actor.source,
            reason=f"case {kind}",
            detail={"ref": ref} if ref else None,
        )
        if self.publish and self.events_topic:
            self.publish(self.events_topic, case_event(case, e, now), case.id)
        return e


def case_event(case: Case, e: Entry, now: datetime) -> dict[str, Any]:
    """case_event.v1, under the case's own marking. A case keeps the TLP as its form spelled it
    ("AMBER+STRICT"); the envelope's enum has the canonical symbol ("AMBER_STRICT")."""
    m = case.marking
    env = {
        "id": e.id,
        "type": "case_event",
        "source_agency": m.agency,
        "source_system": "cases",
        "tlp": Tlp.parse(m.tlp).value,
        "reliability": "F",
        "validity": 6,
        "criminal_intelligence": m.ci,
        "criminal_predicate": case.predicate or None,
        "handling": list(m.handling),
        "cases": [case.id],
        "recipients": [],
        "source_law_enforcement": True,
        "review_by": None,
        "observed_at": now,
        "ingested_at": now,
        "trace_id": case.id,
    }
    body = {
        "event_id": e.id,
        "case_id": case.id,
        "kind": e.kind,
        "actor": e.actor,
        "actor_agency": e.agency,
        "ref": e.ref or None,
        "status": case.status,
        "at": now,
    }
    return {"envelope": env, "body": body}
