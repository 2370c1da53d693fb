"""Priority intelligence requirements (PIRs) and standing information needs (SINs), the gap view
(how much reporting answered each in a period, and which have none), and the collection plan:
taskings to partner agencies and TLOs, and their answers.

A requirement is shown only to those who see it in full under the one policy; the reporting that
answered it is counted, for each reader, over the reports that reader sees in full. A tasking is
addressed only to an agency the requirement's marking reaches in full.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import Field, model_validator

from argus.api.deps import Caller, Decider, Problem, Submitter, bounded, json
from argus.api.models import answers
from argus.api.requirement_models import EXAMPLES, Gaps, Reporting, RequirementList, TaskingList, TaskingOut
from argus.api.sar_models import Behavior, Where, _Form
from argus.security.identity import IdentityError
from argus.security.policy import FULL, Marking, Recipient, decide
from argus.stores.requirements import Requirement, RequirementStore, Tasking, describe

router = APIRouter(tags=["requirements"])


class Area(Where):
    radius_km: float = Field(gt=0, le=1000)


class RequirementForm(_Form):
    code: str = Field(pattern=r"^[A-Z]{2,6}-[A-Za-z0-9.-]{1,24}$", description="e.g. PIR-3, SIN-12")
    kind: Literal["PIR", "SIN"] = "PIR"
    title: str = Field(min_length=3, max_length=200)
    questions: list[str] = Field(min_length=1, max_length=20)
    area: Area | None = None
    start: datetime | None = None
    end: datetime | None = None
    behaviors: list[Behavior] = Field(default=[], max_length=16)
    keywords: list[str] = Field(default=[], max_length=50)
    techniques: list[str] = Field(default=[], max_length=50, description="ATT&CK ids, e.g. T0883")
    entity_types: list[Literal["PERSON", "OBJECT", "LOCATION", "EVENT", "VEHICLE", "WEAPON"]] = Field(default=[])
    tlp: Literal["TLP:CLEAR", "TLP:GREEN", "TLP:AMBER", "TLP:AMBER+STRICT", "TLP:RED"] = "TLP:GREEN"

    @model_validator(mode="after")
    def _indicated(self) -> RequirementForm:
        if not (self.behaviors or self.keywords or self.techniques or self.entity_types):
            raise ValueError("indicators: give at least one behaviour, keyword, technique or entity type")
        if self.area is not None and (self.area.lat is None or self.area.lon is None):
            raise ValueError("area: give lat and lon with the radius")
        return self


class TaskingForm(_Form):
    question: str = Field(min_length=3, max_length=2000)
    to_agency: str = Field(pattern=r"^[A-Z]{2}[A-Z0-9]{7}$")
    to_subject: str = Field(default="", max_length=128, description="One person (a TLO) in that agency, or empty")
    due: datetime


class AnswerForm(_Form):
    answer: str = Field(min_length=3, max_length=8000)


def store(c: Caller) -> RequirementStore:
    s: RequirementStore = c.svc.requirements()
    return s


def seen(c: Caller, r: Requirement | None, rid: str) -> Requirement:
    if r is None or not c.gate.in_full(r.marking):
        c.denied(rid[:128], "policy")
        raise Problem(404, "No such requirement", f"no requirement {rid[:128]!r} you may see")
    return r


def _create(c: Caller, f: RequirementForm) -> dict[str, Any]:
    from argus.records import Tlp

    tlp = Tlp.parse(f.tlp).value
    r = Requirement(
        id=str(uuid.uuid4()), code=f.code, kind=f.kind, title=f.title, questions=f.questions,
        marking=Marking(c.who.agency, tlp), created_by=c.subject, created_at=datetime.now(UTC).isoformat(),
        lat=f.area.lat if f.area else None, lon=f.area.lon if f.area else None,
        radius_km=f.area.radius_km if f.area else None, start=f.start.isoformat() if f.start else None,
        end=f.end.isoformat() if f.end else None, behaviors=list(f.behaviors), keywords=f.keywords,
        techniques=f.techniques, entity_types=list(f.entity_types),
    )  # fmt: skip
    store(c).put_requirement(r)
    c.api.audit.record("write", actor=c.subject, agency=c.who.agency, object=r.id, source=c.source,
                       detail={"requirement": r.code, "kind": r.kind})  # fmt: skip
    return describe(r)


@router.post("/api/v1/requirements", status_code=201, summary="Add a PIR or standing information need",
             responses=answers(RequirementList, EXAMPLES["requirement"], 201))  # fmt: skip
async def create(c: Decider, form: RequirementForm) -> Any:
    """Owned by the caller's agency, marked as asked (TLP:GREEN by default); reporting is matched
    to it as it streams (any one indicator, within the period and area where given)."""
    return json(await bounded(c, _create, c, form), 201)


def _list(c: Caller, limit: int) -> dict[str, Any]:
    out = [describe(r) for r in store(c).requirements(c.gate.audience, limit)]
    c.audited("read", "requirements", endpoint="requirements", returned=len(out))
    return {"total": len(out), "requirements": out}


@router.get("/api/v1/requirements", summary="Requirements you may see",
            responses=answers(RequirementList, {"total": 1, "requirements": [EXAMPLES["requirement"]]}))  # fmt: skip
async def listing(c: Decider, limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> Any:
    """PIRs and standing information needs seen in full, by code."""
    return json(await bounded(c, _list, c, limit))


def _gaps(c: Caller, days: int) -> dict[str, Any]:
    until = datetime.now(UTC)
    since = until - timedelta(days=days)
    s = store(c)
    reqs = s.requirements(c.gate.audience, 1000)
    got = s.answered(c.gate.audience, [r.id for r in reqs], since.isoformat(), until.isoformat())
    rows = []
    for r in reqs:
        n, last = got.get(r.id, (0, None))
        tasks = s.taskings(requirement=r.id)
        rows.append(describe(r) | {"answered": n, "last_reported": last, "gap": n == 0,
                                   "taskings_open": sum(t.status == "OPEN" for t in tasks)})  # fmt: skip
    rows.sort(key=lambda x: (x["answered"], x["code"]))
    c.audited("read", "requirement-gaps", endpoint="requirements/gaps", returned=len(rows))
    return {"since": since.isoformat(), "until": until.isoformat(), "requirements": rows,
            "gaps": sum(x["gap"] for x in rows)}  # fmt: skip


@router.get("/api/v1/requirements/gaps", summary="How much reporting answered each requirement",
            responses=answers(Gaps, EXAMPLES["gaps"]))  # fmt: skip
async def gaps(c: Decider, days: Annotated[int, Query(ge=1, le=730)] = 30) -> Any:
    """For each requirement, the reports (that you see in full) answering it in the last `days`,
    the latest, and the open taskings; those with none first: the gaps to task collection for."""
    return json(await bounded(c, _gaps, c, days))


def _reporting(c: Caller, rid: str, limit: int) -> dict[str, Any]:
    s = store(c)
    seen(c, s.requirement(rid[:128]), rid)
    merged: dict[str, dict[str, Any]] = {}
    for h in s.reporting(c.gate.audience, rid[:128], limit):
        row = merged.setdefault(h.report_id, {"report_id": h.report_id, "report_type": h.report_type,
                                              "occurred_at": h.occurred_at, "agency": h.marking.agency,
                                              "matched": []})  # fmt: skip
        row["matched"] += [m for m in h.matched if m not in row["matched"]]
    c.audited("read", rid[:128], endpoint="requirements/reporting", returned=len(merged))
    return {"total": len(merged), "reports": list(merged.values())}


@router.get("/api/v1/requirements/{rid}/reporting", summary="The reports that answered a requirement",
            responses=answers(Reporting, EXAMPLES["reporting"]))  # fmt: skip
async def reporting(c: Decider, rid: str, limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> Any:
    """Newest first, each with the indicators it matched (only reports you see in full)."""
    return json(await bounded(c, _reporting, c, rid, limit))


def _task(c: Caller, rid: str, f: TaskingForm) -> dict[str, Any]:
    s = store(c)
    r = seen(c, s.requirement(rid[:128]), rid)
    v = decide(r.marking, Recipient(agency=f.to_agency, role="analyst"), c.svc.directory().rules)
    if v is None or v.level != FULL:
        raise Problem(
            422,
            "Refused",
            f"to_agency: the requirement's marking ({r.marking.tlp}) does not reach {f.to_agency}",
            errors=[{"field": "to_agency", "problem": "not reached by the marking"}],
        )
    if f.to_subject:
        try:
            who = c.svc.directory().subject(f.to_subject)
        except IdentityError:
            who = None
        if who is None or who["agency"] != f.to_agency:
            raise Problem(422, "Refused", f"to_subject: no such person in {f.to_agency}",
                          errors=[{"field": "to_subject", "problem": "not in to_agency"}])  # fmt: skip
    t = Tasking(str(uuid.uuid4()), r.id, f.question, f.to_agency, f.to_subject, f.due.isoformat(), c.subject,
                c.who.agency, datetime.now(UTC).isoformat())  # fmt: skip
    s.put_tasking(t)
    c.api.audit.record("disseminate", actor=c.subject, agency=c.who.agency, object=t.id, source=c.source,
                       recipient=f.to_subject or f.to_agency, detail={"requirement": r.code})  # fmt: skip
    return _tasking(t, r)


def _tasking(t: Tasking, r: Requirement) -> dict[str, Any]:
    return {"id": t.id, "requirement": {"id": r.id, "code": r.code, "title": r.title, "questions": r.questions},
            "question": t.question, "to_agency": t.to_agency, "to_subject": t.to_subject, "due": t.due,
            "from_agency": t.created_by_agency, "created_at": t.created_at, "status": t.status, "answer": t.answer,
            "answered_at": t.answered_at}  # fmt: skip


@router.post("/api/v1/requirements/{rid}/taskings", status_code=201, summary="Task a partner agency or a TLO",
             responses=answers(TaskingOut, EXAMPLES["tasking"], 201))  # fmt: skip
async def task(c: Decider, rid: str, form: TaskingForm) -> Any:
    """The collection plan: a question about a requirement for an agency (or one TLO in it) that
    the requirement's marking reaches in full. Audited as a dissemination."""
    return json(await bounded(c, _task, c, rid, form), 201)


def _mine(c: Caller, limit: int) -> dict[str, Any]:
    s = store(c)
    out = []
    for t in s.taskings(agency=c.who.agency, subject=c.subject, limit=limit):
        r = s.requirement(t.requirement_id)
        if r is not None and c.gate.in_full(r.marking):
            out.append(_tasking(t, r))
    c.audited("read", "taskings", endpoint="taskings/mine", returned=len(out))
    return {"total": len(out), "taskings": out}


@router.get("/api/v1/taskings/mine", summary="Taskings addressed to you or your agency",
            responses=answers(TaskingList, {"total": 1, "taskings": [EXAMPLES["tasking"]]}))  # fmt: skip
async def my_taskings(c: Submitter, limit: Annotated[int, Query(ge=1, le=500)] = 100) -> Any:
    """Newest first, with the requirement's questions (only where you see the requirement in full)."""
    return json(await bounded(c, _mine, c, limit))


def _answer(c: Caller, tid: str, f: AnswerForm) -> dict[str, Any]:
    s = store(c)
    t = s.tasking(tid[:128])
    r = s.requirement(t.requirement_id) if t else None
    mine = t is not None and t.to_agency == c.who.agency and t.to_subject in ("", c.subject)
    if not mine or r is None or not c.gate.in_full(r.marking):
        c.denied(tid[:128], "not addressed to the caller")
        raise Problem(404, "No such tasking", f"no tasking {tid[:128]!r} addressed to you")
    assert t is not None
    t.status, t.answer, t.answered_by, t.answered_at = "ANSWERED", f.answer, c.subject, datetime.now(UTC).isoformat()
    s.put_tasking(t)
    c.api.audit.record("write", actor=c.subject, agency=c.who.agency, object=t.id, source=c.source,
                       detail={"tasking": "answered", "requirement": r.code})  # fmt: skip
    return _tasking(t, r)


@router.post("/api/v1/taskings/{tid}/answer", summary="Answer a tasking addressed to you",
             responses=answers(TaskingOut, EXAMPLES["tasking"]))  # fmt: skip
async def answer(c: Submitter, tid: str, form: AnswerForm) -> Any:
    """By the agency (or the one person) it was addressed to; audited."""
    return json(await bounded(c, _answer, c, tid, form))
