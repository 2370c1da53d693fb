"""Correlation and the disclosure policy: alerts, their paths, scores and redaction."""

from __future__ import annotations

import orjson

from argus.security.policy import Recipient, report_view
from argus.testing import Harness
from processors.correlation import CorrelationProcessor
from processors.dedup import DedupProcessor
from processors.entity_resolution import EntityResolutionProcessor
from tests.conftest import query_record, rms_record


class Chain:
    def __init__(self, max_hits: int = 10) -> None:
        self.dedup, self.er, self.corr = (
            Harness(DedupProcessor()),
            Harness(EntityResolutionProcessor()),
            Harness(CorrelationProcessor(CorrelationProcessor.Config(max_hits_per_alert=max_hits))),
        )

    def ingest(self, *records):
        out = []
        for rec in records:
            for rep in self.dedup.run([rec]).outputs:
                for res in self.er.run([rep]).outputs:
                    out += self.corr.run([res]).outputs
        return [r.body for r in out]

    def query(self, **kw):
        res = self.er.run([query_record(**kw)]).outputs
        return [r.body for r in self.corr.run(res).outputs]


def test_query_hit_path_score_and_amber_redaction() -> None:
    c = Chain()
    c.ingest(rms_record())
    alerts = c.query()
    hit_alert = next(a for a in alerts if a["alert_type"] == "QUERY_HIT")
    assert (hit_alert["recipient_agency"], hit_alert["recipient_unit"], hit_alert["recipient_officer"]) == (
        "CA0430000",
        "2A31",
        "4471",
    )
    (hit,) = hit_alert["hits"]
    assert [s["kind"] for s in hit["path"]] == ["QUERY", "VEHICLE", "RECORD", "SERIES"]
    assert [s["relation"] for s in hit["path"]] == [None, "MATCHED", "LISTED_AS_SUSPECT", "PART_OF_SERIES"]
    assert hit["path"][3]["label"].startswith("series ROB-2026-014")
    assert hit_alert["level"] == "HIGH" and hit["score"] >= 70
    assert any("robbery (NIBRS 120, violent)" in r for r in hit["reasons"])
    assert hit["fields"]["offenses"] == "120 robbery" and hit["fields"]["series_id"] == "ROB-2026-014"
    assert hit["withheld"] == ["narrative", "person_names", "person_dobs", "locations"]
    raw = orjson.dumps(hit_alert, default=str)
    for secret in (b"SMITH", b"REYES", b"1991-04-02", b"Shaw", b"Armed robbery; fled"):
        assert secret not in raw, secret
    assert "lead, not probable cause" in hit_alert["instructions"]


def test_owner_is_told_of_the_encounter() -> None:
    c = Chain()
    c.ingest(rms_record())
    (notice,) = [a for a in c.query() if a["alert_type"] == "ENCOUNTER_NOTICE"]
    assert notice["recipient_agency"] == "CA0190000"
    assert notice["hits"][0]["fields"]["encountered_by"] == "CA0430000"
    assert "RPT-2026-0412" in notice["summary"] and "unit 2A31" in notice["summary"]


def test_red_record_never_reaches_another_agency_but_its_owner_is_told() -> None:
    c = Chain()
    c.ingest(rms_record(tlp="TLP:RED", report_id="NTF-1"))
    alerts = c.query()
    assert [a["alert_type"] for a in alerts] == ["ENCOUNTER_NOTICE"]
    assert alerts[0]["recipient_agency"] == "CA0190000"


def test_amber_strict_shows_only_existence_and_contact() -> None:
    c = Chain()
    c.ingest(rms_record(tlp="TLP:AMBER+STRICT"))
    alert = next(a for a in c.query() if a["alert_type"] == "QUERY_HIT")
    hit = alert["hits"][0]
    assert hit["fields"] == {} and hit["path"][2]["label"] == "restricted record, contact CA0190000"
    assert hit["contact"].startswith("CA0190000") and hit["matched"] == "vehicle 8-ABC 123"
    assert b"robbery" not in orjson.dumps(alert, default=str).lower()


def test_own_agency_sees_everything() -> None:
    c = Chain()
    c.ingest(rms_record())
    alert = next(a for a in c.query(agency="CA0190000") if a["alert_type"] == "QUERY_HIT")
    assert "SMITH, JONATHAN A" in alert["hits"][0]["fields"]["persons"]
    assert alert["hits"][0]["withheld"] == []


def test_clean_plate_raises_nothing() -> None:
    c = Chain()
    c.ingest(rms_record())
    assert c.query(plate="7XYZ999") == []


def test_related_case_notifies_both_owners_once() -> None:
    c = Chain()
    c.ingest(rms_record())
    later = rms_record(
        report_id="B-77",
        agency="NV0020000",
        tlp="TLP:GREEN",
        series_id=None,
        persons=[{"role": "suspect", "name": "Jon Smith", "sex": "M"}],
        vehicles=[],
        locations=[],
    )
    alerts = c.ingest(later)
    assert sorted(a["recipient_agency"] for a in alerts) == ["CA0190000", "NV0020000"]
    assert all(a["alert_type"] == "RELATED_CASE" for a in alerts)
    to_nv = next(a for a in alerts if a["recipient_agency"] == "NV0020000")
    assert "SMITH" not in orjson.dumps(to_nv["hits"][0]["fields"]).decode()  # AMBER: names withheld
    assert (
        c.ingest(
            rms_record(
                report_id="B-77",
                agency="NV0020000",
                version=2,
                tlp="TLP:GREEN",
                series_id=None,
                persons=[{"role": "suspect", "name": "Jon Smith"}],
                vehicles=[],
                locations=[],
            )
        )
        == []
    )


def test_every_agency_sharing_a_subject_is_told_however_many_the_cap_lists() -> None:
    """Three agencies each hold a subject a fourth agency's new report names, and the per-alert
    cap is 2. The cap shapes the new report's owner's alert (its two highest-scored hits, and how
    many in all); all three owners are told, and each pair is marked told, so a later report
    tells no one again. Before, the third pair was neither told nor marked."""
    c = Chain(max_hits=2)
    people = [
        ("CA0010000", "SMITH, JONATHAN A", "1991-04-02", "A"),
        ("CA0020000", "REYES, MARCUS", "1994-11-19", "B"),
        ("CA0030000", "OKAFOR, DANIEL", "1988-06-30", "C"),
    ]
    for agency, name, dob, reliability in people:
        c.ingest(
            rms_record(
                report_id=f"R-{agency}",
                agency=agency,
                tlp="TLP:GREEN",
                reliability=reliability,
                series_id=None,
                persons=[{"role": "suspect", "name": name, "dob": dob, "sex": "M"}],
                vehicles=[],
                locations=[],
            )
        )
    new = dict(
        report_id="NV-1",
        agency="NV0020000",
        tlp="TLP:GREEN",
        series_id=None,
        persons=[{"role": "suspect", "name": n, "dob": d, "sex": "M"} for _, n, d, _ in people],
        vehicles=[],
        locations=[],
    )
    alerts = c.ingest(rms_record(**new))
    assert all(a["alert_type"] == "RELATED_CASE" for a in alerts)
    assert sorted(a["recipient_agency"] for a in alerts) == ["CA0010000", "CA0020000", "CA0030000", "NV0020000"]
    mine = next(a for a in alerts if a["recipient_agency"] == "NV0020000")
    assert len(mine["hits"]) == 2 and mine["summary"].endswith("(2 of 3 hits listed, the highest-scored)")
    listed = [h["report_agency"] for h in mine["hits"]]
    assert listed == ["CA0010000", "CA0020000"], mine["hits"]  # reliability A and B above C
    told = {k for k in c.corr.state._committed if k.startswith("rc:")}
    assert len(told) == 3
    assert c.ingest(rms_record(**dict(new, report_id="NV-2"))) == []


def test_cad_incident_touching_another_agencys_vehicle_alerts_the_units() -> None:
    from connectors.cad import CadIncidentConnector
    from tests.conftest import ctx

    c = Chain()
    c.ingest(rms_record())
    inc = CadIncidentConnector(CadIncidentConnector.Config(path="-")).convert(
        {
            "incident_id": "I-9",
            "agency": "CA0430000",
            "call_type": "suspicious vehicle",
            "received_at": "2026-11-25T11:00:00Z",
            "units": ["3B12"],
            "vehicles": [{"role": "involved", "plate": "8abc123", "state": "CA"}],
        },
        ctx(),
    )
    alerts = c.ingest(inc)
    assert [a["alert_type"] for a in alerts] == ["INCIDENT_HIT", "ENCOUNTER_NOTICE"]
    assert alerts[0]["recipient_unit"] == "3B12"


def test_policy_table() -> None:
    s = {"agency": "CA0190000", "tlp": "AMBER", "handling": [], "criminal_intelligence": False}
    other, own = Recipient("CA0430000"), Recipient("CA0190000")
    assert report_view(s, own).level == "full"
    assert report_view(s, other).level == "amber"
    assert report_view(dict(s, tlp="GREEN"), other).level == "full"
    assert report_view(dict(s, tlp="RED"), other) is None
    assert report_view(dict(s, tlp="AMBER_STRICT"), other).level == "existence"
    assert report_view(dict(s, handling=["NO_FURTHER_DISSEMINATION"]), other).level == "existence"
    assert (
        report_view(
            dict(s, criminal_intelligence=True, tlp="CLEAR"),
            Recipient("CA0430000", role="private_sector_partner", law_enforcement=False),
        )
        is None
    )
