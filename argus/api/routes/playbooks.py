"""CACAO playbooks: import (the CACAO document, or a STIX course-of-action carrying it), validate,
list, read, export exactly as imported (or as STIX), set triggers, start executions, follow their
traces, and answer the manual steps given to you or your role. A playbook is seen whole or not at
all, by the policy; running one takes the `respond` permission (analysts, supervisors)."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Path, Query, Request, Response

from argus.api.case_service import actor
from argus.api.deps import Caller, Problem, Reader, bounded, json, reader, refused
from argus.api.models import PROBLEMS, answers
from argus.api.playbook_host import service
from argus.api.playbook_models import (
    EXAMPLE_EX,
    EXAMPLE_PB,
    EXAMPLE_TASK,
    PB_ID,
    AnswerForm,
    ExecutionList,
    PlaybookList,
    PlaybookOut,
    StartForm,
    TaskList,
    TaskOut,
    TriggersForm,
    Validation,
)
from argus.api.routes.stix import read_body
from argus.playbooks import limits
from argus.playbooks.commands.manual import assigned
from argus.playbooks.model import Playbook
from argus.playbooks.service import PlaybookRefused
from argus.playbooks.stix import bundle, from_stix, to_coa
from argus.playbooks.validation import InvalidPlaybook
from argus.stores.playbooks import StoredPlaybook

router = APIRouter(tags=["playbooks"])
Responder = Annotated[Caller, Depends(reader("respond"))]
PbId = Annotated[str, Path(pattern=PB_ID)]
ExId = Annotated[str, Path(pattern=r"^EXEC-[0-9a-f]{20}$")]
TaskId = Annotated[str, Path(pattern=r"^TASK-[0-9a-f]{16}$")]
Version = Annotated[str | None, Query(max_length=40, pattern=r"^\d{4}-\d\d-\d\dT[0-9:.]+Z$")]
BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "description": "A CACAO v2.0 playbook, or a STIX 2.1 course-of-action (or bundle) carrying one",
                }
            }
        },
    }
}


async def _body(request: Request) -> bytes:
    """The request's bytes (413 past the playbook size limit), unwrapped when STIX carries them."""
    raw = await read_body(request, limits.MAX_BYTES, "a playbook's size limit")
    try:
        inner = from_stix(orjson.loads(raw)) if raw.lstrip().startswith(b"{") else None
    except orjson.JSONDecodeError:
        inner = None
    return raw if inner is None else inner


def _act(c: Caller, fn: Any, *args: Any) -> Any:
    try:
        return fn(*args)
    except InvalidPlaybook as e:
        raise Problem(
            422,
            "Invalid playbook",
            str(e),
            errors=[{"field": p.step, "rule": p.rule, "problem": p.message} for p in e.problems[:200]],
        ) from None
    except PlaybookRefused as e:
        if e.status == 404:
            c.denied(str(args[0]) if args else "playbook", "not visible")
        raise refused(e) from None


def _summary(held: StoredPlaybook) -> dict[str, Any]:
    return {
        "id": held.id,
        "modified": held.modified,
        "name": held.name,
        "tlp": held.marking.tlp,
        "agency": held.marking.agency,
        "caveats": list(held.marking.handling),
        "imported_by": held.imported_by,
        "imported_at": held.imported_at,
        "triggers": list(held.triggers),
    }


@router.post(
    "/api/v1/playbooks/validate",
    responses=answers(Validation, {"valid": True, "problems": []}),
    openapi_extra=BODY,
    summary="Check a playbook without storing it",
)
async def validate_playbook(c: Reader, request: Request) -> Any:
    """The official CACAO v2.0 schemas and the rules they cannot express; every problem names the
    step and the rule."""
    body = await _body(request)
    _, problems = await bounded(c, service(c.svc).check, body)
    return json({"valid": not problems, "problems": [p.__dict__ for p in problems[:200]]})


@router.post(
    "/api/v1/playbooks",
    status_code=201,
    responses=answers(PlaybookOut, EXAMPLE_PB, 201),
    openapi_extra=BODY,
    summary="Import a playbook (a new version by its modified)",
)
async def import_playbook(c: Responder, request: Request) -> Any:
    """Stored exactly as sent, marked with your agency and the playbook's own TLP; the same
    version sent again changes nothing (200), other content under a held version is a 409."""
    body = await _body(request)
    held, new = await bounded(c, lambda: _act(c, service(c.svc, c.gate.rules).import_, body, actor(c), c.who))
    return json(_summary(held) | {"new": new}, 201 if new else 200)


@router.get(
    "/api/v1/playbooks", responses=answers(PlaybookList, {"playbooks": [EXAMPLE_PB]}), summary="Playbooks you may see"
)
async def playbooks(c: Reader, limit: Annotated[int, Query(ge=1, le=500)] = 100) -> Any:
    """The latest version of each playbook the policy lets you see whole."""
    rows = await bounded(c, c.svc.playbooks().listing, c.gate.audience, limit)
    return json({"playbooks": [_summary(r) for r in rows]})


@router.get(
    "/api/v1/playbooks/{pb_id}",
    responses=answers(PlaybookOut, EXAMPLE_PB | {"steps": [], "versions": []}),
    summary="A playbook: its steps, versions, triggers and recent executions",
)
async def playbook(c: Reader, pb_id: PbId, modified: Version = None) -> Any:
    """What an analyst reads before running it: every step with its type and where it leads."""
    svc = c.svc

    def read() -> dict[str, Any]:
        held = _act(c, service(svc, c.gate.rules).get, pb_id, c.who, modified)
        pb = Playbook(orjson.loads(held.text))
        steps = [
            {
                "id": k,
                "type": s.get("type"),
                "name": s.get("name", ""),
                "description": s.get("description", ""),
                **{
                    p: s[p]
                    for p in (
                        "on_completion",
                        "on_success",
                        "on_failure",
                        "on_true",
                        "on_false",
                        "next_steps",
                        "cases",
                        "condition",
                        "switch",
                    )
                    if p in s
                },
                "commands": [cmd.get("type") for cmd in s.get("commands") or []],
            }
            for k, s in pb.workflow.items()
        ]
        runs = svc.playbooks().executions(c.gate.audience, 20, pb_id)
        return _summary(held) | {
            "description": pb.doc.get("description", ""),
            "start": pb.start,
            "steps": steps,
            "variables": pb.doc.get("playbook_variables") or {},
            "versions": svc.playbooks().versions(pb_id),
            "executions": runs,
        }

    return json(await bounded(c, read))


@router.get(
    "/api/v1/playbooks/{pb_id}/export",
    summary="The playbook exactly as imported",
    responses={200: {"content": {"application/json": {"example": {"type": "playbook"}}}}, **PROBLEMS},
)
async def export_playbook(
    c: Reader,
    pb_id: PbId,
    modified: Version = None,
    stix: Annotated[bool, Query(description="as a STIX 2.1 course-of-action bundle")] = False,
) -> Response:
    """Byte for byte what was imported (every property kept), or the STIX course-of-action carrying
    it with its TLP marking; audited as an export."""
    held = await bounded(c, lambda: _act(c, service(c.svc, c.gate.rules).export, pb_id, actor(c), c.who, modified))
    name = f"{pb_id}.json"
    body = bundle(to_coa(Playbook(orjson.loads(held.text)), held.text)) if stix else held.text.encode()
    return Response(
        body,
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "X-Argus-Marking": f"TLP:{held.marking.tlp}"},
    )


@router.put(
    "/api/v1/playbooks/{pb_id}/triggers",
    responses=answers(PlaybookOut, EXAMPLE_PB),
    summary="What starts the playbook besides a person",
)
async def set_triggers(c: Responder, request: Request, pb_id: PbId, form: TriggersForm) -> Any:
    """Events addressed to your agency (alert, conflict, risk, SAR pattern) from now on, or a
    schedule; each execution they start acts for you, with your authority."""
    ts = [t.model_dump(exclude_none=True, exclude_defaults=False) for t in form.triggers]
    held = await bounded(c, lambda: _act(c, service(c.svc, c.gate.rules).set_triggers, pb_id, ts, actor(c), c.who))
    if ts:
        await bounded(c, request.app.state.playbooks.arm)
    return json(_summary(held))


@router.post(
    "/api/v1/playbooks/{pb_id}/executions",
    status_code=202,
    responses=answers(ExecutionList, EXAMPLE_EX, 202),
    summary="Run the playbook",
)
async def start(c: Responder, request: Request, pb_id: PbId, form: StartForm) -> Any:
    """Starts at once; follow it at /api/v1/executions/{id}."""
    svc = service(c.svc, c.gate.rules)
    ex, _ = await bounded(c, lambda: _act(c, svc.start, pb_id, form.variables, actor(c), c.who))
    request.app.state.playbooks.wake()
    return json(ex, 202)


@router.get(
    "/api/v1/executions",
    responses=answers(ExecutionList, {"executions": [EXAMPLE_EX]}),
    summary="Playbook executions of your agency",
)
async def executions(
    c: Reader,
    playbook: Annotated[str | None, Query(pattern=PB_ID)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Any:
    """Latest first, with their state, trigger and who they act for."""
    return json({"executions": await bounded(c, c.svc.playbooks().executions, c.gate.audience, limit, playbook)})


@router.get(
    "/api/v1/executions/{ex_id}",
    responses=answers(ExecutionList, EXAMPLE_EX | {"steps": []}),
    summary="An execution's trace",
)
async def execution(c: Reader, ex_id: ExId) -> Any:
    """Every step instance: its inputs, outputs, timing, attempts, errors and OpenC2 responses."""
    ex, steps = await bounded(c, lambda: _act(c, service(c.svc).execution, ex_id, c.who))
    return json(ex | {"steps": steps})


@router.get(
    "/api/v1/playbook-tasks",
    responses=answers(TaskList, {"tasks": [EXAMPLE_TASK]}),
    summary="Manual playbook steps of your agency",
)
async def tasks(
    c: Reader,
    state: Annotated[str | None, Query(pattern="^(open|answered|timed_out)$")] = "open",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Any:
    """Each with whether it is yours to answer (given to you, or to your role)."""
    rows = await bounded(c, c.svc.playbooks().tasks, c.who.agency, state, limit)
    return json({"tasks": [t | {"mine": assigned(t, c.subject, c.who.role)} for t in rows]})


@router.post(
    "/api/v1/playbook-tasks/{task_id}/answer",
    responses=answers(TaskOut, EXAMPLE_TASK | {"state": "answered"}),
    summary="Answer a manual step",
)
async def answer(c: Reader, task_id: TaskId, form: AnswerForm) -> Any:
    """The values it asks for, typed as the playbook declares them; the execution carries on."""
    done = await bounded(c, lambda: _act(c, service(c.svc).answer, task_id, form.values, actor(c), c.who))
    return json(done)
