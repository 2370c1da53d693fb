"""Training records: what each user has completed and when it expires. A user reads their own,
with what a lapsed course takes away and reminders before expiry; administrators record courses
and list those expiring soon."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query

from argus.api.case_models import Listing, TrainingForm
from argus.api.deps import Caller, Problem, bounded, caller, json
from argus.api.models import answers
from argus.api.routes.admin import Admin
from argus.security.identity import IdentityError
from argus.workflows.training import COURSES, status

router = APIRouter(tags=["training"])
Course = Literal["28cfr23", "privacy", "ise_sar", "tlo"]
assert set(Course.__args__) == set(COURSES)  # type: ignore[attr-defined]
_ME = {
    "courses": [
        {
            "course": "28cfr23",
            "title": COURSES["28cfr23"],
            "completed": "2025-01-10",
            "expires": "2026-11-30",
            "current": False,
        }
    ],
    "lapsed": [
        {
            "course": "28cfr23",
            "title": COURSES["28cfr23"],
            "removes": "criminal intelligence",
            "why": "your 28 CFR Part 23 training is not current: criminal intelligence is closed to you",
        }
    ],
    "reminders": [],
}


@router.get(
    "/api/v1/training/me",
    responses=answers(Listing, _ME),
    summary="Your training: courses, what a lapsed course takes away, reminders",
)
async def mine(c: Annotated[Caller, Depends(caller)]) -> Any:
    """The caller's courses, which gated courses have lapsed and what that closes to them, and
    reminders for courses expiring within 30 days."""
    records = await bounded(c, c.svc.cases().training, c.subject)
    return json(status(records, date.today(), c.svc.topo.model.api.training_required))


@router.put(
    "/api/v1/admin/training/{subject}/{course}",
    responses=answers(Listing, {"recorded": True}),
    summary="Record a user's course (administrators)",
)
async def record(
    c: Admin,
    subject: Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9.\-]+$")],
    course: Course,
    form: TrainingForm,
) -> Any:
    """An administrator records a course a user completed, with its expiry; a lapsed course's access
    returns at once."""
    if form.expires <= form.completed:
        raise Problem(
            422, "Refused", "expires: after completed", errors=[{"field": "expires", "problem": "after completed"}]
        )

    def run() -> None:
        try:
            c.svc.directory().subject(subject)
        except IdentityError:
            raise Problem(
                422, "Refused", f"subject: no user {subject!r}", errors=[{"field": "subject", "problem": "unknown"}]
            ) from None
        c.svc.cases().put_training(subject, course, form.completed.date().isoformat(), form.expires.date().isoformat())

    await bounded(c, run)
    c.api.audit.record(
        "admin",
        actor=c.subject,
        agency=c.who.agency,
        object=subject,
        source=c.source,
        reason=f"training {course} recorded",
        detail={"expires": form.expires.date().isoformat()},
    )
    return json({"recorded": True})


@router.get(
    "/api/v1/admin/training/due",
    responses=answers(Listing, {"due": []}),
    summary="Courses expiring within `days` (reminders), soonest first (administrators)",
)
async def due(c: Admin, days: Annotated[int, Query(ge=1, le=365)] = 30) -> Any:
    """Courses expiring within `days`, soonest first: the reminders to send."""
    before = (datetime.now(UTC) + timedelta(days=days)).date().isoformat()
    return json({"due": await bounded(c, c.svc.cases().training_due, before, 500)})
