"""The SAR review store's contract, on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from argus.security.policy import Marking
from argus.stores.sar_reviews import SarCase, SarReviewStore, StaleVersion
from argus.stores.search import Audience
from argus.workflows.sar_model import Step

T0 = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)
A, B = "CA0190000", "CA0430000"


def case(n: int, agency: str = A, tlp: str = "AMBER", score: float = 10.0, **kw: object) -> SarCase:
    base = SarCase(
        id=f"sar{n}", sar_id=f"SAR-{n}", marking=Marking(agency, tlp), behavior="SURVL",
        occurred_at=T0, received_at=T0 + timedelta(minutes=n), narrative=f"narrative {n}",
        submitted_by="Officer", submitter=f"user{n % 2}", triage_score=score, due_at=T0 + timedelta(hours=1),
    )  # fmt: skip
    return dataclasses.replace(base, **kw)  # type: ignore[arg-type]


def test_a_sar_round_trips_whole(sar_reviews: SarReviewStore) -> None:
    c = case(1, marking=Marking(A, "AMBER", True, ("LES",), ("ROB-1",), ("list:tf",)), lat=36.7, lon=-119.8,
             contact={"phone": "555-0100"}, protected_activity=True, public_tip=True,
             triage_reasons=[{"factor": "behavior", "points": 20, "detail": "SURVL"}],
             steps=[Step("initial_review", "ACCEPT", "ann", A, T0, "complete", ratings={"who": 1})])  # fmt: skip
    assert sar_reviews.create(c)
    got = sar_reviews.get("sar1")
    assert got is not None
    assert dataclasses.replace(got, version=0) == c
    assert sar_reviews.get("nope") is None


def test_create_never_overwrites(sar_reviews: SarReviewStore) -> None:
    assert sar_reviews.create(case(1))
    assert not sar_reviews.create(case(1, narrative="other"))
    assert sar_reviews.get("sar1").narrative == "narrative 1"  # type: ignore[union-attr]


def test_a_save_from_a_stale_read_is_refused(sar_reviews: SarReviewStore) -> None:
    sar_reviews.create(case(1))
    first, second = sar_reviews.get("sar1"), sar_reviews.get("sar1")
    assert first is not None and second is not None
    saved = sar_reviews.save(dataclasses.replace(first, state="ACCEPTED"))
    assert saved.version == first.version + 1 and saved.state == "ACCEPTED"
    with pytest.raises(StaleVersion):
        sar_reviews.save(dataclasses.replace(second, state="CLOSED"))
    assert sar_reviews.get("sar1").state == "ACCEPTED"  # type: ignore[union-attr]


def test_triage_updates_the_score_but_never_the_review(sar_reviews: SarReviewStore) -> None:
    sar_reviews.triaged(case(1, score=5))  # a SAR first seen through its triage is inserted whole
    c = sar_reviews.get("sar1")
    assert c is not None and c.triage_score == 5
    sar_reviews.save(dataclasses.replace(c, state="ACCEPTED", narrative="kept"))
    sar_reviews.triaged(case(1, score=70, priority="HIGH", triage_reasons=[{"factor": "site"}]))
    got = sar_reviews.get("sar1")
    assert got is not None
    assert (got.state, got.narrative, got.triage_score, got.priority) == ("ACCEPTED", "kept", 70, "HIGH")
    assert got.triage_reasons == [{"factor": "site"}]


def test_an_override_holds_against_a_later_triage(sar_reviews: SarReviewStore) -> None:
    sar_reviews.create(case(1, score=10))
    sar_reviews.create(case(2, score=50))
    c = sar_reviews.get("sar1")
    sar_reviews.save(dataclasses.replace(c, override={"score": 90, "reason": "known subject"}, priority="HIGH"))  # type: ignore[arg-type]
    sar_reviews.triaged(case(1, score=20, priority="LOW"))
    got = sar_reviews.get("sar1")
    assert got is not None and got.priority == "HIGH" and got.triage_score == 20
    _, q = sar_reviews.queue(None, ["SUBMITTED"], 10)
    assert [x.id for x in q] == ["sar1", "sar2"]


def test_the_queue_holds_only_what_the_reader_sees_in_full(sar_reviews: SarReviewStore) -> None:
    sar_reviews.create(case(1, A, "AMBER", 10))
    sar_reviews.create(case(2, B, "AMBER", 90))  # another agency's AMBER: redacted, so not reviewable
    sar_reviews.create(case(3, B, "GREEN", 50))
    sar_reviews.create(case(4, B, "RED", 80, marking=Marking(B, "RED", recipients=(A,))))
    sar_reviews.create(case(5, B, "AMBER", 70, marking=Marking(B, "AMBER", cases=("ROB-1",))))
    sar_reviews.create(case(6, B, "GREEN", 60, marking=Marking(B, "GREEN", ci=True)))
    sar_reviews.create(case(7, B, "GREEN", 65, marking=Marking(B, "GREEN", handling=("NO_FURTHER_DISSEMINATION",))))
    reader = Audience(A, law_enforcement=True, principals=(A,), cases=())
    total, q = sar_reviews.queue(reader, ["SUBMITTED"], 10)
    assert [x.id for x in q] == ["sar4", "sar6", "sar3", "sar1"] and total == 4
    on_case = Audience(A, principals=(A,), cases=("ROB-1",))
    assert [x.id for x in sar_reviews.queue(on_case, ["SUBMITTED"], 10)[1]] == ["sar4", "sar5", "sar6", "sar3", "sar1"]
    partner = Audience("PS0000001", law_enforcement=False, principals=("PS0000001",))
    assert [x.id for x in sar_reviews.queue(partner, ["SUBMITTED"], 10)[1]] == ["sar3"]
    barring = Audience(A, principals=(A,), barred=(B,))
    assert [x.id for x in sar_reviews.queue(barring, ["SUBMITTED"], 10)[1]] == ["sar1"]
    total, q = sar_reviews.queue(reader, ["SUBMITTED"], 1)
    assert total == 4 and len(q) == 1


def test_submitters_overdue_and_since(sar_reviews: SarReviewStore) -> None:
    for n in range(1, 5):
        sar_reviews.create(case(n))
    assert [c.id for c in sar_reviews.by_submitter("user1", A, 10)] == ["sar3", "sar1"]
    assert sar_reviews.by_submitter("user1", B, 10) == []
    late = sar_reviews.overdue(T0 + timedelta(hours=2), 10)
    assert [c.id for c in late] == ["sar1", "sar2", "sar3", "sar4"]
    c = sar_reviews.get("sar2")
    sar_reviews.save(dataclasses.replace(c, breached=True))  # type: ignore[arg-type]
    c = sar_reviews.get("sar3")
    sar_reviews.save(dataclasses.replace(c, state="CLOSED"))  # type: ignore[arg-type]
    assert [c.id for c in sar_reviews.overdue(T0 + timedelta(hours=2), 10)] == ["sar1", "sar4"]
    assert sar_reviews.overdue(T0, 10) == []
    assert [c.id for c in sar_reviews.since(T0 + timedelta(minutes=3), 10)] == ["sar3", "sar4"]


def test_patterns_are_kept_per_recipient_and_replaced_when_they_grow(sar_reviews: SarReviewStore) -> None:
    def p(pid: str, agency: str, n: int, minutes: int) -> dict:
        return {"pattern_id": pid, "recipient_agency": agency, "kind": "SPACE_TIME_CLUSTER", "sars": [f"s{i}" for i in
                range(n)], "detected_at": T0 + timedelta(minutes=minutes)}  # fmt: skip

    sar_reviews.add_patterns([p("p1", A, 3, 1), p("p2", A, 4, 2), p("p3", B, 3, 3)])
    sar_reviews.add_patterns([p("p1", A, 5, 4)])  # the same cluster, grown
    got = sar_reviews.patterns(A, 10)
    assert [(x["pattern_id"], len(x["sars"])) for x in got] == [("p1", 5), ("p2", 4)]
    assert [x["pattern_id"] for x in sar_reviews.patterns(B, 10)] == ["p3"]
    assert len(sar_reviews.patterns(A, 1)) == 1


def test_daily_counts_see_only_what_the_reader_sees_in_full(sar_reviews: SarReviewStore) -> None:
    sar_reviews.create(case(1, A, "AMBER"))
    sar_reviews.create(case(2, A, "AMBER", occurred_at=T0 + timedelta(days=1)))
    sar_reviews.create(case(3, B, "AMBER"))  # another agency's AMBER: not counted for A
    sar_reviews.create(case(4, B, "GREEN", behavior="PHOTO"))
    reader = Audience(A, principals=(A,))
    got = sar_reviews.daily(reader, T0 - timedelta(days=1))
    assert got == [("PHOTO", "2026-11-03", 1), ("SURVL", "2026-11-03", 1), ("SURVL", "2026-11-04", 1)]
    assert sar_reviews.daily(None, T0 + timedelta(hours=1)) == [("SURVL", "2026-11-04", 1)]


def test_the_tlo_registry(sar_reviews: SarReviewStore) -> None:
    from argus.stores.sar_reviews import Tlo

    sar_reviews.put_tlo(Tlo("tlo1", A, "R. Vega", "water", "Fresno County", "2027-06-30", "555-0101", "sup"))
    sar_reviews.put_tlo(Tlo("tlo2", B, "M. Lee", "energy", "Clovis", "2026-01-31"))
    sar_reviews.put_tlo(Tlo("tlo1", A, "R. Vega", "water", "Fresno County", "2028-06-30", "555-0101", "sup"))
    got = sar_reviews.tlo("tlo1")
    assert got is not None and got.trained_until == "2028-06-30" and got.current("2026-12-06")
    assert not sar_reviews.tlo("tlo2").current("2026-12-06")  # type: ignore[union-attr]
    assert [t.subject for t in sar_reviews.tlos(None, 10)] == ["tlo1", "tlo2"]
    assert [t.subject for t in sar_reviews.tlos(B, 10)] == ["tlo2"]
    assert sar_reviews.tlo("nobody") is None
