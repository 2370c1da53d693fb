"""The risk model: how much a subject (a resolved person) or a threat (a crime series) weighs, by
category, from the evidence Argus holds, with every contribution kept as a reason and its weight.

Each piece of evidence is one report naming the subject, and contributes:
- offence: the NIBRS offence's severity times the subject's role in it (a suspect counts fully, a
  victim or witness hardly), decayed with the report's age (half-life a year);
- weapon: a weapon offence or a weapon named in the report;
- series: membership of a crime series (once per series);
- SAR: a suspicious activity report naming them (terrorism; an expressed threat also targeted
  violence), weighted by the ISE-SAR behaviour;
- cyber: a STIX object or ATT&CK technique attributed to them;
- gang: a report that names a gang.
Then the network: links to high-risk subjects (a quarter of the highest associate's score in that
category) and centrality (how many distinct people they were reported with, on a log scale).

A category's score is 100 * (1 - exp(-points / 40)), to a tenth below: the first serious
offence counts most, and no pile of reports reaches 100. The subject's score is its highest category's.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from argus.nibrs import offense_class, offense_name

CATEGORIES = ("terrorism", "organised_crime", "gang", "violent_crime", "cyber", "targeted_violence")
HALF_LIFE_DAYS = 365.0
SCALE = 40.0
SEVERITY = {"09A": 40, "09B": 20, "100": 30, "11A": 35, "120": 25, "13A": 25, "13B": 8, "13C": 10, "64A": 30,
            "520": 15, "200": 15, "210": 12, "220": 6, "240": 5, "35A": 10, "35B": 3}  # fmt: skip
CLASS_CATEGORY = {"violent": "violent_crime", "weapons": "violent_crime", "drugs": "organised_crime",
                  "property": "organised_crime", "other": "organised_crime"}  # fmt: skip
OFFENCE_CATEGORY = {"64A": "organised_crime", "210": "organised_crime", "13C": "targeted_violence"}
ROLE = {"suspect": 1.0, "offender": 1.0, "arrestee": 1.0, "subject": 0.8, "involved": 0.5, "driver": 0.5,
        "owner": 0.3, "victim": 0.1, "witness": 0.05, "reporting": 0.05, "complainant": 0.05}  # fmt: skip
SAR_WEIGHT = {"THREAT": 20, "WPNS": 18, "MATRLS": 16, "SURVL": 10, "TESTSEC": 12, "INTRSN": 12, "SABOT": 14,
              "RECRUT": 14, "CYBER": 12, "EXPERT": 10, "ELICIT": 8, "PHOTO": 5, "AVIATION": 10}  # fmt: skip
WEAPON = re.compile(r"\b(hand ?gun|firearm|pistol|rifle|shotgun|knife|machete|explosive|ied|gun)\b", re.I)
GANG = re.compile(r"\b(gang|clique|crew|set member)\b", re.I)


@dataclass(frozen=True)
class Evidence:
    """One report naming the subject, as the model needs it (kept in the processor's state)."""

    report: str
    at: str  # ISO occurred time
    kind: str  # rms, cad, sar, stix
    role: str = ""
    offences: tuple[str, ...] = ()
    weapon: bool = False
    gang: bool = False
    series: str = ""
    behavior: str = ""
    marking: tuple[Any, ...] = ()  # (agency, tlp, ci, handling, cases, recipients)

    def packed(self) -> list[Any]:
        return [self.report, self.at, self.kind, self.role, list(self.offences), self.weapon, self.gang,
                self.series, self.behavior, list(self.marking)]  # fmt: skip

    @classmethod
    def unpack(cls, v: list[Any]) -> Evidence:
        m = v[9]
        marking = (m[0], m[1], m[2], tuple(m[3]), tuple(m[4]), tuple(m[5])) if m else ()
        return cls(v[0], v[1], v[2], v[3], tuple(v[4]), v[5], v[6], v[7], v[8], marking)


@dataclass
class Score:
    categories: dict[str, float]
    reasons: list[dict[str, Any]] = field(default_factory=list)

    @property
    def top(self) -> tuple[str, float]:
        return max(self.categories.items(), key=lambda kv: (kv[1], kv[0]), default=("violent_crime", 0.0))


def decay(at: str, now: datetime) -> float:
    try:
        when = datetime.fromisoformat(at)
    except ValueError:
        return 0.5
    days = max(0.0, (now - when).total_seconds() / 86400)
    return 0.5 ** (days / HALF_LIFE_DAYS)


def _age(at: str, now: datetime) -> str:
    try:
        days = (now - datetime.fromisoformat(at)).days
    except ValueError:
        return "undated"
    return f"{days} days ago" if days < 730 else f"{days // 365} years ago"


def contributions(e: Evidence, now: datetime) -> list[dict[str, Any]]:
    """What one report contributes, each a reason: factor, category, weight and why."""
    d, role = decay(e.at, now), ROLE.get(e.role.lower(), 0.5)
    out: list[dict[str, Any]] = []

    def add(factor: str, category: str, weight: float, detail: str) -> None:
        if weight > 0.05:
            out.append({"factor": factor, "category": category, "weight": round(weight, 2), "detail": detail,
                        "report": e.report})  # fmt: skip

    for code in e.offences:
        cat = OFFENCE_CATEGORY.get(code, CLASS_CATEGORY[offense_class(code)])
        sev = SEVERITY.get(code, 3)
        add("offence", cat, sev * role * d, f"{offense_name(code)} ({code}) as {e.role or 'named'}, {_age(e.at, now)}")
    if e.weapon or "520" in e.offences:
        add("weapon", "violent_crime", 10 * max(role, 0.3) * d, f"a weapon in {e.kind} report, {_age(e.at, now)}")
    if e.gang:
        add("gang", "gang", 15 * max(role, 0.3) * d, f"a gang named in {e.kind} report, {_age(e.at, now)}")
    if e.kind == "sar" and e.behavior:
        w = SAR_WEIGHT.get(e.behavior, 8) * d
        add("sar", "terrorism", w, f"SAR: {e.behavior}, {_age(e.at, now)}")
        if e.behavior == "THREAT":
            add("sar", "targeted_violence", w, f"SAR: expressed threat, {_age(e.at, now)}")
        if e.behavior == "CYBER":
            add("sar", "cyber", w, f"SAR: cyberattack, {_age(e.at, now)}")
    if e.kind == "stix":
        add("attack", "cyber", 15 * d, f"STIX / ATT&CK attribution, {_age(e.at, now)}")
    return out


def score(evidence: list[Evidence], associates: dict[str, dict[str, float]], now: datetime) -> Score:
    """The subject's score from its evidence and its associates' scores (as the same reader sees
    them): per category, every reason kept, heaviest first."""
    reasons = [r for e in evidence for r in contributions(e, now)]
    for series in sorted({e.series for e in evidence if e.series}):
        reasons.append({"factor": "series", "category": "organised_crime", "weight": 8.0,
                        "detail": f"member of series {series}", "report": ""})  # fmt: skip
    for cat in CATEGORIES:
        best = max(((a, s.get(cat, 0.0)) for a, s in associates.items()), key=lambda x: x[1], default=("", 0.0))
        if best[1] >= 20:
            reasons.append({"factor": "association", "category": cat, "weight": round(best[1] / 4, 2),
                            "detail": f"reported with {best[0]}, {cat} score {best[1]:.0f}", "report": ""})  # fmt: skip
    if len(associates) >= 2:
        w = min(20.0, 5 * math.log2(1 + len(associates)))
        reasons.append({"factor": "centrality", "category": "organised_crime", "weight": round(w, 2),
                        "detail": f"reported with {len(associates)} different people", "report": ""})  # fmt: skip
    points: dict[str, float] = {}
    for r in reasons:
        points[r["category"]] = points.get(r["category"], 0.0) + r["weight"]
    cats = {c: math.floor(1000 * (1 - math.exp(-p / SCALE))) / 10 for c, p in points.items()}
    reasons.sort(key=lambda r: -r["weight"])
    return Score(cats, reasons)


def confidence(ratings: list[tuple[str, int]]) -> str:
    """High / moderate / low from the 28 CFR 23 ratings of the sources (reliability A-F,
    validity 1-6): high when most sources are reliable (A-B) and confirmed (1-2)."""
    if not ratings:
        return "low"
    good = sum(r in "AB" and v <= 2 for r, v in ratings)
    fair = sum(r in "ABC" and v <= 3 for r, v in ratings)
    if good * 2 > len(ratings):
        return "high"
    return "moderate" if fair * 2 > len(ratings) else "low"
