"""Stakeholder engagement: the partner organisations your agency works with, their contacts and
agreements, the meetings, outreach and feedback with them, and the engagement per partner and
period. Analysts and supervisors of the agency that keeps them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from argus.api.case_models import EngagementForm, Listing, PartnerForm
from argus.api.case_service import act, actor
from argus.api.deps import Caller, Decider, bounded, json
from argus.api.models import answers
from argus.workflows.partners import Partners

router = APIRouter(tags=["partners"])
PartnerId = Annotated[str, Path(pattern=r"^PTR-[0-9a-f]{16}$")]
_P = {
    "id": "PTR-5f0c2a9e1b7d4c3a",
    "owner": "CAFC00000",
    "name": "Valley Power & Light",
    "kind": "private_sector",
    "sector": "energy",
    "ori": "PSPENERGY",
    "contacts": [{"name": "R. Chen", "role": "security manager", "phone": "", "email": "rchen@vpl.example"}],
    "agreements": [
        {"title": "Information sharing MOU", "start": "2026-01-01T00:00:00Z", "end": "2028-01-01T00:00:00Z"}
    ],
    "version": 1,
    "created_at": "2026-01-05T10:00:00+00:00",
}


def desk(c: Caller) -> Partners:
    return Partners(c.svc.cases(), c.svc.audit)


def _body(form: PartnerForm) -> dict[str, Any]:
    return form.model_dump(mode="json", exclude={"version"})


@router.post(
    "/api/v1/partners", status_code=201, responses=answers(Listing, _P, 201), summary="Record a partner organisation"
)
async def add(c: Decider, form: PartnerForm) -> Any:
    """A partner organisation the caller's agency works with: kind, sector, contacts, agreements with
    their dates, its ORI when it is in the directory."""
    return json(await bounded(c, lambda: act(c, desk(c).put, actor(c), _body(form), None)), 201)


@router.get("/api/v1/partners", responses=answers(Listing, {"partners": [_P]}), summary="Your agency's partners")
async def partners(c: Decider, limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> Any:
    """The partner organisations the caller's agency keeps, by name."""
    return json({"partners": await bounded(c, c.svc.cases().partners, c.who.agency, limit)})


@router.get("/api/v1/partners/{partner_id}", responses=answers(Listing, _P), summary="One partner")
async def one(c: Decider, partner_id: PartnerId) -> Any:
    """One partner of the caller's agency; another agency's is answered as not found."""
    return json(await bounded(c, lambda: act(c, desk(c).get, partner_id, actor(c))))


@router.put(
    "/api/v1/partners/{partner_id}",
    responses=answers(Listing, _P),
    summary="Change a partner (send the version you read)",
)
async def change(c: Decider, partner_id: PartnerId, form: PartnerForm) -> Any:
    """A partner's details, against the version read (409 when it changed)."""
    body = _body(form) | {"id": partner_id}
    return json(await bounded(c, lambda: act(c, desk(c).put, actor(c), body, form.version or 0)))


@router.post(
    "/api/v1/partners/{partner_id}/engagements",
    status_code=201,
    responses=answers(Listing, {"kind": "meeting"}, 201),
    summary="Record a meeting, outreach, training, call or feedback",
)
async def engage(c: Decider, partner_id: PartnerId, form: EngagementForm) -> Any:
    """A meeting, outreach, training, call or feedback (with a 1-5 rating) with the partner."""
    return json(
        await bounded(
            c, lambda: act(c, desk(c).engage, partner_id, actor(c), form.kind, form.at, form.summary, form.rating)
        ),
        201,
    )


@router.get(
    "/api/v1/partners/{partner_id}/engagement",
    responses=answers(Listing, {"partner": _P["id"], "engagements": {"meeting": 2}, "submitted": 4, "received": 12}),
    summary="The engagement with a partner in a period: what was done, submitted and received",
)
async def engagement(
    c: Decider, partner_id: PartnerId, since: datetime | None = None, until: datetime | None = None
) -> Any:
    """The engagement in a period (default the last 90 days): engagements by kind, agreements in force,
    feedback, and what the partner submitted and was sent (from the audit trail)."""
    now = datetime.now(UTC)
    lo, hi = since or now - timedelta(days=90), until or now + timedelta(seconds=1)
    return json(await bounded(c, lambda: act(c, desk(c).engagement, partner_id, actor(c), lo, hi)))
