"""Requests for information between agencies and to the fusion centre: ask, answer with records,
close; your agency's RFIs (asked or addressed to it), and those past due. An RFI is seen only by
the agency that asked it and the agencies it is addressed to."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query

from argus.api.case_models import AnswerForm, Listing, RfiForm, VersionForm
from argus.api.case_service import act, actor, rfis
from argus.api.deps import Reader, Submitter, bounded, json
from argus.api.models import answers

router = APIRouter(tags=["rfis"])
RfiId = Annotated[str, Path(pattern=r"^RFI-[0-9a-f]{16}$")]
_RFI = {
    "id": "RFI-5f0c2a9e1b7d4c3a",
    "question": "Any reporting on a grey Civic, CA 8ABC123, since May?",
    "requester": "det.lee",
    "requester_agency": "CA0190000",
    "addressees": ["CA0100000", "CAFC00000"],
    "priority": "PRIORITY",
    "due": "2026-12-08T17:00:00+00:00",
    "case_id": "",
    "tlp": "AMBER",
    "status": "OPEN",
    "answer": "",
    "answer_records": [],
    "answered_by": "",
    "answered_agency": "",
    "answered_at": "",
    "created_at": "2026-12-06T09:00:00+00:00",
    "version": 1,
}


@router.post(
    "/api/v1/rfis",
    status_code=201,
    responses=answers(Listing, _RFI, 201),
    summary="Ask other agencies or the fusion centre a question",
)
async def ask(c: Submitter, form: RfiForm) -> Any:
    """A question from the caller's agency to other agencies or the fusion centre, with a priority and
    a due date in the future."""
    got = await bounded(
        c,
        lambda: act(
            c, rfis(c).ask, actor(c), form.question, form.addressees, form.priority, form.due, form.case_id, form.tlp
        ),
    )
    return json(got, 201)


@router.get(
    "/api/v1/rfis",
    responses=answers(Listing, {"rfis": [_RFI]}),
    summary="RFIs your agency asked or was asked, due soonest first",
)
async def listing(
    c: Reader,
    status: Annotated[list[Literal["OPEN", "ANSWERED", "CLOSED"]] | None, Query()] = None,
    overdue: bool = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Any:
    """RFIs asked by or of the caller's agency (`overdue=true`: open ones past their due date)."""

    def run() -> list[dict[str, Any]]:
        if overdue:
            return rfis(c).overdue(c.who.agency, limit)
        return c.svc.cases().rfis(c.who.agency, status or ["OPEN", "ANSWERED"], limit)

    got = await bounded(c, run)
    c.audited("read", "rfis", count=len(got))
    return json({"rfis": got})


@router.get("/api/v1/rfis/{rfi_id}", responses=answers(Listing, _RFI), summary="One RFI")
async def one(c: Reader, rfi_id: RfiId) -> Any:
    """One RFI, if the caller's agency asked it or is one it is addressed to."""
    got = await bounded(c, lambda: act(c, rfis(c).get, rfi_id, c.who.agency))
    c.audited("read", rfi_id)
    return json(got)


@router.post(
    "/api/v1/rfis/{rfi_id}/answer",
    responses=answers(Listing, _RFI | {"status": "ANSWERED"}),
    summary="Answer an RFI addressed to your agency, with the records that answer it",
)
async def answer(c: Submitter, rfi_id: RfiId, form: AnswerForm) -> Any:
    """An agency the RFI is addressed to answers with text and the records that answer it, against the
    version read."""
    got = await bounded(c, lambda: act(c, rfis(c).answer, rfi_id, form.version, actor(c), form.answer, form.records))
    return json(got)


@router.post(
    "/api/v1/rfis/{rfi_id}/close",
    responses=answers(Listing, _RFI | {"status": "CLOSED"}),
    summary="Close your agency's RFI",
)
async def close(c: Submitter, rfi_id: RfiId, form: VersionForm) -> Any:
    """Only the asking agency closes its RFI, against the version read."""
    return json(await bounded(c, lambda: act(c, rfis(c).close, rfi_id, form.version, actor(c))))
