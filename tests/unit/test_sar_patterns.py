"""SAR pattern detection: planted space-time clusters are found in random background SARs,
random SARs alone raise no more false clusters than the documented rate, the same behaviour
against the same kind of site across agencies is raised, and each agency is told only of the
SARs it may see."""

from __future__ import annotations

from datetime import timedelta

from argus.synthetic_sars import START, found_clusters, generate, triage_record
from argus.testing import Harness
from processors.sar_patterns import SarPatternsProcessor

CENTRE = "CAFC00000"


def run(records: list, **cfg: object) -> list[dict]:
    node = SarPatternsProcessor(SarPatternsProcessor.Config(also_notify=[CENTRE], **cfg), name="sar_patterns")
    return [r.body for r in Harness(node).run(records, input_schema="sar_triage.v1").outputs]


def test_planted_clusters_are_found_in_random_background() -> None:
    world = generate(1500, clusters=5, seed=11)
    found = found_clusters(run(world.records), CENTRE)
    for name, members in world.clusters.items():
        assert any(len(f & members) >= 3 for f in found), name
    planted = set().union(*world.clusters.values())
    hits = set().union(*found) if found else set()
    # what is raised is mostly what was planted (a background SAR that fell among them is raised too)
    assert len(hits & planted) / len(hits) >= 0.75


def test_random_sars_alone_raise_few_false_clusters() -> None:
    world = generate(3000, seed=5)
    raised = {frozenset(s) for s in found_clusters(run(world.records), CENTRE)}
    # At alpha = 0.001 per SAR, at most ~3 of 3,000 random SARs should be the centre of a false cluster.
    assert len(raised) <= 6, len(raised)


def test_the_same_behaviour_against_the_same_kind_of_site_across_agencies() -> None:
    a = triage_record(1, 36.1, -119.1, START, "SURVL", "CA0190000", site="water")
    b = triage_record(2, 36.9, -119.9, START + timedelta(days=3), "SURVL", "CA0430000", site="water")
    c = triage_record(3, 36.5, -119.5, START + timedelta(days=4), "PHOTO", "CA0100000", site="water")
    out = [p for p in run([a, b, c]) if p["kind"] == "CROSS_AGENCY"]
    assert sorted(p["recipient_agency"] for p in out) == ["CA0190000", "CA0430000", CENTRE]
    assert all(p["agencies"] == ["CA0190000", "CA0430000"] and "2 agencies" in p["why"] for p in out)


def test_each_agency_is_told_only_of_the_sars_it_may_see() -> None:
    at = START + timedelta(days=10)
    recs = [triage_record(i, 36.5 + i * 0.001, -119.5, at + timedelta(hours=i), "SURVL", "CA0190000")
            for i in range(3)]  # fmt: skip
    recs.append(triage_record(9, 36.5, -119.5005, at + timedelta(hours=5), "SURVL", "CA0430000", tlp="RED"))
    out = {p["recipient_agency"]: p for p in run(recs) if p["kind"] == "SPACE_TIME_CLUSTER"}
    red = recs[-1].body["sar"]
    assert red in out["CA0430000"]["sars"] and len(out["CA0430000"]["sars"]) == 4
    assert red not in out["CA0190000"]["sars"] and out["CA0190000"]["observed"] == 2  # its own three
    assert red not in out[CENTRE]["sars"]  # RED names no one else: not even the centre counts it
