"""Watch-officer shifts: open a shift with its staff, keep its log, generate and edit the handoff
briefing at its end, hand it to the incoming watch officer, who acknowledges it. Watch officers
(a role that reviews: supervisors) of the shift's own agency only."""

from __future__ import annotations

from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Path, Query

from argus.api.case_models import HandoverForm, Listing, LogForm, ShiftForm, VersionForm
from argus.api.case_service import act, actor
from argus.api.deps import Caller, bounded, json
from argus.api.models import answers
from argus.api.routes.ops import Watch
from argus.api.shift_briefing import gather, marks
from argus.records import utcnow
from argus.security.identity import IdentityError
from argus.workflows.cases import CaseRefused
from argus.workflows.shifts import Shifts

router = APIRouter(tags=["shifts"])
ShiftId = Annotated[str, Path(pattern=r"^SHIFT-[0-9a-f]{16}$")]
_SHIFT = {
    "id": "SHIFT-5f0c2a9e1b7d4c3a",
    "agency": "CAFC00000",
    "watch_officer": "sgt.ortiz",
    "start": "2026-12-06T06:00:00+00:00",
    "end": "2026-12-06T18:00:00+00:00",
    "staff": ["sgt.ortiz"],
    "state": "BRIEFED",
    "notes": "",
    "incoming": "",
    "version": 2,
    "briefing": {
        "generated_at": "2026-12-06T17:45:00+00:00",
        "counts": {"alert": 4, "rfi": 1},
        "alerts_by_level": {"HIGH": 1, "MEDIUM": 3},
        "overdue_rfis": 1,
        "items": [
            {
                "kind": "rfi",
                "id": "RFI-1",
                "overdue": True,
                "text": "Any reporting on CA 8ABC123?",
                "link": "#/rfis/RFI-1",
            }
        ],
    },
}


def desk(c: Caller) -> Shifts:
    return Shifts(c.svc.shifts(), c.svc.audit)


@router.post(
    "/api/v1/shifts",
    status_code=201,
    responses=answers(Listing, _SHIFT, 201),
    summary="Open a shift; you are its watch officer",
)
async def open_shift(c: Watch, form: ShiftForm) -> Any:
    """A shift of the caller's agency with its staff, the caller its watch officer; where the alert
    stream stands at its start is kept for the briefing."""
    m = await anyio.to_thread.run_sync(marks, c)
    return json(await bounded(c, lambda: act(c, desk(c).open, actor(c), form.start, form.end, form.staff, m)), 201)


@router.get("/api/v1/shifts", responses=answers(Listing, {"shifts": [_SHIFT]}), summary="Your agency's shifts")
async def shifts(c: Watch, limit: Annotated[int, Query(ge=1, le=200)] = 50) -> Any:
    """The caller's agency's shifts, latest start first, with their state and briefing."""
    return json({"shifts": await bounded(c, c.svc.shifts().of_agency, c.who.agency, limit)})


@router.get(
    "/api/v1/shifts/{shift_id}", responses=answers(Listing, _SHIFT | {"log": []}), summary="A shift and its log"
)
async def one_shift(c: Watch, shift_id: ShiftId) -> Any:
    """A shift of the caller's agency with its log, oldest first."""

    def run() -> dict[str, Any]:
        return act(c, desk(c).get, shift_id, actor(c)) | {"log": c.svc.shifts().entries(shift_id)}

    out = await bounded(c, run)
    c.audited("read", shift_id)
    return json(out)


@router.post(
    "/api/v1/shifts/{shift_id}/log",
    status_code=201,
    responses=answers(Listing, {"kind": "call"}, 201),
    summary="Add to the shift log (an event, a call, a decision)",
)
async def log(c: Watch, shift_id: ShiftId, form: LogForm) -> Any:
    """An event, a call or a decision in the shift's log, with its author."""
    return json(await bounded(c, lambda: act(c, desk(c).log, shift_id, actor(c), form.kind, form.text, form.ref)), 201)


@router.post(
    "/api/v1/shifts/{shift_id}/briefing",
    responses=answers(Listing, _SHIFT),
    summary="Generate the handoff briefing (the shift's watch officer)",
)
async def brief(c: Watch, shift_id: ShiftId, form: VersionForm) -> Any:
    """The shift's own watch officer generates the handoff briefing: what is open, gathered through
    their view, each item linked."""

    def run() -> dict[str, Any]:
        shift = act(c, desk(c).get, shift_id, actor(c))
        return act(c, desk(c).brief, shift_id, form.version, actor(c), gather(c, shift, utcnow()))

    return json(await bounded(c, run))


@router.post(
    "/api/v1/shifts/{shift_id}/handover",
    responses=answers(Listing, _SHIFT | {"state": "HANDED_OVER"}),
    summary="Edit the briefing's notes and hand it to the incoming watch officer",
)
async def hand_over(c: Watch, shift_id: ShiftId, form: HandoverForm) -> Any:
    """The outgoing watch officer's notes on the briefing, and the incoming watch officer (of the same
    agency) it is handed to."""

    def run() -> dict[str, Any]:
        try:
            them = c.svc.directory().recipient(form.incoming)
        except IdentityError:
            them = None
        if them is None or them.agency != c.who.agency or not them.may("review"):
            raise CaseRefused(422, "incoming", "a watch officer of your agency")
        return desk(c).hand_over(shift_id, form.version, actor(c), form.notes, form.incoming)

    return json(await bounded(c, lambda: act(c, run)))


@router.post(
    "/api/v1/shifts/{shift_id}/acknowledge",
    responses=answers(Listing, _SHIFT | {"state": "ACKNOWLEDGED"}),
    summary="Acknowledge the briefing handed to you",
)
async def acknowledge(c: Watch, shift_id: ShiftId, form: VersionForm) -> Any:
    """Only the incoming watch officer acknowledges the briefing handed to them; audited as an
    acknowledgement."""
    return json(await bounded(c, lambda: act(c, desk(c).acknowledge, shift_id, form.version, actor(c))))
