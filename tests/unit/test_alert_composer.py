"""The alert composer (processors/alert_composer.py) gathers a report's parts, and only them.

The chain's equality with one correlation node is tested in test_correlation_chain.py on real
reports; these tests hold the composer to its own promises: earlier parts wait in state keyed by
the report and leave it when the last comes, two reports' parts never mix, and a report whose
earlier part was lost (a topic's retention passed while the pipeline was stopped) still gets
the alerts of the parts that remain, counted on /metrics.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from argus.records import Record
from argus.testing import Harness
from processors.alert_composer import MISSING, AlertComposerProcessor, part_record

T = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)


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


def part(rid: str, by: str, kinds: list[str], parts: int, hits: list, notices: list) -> Record:
    brief = {"type": "rms.incident", "source_id": f"RMS-{rid}", "units": [], "case_owner": "Det. Ruiz"}
    return part_record(envelope(rid), by, kinds, parts, 10, brief, hits, notices)


def test_parts_wait_by_report_and_become_one_report_s_alerts() -> None:
    h = Harness(AlertComposerProcessor(name="compose_alerts"))
    persons = part("r1", "correlate_persons", ["person"], 0, [hit("X-1", "CA0200000", "p1", 40.0)],
                   [("CA0200000", "person p1", hit("RMS-r1", "CA0100000", "p1", 40.0))])  # fmt: skip
    other = part("r2", "correlate_persons", ["person"], 0, [hit("X-9", "CA0300000", "p9", 10.0)], [])
    assert not h.run([persons, other]).outputs
    assert set(h.state._committed) == {"r1", "r2"}  # each report's part waits under its own key
    vehicles = part("r1", "correlation", ["vehicle"], 2, [hit("X-2", "CA0300000", "v1", 70.0)], [])
    bodies = h.run([vehicles]).bodies("alert.v1")
    assert set(h.state._committed) == {"r2"}  # r1 is done; r2's part still waits for its last
    mine, theirs = bodies
    assert mine["recipient_agency"] == "CA0100000" and mine["alert_type"] == "RELATED_CASE"
    # both nodes' hits, highest score first; r2's never joined them
    assert [x["report_id"] for x in mine["hits"]] == ["X-2", "X-1"] and mine["score"] == 70.0
    assert "CA0200000, CA0300000" in mine["summary"]
    assert theirs["recipient_agency"] == "CA0200000" and "Det. Ruiz" in theirs["instructions"]


def test_a_lost_part_still_gives_the_alerts_of_the_rest_and_is_counted() -> None:
    h = Harness(AlertComposerProcessor(name="compose_lost"))
    before = MISSING.labels("compose_lost")._value.get()
    last = part("r3", "correlation", ["vehicle"], 2, [hit("X-3", "CA0300000", "v3", 55.0)], [])
    (alert,) = h.run([last]).bodies("alert.v1")
    assert [x["report_id"] for x in alert["hits"]] == ["X-3"]
    assert MISSING.labels("compose_lost")._value.get() == before + 1
    assert not h.state._committed
