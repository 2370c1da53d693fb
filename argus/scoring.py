"""Scoring v1: how strongly a hit on a record should weigh with the officer, with reasons.

Additive points, each with its reason, capped at 100. Levels: HIGH >= 70, MEDIUM >= 40.
The weights put officer safety first (violent and weapons offenses, suspect roles), then the
28 CFR 23 evaluation of the source and content, then recency and series context.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from argus.alerts import level
from argus.nibrs import offense_class, offense_name
from argus.records import RELIABILITY_TEXT, VALIDITY_TEXT

CLASS_POINTS = {"violent": 35, "weapons": 30, "drugs": 20, "property": 15, "other": 8}
ROLE_POINTS = {"suspect": 20, "driver": 12, "owner": 10, "subject": 15, "victim": 3, "witness": 2}
RELIABILITY_POINTS = {"A": 10, "B": 8, "C": 5, "D": 2, "E": 0, "F": 1}
VALIDITY_POINTS = {1: 10, 2: 8, 3: 5, 4: 2, 5: 0, 6: 1}


__all__ = ["level", "score_hit"]


def score_hit(
    summary: dict[str, Any], role: str, match_score: float, now: datetime, series_size: int, other_agency: bool
) -> tuple[float, list[str]]:
    points = 0.0
    reasons: list[str] = []
    offs = summary.get("offenses") or []
    if offs:
        best = max(offs, key=lambda c: CLASS_POINTS[offense_class(c)])
        p = CLASS_POINTS[offense_class(best)]
        points += p
        reasons.append(f"+{p} {offense_name(best)} (NIBRS {best}, {offense_class(best)})")
    elif summary.get("kind") == "sar":
        points += 20
        reasons.append(f"+20 suspicious activity report ({summary.get('behavior')})")
    rp = ROLE_POINTS.get(role, 5)
    points += rp
    reasons.append(f"+{rp} listed as {role} in the record")
    rel, val = summary.get("reliability", "F"), summary.get("validity", 6)
    ev = RELIABILITY_POINTS.get(rel, 0) + VALIDITY_POINTS.get(val, 0)
    points += ev
    reasons.append(
        f"+{ev} source {rel} ({RELIABILITY_TEXT.get(rel, '?')}), content {val} ({VALIDITY_TEXT.get(val, '?')})"
    )
    when = summary.get("occurred_at")
    if when:
        age = (now - datetime.fromisoformat(when)).total_seconds() / 86400
        rec = 15 if age <= 7 else 10 if age <= 30 else 5 if age <= 365 else 0
        points += rec
        reasons.append(f"+{rec} {max(age, 0):.0f} days old")
    if summary.get("series_id"):
        sp = 10 if series_size > 1 else 6
        points += sp
        reasons.append(f"+{sp} part of series {summary['series_id']} ({series_size} report(s) on file)")
    if other_agency:
        reasons.append(f"record held by another agency ({summary['agency']})")
    if match_score < 1.0:
        pen = round((1.0 - match_score) * 50)
        points -= pen
        reasons.append(f"-{pen} inexact match ({match_score:.2f})")
    return max(0.0, min(100.0, round(points, 1))), reasons
