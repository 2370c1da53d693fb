"""The ISE-SAR two-part review, as a service the API drives.

A SAR enters through the API's form, a partner's SAR portal file or the public tip form, is
triaged by the stream (processors/sar_triage.py) and waits in the review queue. Initial review
(trained personnel) accepts it for vetting, returns it to the submitter with questions, or closes
it; analyst vetting makes it an ISE-SAR (shared as STIX over TAXII), keeps it as a local SAR, or
closes it. Every change is saved against the version the reviewer read, published on the SAR
events topic and audited; the submitter sees the outcome and the feedback written for them.
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime
from typing import Any

from argus.records import Tlp, utcnow
from argus.registry import node_class
from argus.security.audit import AuditTrail
from argus.stores.sar_reviews import SarCase, SarReviewStore, StaleVersion
from argus.workflows.refusal import Refused
from argus.workflows.sar_model import (
    BY_CODE,
    CHECKLIST,
    NEEDS_INFO,
    SLA_MINUTES,
    TRANSITIONS,
    Step,
    due,
    priority_of,
)
from argus.workflows.sar_share import ise_sar_bundle, report_id


class SarRefused(Refused):
    """A review step the rules do not allow: the status and the field it is about."""


@dataclasses.dataclass(frozen=True)
class Actor:
    """Who acts: from authentication only."""

    subject: str
    agency: str
    role: str
    source: str | None = None


@dataclasses.dataclass(frozen=True)
class Decision:
    """What a reviewer decided at one step."""

    outcome: str
    reason: str
    feedback: str = ""
    questions: tuple[str, ...] = ()
    ratings: dict[str, int] = dataclasses.field(default_factory=dict)
    facts: str = ""
    basis_confirmed: bool = False  # initial review: behaviour in the standard, not solely protected grounds
    release_tlp: str = "TLP:GREEN"  # vetting to ISE-SAR: the marking it is shared under


def queue_settings(topo: Any) -> tuple[str | None, dict[str, int]]:
    """The fusion centre and SLA the topology's review-queue node names (sinks/sar_queue.py)."""
    for model in topo.nodes.values():
        cls = node_class(model.use)
        if "sar_triage.v1" in getattr(cls, "accepts", ()) and getattr(cls, "stores", ()) == ("sar_reviews",):
            cfg = cls.Config.model_validate(model.config)
            return getattr(cfg, "fusion_centre", None), dict(getattr(cfg, "sla_minutes", SLA_MINUTES))
    return None, dict(SLA_MINUTES)


class SarReview:
    """One review step at a time, over the SAR review store; `publish(event)` writes the SAR
    events topic and `share(bundle, agency)` hands an ISE-SAR to the STIX intake."""

    def __init__(self, store: SarReviewStore, audit: AuditTrail, publish: Any, share: Any,
                 sla: dict[str, int] | None = None) -> None:  # fmt: skip
        self.store, self.audit, self.publish, self.share = store, audit, publish, share
        self.sla = sla or dict(SLA_MINUTES)

    # --- the two steps --------------------------------------------------------------------------
    def initial_review(self, case: SarCase, actor: Actor, d: Decision) -> SarCase:
        self._check_ratings(d)
        if d.outcome == "ACCEPT" and not d.basis_confirmed:
            raise SarRefused(
                422, "basis_confirmed", "confirm the SAR describes behaviour listed in the ISE-SAR standard and is not "
                "based solely on race, ethnicity, national origin, religion or constitutionally protected activity",
            )  # fmt: skip
        if d.outcome == "RETURN" and not d.questions:
            raise SarRefused(422, "questions", "a SAR returned to its submitter needs the questions to answer")
        now, was = utcnow(), case.state
        case = self._step(case, "initial_review", actor, d, now)
        if d.outcome == "ACCEPT":
            case = dataclasses.replace(case, due_at=due(now, case.priority, self.sla), breached=False)
        return self._save(was, case, "REVIEWED", actor, d)

    def vetting(self, case: SarCase, actor: Actor, d: Decision) -> SarCase:
        self._check_ratings(d)
        if d.outcome == "ISE_SAR":
            if BY_CODE[case.behavior].group == NEEDS_INFO and len(d.facts.strip()) < 20:
                raise SarRefused(
                    422, "facts", f"{case.behavior} needs more information before it can be an ISE-SAR: document the "
                    "facts gathered that make it reasonably indicative of pre-operational planning",
                )  # fmt: skip
            if case.protected_activity and len(d.facts.strip()) < 20:
                raise SarRefused(
                    422, "facts", "the activity may be constitutionally protected: document the facts beyond it that "
                    "indicate criminal, pre-operational behaviour",
                )  # fmt: skip
        now, was = utcnow(), case.state
        case = self._step(case, "vetting", actor, d, now)
        if d.outcome != "ISE_SAR":
            return self._save(was, case, "VETTED", actor, d)
        tlp = self._release_tlp(case, d.release_tlp)
        saved = self._save(was, dataclasses.replace(case, shared_as=report_id(case)), "VETTED", actor, d)
        self.share(ise_sar_bundle(saved, tlp, actor.agency, now), actor.agency)  # only once the decision holds
        return saved

    def resubmit(self, case: SarCase, actor: Actor, answers: str) -> SarCase:
        if case.submitter != actor.subject or case.marking.agency != actor.agency:
            raise SarRefused(403, "sar", "only the submitter answers a returned SAR's questions")
        d = Decision("RESUBMIT", "answered the reviewer's questions")
        now, was = utcnow(), case.state
        case = self._step(case, "resubmission", actor, d, now)
        case = dataclasses.replace(
            case, narrative=f"{case.narrative}\n\nAnswers ({now:%Y-%m-%d}): {answers}",
            due_at=due(now, case.priority, self.sla), breached=False,
        )  # fmt: skip
        return self._save(was, case, "RESUBMITTED", actor, d)

    def override(self, case: SarCase, actor: Actor, score: float, reason: str) -> SarCase:
        if not case.open:
            raise SarRefused(409, "sar", f"SAR {case.sar_id} is {case.state}: its place in the queue no longer counts")
        now = utcnow()
        priority = priority_of(score)
        case = dataclasses.replace(
            case, override={"score": score, "reason": reason, "by": actor.subject, "at": now.isoformat()},
            priority=priority, due_at=due(case.received_at if case.state == "SUBMITTED" else now, priority, self.sla),
        )  # fmt: skip
        return self._save(case.state, case, "OVERRIDDEN", actor, Decision("OVERRIDE", reason), outcome=None)

    # --- the SLA clock --------------------------------------------------------------------------
    def sweep(self, now: datetime | None = None, limit: int = 500) -> list[SarCase]:
        """Raise each open SAR past its due time once: an event (the watch board and metrics read
        it) and an audit entry. Two sweepers racing raise it once (the save is conditional)."""
        out = []
        robot = Actor("argus", "-", "system")
        for case in self.store.overdue(now or utcnow(), limit):
            late = dataclasses.replace(case, breached=True)
            why = f"{case.priority} SAR waiting at {case.state} past {case.due_at:%Y-%m-%d %H:%M} UTC"
            try:
                out.append(self._save(case.state, late, "SLA_BREACHED", robot, Decision("BREACH", why), outcome=None))
            except StaleVersion:
                continue
        return out

    # --- helpers ---------------------------------------------------------------------------------
    def _check_ratings(self, d: Decision) -> None:
        bad = sorted(k for k, v in d.ratings.items() if k not in CHECKLIST or v not in (0, 1, 2))
        if bad:
            scale = "0 (missing), 1 (partial), 2 (complete)"
            raise SarRefused(422, "ratings", f"{bad[0]}: rate {', '.join(CHECKLIST)} {scale}")

    def _step(self, case: SarCase, step: str, actor: Actor, d: Decision, now: datetime) -> SarCase:
        edge = TRANSITIONS.get((step, d.outcome))
        if edge is None:
            outcomes = [o for (s, o) in TRANSITIONS if s == step]
            raise SarRefused(422, "outcome", f"{d.outcome!r} is not an outcome of {step}: one of {', '.join(outcomes)}")
        if case.state != edge[0]:
            raise SarRefused(409, "state", f"SAR {case.sar_id} is {case.state}; {step} needs it {edge[0]}")
        s = Step(step, d.outcome, actor.subject, actor.agency, now, d.reason, list(d.questions), d.feedback,
                 dict(d.ratings), d.facts)  # fmt: skip
        return dataclasses.replace(case, state=edge[1], steps=[*case.steps, s], updated_at=now)

    @staticmethod
    def _release_tlp(case: SarCase, asked: str) -> Tlp:
        """What an ISE-SAR is shared under: the reviewer's choice, never RED (the shared space
        names no one) and never less restrictive than a RED or AMBER+STRICT SAR allows."""
        tlp = Tlp.parse(asked)
        if tlp is Tlp.RED:
            raise SarRefused(422, "release_tlp", "an ISE-SAR is shared with the shared space: TLP:RED names no one")
        own = Tlp.parse(case.marking.tlp)
        if own in (Tlp.RED, Tlp.AMBER_STRICT):
            raise SarRefused(
                422, "release_tlp", f"the SAR is {own.label}: its submitter did not release it beyond "
                "their own organisation; keep it LOCAL or ask them to release it",
            )  # fmt: skip
        return tlp

    def _save(self, was: str | None, case: SarCase, event: str, actor: Actor, d: Decision,
              outcome: str | None = "") -> SarCase:  # fmt: skip
        """Save against the version read (StaleVersion: someone else was first), then publish
        and audit: a refused save publishes nothing."""
        saved = self.store.save(case)
        self.publish(event_of(saved, event, was, actor, d, d.outcome if outcome == "" else outcome))
        self.audit.record(
            "review" if event in ("REVIEWED", "VETTED") else "write", actor=actor.subject, agency=actor.agency,
            object=case.id, source=actor.source, reason=d.reason[:500],
            detail={"sar": case.sar_id, "event": event, "outcome": d.outcome, "state": saved.state},
        )  # fmt: skip
        return saved


def completeness(ratings: dict[str, int]) -> float | None:
    return sum(ratings.values()) / (2 * len(CHECKLIST)) if ratings else None


def event_of(case: SarCase, event: str, before: str | None, actor: Actor, d: Any, outcome: str | None) -> dict:
    """The SAR events topic's record (sar_event.v1), under the SAR's own marking."""
    m, now = case.marking, utcnow()
    env = {
        "id": str(uuid.uuid4()), "type": "sar_event", "source_agency": m.agency, "source_system": "sar_review",
        "tlp": m.tlp, "reliability": "F", "validity": 6, "criminal_intelligence": m.ci, "criminal_predicate": None,
        "handling": list(m.handling), "cases": list(m.cases), "recipients": list(m.recipients),
        "source_law_enforcement": case.submitter_role not in ("private_sector_partner", "public"),
        "review_by": None, "observed_at": now, "ingested_at": now, "trace_id": case.id,
    }  # fmt: skip
    body = {
        "event_id": env["id"], "sar": case.id, "sar_id": case.sar_id, "event": event, "from_state": before,
        "to_state": case.state, "outcome": outcome, "actor": actor.subject, "actor_agency": actor.agency,
        "reason": (d.reason if d is not None else "")[:2000], "at": now, "priority": case.priority,
        "behavior": case.behavior, "submitter": case.submitter, "submitter_agency": m.agency,
        "public_tip": case.public_tip, "completeness": completeness(d.ratings) if d is not None else None,
    }  # fmt: skip
    return {"envelope": env, "body": body}
