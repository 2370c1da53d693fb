"""What the SARs add up to: the patterns the stream detected (addressed to the caller's agency),
counts per behaviour and week with a forecast, and review quality per submitting agency. Each
answer is computed over the SARs the caller sees in full, so no count says what the policy hides.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from statistics import median
from typing import Annotated, Any

from fastapi import APIRouter, Query

from argus.api.deps import Caller, Decider, bounded, json
from argus.api.models import answers
from argus.api.sar_examples import SAR_EXAMPLES
from argus.api.sar_models import Patterns, Quality, Trends
from argus.stats import poisson_interval
from argus.workflows.sar_model import CHECKLIST, STATES
from argus.workflows.sar_review import completeness

router = APIRouter(tags=["sar"])


def _patterns(c: Caller, limit: int) -> dict[str, Any]:
    """Patterns for the caller's agency, each shown only if the caller sees every SAR it counts
    in full (one barred from this reader since would otherwise be counted before their eyes)."""
    store = c.svc.sar_reviews()
    out = []
    for p in store.patterns(c.who.agency, limit):
        cases = [store.get(sid) for sid in p["sars"]]
        if all(x is not None and c.gate.in_full(x.marking) for x in cases):
            out.append(p | {"sar_ids": [x.sar_id for x in cases if x is not None]})
    c.audited("read", "sar-patterns", endpoint="sar/patterns", returned=len(out))
    return {"total": len(out), "patterns": out}


@router.get("/api/v1/sar/patterns", summary="SAR patterns detected for your agency",
            responses=answers(Patterns, SAR_EXAMPLES["patterns"]))  # fmt: skip
async def patterns(c: Decider, limit: Annotated[int, Query(ge=1, le=200)] = 50) -> Any:
    """Space-time clusters, the same behaviour against the same kind of site across agencies and
    rising counts, newest first, each with the SARs, the statistics and why it fired."""
    return json(await bounded(c, _patterns, c, limit))


def _week(day: str) -> date:
    d = date.fromisoformat(day)
    return d - timedelta(days=d.weekday())


def _trends(c: Caller, weeks: int, baseline: int) -> dict[str, Any]:
    now = datetime.now(UTC)
    start = _week(now.date().isoformat()) - timedelta(weeks=weeks - 1)
    rows = c.svc.sar_reviews().daily(c.gate.audience, datetime.combine(start, datetime.min.time(), UTC))
    per: dict[str, dict[date, int]] = defaultdict(lambda: defaultdict(int))
    for behavior, day, n in rows:
        per[behavior][_week(day)] += n
    series = []
    for behavior, counts in sorted(per.items()):
        ws = [start + timedelta(weeks=i) for i in range(weeks)]
        values = [counts.get(w, 0) for w in ws]
        base = values[-baseline - 1 : -1] or values[:-1] or [0]
        mean = sum(base) / len(base)
        low, high = poisson_interval(mean)
        series.append({
            "behavior": behavior, "weeks": [w.isoformat() for w in ws], "counts": values,
            "forecast": round(mean, 2), "interval": [round(low, 2), round(high, 2)],
            "above": values[-1] > high,
        })  # fmt: skip
    c.audited("read", "sar-trends", endpoint="sar/trends", returned=len(series))
    return {"weeks": weeks, "baseline_weeks": baseline, "series": series}


@router.get("/api/v1/sar/trends", summary="SARs per behaviour and week, with a forecast",
            responses=answers(Trends, SAR_EXAMPLES["trends"]))  # fmt: skip
async def trends(
    c: Decider,
    weeks: Annotated[int, Query(ge=2, le=104)] = 12,
    baseline: Annotated[int, Query(ge=1, le=52)] = 8,
) -> Any:
    """This week's count beside the mean of the `baseline` weeks before it and a 95% Poisson
    prediction interval; `above` marks a behaviour whose count is past the interval."""
    return json(await bounded(c, _trends, c, weeks, baseline))


def _quality(c: Caller, days: int) -> dict[str, Any]:
    since = datetime.now(UTC) - timedelta(days=days)
    _, cases = c.svc.sar_reviews().queue(c.gate.audience, list(STATES), 10_000)
    by: dict[str, list[Any]] = defaultdict(list)
    for x in cases:
        if x.received_at >= since:
            by[x.marking.agency].append(x)
    rows = []
    for agency, xs in sorted(by.items()):
        first = [(x, x.steps[0]) for x in xs if x.steps and x.steps[0].step == "initial_review"]
        rated = [v for _, s in first if (v := completeness(s.ratings)) is not None]
        hours = [(s.at - x.received_at).total_seconds() / 3600 for x, s in first]
        rows.append({
            "agency": agency, "submitted": len(xs), "reviewed": len(first),
            "accepted": sum(s.outcome == "ACCEPT" for _, s in first),
            "acceptance_rate": round(sum(s.outcome == "ACCEPT" for _, s in first) / len(first), 3) if first else None,
            "completeness": round(sum(rated) / len(rated), 3) if rated else None,
            "median_hours_to_review": round(median(hours), 2) if hours else None,
            "ise_sar": sum(x.state == "ISE_SAR" for x in xs), "public_tips": sum(x.public_tip for x in xs),
        })  # fmt: skip
    c.audited("read", "sar-quality", endpoint="sar/quality", returned=len(rows))
    return {"days": days, "checklist": list(CHECKLIST), "agencies": rows}


@router.get("/api/v1/sar/quality", summary="SAR quality per submitting agency",
            responses=answers(Quality, SAR_EXAMPLES["quality"]))  # fmt: skip
async def quality(c: Decider, days: Annotated[int, Query(ge=1, le=730)] = 90) -> Any:
    """For SARs received in the last `days` that the caller sees in full: how many were
    reviewed and accepted, their completeness against the checklist, the median time to initial
    review, and how many became ISE-SARs."""
    return json(await bounded(c, _quality, c, days))
