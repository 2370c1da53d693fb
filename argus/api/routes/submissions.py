"""Submissions: criminal intelligence and SARs, checked against 28 CFR Part 23 at the door
(rejected ones are not stored) and submitted as the caller's own agency."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from argus.api.deps import Caller, Problem, Submitter, bounded, json
from argus.api.models import EXAMPLES, Accepted, answers
from argus.api.services import Rejected

router = APIRouter(tags=["submission"])


def _submit(c: Caller, body: dict[str, Any]) -> dict[str, Any]:
    kind = body.pop("kind", "")
    kind = kind if isinstance(kind, str) else ""
    audit = c.api.audit
    try:
        out = c.api.submissions.submit(kind, body, c.who.agency, c.who.law_enforcement)
    except Rejected as exc:
        audit.record(
            "submit",
            actor=c.subject,
            agency=c.who.agency,
            object=kind[:64] or None,
            outcome="rejected",
            source=c.source,
            reason="28 CFR Part 23",
            detail={"fields": [p["field"] for p in exc.problems]},
        )
        raise Problem(422, "Submission rejected, not stored", str(exc), errors=exc.problems) from None
    audit.record(
        "submit",
        actor=c.subject,
        agency=c.who.agency,
        object=out["record_id"],
        source=c.source,
        detail={"kind": kind, "ratings": f"{out['reliability']}{out['validity']}", "review_by": out["review_by"]},
    )
    return out


@router.post(
    "/api/v1/submissions",
    status_code=202,
    summary="Submit criminal intelligence or a SAR (checked against 28 CFR Part 23; rejected ones are not stored)",
    responses=answers(Accepted, EXAMPLES["submission"], 202),
)
async def submit(c: Submitter, body: dict[str, Any]) -> Any:
    """`kind`: criminal_intelligence (law-enforcement agencies only: a criminal predicate, source
    reliability A-F, content validity 1-6, lawfully_obtained true, protected_activity_only false)
    or sar. A rejection lists every bad field (422); nothing rejected is stored."""
    return json(await bounded(c, _submit, c, body), 202)
