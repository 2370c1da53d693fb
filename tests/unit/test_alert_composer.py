"""The alert composer (processors/alert_composer.py) writes a report's alerts from what the
correlation chain found, the earlier nodes' finds still encoded as they passed them on.

The chain's equality with one correlation node is tested in test_correlation_chain.py on real
reports; these hold the composer to its own promises: blocks decoded in chain order and joined
with the last node's own finds into one report's alerts, the cap of the node that found them,
and no state (so it runs as one task per partition).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from argus.alert_writer import report_hits
from argus.alerts import found_block, found_in
from argus.records import Record
from argus.testing import Harness
from processors.alert_composer import AlertComposerProcessor

T = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
BRIEF = {"type": "rms.incident", "source_id": "RMS-77", "units": [], "case_owner": "Det. Ruiz"}


def envelope(rid: str, agency: str = "CA0100000") -> dict[str, Any]:
    return {
        "id": rid, "type": "rms.incident", "source_agency": agency, "source_system": "rms", "tlp": "AMBER",
        "reliability": "B", "validity": 2, "criminal_intelligence": False, "criminal_predicate": None,
        "handling": [], "review_by": None, "observed_at": T, "ingested_at": T, "trace_id": f"trace-{rid}",
    }  # fmt: skip


def hit(report_id: str, agency: str, entity: str, score: float) -> dict[str, Any]:
    return {
        "matched_entity_id": entity, "matched": f"person {entity}", "match_reason": "same name and DOB",
        "path": [{"kind": "PERSON", "id": entity, "label": entity, "relation": None}], "score": score,
        "reasons": ["+ listed as suspect"], "report_id": report_id, "report_agency": agency, "report_tlp": "GREEN",
        "contact": agency, "fields": {}, "withheld": [],
    }  # fmt: skip


def test_blocks_round_trip_in_chain_order() -> None:
    a = found_block([hit("X-1", "CA0200000", "p1", 40.0)], [("CA0200000", "person p1", hit("R", "CA01", "p1", 0))])
    b = found_block([hit("X-2", "CA0300000", "p2", 20.0)], [])
    hits, notices = found_in([a, b])
    assert [h["report_id"] for h in hits] == ["X-1", "X-2"]
    assert [(ag, label) for ag, label, _ in notices] == [("CA0200000", "person p1")]


def test_the_persons_block_and_the_vehicles_own_finds_make_one_report_s_alerts() -> None:
    h = Harness(AlertComposerProcessor(name="compose_alerts"))
    persons = found_block(
        [hit("X-1", "CA0200000", "p1", 40.0)], [("CA0200000", "person p1", hit("RMS-77", "CA0100000", "p1", 40.0))]
    )
    rec = report_hits(envelope("r1"), "correlation", 1, BRIEF, [persons], [hit("X-2", "CA0300000", "v1", 70.0)], [])
    run = h.run([Record(rec.value, key=rec.key)], input_schema="report_hits.v1")  # through Avro, as on the bus
    mine, theirs = run.bodies("alert.v1")
    assert not h.state._committed  # nothing kept: any worker can run any partition
    # the cap of the node that found them (1 here): the highest score kept; both agencies named
    assert mine["alert_type"] == "RELATED_CASE" and mine["recipient_agency"] == "CA0100000"
    assert [x["report_id"] for x in mine["hits"]] == ["X-2"] and mine["score"] == 70.0
    assert "CA0200000, CA0300000" in mine["summary"]
    assert theirs["recipient_agency"] == "CA0200000" and "Det. Ruiz" in theirs["instructions"]
    assert {mine["trigger_id"], theirs["trigger_id"]} == {"r1"}
    assert all(a.value["envelope"]["source_system"] == "correlation" for a in run.outputs)


def test_a_purge_finds_a_record_s_hits_inside_a_block() -> None:
    """Erasing a purged record from the log covers the hits on it that ride on encoded."""
    from argus.security.purge import _mentions

    block = found_block([hit("X-1", "CA0200000", "p1", 40.0)], [])
    rec = report_hits(envelope("r9"), "correlation", 10, BRIEF, [block], [], [])
    assert _mentions(rec.value, b"", {"X-1"}, "report_hits.v1") == "X-1"
    assert (
        _mentions({**rec.value, "body": {**rec.value["body"], "found_before": []}}, b"", {"X-1"}, "report_hits.v1")
        is None
    )
    passing = {"envelope": envelope("r9"), "body": {"hits": [], "notices": [], "found_before": [block]}}
    assert _mentions(passing, b"", {"X-1"}, "correlating.v3") == "X-1"
