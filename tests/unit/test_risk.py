"""The risk model, one contribution at a time, and the scoring processor: per agency over what it
sees in full, associations only through reports that agency sees, a threshold crossing noticed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from argus.records import Record
from argus.risk import Evidence, confidence, contributions, score
from argus.testing import FROZEN_NOW, Harness
from processors.risk_scoring import RiskScoringProcessor

NOW = FROZEN_NOW
A, B = "CA0190000", "CA0430000"


def ev(**kw: Any) -> Evidence:
    base: dict[str, Any] = {"report": "r1", "at": (NOW - timedelta(days=1)).isoformat(), "kind": "rms",
                            "role": "suspect", "marking": (A, "AMBER", False, (), (), ())}  # fmt: skip
    return Evidence(**(base | kw))


def weights(e: Evidence) -> dict[tuple[str, str], float]:
    return {(r["factor"], r["category"]): r["weight"] for r in contributions(e, NOW)}


def test_an_offence_weighs_by_severity_role_and_age() -> None:
    robbery = weights(ev(offences=("120",)))[("offence", "violent_crime")]
    assert 24.9 < robbery <= 25
    assert weights(ev(offences=("120",), role="victim"))[("offence", "violent_crime")] < 2.6
    year_old = weights(ev(offences=("120",), at=(NOW - timedelta(days=366)).isoformat()))
    assert 12 < year_old[("offence", "violent_crime")] < 12.6  # a half-life of a year
    assert weights(ev(offences=("13A",)))[("offence", "violent_crime")] > weights(ev(offences=("23C",)))[
        ("offence", "organised_crime")]  # fmt: skip
    assert ("offence", "organised_crime") in weights(ev(offences=("35A",)))  # drugs


def test_weapons_gangs_sars_and_attack_attribution_each_count_in_their_category() -> None:
    assert weights(ev(weapon=True))[("weapon", "violent_crime")] > 9.9
    assert weights(ev(offences=("520",)))[("weapon", "violent_crime")] > 9.9
    assert weights(ev(gang=True))[("gang", "gang")] > 14.9
    threat = weights(ev(kind="sar", behavior="THREAT"))
    assert threat[("sar", "terrorism")] > 19 and threat[("sar", "targeted_violence")] > 19
    assert weights(ev(kind="sar", behavior="PHOTO"))[("sar", "terrorism")] < 5.1
    assert weights(ev(kind="stix"))[("attack", "cyber")] > 14.9


def test_series_associates_and_centrality_and_the_curve() -> None:
    one = score([ev(offences=("120",), series="ROB-1")], {}, NOW)
    assert {r["factor"] for r in one.reasons} == {"offence", "series"}
    assert 0 < one.top[1] < 100 and one.top[0] == "violent_crime"
    linked = score([ev(offences=("120",))], {"p9": {"violent_crime": 80.0}, "p8": {"gang": 10.0}}, NOW)
    why = {r["factor"]: r for r in linked.reasons}
    assert why["association"]["weight"] == 20.0 and "p9" in why["association"]["detail"]
    assert 7.9 < why["centrality"]["weight"] < 8  # two people: 5 * log2(3)
    many = score([ev(report=f"r{i}", offences=("09A",)) for i in range(30)], {}, NOW)
    assert many.top[1] < 100  # no pile of reports reaches 100
    assert confidence([("A", 1), ("B", 2), ("C", 3)]) == "high" and confidence([("E", 5)]) == "low"


def resolved(rid: str, agency: str, tlp: str, people: list[tuple[str, str]], **report: Any) -> Record:
    env = {"id": rid, "type": "rms.incident", "source_agency": agency, "source_system": "rms", "tlp": tlp,
           "reliability": "B", "validity": 2, "criminal_intelligence": False, "criminal_predicate": None,
           "handling": [], "cases": [], "recipients": [], "source_law_enforcement": True, "review_by": None,
           "observed_at": NOW, "ingested_at": NOW, "trace_id": rid}  # fmt: skip
    rep = {"occurred_at": (NOW - timedelta(days=2)).isoformat(), "narrative": ""} | report
    ents = [{"entity_id": p, "kind": "PERSON", "subtype": "person", "display": p, "role": role} for p, role in people]
    return Record({"envelope": env, "body": {"report": rep, "entities": ents}}, key=rid)


def test_each_agency_is_scored_over_only_what_it_sees_and_a_crossing_is_noticed() -> None:
    node = RiskScoringProcessor(RiskScoringProcessor.Config(threshold=50), name="risk")
    h = Harness(node)
    out = h.run([resolved("r1", A, "AMBER", [("p1", "suspect")], offenses=["120"], series_id="ROB-1")]).bodies()
    assert {(b["subject"], b["recipient_agency"]) for b in out} == {("p1", A), ("series:ROB-1", A)}
    # B's RED homicide report on p1 and p2: scored for B only; A's score does not move
    out = h.run([resolved("r2", B, "RED", [("p1", "suspect"), ("p2", "suspect")], offenses=["09A"],
                          narrative="shot with a handgun")]).bodies()  # fmt: skip
    assert {b["recipient_agency"] for b in out} == {B}
    p1 = next(b for b in out if b["subject"] == "p1")
    assert p1["evidence"] == ["r2"] and p1["crossed"] and p1["score"] >= 50
    assert {r["factor"] for r in p1["reasons"]} >= {"offence", "weapon"}
    # A's next report on p2 alone: p2's association with p1 came through B's RED report, so A
    # learns nothing of it
    out = h.run([resolved("r3", A, "GREEN", [("p2", "suspect")], offenses=["13B"])]).bodies()
    (p2,) = [b for b in out if b["subject"] == "p2"]
    assert p2["recipient_agency"] == A and "association" not in {r["factor"] for r in p2["reasons"]}
    assert p2["evidence"] == ["r3"]


def test_a_private_sector_report_weighs_on_no_one() -> None:
    rec = resolved("r1", A, "GREEN", [("p1", "suspect")], offenses=["120"])
    rec.value["envelope"]["source_law_enforcement"] = False
    assert Harness(RiskScoringProcessor(name="risk")).run([rec]).outputs == []


def stix(rid: str, stype: str, entities: list[str], links: list[tuple[str, str]]) -> Record:
    rec = resolved(rid, A, "GREEN", [])
    rec.value["envelope"]["type"] = "stix.object"
    rec.value["body"] = {
        "report": {"stix_id": rid, "stix_type": stype, "object_json": "{}"},
        "entities": [{"entity_id": e, "kind": "OBJECT", "subtype": stype, "display": "APT-X", "role": None}
                     for e in entities],
        "links": [{"link_id": f"l{i}", "from_id": f, "to_id": t, "relation": "USES", "reason": "r"}
                  for i, (f, t) in enumerate(links)],
    }  # fmt: skip
    return rec


def test_a_stix_threat_is_scored_in_cyber_from_itself_and_what_it_is_linked_to() -> None:
    iset = "intrusion-set--0c7e4c8e-4b8e-4a8f-9d54-2b1a3f6f0e11"
    h = Harness(RiskScoringProcessor(name="risk"))
    (first,) = h.run([stix(iset, "intrusion-set", [iset], [])]).bodies()
    assert (first["subject_kind"], first["category"]) == ("threat", "cyber")
    uses = [stix(f"relationship--{i:08d}-0000-4000-8000-000000000000", "relationship", [],
                 [(iset, f"attack-pattern--{i:08d}-0000-4000-8000-000000000000")]) for i in range(3)]  # fmt: skip
    out = h.run(uses).bodies()
    assert out and out[-1]["subject"] == iset and out[-1]["score"] > first["score"]
    assert len(out[-1]["evidence"]) == 4


def test_a_purged_report_leaves_every_score_it_weighed_on() -> None:
    h = Harness(RiskScoringProcessor(name="risk"))
    h.run([resolved("r1", A, "AMBER", [("p1", "suspect"), ("p2", "suspect")], offenses=["120"]),
           resolved("r2", A, "AMBER", [("p1", "suspect")], offenses=["13B"])])  # fmt: skip
    purge = Record({"purge_id": "x", "record_id": "r1", "source_agency": A, "reason": "lapsed",
                    "requested_by": "sgt", "requested_at": NOW}, key="r1")  # fmt: skip
    out = h.run([purge]).bodies()
    assert {b["subject"] for b in out} == {"p1"}  # published again without it; p2 had nothing else
    assert h.state.get("rk:ev:p2") == [] and h.state.get("rk:rep:r1") is None
    assert all("r1" not in b["evidence"] and all(r["report"] != "r1" for r in b["reasons"]) for b in out)
    p1 = next(b for b in out if b["subject"] == "p1")
    assert p1["evidence"] == ["r2"] and "association" not in {r["factor"] for r in p1["reasons"]}
    assert p1["seq"] == 3  # r1, r2, then the purge: the ids follow the sequence
