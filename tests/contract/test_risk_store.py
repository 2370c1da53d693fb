"""The risk store's contract, on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from argus.stores.risk import RiskStore

T0 = datetime(2026, 11, 20, tzinfo=UTC)


def row(subject: str, agency: str, score: float, at: datetime, crossed: bool = False, **cats: float) -> dict[str, Any]:
    return {"subject": subject, "subject_kind": "series" if subject.startswith("series:") else "person",
            "display": subject, "recipient_agency": agency, "score": score, "category": "violent_crime",
            "categories": {"violent_crime": score, **cats}, "reasons": [], "evidence": ["r1"], "threshold": 60.0,
            "crossed": crossed, "computed_at": at, "seq": int(at.timestamp())}  # fmt: skip


def test_newest_score_wins_per_agency_and_crossings_are_noticed_once(risk_store: RiskStore) -> None:
    risk_store.put([row("p1", "A", 70, T0 + timedelta(hours=1), crossed=True), row("p1", "B", 10, T0)])
    risk_store.put([row("p1", "A", 20, T0)])  # a replay of an older score: no roll-back
    risk_store.put([row("p1", "A", 70, T0 + timedelta(hours=1), crossed=True)])  # replayed crossing
    got = risk_store.get("p1", "A")
    assert got is not None and got["score"] == 70 and got["computed_at"].startswith("2026-11-20T01")
    assert risk_store.get("p1", "C") is None
    assert [n["subject"] for n in risk_store.notices("A", 10)] == ["p1"] and risk_store.notices("B", 10) == []


def test_top_is_the_agencys_own_by_score_or_by_category(risk_store: RiskStore) -> None:
    risk_store.put([row("p1", "A", 30, T0, gang=50), row("p2", "A", 80, T0), row("series:S1", "A", 55, T0),
                    row("p3", "B", 99, T0)])  # fmt: skip
    assert [r["subject"] for r in risk_store.top("A", None, None, 10)] == ["p2", "series:S1", "p1"]
    assert [r["subject"] for r in risk_store.top("A", None, "series", 10)] == ["series:S1"]
    assert [r["subject"] for r in risk_store.top("A", "gang", None, 10)] == ["p1"]
    assert [r["subject"] for r in risk_store.top("B", None, None, 10)] == ["p3"]


def test_a_purged_report_takes_every_score_and_notice_naming_it(risk_store: RiskStore) -> None:
    risk_store.put([row("p1", "A", 70, T0, crossed=True), row("p2", "A", 30, T0) | {"evidence": ["r2"]}])
    risk_store.forget("r1")
    assert risk_store.get("p1", "A") is None and risk_store.notices("A", 10) == []
    assert risk_store.get("p2", "A") is not None
