"""The case, evidence, messaging and RFI services wired to the API's stores for one caller, and
how their values are answered."""

from __future__ import annotations

import dataclasses
from typing import Any

from argus.api.deps import Caller, refused
from argus.api.services import topic_or_none
from argus.workflows.case_model import Case, EvidenceFile, Message
from argus.workflows.cases import CaseRefused, Casework
from argus.workflows.evidence import Evidence
from argus.workflows.messaging import Messaging
from argus.workflows.rfis import Rfis
from argus.workflows.sar_review import Actor


def act(c: Caller, fn: Any, *args: Any) -> Any:
    """A joint-operations workflow step for the caller: its refusal as a problem document, a
    404 (what the caller may not see) audited as a denial."""
    try:
        return fn(*args)
    except CaseRefused as exc:
        if exc.status == 404:
            c.denied(str(args[0]) if args else "case", "not a member")
        raise refused(exc) from None


def actor(c: Caller) -> Actor:
    return Actor(c.subject, c.who.agency, c.who.role, c.source)


def casework(c: Caller) -> Casework:
    svc = c.svc
    events = topic_or_none(svc.topo, "case_event.v1")
    return Casework(svc.cases(), svc.directory(), svc.audit, svc.publish, events, c.gate.rules)


def evidence(c: Caller) -> Evidence:
    return Evidence(c.svc.cases(), c.svc.evidence(), c.svc.audit)


def messaging(c: Caller) -> Messaging:
    return Messaging(c.svc.cases(), c.svc.directory(), c.svc.audit)


def rfis(c: Caller) -> Rfis:
    return Rfis(c.svc.cases(), c.svc.audit)


def case_json(case: Case, full: bool = True) -> dict[str, Any]:
    out = {k: v for k, v in dataclasses.asdict(case).items() if k not in ("chart", "handling", "ci")}
    out |= {"caveats": list(case.handling), "criminal_intelligence": case.ci}
    if full:
        out["chart"] = case.chart
    return out


def file_json(f: EvidenceFile) -> dict[str, Any]:
    m = f.marking
    return {
        "id": f.id,
        "case_id": f.case_id,
        "sha256": f.sha256,
        "name": f.name,
        "content_type": f.content_type,
        "size": f.size,
        "tlp": m.tlp,
        "criminal_intelligence": m.ci,
        "caveats": list(m.handling),
        "added_by": f.added_by,
        "added_at": f.added_at,
        "reason": f.reason,
    }


def message_json(seq: int, m: Message, read: list[tuple[str, str]] | None = None) -> dict[str, Any]:
    return {
        "seq": seq,
        "id": m.id,
        "thread": m.thread,
        "author": m.author,
        "agency": m.agency,
        "text": m.text,
        "at": m.at,
        "tlp": m.marking.tlp,
        "criminal_intelligence": m.marking.ci,
        "caveats": list(m.marking.handling),
        "mentions": list(m.mentions),
        "attachments": list(m.attachments),
        "read_by": [{"subject": s, "at": at} for s, at in (read or [])],
    }
