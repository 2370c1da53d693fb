"""Suspicious activity reports: the ISE-SAR form, the public tip form, the review queue, the two
review steps, the reviewer's override, and the submitter's own view with the feedback.

A SAR is reviewed, and shown to a reviewer, only by someone who sees it in full under the one
policy (SARs submitted through Argus name the fusion centre as a recipient); everything else is
answered as if it did not exist. A submitter sees their own SARs' outcomes and the feedback
written for them, never the reviewer's internal reasons.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Annotated, Any

from fastapi import APIRouter, Query

from argus.api.deps import Caller, Decider, Problem, Submitter, bounded, json, refused
from argus.api.models import answers
from argus.api.sar_examples import SAR_EXAMPLES
from argus.api.sar_models import (
    Answers,
    Categories,
    MySar,
    MySars,
    Override,
    Review,
    SarDetail,
    SarForm,
    SarQueue,
    SarReceipt,
    Vetting,
    categories,
)
from argus.api.services import ServiceError, topic_or_none, topic_with
from argus.stores.sar_reviews import SarCase, StaleVersion
from argus.workflows.sar_intake import SarIntake
from argus.workflows.sar_model import OPEN, STATES
from argus.workflows.sar_review import Actor, Decision, SarRefused, SarReview, queue_settings

router = APIRouter(tags=["sar"])
log = logging.getLogger("argus.api")


def events_topic(c: Any) -> str | None:
    return topic_or_none(c.svc.topo, "sar_event.v1")


def intake(api: Any) -> SarIntake:
    svc = api.svc
    centre, sla = queue_settings(svc.topo)
    connector, topic = api.submissions.connectors.get("sar", (None, ""))
    return SarIntake(connector, topic, svc.sar_reviews(), svc.publish, events_topic(api), svc.audit, centre, sla)


def review(c: Caller) -> SarReview:
    svc = c.svc
    centre, sla = queue_settings(svc.topo)
    topic = events_topic(c.api)

    def publish(event: dict[str, Any]) -> None:
        if topic:
            svc.publish(topic, event, event["body"]["sar"])

    def share(bundle: dict[str, Any], agency: str) -> None:
        owner = centre or agency  # ISE-SARs are the vetting fusion centre's releases
        out = svc.stix_import(bundle, owner, lambda m: c.gate.view(m))
        if out["rejected"]:
            svc.audit.record("export", actor=c.subject, agency=agency, outcome="failed", reason="ISE-SAR share",
                             detail={"rejected": out["rejected"][:5]})  # fmt: skip

    return SarReview(svc.sar_reviews(), svc.audit, publish, share, sla)


def actor(c: Caller) -> Actor:
    return Actor(c.subject, c.who.agency, c.who.role, c.source)


def summary(case: SarCase) -> dict[str, Any]:
    return {
        "id": case.id, "sar_id": case.sar_id, "state": case.state, "behavior": case.behavior,
        "priority": case.priority, "score": case.override["score"] if case.override else case.triage_score,
        "agency": case.marking.agency, "tlp": case.marking.tlp, "public_tip": case.public_tip,
        "received_at": case.received_at.isoformat(), "due_at": case.due_at.isoformat() if case.due_at else None,
        "breached": case.breached, "reasons": case.triage_reasons, "place": case.place,
        "protected_activity": case.protected_activity,
    }  # fmt: skip


def detail(case: SarCase) -> dict[str, Any]:
    return summary(case) | {
        "narrative": case.narrative, "occurred_at": case.occurred_at.isoformat(), "submitted_by": case.submitted_by,
        "submitter_role": case.submitter_role, "contact": case.contact, "lat": case.lat, "lon": case.lon,
        "site_category": case.site_category, "override": case.override, "shared_as": case.shared_as or None,
        "steps": [s.as_dict() for s in case.steps], "version": case.version,
    }  # fmt: skip


def for_submitter(case: SarCase) -> dict[str, Any]:
    """What its submitter is told: the outcome of each step and the feedback and questions
    written for them, not who reviewed it nor the internal reasons."""
    steps = [
        {"step": s.step, "outcome": s.outcome, "at": s.at.isoformat(), "agency": s.agency, "feedback": s.feedback,
         "questions": s.questions}
        for s in case.steps
    ]  # fmt: skip
    return {"id": case.id, "sar_id": case.sar_id, "state": case.state, "behavior": case.behavior,
            "received_at": case.received_at.isoformat(), "steps": steps}  # fmt: skip


def find(c: Caller, sar: str) -> SarCase:
    """The SAR, if the caller sees it in full; otherwise a 404 as for one that does not exist."""
    case = c.svc.sar_reviews().get(sar[:128])
    if case is None or not c.gate.in_full(case.marking):
        c.denied(sar[:128], "policy")
        raise Problem(404, "No such SAR", f"no SAR {sar[:128]!r} you may see")
    return case


# --- intake -------------------------------------------------------------------------------------
@router.get("/api/v1/sar/categories", summary="The ISE-SAR behaviour categories, in plain words",
            responses=answers(Categories, SAR_EXAMPLES["categories"]), openapi_extra={"security": []})  # fmt: skip
async def sar_categories() -> Any:
    """The sixteen pre-operational behaviours in their two groups, for any form (public too)."""
    return {"categories": categories()}


def _submit(c: Caller, form: SarForm) -> dict[str, Any]:
    if c.who.role == "terrorism_liaison_officer":
        from argus.api.routes.tlos import check_tlo

        check_tlo(c)
    try:
        case = intake(c.api).submit(form.as_form(), actor(c), c.who.law_enforcement)
    except SarRefused as exc:
        raise refused(exc) from None
    return {"id": case.id, "sar_id": case.sar_id, "state": case.state}


@router.post("/api/v1/sars", status_code=201, summary="Submit a SAR (ISE-SAR fields)",
             responses=answers(SarReceipt, SAR_EXAMPLES["receipt"], 201))  # fmt: skip
async def submit_sar(c: Submitter, form: SarForm) -> Any:
    """As the caller's own agency; the fusion centre that vets SARs is named as a recipient."""
    return json(await bounded(c, _submit, c, form), 201)


# --- the review queue ---------------------------------------------------------------------------
def _queue(c: Caller, states: list[str], limit: int) -> dict[str, Any]:
    total, cases = c.svc.sar_reviews().queue(c.gate.audience, states, limit)
    c.audited("read", "sar-queue", endpoint="sars", returned=len(cases))
    return {"total": total, "sars": [summary(x) for x in cases]}


@router.get("/api/v1/sars", summary="The SAR review queue, highest triage first",
            responses=answers(SarQueue, SAR_EXAMPLES["queue"]))  # fmt: skip
async def sar_queue(
    c: Decider,
    state: Annotated[list[str] | None, Query(max_length=6, description=f"Any of {', '.join(STATES)}")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Any:
    """SARs waiting for review (SUBMITTED, ACCEPTED by default) that the caller sees in full,
    by triage score (or a reviewer's override), each with the reasons for its score."""
    states = state or list(OPEN)
    bad = [s for s in states if s not in STATES]
    if bad:
        raise Problem(400, "Invalid request", f"state: {bad[0][:32]!r} is not one of {', '.join(STATES)}")
    return json(await bounded(c, _queue, c, states, limit))


def _mine(c: Caller, limit: int) -> dict[str, Any]:
    cases = c.svc.sar_reviews().by_submitter(c.subject, c.who.agency, limit)
    c.audited("read", "own-sars", endpoint="sars/mine", returned=len(cases))
    return {"total": len(cases), "sars": [for_submitter(x) for x in cases]}


@router.get("/api/v1/sars/mine", summary="The SARs you submitted, with their outcome and feedback",
            responses=answers(MySars, SAR_EXAMPLES["mine"]))  # fmt: skip
async def my_sars(c: Submitter, limit: Annotated[int, Query(ge=1, le=500)] = 100) -> Any:
    """Newest first: each review step's outcome, the feedback written for you and any questions
    to answer (POST .../answers); not who reviewed it nor their internal reasons."""
    return json(await bounded(c, _mine, c, limit))


def _one(c: Caller, sar: str) -> dict[str, Any]:
    case = find(c, sar)
    c.audited("read", case.id, endpoint="sar")
    return detail(case)


@router.get("/api/v1/sars/{sar}", summary="One SAR with its triage reasons and review steps",
            responses=answers(SarDetail, SAR_EXAMPLES["detail"]))  # fmt: skip
async def one_sar(c: Decider, sar: str) -> Any:
    """The narrative, the submitter and how to reach them, the triage reasons, any override and
    every review step with its reviewer and reason; `version` is what a decision was made on."""
    return json(await bounded(c, _one, c, sar))


# --- the two steps, the override, the submitter's answers ----------------------------------------
def _act(c: Caller, sar: str, how: str, body: Any) -> dict[str, Any]:
    r, who = review(c), actor(c)
    if how != "answers" and not c.who.trained("ise_sar"):  # SAR review is for trained personnel
        c.denied(sar[:128], "ISE-SAR training lapsed")
        raise refused(SarRefused(403, "training", "your ISE-SAR training is not current: SAR review and vetting "
                                 "are closed to you until it is renewed (GET /api/v1/training/me)"))  # fmt: skip
    try:
        case = find(c, sar) if how != "answers" else _own(c, sar)
        if how == "review":
            case = r.initial_review(case, who, Decision(**body.model_dump() | {"questions": tuple(body.questions)}))
        elif how == "vetting":
            case = r.vetting(case, who, Decision(**body.model_dump()))
        elif how == "priority":
            case = r.override(case, who, body.score, body.reason)
        else:
            case = r.resubmit(case, who, body.answers)
    except SarRefused as exc:
        raise refused(exc) from None
    except StaleVersion as exc:
        raise Problem(409, "Changed meanwhile", f"{exc}; reload it and decide again") from None
    return detail(case) if how != "answers" else for_submitter(case)


def _own(c: Caller, sar: str) -> SarCase:
    case = c.svc.sar_reviews().get(sar[:128])
    if case is None or case.submitter != c.subject or case.marking.agency != c.who.agency:
        c.denied(sar[:128], "not the submitter")
        raise Problem(404, "No such SAR", f"no SAR {sar[:128]!r} of yours")
    return case


@router.post("/api/v1/sars/{sar}/review", summary="Initial review: accept for vetting, return, or close",
             responses=answers(SarDetail, SAR_EXAMPLES["detail"]))  # fmt: skip
async def initial_review(c: Decider, sar: str, body: Review) -> Any:
    """ISE-SAR part 1: is it complete, about behaviour in the standard, and not based solely on
    race, ethnicity, national origin, religion or constitutionally protected activity?"""
    return json(await bounded(c, _act, c, sar, "review", body))


@router.post("/api/v1/sars/{sar}/vetting", summary="Analyst vetting: ISE-SAR (shared), local SAR, or close",
             responses=answers(SarDetail, SAR_EXAMPLES["detail"]))  # fmt: skip
async def vetting(c: Decider, sar: str, body: Vetting) -> Any:
    """ISE-SAR part 2: a potential terrorism nexus, reasonably indicative of pre-operational
    planning? An ISE-SAR is shared as a STIX report on the shared TAXII collection."""
    return json(await bounded(c, _act, c, sar, "vetting", body))


@router.post("/api/v1/sars/{sar}/priority", summary="Override the triage score, with a reason",
             responses=answers(SarDetail, SAR_EXAMPLES["detail"]))  # fmt: skip
async def override(c: Decider, sar: str, body: Override) -> Any:
    """Sets the SAR's place in the queue and its priority (and so its SLA) until it leaves the
    open states; a later triage changes the score shown beside it, never the override."""
    return json(await bounded(c, _act, c, sar, "priority", body))


@router.post("/api/v1/sars/{sar}/answers", summary="Answer a returned SAR's questions (its submitter)",
             responses=answers(MySar, SAR_EXAMPLES["mine"]["sars"][0]))  # fmt: skip
async def answer(c: Submitter, sar: str, body: Answers) -> Any:
    """Only by its submitter, on a SAR returned with questions: the answers are added to the
    narrative and the SAR goes back to initial review."""
    return json(await bounded(c, _act, c, sar, "answers", body))


class SlaClock:
    """Raises SLA breaches while the API runs (every `ARGUS_SAR_SLA_SECONDS`, default 30): each
    open SAR past its due time once, as an event and an audit entry (argus/workflows/sar_review.py)."""

    def __init__(self, svc: Any) -> None:
        self.svc = svc
        self.every = float(os.environ.get("ARGUS_SAR_SLA_SECONDS", "30"))
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        try:
            self.topic = topic_with(self.svc.topo, "sar_event.v1")
        except ServiceError:  # no SAR review in this topology
            return
        self._thread = threading.Thread(target=self._run, name="sar-sla", daemon=True)
        self._thread.start()

    def sweep(self) -> int:
        svc, topic = self.svc, self.topic
        _, sla = queue_settings(svc.topo)
        r = SarReview(svc.sar_reviews(), svc.audit, lambda e: svc.publish(topic, e, e["body"]["sar"]), None, sla)
        return len(r.sweep())

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            try:
                self.sweep()
            except Exception:  # a store outage: the next round tries again
                log.warning("SAR SLA sweep failed", exc_info=True)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
