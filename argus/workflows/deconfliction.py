"""Event deconfliction as a service the API drives: agencies register planned operations, and on
entry and on every change Argus checks them against the registry (argus/workflows/
operation_model.py says what a conflict is; the store's spatial, temporal and entity indexes say
which operations to ask about).

A conflict is told at once to the contacts of both operations and to the watch centre, as one
notice per recipient on the notices topic (the field alert stream and the workbench read it) and
in the store. Each side's notice names only the other side's agency and contact: never its case,
title, subjects or place. Every registration, change and cancellation is an operation event (the
stream's deconfliction node watches for field encounters with the operations' subjects) and an
audit entry.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from argus.records import utcnow
from argus.security.audit import AuditTrail
from argus.stores.operations import OperationStore, StaleOperation
from argus.workflows.operation_model import CANCELLED, PLANNED, Conflict, Operation, conflicts_between
from argus.workflows.refusal import Refused
from argus.workflows.sar_review import Actor

Publish = Callable[[str, dict[str, Any], str], None]


class OperationRefused(Refused):
    """A change the rules do not allow: the status and the field it is about."""


def find_conflicts(store: OperationStore, op: Operation, now: datetime) -> list[Conflict]:
    """Every conflict of `op` with the registry, through the indexes: the operations whose box
    and window overlap its own, and those naming one of its subjects or vehicles."""
    if op.state != PLANNED:
        return []
    seen: dict[str, Operation] = {o.id: o for o in store.near(op.box(), op.start, op.end)}
    seen.update((o.id, o) for o in store.naming([*op.subjects, *op.vehicles]))
    out = [c for other in seen.values() for c in conflicts_between(op, other, now)]
    return sorted(out, key=lambda c: c.id)


def _party(op: Operation, own: bool) -> dict[str, Any]:
    return {
        "agency": op.agency,
        "contact_name": op.contact.name,
        "contact_phone": op.contact.phone,
        "operation": op.id if own else None,
    }


def _text(c: Conflict, parties: Sequence[Operation]) -> str:
    who = " and ".join(f"{o.agency} ({o.contact.name}, {o.contact.phone})" for o in parties)
    what = {
        "SPACE_TIME": f"operations within {c.distance_m:.0f} m of each other in overlapping hours",
        "SUBJECT": f"the same subject {c.entity} in two operations",
        "VEHICLE": f"the same vehicle {c.entity} in two operations",
    }.get(c.kind, c.kind)
    return f"Deconfliction: {what}. Contact {who} before you act."


def notice(
    c: Conflict, to: str, officer: str | None, own: Operation | None, parties: Sequence[Operation], text: str
) -> dict[str, Any]:
    """One recipient's notice (deconfliction_notice.v1): their own operation, and of the others
    only agency and contact."""
    nid = hashlib.sha256(f"{c.id}|{to}|{officer or ''}".encode()).hexdigest()[:32]
    return {
        "notice_id": nid,
        "conflict_id": c.id,
        "kind": c.kind,
        "recipient_agency": to,
        "recipient_officer": officer,
        "watch": own is None,
        "operation": own.id if own else None,
        "operation_title": own.title if own else None,
        "parties": [_party(o, False) for o in parties],
        "distance_m": c.distance_m,
        "overlap_start": c.overlap[0] if c.overlap else None,
        "overlap_end": c.overlap[1] if c.overlap else None,
        "entity": c.entity or None,
        "encounter": c.encounter or None,
        "text": text,
        "found_at": c.found_at,
    }


def notices_of(c: Conflict, a: Operation, b: Operation, watch: str | None) -> list[dict[str, Any]]:
    out = [
        notice(c, a.agency, a.contact.subject, a, [b], _text(c, [b])),
        notice(c, b.agency, b.contact.subject, b, [a], _text(c, [a])),
    ]
    if watch:
        out.append(notice(c, watch, None, None, [a, b], _text(c, [a, b])))
    return out


@dataclasses.dataclass
class Deconfliction:
    store: OperationStore
    audit: AuditTrail
    publish: Publish | None = None  # (topic, record, key) onto the bus
    events_topic: str | None = None
    notices_topic: str | None = None
    watch_centre: str | None = None
    clock: Callable[[], datetime] = utcnow

    def register(self, op: Operation, actor: Actor) -> tuple[Operation, list[dict[str, Any]]]:
        if op.agency != actor.agency:
            raise OperationRefused(403, "agency", "an operation is registered by its own agency")
        saved = self._save(op, None, actor, "registered")
        return saved, self._check(saved)

    def change(self, op_id: str, changed: Operation, expected: int, actor: Actor) -> tuple[Operation, list]:
        if self._own(op_id, actor).state == CANCELLED:
            raise OperationRefused(409, "state", "the operation is cancelled; register a new one")
        saved = self._save(changed, expected, actor, "changed")
        return saved, self._check(saved)

    def cancel(self, op_id: str, expected: int, actor: Actor) -> Operation:
        op = self._own(op_id, actor)
        if op.state == CANCELLED:
            raise OperationRefused(409, "state", "the operation is already cancelled")
        return self._save(op.with_(state=CANCELLED), expected, actor, "cancelled")

    def _own(self, op_id: str, actor: Actor) -> Operation:
        op = self.store.get(op_id)
        if op is None or op.agency != actor.agency:
            raise OperationRefused(404, "operation", f"no operation {op_id!r} of your agency")
        return op

    def _save(self, op: Operation, expected: int | None, actor: Actor, what: str) -> Operation:
        try:
            saved = self.store.put(op, expected)
        except StaleOperation:
            raise OperationRefused(409, "version", "the operation changed since you read it; reload") from None
        self.audit.record(
            "write",
            actor=actor.subject,
            agency=actor.agency,
            object=saved.id,
            source=actor.source,
            reason=f"operation {what}",
            detail={"version": saved.version, "kind": saved.kind},
        )
        if self.publish and self.events_topic:
            self.publish(self.events_topic, operation_event(saved, what, actor, self.clock()), saved.id)
        return saved

    def _check(self, op: Operation) -> list[dict[str, Any]]:
        """Conflicts found now, each told once to both contacts and the watch centre."""
        now = self.clock()
        fresh = self.store.add_conflicts(find_conflicts(self.store, op, now))
        told = []
        for c in fresh:
            other = self.store.get(c.b)
            if other is None:
                continue
            for n in notices_of(c, op, other, self.watch_centre):
                self.store.add_notices([n])
                if self.publish and self.notices_topic:
                    self.publish(self.notices_topic, notice_record(n), f"{n['recipient_agency']}:-")
                self.audit.record(
                    "disseminate",
                    actor="deconfliction",
                    agency=op.agency,
                    object=c.id,
                    recipient=n["recipient_officer"] or n["recipient_agency"],
                    reason=f"deconfliction {c.kind}",
                )
                told.append(n)
        return told


def _envelope(kind: str, eid: str, agency: str, tlp: str, recipients: list[str], now: datetime, trace: str) -> dict:
    return {
        "id": eid,
        "type": kind,
        "source_agency": agency,
        "source_system": "deconfliction",
        "tlp": tlp,
        "reliability": "F",
        "validity": 6,
        "criminal_intelligence": False,
        "criminal_predicate": None,
        "handling": [],
        "cases": [],
        "recipients": recipients,
        "source_law_enforcement": True,
        "review_by": None,
        "observed_at": now,
        "ingested_at": now,
        "trace_id": trace,
    }


def operation_event(op: Operation, what: str, actor: Actor, now: datetime) -> dict[str, Any]:
    """operation_event.v1: what the stream needs to spot an encounter (who to tell, whom the
    operation names, until when), under RED to the operation's own agency."""
    eid = hashlib.sha256(f"{op.id}|{op.version}".encode()).hexdigest()[:32]
    body = {
        "operation": op.id,
        "version": op.version,
        "event": what,
        "state": op.state,
        "agency": op.agency,
        "kind": op.kind,
        "contact_subject": op.contact.subject,
        "contact_name": op.contact.name,
        "contact_phone": op.contact.phone,
        "start": op.start,
        "end": op.end,
        "subjects": list(op.subjects),
        "vehicles": list(op.vehicles),
        "actor": actor.subject,
        "at": now,
    }
    return {"envelope": _envelope("operation_event", eid, op.agency, "RED", [op.agency], now, op.id), "body": body}


def notice_record(n: dict[str, Any]) -> dict[str, Any]:
    """deconfliction_notice.v1: addressed (RED) to its recipient alone."""
    to = [n["recipient_agency"]] + ([f"user:{n['recipient_officer']}"] if n["recipient_officer"] else [])
    env = _envelope(
        "deconfliction_notice", n["notice_id"], n["recipient_agency"], "RED", to, n["found_at"], n["conflict_id"]
    )
    return {"envelope": env, "body": n}
