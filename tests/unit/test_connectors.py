import csv
from pathlib import Path

import orjson

from argus.testing import Harness
from connectors.cad import CadIncidentConnector, CadQueryConnector
from connectors.rms import RmsConnector
from connectors.sar import SarConnector
from connectors.stix_file import StixFileConnector
from tests.conftest import query_raw, rms_raw


def lines(path: Path, *rows: object) -> None:
    with path.open("ab") as fh:
        for r in rows:
            fh.write(r if isinstance(r, bytes) else orjson.dumps(r) + b"\n")


def test_rms_jsonl_good_and_bad_records(tmp_path: Path) -> None:
    f = tmp_path / "rms.jsonl"
    lines(
        f,
        rms_raw(),
        b'{"report_id": "X", \n',
        rms_raw(report_id="R2", tlp="TLP:PURPLE"),
        rms_raw(report_id="R3", category="criminal_intelligence", reliability=None, validity=None),
        rms_raw(report_id="R4", narrative="x" * 40_000),
        rms_raw(report_id="R5", persons=[{"name": "A\x07B"}]),
        rms_raw(report_id="R6", offenses=["999Z"]),
        rms_raw(report_id="R7"),
    )
    run = Harness(RmsConnector(RmsConnector.Config(path=str(f)), name="rms")).run()
    assert [r.body["report_id"] for r in run.outputs] == ["RPT-2026-0412", "R7"]
    reasons = [d.reason for d in run.dead_letters]
    assert len(reasons) == 6
    assert reasons[0].startswith("malformed JSON")
    assert "unknown TLP marking 'TLP:PURPLE'" in reasons[1]
    assert "criminal intelligence needs a source-reliability rating" in reasons[2]
    assert "narrative: 40000 characters, over the limit" in reasons[3]
    assert "control character U+0007" in reasons[4]
    assert "'999Z' is not a NIBRS offense code" in reasons[5]
    assert run.dead_letters[0].original == b'{"report_id": "X", \n'
    env = run.outputs[0].envelope
    assert (env["source_agency"], env["tlp"], env["reliability"], env["validity"]) == ("CA0190000", "AMBER", "B", 2)


def test_rms_record_ids_are_deterministic(tmp_path: Path) -> None:
    f = tmp_path / "rms.jsonl"
    lines(f, rms_raw())
    a = Harness(RmsConnector(RmsConnector.Config(path=str(f)))).run().outputs[0]
    b = Harness(RmsConnector(RmsConnector.Config(path=str(f)))).run().outputs[0]
    assert a.envelope["id"] == b.envelope["id"] and a.key == a.envelope["id"]


def test_criminal_intelligence_gets_a_review_date(tmp_path: Path) -> None:
    f = tmp_path / "rms.jsonl"
    lines(f, rms_raw(category="criminal_intelligence", predicate="armed robbery series"))
    env = Harness(RmsConnector(RmsConnector.Config(path=str(f)))).run().outputs[0].envelope
    assert env["criminal_intelligence"] and env["criminal_predicate"] == "armed robbery series"
    assert (env["review_by"] - env["ingested_at"]).days == 5 * 365


def test_rms_csv(tmp_path: Path) -> None:
    f = tmp_path / "rms.csv"
    with f.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(
            [
                "report_id",
                "agency",
                "tlp",
                "reliability",
                "validity",
                "occurred_at",
                "offenses",
                "person_role",
                "person_name",
                "person_dob",
                "plate",
                "plate_state",
            ]
        )
        w.writerow(
            [
                "R1",
                "CA0190000",
                "TLP:GREEN",
                "B",
                "2",
                "2026-11-01T10:00:00Z",
                "120;13A",
                "suspect",
                "SMITH, JON",
                "1991-04-02",
                "8 ABC-123",
                "CA",
            ]
        )
        w.writerow(["R2", "CA0190000", "TLP:GREEN", "B", "2"])
    run = Harness(RmsConnector(RmsConnector.Config(path=str(f), format="csv"))).run()
    assert len(run.outputs) == 1 and len(run.dead_letters) == 1
    body = run.outputs[0].body
    assert body["offenses"] == ["120", "13A"] and body["persons"][0]["name"] == "SMITH, JON"
    assert body["vehicles"][0]["plate"] == "8 ABC-123"
    assert "columns" in run.dead_letters[0].reason


def test_cursor_resumes_after_the_last_committed_record(tmp_path: Path) -> None:
    f = tmp_path / "rms.jsonl"
    lines(f, rms_raw(report_id="A"), rms_raw(report_id="B"))
    h = Harness(RmsConnector(RmsConnector.Config(path=str(f), watch=True)))
    assert [r.body["report_id"] for r in h.run().outputs] == ["A", "B"]
    assert h.run().outputs == []
    lines(f, rms_raw(report_id="C"))
    with f.open("ab") as fh:
        fh.write(orjson.dumps(rms_raw(report_id="D"))[:30])  # a writer mid-line
    assert [r.body["report_id"] for r in h.run().outputs] == ["C"]
    with f.open("ab") as fh:
        fh.write(orjson.dumps(rms_raw(report_id="D"))[30:] + b"\n")
    assert [r.body["report_id"] for r in h.run().outputs] == ["D"]


def test_watch_folder_picks_up_new_files(tmp_path: Path) -> None:
    h = Harness(CadQueryConnector(CadQueryConnector.Config(path=str(tmp_path), watch=True)))
    assert h.run().outputs == []
    lines(tmp_path / "mdt-1.jsonl", query_raw())
    lines(tmp_path / "mdt-2.jsonl", query_raw(query_id="Q-2", plate=None, name="Jon Smith", dob="1991-04-02"))
    out = h.run().outputs
    assert [(r.body["query_type"], r.key) for r in out] == [("VEHICLE", "8ABC123"), ("PERSON", "SMITH|JON")]


def test_oversized_line_is_dead_lettered_and_the_rest_flows(tmp_path: Path) -> None:
    f = tmp_path / "cad.jsonl"
    lines(
        f,
        b'{"huge": "' + b"x" * 5000 + b'"}\n',
        {
            "incident_id": "I1",
            "agency": "CA0430000",
            "call_type": "traffic stop",
            "received_at": "2026-11-01T10:00:00Z",
            "units": ["2A31"],
        },
    )
    run = Harness(CadIncidentConnector(CadIncidentConnector.Config(path=str(f), max_record_bytes=1024))).run()
    assert len(run.outputs) == 1 and run.outputs[0].envelope["tlp"] == "AMBER"
    assert run.dead_letters[0].reason == "record over 1024 bytes"


def test_sar_json_file(tmp_path: Path) -> None:
    f = tmp_path / "sar.json"
    good = {
        "sar_id": "S1",
        "agency": "CA0100000",
        "tlp": "TLP:GREEN",
        "reliability": "C",
        "validity": 3,
        "behavior": "survl",
        "occurred_at": "2026-11-01T10:00:00Z",
        "submitted_by": "bank",
        "narrative": "Photographed rear doors.",
    }
    f.write_bytes(orjson.dumps([good, dict(good, sar_id="S2", behavior="LOITER")]))
    run = Harness(SarConnector(SarConnector.Config(path=str(f), format="json"))).run()
    assert [r.body["behavior"] for r in run.outputs] == ["SURVL"]
    assert "'LOITER' is not an ISE-SAR category" in run.dead_letters[0].reason


def test_stix_bundle_maps_tlp1_markings_and_keeps_custom_properties(tmp_path: Path) -> None:
    f = tmp_path / "bundle.json"
    ind = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
        "created": "2026-01-01T00:00:00.000Z",
        "modified": "2026-01-02T00:00:00.000Z",
        "name": "bad ip",
        "pattern": "[ipv4-addr:value = '198.51.100.7']",
        "pattern_type": "stix",
        "valid_from": "2026-01-01T00:00:00Z",
        "object_marking_refs": ["marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"],
        "x_argus_note": "kept",
    }
    f.write_bytes(
        orjson.dumps(
            {
                "type": "bundle",
                "id": "bundle--0e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
                "objects": [ind, {"type": "indicator", "id": "not-an-id"}],
            }
        )
    )
    run = Harness(StixFileConnector(StixFileConnector.Config(path=str(f), agency="USDHS0000"))).run()
    assert len(run.outputs) == 1 and "not a STIX identifier" in run.dead_letters[0].reason
    out = run.outputs[0]
    assert out.envelope["tlp"] == "RED"  # TLP 1.0 RED mapped to TLP 2.0
    assert orjson.loads(out.body["object_json"]) == ind


def test_a_watched_folder_says_whether_a_run_would_find_anything(tmp_path: Path) -> None:
    """`ready()` is asked at every poll of the field-query inbox while ingest runs: a cheap look
    at the folder against the cursor, and it must never say no when `run()` has a record."""
    c = CadQueryConnector(CadQueryConnector.Config(path=str(tmp_path), watch=True))
    h = Harness(c)
    assert not c.ready(h.ctx)  # empty
    lines(tmp_path / "mdt-1.jsonl", query_raw())
    assert c.ready(h.ctx)  # a new file
    assert len(h.run().outputs) == 1
    assert not c.ready(h.ctx)  # all read
    with (tmp_path / "mdt-1.jsonl").open("ab") as fh:
        fh.write(orjson.dumps(query_raw(query_id="Q-2"))[:20])  # a writer mid-line
    assert c.ready(h.ctx)  # grown: run() finds nothing yet, as before
    assert h.run().outputs == []
    with (tmp_path / "mdt-1.jsonl").open("ab") as fh:
        fh.write(orjson.dumps(query_raw(query_id="Q-2"))[20:] + b"\n")
    assert c.ready(h.ctx)
    assert len(h.run().outputs) == 1 and not c.ready(h.ctx)


def test_a_whole_json_file_read_is_not_ready_again(tmp_path: Path) -> None:
    f = tmp_path / "sar.json"
    f.write_bytes(orjson.dumps([]))
    c = SarConnector(SarConnector.Config(path=str(tmp_path), format="json", watch=True))
    h = Harness(c)
    assert c.ready(h.ctx)
    h.run()
    assert not c.ready(h.ctx)


def test_an_impossible_dob_is_kept_as_an_invalid_field_and_the_report_goes_on(tmp_path: Path) -> None:
    """A DOB with month 21, a made-up SSN and a sex of Q are marked invalid with their reasons;
    the report and the rest of the person (identifiers, phones, address) carry on."""
    f = tmp_path / "rms.jsonl"
    person = {
        "role": "suspect", "name": "SMITH, JON", "dob": "1990-21-02", "sex": "Q", "ssn": "000-12-3456",
        "dl_number": "s123-4567", "dl_state": "va", "phone": "1 (555) 123-4567", "email": "Jon@Example.ORG",
        "residence_address": "12 Main St", "height": "510", "weight": "180",
    }  # fmt: skip
    lines(f, rms_raw(report_id="R1", persons=[person]))
    run = Harness(RmsConnector(RmsConnector.Config(path=str(f)), name="rms")).run()
    assert run.dead_letters == []
    (p,) = run.outputs[0].body["persons"]
    assert p["dob"] is None and p["sex"] is None
    assert {(x["field"], x["value"]) for x in p["invalid"]} == {("dob", "1990-21-02"), ("sex", "Q"),
                                                                 ("identifiers[0].value", "000-12-3456")}  # fmt: skip
    assert "YYYY-MM-DD" in next(x["reason"] for x in p["invalid"] if x["field"] == "dob")
    assert p["identifiers"] == [{"kind": "DL", "value": "S1234567", "issuer": "VA"}]
    assert (p["phones"], p["emails"], p["height_cm"], p["weight_kg"]) == (["5551234567"], ["jon@example.org"], 178, 82)
    assert p["addresses"] == [{"kind": "residence", "address": "12 Main St"}]
