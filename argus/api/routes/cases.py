"""Joint case workspaces: open a case, name its members from any agency, and work it together
(tasks, notes, linked records and entities, the saved link chart, the timeline).

A case is seen only by its members whom the policy admits to its marking; to anyone else it does
not exist (404). The lead manages members and status; leads, investigators and analysts write;
read-only members read.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from argus.api.case_models import (
    CaseForm,
    CaseList,
    CaseOut,
    ChartForm,
    LinkForm,
    Listing,
    MemberForm,
    NoteForm,
    StatusForm,
    TaskForm,
)
from argus.api.case_service import act, actor, case_json, casework, file_json
from argus.api.deps import Reader, Submitter, bounded, json, refused
from argus.api.models import answers
from argus.security.policy import FULL, Marking
from argus.workflows.case_model import Case, Task
from argus.workflows.cases import CaseRefused, sees

router = APIRouter(tags=["cases"])
CaseId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^CASE-[0-9a-f]{16}$")]
_CASE = {
    "id": "CASE-5f0c2a9e1b7d4c3a",
    "title": "Pharmacy robbery series",
    "type": "task_force",
    "lead_agency": "CA0190000",
    "status": "OPEN",
    "tlp": "AMBER",
    "caveats": ["LES"],
    "criminal_intelligence": False,
    "predicate": "",
    "summary": "",
    "version": 3,
    "created_by": "det.lee",
    "created_at": "2026-12-06T09:00:00+00:00",
    "members": [
        {
            "subject": "det.lee",
            "agency": "CA0190000",
            "role": "lead",
            "added_by": "det.lee",
            "added_at": "2026-12-06T09:00:00+00:00",
        }
    ],
    "chart": {},
}


@router.post(
    "/api/v1/cases", status_code=201, responses=answers(CaseOut, _CASE, 201), summary="Open a case; you lead it"
)
async def open_case(c: Submitter, form: CaseForm) -> Any:
    """A new case led by the caller's agency, the caller its lead; criminal intelligence needs its
    criminal predicate (28 CFR 23.20(a))."""
    draft = Case(
        "",
        form.title,
        form.type,
        c.who.agency,
        form.tlp,
        tuple(form.caveats),
        form.criminal_intelligence,
        form.predicate,
        summary=form.summary,
    )
    case = await bounded(c, lambda: act(c, casework(c).open, draft, actor(c)))
    return json(case_json(case), 201)


@router.get("/api/v1/cases", responses=answers(CaseList, {"cases": [_CASE]}), summary="The cases you are a member of")
async def my_cases(c: Reader, limit: Annotated[int, Query(ge=1, le=500)] = 100) -> Any:
    """The caller's cases: those they are a member of and the policy admits them to under the case's
    marking."""

    def run() -> list[dict[str, Any]]:
        mine = c.svc.cases().cases_of(c.subject, limit)
        return [case_json(x, False) for x in mine if sees(x, c.subject, c.who, c.gate.rules)]

    got = await bounded(c, run)
    c.audited("read", "cases", count=len(got))
    return json({"cases": got})


@router.get(
    "/api/v1/cases/{case_id}",
    responses=answers(CaseOut, _CASE | {"tasks": [], "files": []}),
    summary="A case with its tasks and the files you may see",
)
async def one_case(c: Reader, case_id: CaseId) -> Any:
    """The case, its tasks, and the files the caller sees in full; a case they are not a member of is a
    404."""

    def run() -> dict[str, Any]:
        case = act(c, casework(c).get, case_id, actor(c), c.who)
        tasks = [dataclasses.asdict(t) for t in c.svc.cases().tasks(case_id)]
        files = [file_json(f) for f in c.svc.cases().files(case_id, c.gate.audience)]
        return case_json(case) | {"tasks": tasks, "files": files}

    out = await bounded(c, run)
    c.audited("read", case_id)
    return json(out)


@router.post(
    "/api/v1/cases/{case_id}/members",
    responses=answers(CaseOut, _CASE),
    summary="Add, change or remove a member (the lead)",
)
async def member(c: Submitter, case_id: CaseId, form: MemberForm) -> Any:
    """The lead adds a member of any agency with a role in the case, changes the role, or removes them
    (role null); membership is the member's need-to-know."""
    case = await bounded(
        c, lambda: act(c, casework(c).set_member, case_id, form.version, actor(c), c.who, form.subject, form.role)
    )
    return json(case_json(case))


@router.post(
    "/api/v1/cases/{case_id}/status", responses=answers(CaseOut, _CASE), summary="Open, suspend or close (the lead)"
)
async def status(c: Submitter, case_id: CaseId, form: StatusForm) -> Any:
    """The lead opens, suspends or closes the case, against the version read."""
    case = await bounded(c, lambda: act(c, casework(c).set_status, case_id, form.version, actor(c), c.who, form.status))
    return json(case_json(case))


@router.put("/api/v1/cases/{case_id}/chart", responses=answers(CaseOut, _CASE), summary="Save the case's link chart")
async def chart(c: Submitter, case_id: CaseId, form: ChartForm) -> Any:
    """The link chart as the workbench drew it (nodes, edges, positions), kept with the case against
    the version read."""
    case = await bounded(c, lambda: act(c, casework(c).save_chart, case_id, form.version, actor(c), c.who, form.chart))
    return json(case_json(case))


@router.post(
    "/api/v1/cases/{case_id}/tasks",
    status_code=201,
    responses=answers(Listing, {"id": "TASK-1"}, 201),
    summary="Add a task",
)
async def add_task(c: Submitter, case_id: CaseId, form: TaskForm) -> Any:
    """A task for a member of the case, with a due date; leads, investigators and analysts of the case
    add tasks."""
    t = Task("", case_id, form.title, form.assignee, form.due.isoformat(), form.state)
    saved = await bounded(c, lambda: act(c, casework(c).put_task, case_id, actor(c), c.who, t, None))
    return json(dataclasses.asdict(saved), 201)


@router.put(
    "/api/v1/cases/{case_id}/tasks/{task_id}",
    responses=answers(Listing, {"id": "TASK-1"}),
    summary="Change a task (send the version you read)",
)
async def change_task(
    c: Submitter, case_id: CaseId, task_id: Annotated[str, Path(pattern=r"^TASK-[0-9a-f]{16}$")], form: TaskForm
) -> Any:
    """The task's title, assignee, due date or state, against the version read (409 when it changed)."""
    if form.version is None:
        raise refused(CaseRefused(422, "version", "required on a change"))
    t = Task(task_id, case_id, form.title, form.assignee, form.due.isoformat(), form.state)
    saved = await bounded(c, lambda: act(c, casework(c).put_task, case_id, actor(c), c.who, t, form.version))
    return json(dataclasses.asdict(saved))


@router.post(
    "/api/v1/cases/{case_id}/notes",
    status_code=201,
    responses=answers(Listing, {"id": "EV-1"}, 201),
    summary="Add a note to the case's timeline",
)
async def note(c: Submitter, case_id: CaseId, form: NoteForm) -> Any:
    """A note on the case's activity, with its author and agency, audited."""
    e = await bounded(c, lambda: act(c, casework(c).note, case_id, actor(c), c.who, form.text))
    return json(dataclasses.asdict(e), 201)


@router.post(
    "/api/v1/cases/{case_id}/links",
    status_code=201,
    responses=answers(Listing, {"id": "EV-1"}, 201),
    summary="Link an entity, a record or an alert you may see to the case",
)
async def link(c: Submitter, case_id: CaseId, form: LinkForm) -> Any:
    """Only an entity, record or alert the caller may see can be linked; anything else is answered as
    not found."""

    def run() -> Any:
        if form.kind == "record":
            doc = c.svc.search().get(form.ref)
            v = c.gate.view(Marking.of(doc["fields"], doc["agency"], doc["tlp"])) if doc else None
            if v is None:
                raise c.hide(form.ref)
        elif form.kind == "entity" and c.svc.graph().node(form.ref) is None:
            raise c.hide(form.ref)
        return act(c, casework(c).link, case_id, actor(c), c.who, form.kind, form.ref, form.note)

    e = await bounded(c, run)
    return json(dataclasses.asdict(e), 201)


@router.get(
    "/api/v1/cases/{case_id}/activity",
    responses=answers(Listing, {"items": []}),
    summary="The case's own events and its linked records by when they happened",
)
async def timeline(c: Reader, case_id: CaseId, limit: Annotated[int, Query(ge=1, le=2000)] = 500) -> Any:
    """The case's own events (opened, members, tasks, notes, links, files) and the linked records the
    caller may see, by when they happened."""

    def run() -> list[dict[str, Any]]:
        act(c, casework(c).get, case_id, actor(c), c.who)
        items: list[dict[str, Any]] = []
        search = c.svc.search()
        for e in c.svc.cases().entries(case_id, limit):
            items.append(
                {"at": e.at, "kind": e.kind, "actor": e.actor, "agency": e.agency, "text": e.text, "ref": e.ref}
            )
            if e.kind == "link:record" and (doc := search.get(e.ref)) is not None:
                v = c.gate.view(Marking.of(doc["fields"], doc["agency"], doc["tlp"]))
                if v is not None and doc.get("occurred_at"):
                    title = doc["title"] if v.level == FULL else f"{doc['kind']} record of {doc['agency']}"
                    items.append(
                        {
                            "at": doc["occurred_at"],
                            "kind": "record",
                            "ref": e.ref,
                            "text": title,
                            "agency": doc["agency"],
                            "actor": "",
                        }
                    )
        return sorted(items, key=lambda i: (_at(i["at"]), i["kind"]))

    items = await bounded(c, run)
    c.audited("read", f"{case_id} timeline", count=len(items))
    return json({"items": items})


def _at(s: str) -> str:
    try:
        return datetime.fromisoformat(s.replace("Z", "+00:00")).isoformat()
    except ValueError:
        return s
