"""Risk: the caller's agency's view of the highest-risk people and crime series, one subject's
score with every reason and its weight, the notices of scores that crossed the threshold, and a
threat assessment drafted from a score.

Scores are computed per agency over only the evidence that agency sees in full
(processors/risk_scoring.py); the caller reads their own agency's, and the evidence a draft quotes
is again only what the caller sees in full.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from argus.api.deps import Caller, Decider, Problem, Reader, bounded, json
from argus.api.models import answers
from argus.api.product_models import ProductOut
from argus.api.product_service import actor, workflow
from argus.api.routes.products import detail
from argus.records import utcnow
from argus.risk import CATEGORIES
from argus.security.policy import Marking
from argus.workflows.threat_assessment import assessment_of

router = APIRouter(tags=["risk"])
Subject = Annotated[str, Path(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_.:\-]+$")]
_ROW = {"subject": "3f6c…", "subject_kind": "person", "display": "SMITH, JONATHAN A", "recipient_agency": "CA0190000",
        "score": 71.2, "category": "violent_crime", "categories": {"violent_crime": 71.2, "organised_crime": 18.1},
        "reasons": [{"factor": "offence", "category": "violent_crime", "weight": 24.8,
                     "detail": "robbery (120) as suspect, 3 days ago", "report": "29281448-…"}],
        "evidence": ["29281448-…"], "threshold": 60.0, "crossed": True,
        "computed_at": "2026-12-06T10:00:00+00:00"}  # fmt: skip


class RiskRow(BaseModel):
    subject: str
    subject_kind: str
    display: str
    recipient_agency: str
    score: float
    category: str
    categories: dict[str, float]
    reasons: list[dict[str, Any]]
    evidence: list[str]
    threshold: float
    crossed: bool
    computed_at: str


class RiskList(BaseModel):
    total: int
    scores: list[RiskRow] = Field(description="Your agency's, highest first")


def _brief(row: dict[str, Any]) -> dict[str, Any]:
    """A list's row: the reasons without the reports they rest on (one subject's view checks each)."""
    return row | {"evidence": [], "reasons": [r | {"report": ""} for r in row["reasons"]]}


def _checked(c: Caller, row: dict[str, Any]) -> dict[str, Any]:
    """The row with only the reports the caller sees in full named: the score was computed for
    the agency, and the one policy still decides for the person reading it."""
    search, ok = c.svc.search(), set()
    for rid in {*row["evidence"], *(r["report"] for r in row["reasons"] if r["report"])}:
        doc = search.get(rid)
        if doc is not None and c.gate.in_full(Marking.of(doc["fields"], doc["agency"], doc["tlp"])):
            ok.add(rid)
    reasons = [r if r["report"] in ok or not r["report"] else r | {"report": ""} for r in row["reasons"]]
    return row | {"evidence": [e for e in row["evidence"] if e in ok], "reasons": reasons}


def _top(c: Caller, category: str | None, kind: str | None, limit: int) -> dict[str, Any]:
    got = [_brief(r) for r in c.svc.risk().top(c.who.agency, category, kind, limit)]
    c.audited("read", "risk", endpoint="risk", returned=len(got))
    return {"total": len(got), "scores": got}


@router.get("/api/v1/risk", summary="The highest-risk people, series and threats, as your agency's evidence shows them",
            responses=answers(RiskList, {"total": 1, "scores": [_ROW]}))  # fmt: skip
async def top(
    c: Reader,
    category: Annotated[str | None, Query(max_length=32, description=", ".join(CATEGORIES))] = None,
    kind: Annotated[str | None, Query(pattern=r"^(person|series|threat)$")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Any:
    """Each with its categories' scores and the reasons behind them."""
    if category is not None and category not in CATEGORIES:
        raise Problem(400, "Invalid request", f"category: {category[:32]!r} is not one of {', '.join(CATEGORIES)}")
    return json(await bounded(c, _top, c, category, kind, limit))


def _notices(c: Caller, limit: int) -> dict[str, Any]:
    got = [_brief(r) for r in c.svc.risk().notices(c.who.agency, limit)]
    c.audited("read", "risk-notices", endpoint="risk/notices", returned=len(got))
    return {"total": len(got), "scores": got}


@router.get("/api/v1/risk/notices", summary="Scores that crossed the threshold for your agency",
            responses=answers(RiskList, {"total": 1, "scores": [_ROW]}))  # fmt: skip
async def notices(c: Reader, limit: Annotated[int, Query(ge=1, le=500)] = 50) -> Any:
    """Newest first: who crossed, in which category, and why."""
    return json(await bounded(c, _notices, c, limit))


def _one(c: Caller, subject: str) -> dict[str, Any]:
    row = c.svc.risk().get(subject, c.who.agency)
    if row is None:
        c.denied(subject, "no score")
        raise Problem(404, "No such score", f"no risk score for {subject!r} from your agency's evidence")
    c.audited("read", subject, endpoint="risk/subject")
    return _checked(c, row)


@router.get("/api/v1/risk/{subject}", summary="One subject's risk with every reason and its weight",
            responses=answers(RiskRow, _ROW))  # fmt: skip
async def one(c: Reader, subject: Subject) -> Any:
    """A person's entity id, a STIX threat's id, or series:<id>; each reason with the report it rests on, where you
    see that report in full."""
    return json(await bounded(c, _one, c, subject))


def _assess(c: Caller, subject: str) -> dict[str, Any]:
    row = _one(c, subject)
    search = c.svc.search()
    evidence = []
    for rid in row["evidence"]:
        doc = search.get(rid)
        if doc is None:
            continue
        m = Marking.of(doc["fields"], doc["agency"], doc["tlp"])
        if c.gate.in_full(m):
            f = doc["fields"]
            evidence.append((rid, m, doc["title"], (str(f.get("reliability") or "F"), int(f.get("validity") or 6))))
    draft = assessment_of(row, evidence, c.who.agency, utcnow())
    return detail(c, workflow(c).draft(draft, actor(c)))


@router.post("/api/v1/risk/{subject}/assessment", status_code=201, summary="Draft a threat assessment from a score",
             responses=answers(ProductOut, {"id": "PRD-…", "type": "threat_assessment"}, 201))  # fmt: skip
async def assess(c: Decider, subject: Subject) -> Any:
    """A threat_assessment draft of the caller's agency: the score and reasons as key judgements,
    the evidence the caller sees in full (quoted, so the product is marked at least as
    restrictively), confidence from the sources' ratings, and recommended actions."""
    return json(await bounded(c, _assess, c, subject), 201)
