"""Bad input of every kind: a clear reason in the dead-letter topic, the original bytes kept,
and every good record still in every store."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import orjson

from argus.runtime.core import Runtime
from argus.topology import load_topology
from tests.conftest import query_raw, rms_raw
from tests.e2e.conftest import make_workdir


def test_bad_records_are_dead_lettered_and_nothing_else_is_lost(tmp_path: Path) -> None:
    topo = make_workdir(tmp_path, background=0)
    inbox = tmp_path / "inbox"
    for f in inbox.rglob("*.json*"):
        f.unlink()
    for f in inbox.rglob("*.csv"):
        f.unlink()
    bad = {
        b"{not json\n": "malformed JSON",
        orjson.dumps(rms_raw(report_id="B1", tlp="TLP:ULTRA")) + b"\n": "unknown TLP marking",
        orjson.dumps(rms_raw(report_id="B2", category="criminal_intelligence", reliability=None))
        + b"\n": "criminal intelligence needs a source-reliability rating",
        orjson.dumps(rms_raw(report_id="B3", validity="two")) + b"\n": "validity: expected an integer 1-6",
        orjson.dumps(rms_raw(report_id="B4", occurred_at=12345)) + b"\n": "occurred_at: expected an ISO 8601",
        orjson.dumps(rms_raw(report_id="B5", persons=[{"role": "suspect", "name": "A" * 5000}]))
        + b"\n": "over the limit",
        orjson.dumps(rms_raw(report_id="B6", narrative="ok\u0000<script>")) + b"\n": "control character U+0000",
        orjson.dumps([1, 2, 3]) + b"\n": "expected a JSON object",
        orjson.dumps(rms_raw(report_id="B7", vehicles=[{"role": "suspect"}])) + b"\n": "needs a plate or a VIN",
        b"\xff\xfe garbage\n": "not UTF-8",
    }
    good = [orjson.dumps(rms_raw(report_id=f"G{i}", agency="CA0200000")) + b"\n" for i in range(5)]
    lines = list(bad)
    (inbox / "rms" / "mixed.jsonl").write_bytes(
        b"".join(x for pair in zip(lines, good + [b""] * 10, strict=False) for x in pair)
    )
    (inbox / "cad" / "queries" / "q.jsonl").write_bytes(
        orjson.dumps(query_raw(plate=None, name=None)) + b"\n" + orjson.dumps(query_raw()) + b"\n"
    )
    (inbox / "sar" / "broken.json").write_bytes(b'[{"sar_id": "S1",')
    os.utime(inbox / "sar" / "broken.json", (time.time() - 60, time.time() - 60))  # a writer long gone
    with Runtime(load_topology(topo)) as rt:
        rt.run_until_idle()
        dead = [r.value for r in rt.read_topic("deadletters")]
        reasons = [d["reason"] for d in dead]
        for raw, why in bad.items():
            match = [d for d in dead if d["original"] == raw]
            assert len(match) == 1, raw
            assert why in match[0]["reason"], (why, match[0]["reason"])
            assert match[0]["node"] == "rms" and match[0]["source"].startswith("mixed.jsonl@")
        assert any("a query needs a plate, a VIN or a name" in r for r in reasons)
        assert any(d["node"] == "sar" and "malformed JSON" in d["reason"] for d in dead)
        assert len(dead) == len(bad) + 2
        assert rt.bus.size("resolved") == 5
        assert rt.stores["search"].count() == 5
        assert rt.bus.size("queries.resolved") == 1


def test_a_poison_record_inside_a_node_is_retried_then_dead_lettered(tmp_path: Path, monkeypatch) -> None:
    """A record that makes a processor raise goes to the DLQ after retries; the partition flows on."""
    from processors import entity_resolution

    topo = make_workdir(tmp_path, background=20)
    real = entity_resolution.EntityResolutionProcessor._report
    calls = {"n": 0}

    def flaky(self, record, ctx):
        if record.body.get("report_id") == "RPT-2026-0388":
            calls["n"] += 1
            raise RuntimeError("simulated defect on this record")
        return real(self, record, ctx)

    monkeypatch.setattr(entity_resolution.EntityResolutionProcessor, "_report", flaky)
    with Runtime(load_topology(topo)) as rt:
        rt.run_until_idle()
        dead = [r.value for r in rt.read_topic("deadletters") if r.value["node"] == "resolve_persons"]
        assert len(dead) == 1 and dead[0]["attempts"] == 3 and calls["n"] == 3
        assert dead[0]["reason"] == "RuntimeError: simulated defect on this record"
        assert dead[0]["topic"] == "reports" and dead[0]["offset"] >= 0
        assert rt.bus.size("resolved") == rt.bus.size("reports") - 1


def test_a_running_pipeline_picks_up_records_another_process_appends(tmp_path: Path) -> None:
    """`argus dlq replay` (or any producer process) appends while `argus run` is running."""
    from argus.bus.base import Commit
    from argus.bus.embedded import EmbeddedBus
    from argus.schemas import default_schemas
    from tests.conftest import rms_record

    topo = make_workdir(tmp_path, background=10)
    with Runtime(load_topology(topo)) as rt:
        rt.run_until_idle()
        before = rt.bus.size("resolved")
        other = EmbeddedBus(rt.bus.path)
        value = rms_record(report_id="LATE-1", agency="CA0200000").value
        other.commit(
            Commit(
                appends=[("rms.records", "k", default_schemas().encode(default_schemas().get("rms_record.v2"), value))]
            )
        )
        other.close()
        rt.run_until_idle()
        assert rt.bus.size("resolved") == before + 1


def _deep(n: int) -> bytes:
    return b'{"x":' * n + b"1" + b"}" * n


def test_hostile_files_lose_no_good_record_and_stop_no_source(tmp_path: Path) -> None:
    """What an outside probe dropped in every inbox: numbers past Avro's range, values nested
    300 deep, dates past any calendar, a quoted CSV newline, a BOM, a last line without its
    newline, a STIX bundle with a 300-deep object. Each bad record is one dead letter naming the
    field; every good one is ingested; `argus run --until-idle` ends cleanly."""
    from tests.e2e.conftest import argus

    topo = make_workdir(tmp_path, background=0)
    inbox = tmp_path / "inbox"
    for f in [*inbox.rglob("*.json*"), *inbox.rglob("*.csv")]:
        f.unlink()
    old = time.time() - 60  # writers long gone: a last line without newline is complete
    rms = [
        (orjson.dumps(rms_raw(report_id="H1", version=2**63)) + b"\n", "version: expected a whole number"),
        (orjson.dumps(rms_raw(report_id="H2", occurred_at="9999-12-31T23:00:00-05:00")) + b"\n", "occurred_at"),
        (orjson.dumps(rms_raw(report_id="H3", occurred_at="0001-01-01T00:00:00+23:59")) + b"\n", "occurred_at"),
        (orjson.dumps(rms_raw(report_id="H4"))[:-1] + b', "narrative": ' + _deep(300) + b"}\n", "narrative"),
    ]
    good = [orjson.dumps(rms_raw(report_id=f"OK{i}", agency="CA0200000")) for i in range(4)]
    body = b"".join(x + g + b"\n" for (x, _), g in zip(rms[:3], good[:3], strict=True)) + rms[3][0]
    body += b"\xef\xbb\xbf" + good[3]  # a BOM, and no newline at the end of the file
    (inbox / "rms" / "hostile.jsonl").write_bytes(body)
    os.utime(inbox / "rms" / "hostile.jsonl", (old, old))
    sar_bad = {"sar_id": "SH1", "version": 10**30, "agency": "CA0190000", "tlp": "TLP:GREEN", "behavior": "SURVL",
               "occurred_at": "2026-11-20T10:00:00Z", "submitted_by": "x", "narrative": "photographing",
               "reliability": "C", "validity": 3}  # fmt: skip
    sar_good = dict(sar_bad, sar_id="SH2", version=1)
    (inbox / "sar" / "mixed.json").write_text(json.dumps([sar_bad, sar_good]))  # orjson will not write 10**30
    csv_path = inbox / "rms_csv" / "quoted.csv"
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    header = "report_id,agency,tlp,reliability,validity,offenses,occurred_at,narrative\n"
    row = 'CSV1,CA0200000,TLP:GREEN,B,2,120,2026-11-20T10:00:00+00:00,"Fled on foot,\nthen by car"\n'
    csv_path.write_text(header + row)
    stix = b'{"type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d", "objects": [' + (
        b'{"type": "indicator", "spec_version": "2.1", "id": "indicator--11111111-2222-4333-8444-000000000001",'
        b' "created": "2026-11-01T10:00:00.000Z", "modified": "2026-11-01T10:00:00.000Z", "name": "deep",'
        b' "pattern": "[x]", "pattern_type": "stix", "valid_from": "2026-11-01T10:00:00Z", "x_deep": '
        + _deep(300)
        + b'}, {"type": "indicator", "spec_version": "2.1", "id": "indicator--11111111-2222-4333-8444-000000000002",'
        b' "created": "2026-11-01T10:00:00.000Z", "modified": "2026-11-01T10:00:00.000Z", "name": "fine",'
        b' "pattern": "[ipv4-addr:value = \'198.51.100.7\']", "pattern_type": "stix",'
        b' "valid_from": "2026-11-01T10:00:00Z"}]}'
    )
    (inbox / "stix" / "deep.json").write_bytes(stix)
    (inbox / "stix" / "later.json").write_bytes(stix.replace(b"000000000002", b"000000000003"))
    run = argus("run", "--until-idle", "-t", str(topo))
    assert run.returncode == 0, run.stderr[-2000:]
    with Runtime(load_topology(topo)) as rt:
        dead = [r.value for r in rt.read_topic("deadletters")]
        assert "ingested 8 records, 7 dead-lettered" in run.stdout, (run.stdout, [d["reason"] for d in dead])
        for raw, why in rms:
            match = [d for d in dead if d["original"] == raw]
            assert len(match) == 1 and why in match[0]["reason"], (raw[:60], [d["reason"] for d in dead])
        assert any(d["node"] == "sar" and "version" in d["reason"] and "mixed.json#0" == d["source"] for d in dead)
        deep = [d for d in dead if d["node"] == "stix"]
        assert len(deep) == 2 and all("levels deep" in d["reason"] for d in deep)
        assert rt.stores["search"].count() == 8  # OK0-3, SH2, CSV1, and both fine indicators
        csv_doc = next(h for h in rt.stores["search"].search("foot")["hits"])
        assert csv_doc["title"].endswith("CSV1")


def test_stix_import_refuses_a_deep_object_alone_and_never_with_a_traceback(tmp_path: Path) -> None:
    from tests.e2e.conftest import argus

    topo = make_workdir(tmp_path, background=0)
    ok = (
        b'{"type": "indicator", "spec_version": "2.1", "id": "indicator--11111111-2222-4333-8444-00000000000N",'
        b' "created": "2026-11-01T10:00:00.000Z", "modified": "2026-11-01T10:00:00.000Z", "name": "fine",'
        b' "pattern": "[x]", "pattern_type": "stix", "valid_from": "2026-11-01T10:00:00Z"}'
    )
    deep = ok.replace(b"N", b"1")[:-1] + b', "x_deep": ' + _deep(300) + b"}"
    (tmp_path / "b.json").write_bytes(b'{"type": "bundle", "objects": [' + deep + b"," + ok.replace(b"N", b"2") + b"]}")
    run = argus("stix", "import", str(tmp_path / "b.json"), "--agency", "USDHS0000", "--by", "admin", "-t", str(topo))
    assert run.returncode == 0 and "Traceback" not in run.stderr, run.stderr[-1500:]
    assert "1 added" in run.stdout and "1 rejected" in run.stdout and "levels deep" in run.stderr
    (tmp_path / "deeper.json").write_bytes(b'{"type": "bundle", "objects": [' + b"[" * 2000 + b"]" * 2000 + b"]}")
    run = argus("stix", "import", str(tmp_path / "deeper.json"), "--agency", "USDHS0000", "--by", "a", "-t", str(topo))
    assert run.returncode == 2 and "Traceback" not in run.stderr and "depth" in run.stderr
