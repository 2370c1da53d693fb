"""The ISE-SAR vocabulary and the review's state machine, shared by the intake, the review
service, the triage processor and the workbench (served as data, so the form and the rules
never disagree).

Behaviour categories and codes: ISE-SAR Functional Standard v1.5.5, in its two groups. The
plain-words descriptions are what a non-expert submitter reads on the form.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

CRIMINAL = "defined_criminal"  # defined criminal activity and potential terrorism nexus
NEEDS_INFO = "needs_more_information"  # potentially criminal or non-criminal: facts gathered first


@dataclass(frozen=True)
class Behavior:
    code: str
    title: str
    group: str
    plain: str


BEHAVIORS: tuple[Behavior, ...] = (
    Behavior("INTRSN", "Breach / attempted intrusion", CRIMINAL,
             "Someone gets, or tries to get, into a restricted area or building without permission."),
    Behavior("MISREP", "Misrepresentation", CRIMINAL,
             "Someone uses false papers, a uniform or a false identity to hide who they are or what they do."),
    Behavior("THEFT", "Theft / loss / diversion", CRIMINAL,
             "Things that could help an attack go missing or are stolen: badges, uniforms, plans, "
             "keys, vehicles, explosives, toxic material."),
    Behavior("SABOT", "Sabotage / tampering / vandalism", CRIMINAL,
             "Someone damages or interferes with equipment, a system or a site, for example cuts a fence "
             "or tampers with a valve."),
    Behavior("CYBER", "Cyberattack", CRIMINAL,
             "An attack on computers or networks that run a facility or hold sensitive information."),
    Behavior("THREAT", "Expressed or implied threat", CRIMINAL,
             "Someone says, writes or posts that they will harm people or damage a place."),
    Behavior("AVIATION", "Aviation activity", CRIMINAL,
             "An aircraft or drone used in a way that could endanger people or a site, or someone "
             "interfering with a flight or its crew."),
    Behavior("ELICIT", "Eliciting information", NEEDS_INFO,
             "Someone asks unusual, detailed questions about a site's security, staff, shifts or operations."),
    Behavior("TESTSEC", "Testing or probing of security", NEEDS_INFO,
             "Someone tries out the guards, alarms or barriers to see how they react, for example "
             "leaves a bag unattended or sets off an alarm on purpose."),
    Behavior("RECRUT", "Recruiting / financing", NEEDS_INFO,
             "Someone tries to recruit people, or raises or moves money, for violent activity."),
    Behavior("PHOTO", "Photography", NEEDS_INFO,
             "Someone photographs or films security features, entrances or staff in an unusual way. "
             "Taking photographs is not suspicious in itself."),
    Behavior("SURVL", "Observation / surveillance", NEEDS_INFO,
             "Someone watches a site for a long time or on several days, takes notes, maps or measures it."),
    Behavior("MATRLS", "Materials acquisition / storage", NEEDS_INFO,
             "Someone buys or stores unusual amounts of chemicals, fuel, fertiliser, weapons parts or "
             "other material that could be used in an attack."),
    Behavior("EXPERT", "Acquisition of expertise", NEEDS_INFO,
             "Someone seeks unusual training or knowledge, for example about explosives, a site's "
             "security systems or flying without wanting to learn landing."),
    Behavior("WPNS", "Weapons collection / discovery", NEEDS_INFO,
             "Weapons, explosives or their parts are collected in unusual amounts or found somewhere unexpected."),
    Behavior("SECTOR", "Sector-specific incident", NEEDS_INFO,
             "Something unusual for a particular sector (energy, water, chemical, transport...) that its "
             "own security staff would recognise as suspicious."),
)  # fmt: skip
BY_CODE = {b.code: b for b in BEHAVIORS}

# --- states -------------------------------------------------------------------------------------
SUBMITTED = "SUBMITTED"  # waiting for initial review
RETURNED = "RETURNED"  # back with the submitter, with questions
ACCEPTED = "ACCEPTED"  # passed initial review, waiting for analyst vetting
ISE_SAR = "ISE_SAR"  # vetted: potential terrorism nexus, shared to the shared space
LOCAL = "LOCAL"  # vetted: kept as a local SAR, not shared
CLOSED = "CLOSED"  # closed at either step, with the reason
STATES = (SUBMITTED, RETURNED, ACCEPTED, ISE_SAR, LOCAL, CLOSED)
OPEN = (SUBMITTED, ACCEPTED)  # waiting on the fusion centre (SLA runs)

# (step, outcome) -> (from state, to state)
TRANSITIONS: dict[tuple[str, str], tuple[str, str]] = {
    ("initial_review", "ACCEPT"): (SUBMITTED, ACCEPTED),
    ("initial_review", "RETURN"): (SUBMITTED, RETURNED),
    ("initial_review", "CLOSE"): (SUBMITTED, CLOSED),
    ("resubmission", "RESUBMIT"): (RETURNED, SUBMITTED),
    ("vetting", "ISE_SAR"): (ACCEPTED, ISE_SAR),
    ("vetting", "LOCAL"): (ACCEPTED, LOCAL),
    ("vetting", "CLOSE"): (ACCEPTED, CLOSED),
}
STEPS = ("initial_review", "vetting")

PRIORITIES = ("HIGH", "MEDIUM", "LOW")
# How long each priority may wait at each open state before the SLA is breached (topology
# `sar.sla_minutes` overrides): HIGH reviewed within an hour.
SLA_MINUTES = {"HIGH": 60, "MEDIUM": 24 * 60, "LOW": 72 * 60}

# Initial review's checklist (completeness) and vetting's (usefulness): what reviewers rate,
# and what the submitter's quality metrics are computed from.
CHECKLIST = ("who", "what", "where", "when", "why_suspicious", "contact")


def priority_of(score: float) -> str:
    """The triage score's band: at least 60 HIGH, at least 30 MEDIUM."""
    return "HIGH" if score >= 60 else "MEDIUM" if score >= 30 else "LOW"


def due(since: datetime, priority: str, sla: dict[str, int] | None = None) -> datetime:
    minutes = (sla or SLA_MINUTES).get(priority, SLA_MINUTES["LOW"])
    return since + timedelta(minutes=minutes)


@dataclass
class Step:
    """One decision on a SAR: who made it, when, the outcome and why (ISE-SAR keeps each)."""

    step: str
    outcome: str
    actor: str
    agency: str
    at: datetime
    reason: str
    questions: list[str] = field(default_factory=list)
    feedback: str = ""  # what the submitter is told
    ratings: dict[str, int] = field(default_factory=dict)
    facts: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "step": self.step, "outcome": self.outcome, "actor": self.actor, "agency": self.agency,
            "at": self.at.isoformat(), "reason": self.reason, "questions": self.questions,
            "feedback": self.feedback, "ratings": self.ratings, "facts": self.facts,
        }  # fmt: skip

    @classmethod
    def of(cls, d: dict[str, Any]) -> Step:
        return cls(
            d["step"], d["outcome"], d["actor"], d["agency"], datetime.fromisoformat(d["at"]), d["reason"],
            list(d.get("questions") or []), d.get("feedback") or "", dict(d.get("ratings") or {}), d.get("facts") or "",
        )  # fmt: skip
