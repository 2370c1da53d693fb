"""SAR triage (each reason and its points) and the review's rules (ISE-SAR two-part review,
optimistic concurrency, the SLA clock), on the embedded store."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from argus.contracts import Context
from argus.records import Record
from argus.security.policy import Marking
from argus.state import NodeState
from argus.stores.sar_reviews import SarCase, StaleVersion
from argus.stores.sql_sar_reviews import EmbeddedSarReviews
from argus.testing import Harness
from argus.workflows.sar_review import Actor, Decision, SarRefused, SarReview
from connectors.sar import SarConnector
from processors.sar_triage import SarTriageProcessor

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
SITE = {"name": "Riverside water treatment", "category": "water", "lat": 36.7400, "lon": -119.7900, "radius_m": 800}


def sar(n: int, behavior: str = "SURVL", lat: float = 36.7412, lon: float = -119.7901, days_ago: float = 0,
        reliability: str = "B", agency: str = "CA0190000") -> Record:  # fmt: skip
    raw = {"sar_id": f"S-{n}", "agency": agency, "tlp": "TLP:AMBER", "reliability": reliability, "validity": 2,
           "behavior": behavior, "occurred_at": (NOW - timedelta(days=days_ago)).isoformat(), "submitted_by": "Ofc",
           "narrative": "watched the gate", "locations": [{"role": "incident", "lat": lat, "lon": lon}]}  # fmt: skip
    connector = SarConnector(SarConnector.Config(path="."), name="sar")
    rec = connector.convert(raw, Context("sar", NodeState(), clock=lambda: NOW))
    body = {"report": rec.body, "event_id": "ev", "entities": [], "links": [], "merges": [], "possible": []}
    return Record({"envelope": rec.envelope, "body": body}, key=rec.key)


def reviewed(agency: str, outcome: str) -> Record:
    return Record({"envelope": {"id": "e", "type": "sar_event"}, "body": {
        "event": "REVIEWED", "outcome": outcome, "submitter_agency": agency}})  # fmt: skip


def factors(out: Any) -> dict[str, float]:
    return {r["factor"]: r["points"] for r in out.body["reasons"]}


def test_triage_scores_each_reason_it_can_name() -> None:
    h = Harness(SarTriageProcessor(SarTriageProcessor.Config(sites=[SITE]), name="sar_triage"))
    (first,) = h.run([sar(1, "THREAT")]).outputs
    assert factors(first) == {"behavior": 30, "site": 20, "reliability": 6}
    site = next(r["detail"] for r in first.body["reasons"] if r["factor"] == "site")
    assert "m from Riverside water treatment (water)" in site
    assert first.body["site_category"] == "water" and first.body["priority"] == "MEDIUM" and first.body["score"] == 56
    (far,) = h.run([sar(2, "PHOTO", lat=37.5, lon=-120.5, reliability="F")]).outputs
    assert factors(far) == {"behavior": 5}  # no site, no SAR near it, a source that cannot be judged
    (near,) = h.run([sar(3, "THREAT", lat=36.7450, lon=-119.7950)]).outputs
    assert factors(near)["nearby_sars"] == 5  # SAR 1 is 0.6 km away, SAR 2 is not near
    (apart,) = h.run([sar(5, "THREAT", lat=36.7635, lon=-119.7901)]).outputs
    assert "nearby_sars" not in factors(apart)  # 2.5 and 2.1 km: in the next grid cells, but too far
    (old,) = h.run([sar(4, "SURVL", lat=10.0, lon=10.0, days_ago=90)]).outputs
    assert factors(old)["age"] == -15


def test_the_submitting_agencys_record_counts_after_three_reviews() -> None:
    h = Harness(SarTriageProcessor(name="sar_triage"))
    h.run([reviewed("CA0190000", "ACCEPT"), reviewed("CA0190000", "ACCEPT")])
    (two,) = h.run([sar(1, lat=10, lon=10)]).outputs
    assert "track_record" not in factors(two)
    h.run([reviewed("CA0190000", "CLOSE"), reviewed("CA0190000", "ACCEPT")])
    (four,) = h.run([sar(2, lat=20, lon=20)]).outputs
    assert factors(four)["track_record"] == 6.2  # 3 of 4 accepted: 10 * 0.75 - 5 * 0.25


def test_only_sars_are_triaged() -> None:
    rec = sar(1)
    rec.value["envelope"]["type"] = "rms.incident"
    assert Harness(SarTriageProcessor(name="sar_triage")).run([rec]).outputs == []


# --- the review -----------------------------------------------------------------------------------
class Audit:
    def __init__(self) -> None:
        self.entries: list[tuple[str, dict[str, Any]]] = []

    def record(self, action: str, **kw: Any) -> None:
        self.entries.append((action, kw))


@pytest.fixture
def desk(tmp_path: Path) -> Any:
    store = EmbeddedSarReviews(tmp_path / "sar.db")
    events: list[dict[str, Any]] = []
    shared: list[tuple[dict[str, Any], str]] = []
    r = SarReview(store, Audit(), events.append, lambda b, a: shared.append((b, a)))  # type: ignore[arg-type]
    r.events, r.shared = events, shared  # type: ignore[attr-defined]
    yield r
    store.close()


def new(desk: SarReview, behavior: str = "SURVL", tlp: str = "AMBER", **kw: Any) -> SarCase:
    c = SarCase(id="s1", sar_id="SAR-1", marking=Marking("CA0190000", tlp), behavior=behavior, occurred_at=NOW,
                received_at=NOW, narrative="watched", submitted_by="Ofc", submitter="ofc1", lat=36.7, lon=-119.8,
                due_at=NOW + timedelta(hours=1), **kw)  # fmt: skip
    desk.store.create(c)
    got = desk.store.get("s1")
    assert got is not None
    return got


REVIEWER = Actor("an-fc", "CAFC00000", "analyst")
ACCEPT = Decision("ACCEPT", "complete", basis_confirmed=True, feedback="thanks", ratings={"who": 2, "where": 1})


def test_initial_review_needs_the_basis_confirmed_and_questions_to_return(desk: SarReview) -> None:
    c = new(desk)
    with pytest.raises(SarRefused, match="basis_confirmed"):
        desk.initial_review(c, REVIEWER, Decision("ACCEPT", "complete"))
    with pytest.raises(SarRefused, match="questions"):
        desk.initial_review(c, REVIEWER, Decision("RETURN", "incomplete"))
    with pytest.raises(SarRefused, match="ratings"):
        desk.initial_review(c, REVIEWER, dataclasses.replace(ACCEPT, ratings={"who": 3}))
    with pytest.raises(SarRefused, match="outcome"):
        desk.initial_review(c, REVIEWER, Decision("ISE_SAR", "skip a step"))
    done = desk.initial_review(c, REVIEWER, ACCEPT)
    assert done.state == "ACCEPTED" and done.steps[0].actor == "an-fc"
    (ev,) = desk.events  # type: ignore[attr-defined]
    assert ev["body"]["event"] == "REVIEWED" and ev["body"]["from_state"] == "SUBMITTED"
    assert ev["body"]["completeness"] == pytest.approx(3 / 12) and ev["envelope"]["tlp"] == "AMBER"
    with pytest.raises(SarRefused, match="ACCEPTED"):
        desk.initial_review(done, REVIEWER, ACCEPT)


def test_a_decision_on_a_stale_read_is_refused_and_publishes_nothing(desk: SarReview) -> None:
    c = new(desk)
    desk.initial_review(c, REVIEWER, ACCEPT)
    with pytest.raises(StaleVersion):
        desk.initial_review(c, Actor("other", "CAFC00000", "analyst"), Decision("CLOSE", "duplicate"))
    assert len(desk.events) == 1  # type: ignore[attr-defined]


def test_vetting_to_ise_sar_needs_facts_for_the_second_group_and_shares_once_saved(desk: SarReview) -> None:
    c = desk.initial_review(new(desk, "PHOTO"), REVIEWER, ACCEPT)
    with pytest.raises(SarRefused, match="facts"):
        desk.vetting(c, REVIEWER, Decision("ISE_SAR", "nexus"))
    assert desk.shared == []  # type: ignore[attr-defined]
    done = desk.vetting(c, REVIEWER, Decision("ISE_SAR", "nexus", facts="same man on three days, no business there"))
    assert done.state == "ISE_SAR" and done.shared_as.startswith("report--")
    ((bundle, agency),) = desk.shared  # type: ignore[attr-defined]
    report = next(o for o in bundle["objects"] if o["type"] == "report")
    assert report["id"] == done.shared_as and agency == "CAFC00000"
    assert report["object_marking_refs"] == ["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"]  # GREEN


def test_a_criminal_behaviour_needs_no_extra_facts_but_a_protected_activity_does(desk: SarReview) -> None:
    c = desk.initial_review(new(desk, "THREAT", protected_activity=True), REVIEWER, ACCEPT)
    with pytest.raises(SarRefused, match="constitutionally protected"):
        desk.vetting(c, REVIEWER, Decision("ISE_SAR", "nexus"))


def test_a_sar_kept_to_its_own_organisation_is_not_released_to_the_shared_space(desk: SarReview) -> None:
    c = desk.initial_review(new(desk, "THREAT", tlp="AMBER_STRICT"), REVIEWER, ACCEPT)
    with pytest.raises(SarRefused, match="release_tlp"):
        desk.vetting(c, REVIEWER, Decision("ISE_SAR", "nexus"))
    assert desk.vetting(c, REVIEWER, Decision("LOCAL", "kept")).state == "LOCAL"


def test_only_its_submitter_answers_a_returned_sar(desk: SarReview) -> None:
    c = desk.initial_review(new(desk), REVIEWER, Decision("RETURN", "where?", questions=("which gate?",)))
    with pytest.raises(SarRefused):
        desk.resubmit(c, Actor("someone", "CA0190000", "analyst"), "north gate")
    back = desk.resubmit(c, Actor("ofc1", "CA0190000", "analyst"), "the north gate")
    assert back.state == "SUBMITTED" and "the north gate" in back.narrative


def test_an_override_sets_the_priority_and_the_sla_clock_raises_each_breach_once(desk: SarReview) -> None:
    c = new(desk)
    high = desk.override(c, REVIEWER, 80, "known subject")
    assert high.priority == "HIGH" and high.override["by"] == "an-fc"  # type: ignore[index]
    late = desk.sweep(datetime.now(UTC) + timedelta(days=30))
    assert [x.id for x in late] == ["s1"] and late[0].breached
    assert desk.sweep(datetime.now(UTC) + timedelta(days=30)) == []
    assert [e["body"]["event"] for e in desk.events] == ["OVERRIDDEN", "SLA_BREACHED"]  # type: ignore[attr-defined]


def test_attack_techniques_in_a_sars_narrative_triage_it_again() -> None:
    h = Harness(SarTriageProcessor(name="sar_triage"))
    rec = sar(1, "SABOT", lat=10, lon=10)
    (first,) = h.run([rec]).outputs
    ttp = Record({"envelope": rec.envelope, "body": {
        "report_id": rec.envelope["id"], "source_type": "sar", "event_id": "ev", "attributions": [],
        "techniques": [{"attack_id": "T0831", "stix_id": "", "name": "Manipulation of Control", "score": 0.8,
                        "tactics": [], "evidence": []}]}}, key=rec.key)  # fmt: skip
    h.state._committed = orjson.loads(orjson.dumps(h.state._committed))  # as a restart reads it back
    (again,) = h.run([ttp]).outputs
    assert factors(again)["ttp"] == 8 and again.body["score"] == first.body["score"] + 8
    assert "T0831 Manipulation of Control" in next(r["detail"] for r in again.body["reasons"] if r["factor"] == "ttp")
    assert h.run([ttp]).outputs[0].body["score"] == again.body["score"]  # counted once
    other = Record({"envelope": rec.envelope, "body": dict(ttp.body, report_id="unknown")}, key="x")
    assert h.run([other]).outputs == []
