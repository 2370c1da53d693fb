"""The ATT&CK mirror: `argus attack load` through the bulk path, lookups of every kind by id,
name and alias with their relations in the CLI and through the API's policy."""

from __future__ import annotations

from pathlib import Path

import orjson
from typer.testing import CliRunner

from argus.cli import app as cli
from tests.e2e.conftest import make_workdir
from tests.e2e.test_api import Live

SAMPLE = Path(__file__).parents[1] / "data" / "stix" / "attack-ics-sample.json"


def test_load_then_look_up_every_kind_with_relations(tmp_path: Path) -> None:
    topo = make_workdir(tmp_path, background=1)
    t = ["-t", str(topo)]
    run = CliRunner().invoke
    r = run(cli, ["attack", "load", str(SAMPLE), "--agency", "CA0190000", "--by", "admin1", *t])
    assert r.exit_code == 0, r.output
    assert "50 added" in r.output and "0 rejected" in r.output
    r = run(cli, ["attack", "load", str(SAMPLE), "--agency", "CA0190000", "--by", "admin1", *t])
    assert "0 added" in r.output and "50 duplicates" in r.output  # a reload changes nothing

    def show(*args: str) -> list[dict]:
        out = run(cli, ["attack", "show", *args, "--json", *t])
        assert out.exit_code == 0, out.output
        return [orjson.loads(line) for line in out.output.splitlines()]

    (sandworm,) = show("groups", "--q", "voodoo bear", "--related")  # an alias
    assert sandworm["attack_id"] == "G0034"
    software = {s["attack_id"] for s in sandworm["related"]["uses software"]}
    assert "S0604" in software  # Industroyer
    (t0800,) = show("techniques", "--id", "T0800", "--related")
    assert t0800["tactics"] == ["inhibit-response-function"]
    assert {m["attack_id"] for m in t0800["related"]["mitigates by mitigations"]} >= {"M0807"}
    assert len(show("tactics")) == 12 and show("mitigations")
    assert all(not x["revoked"] and not x["deprecated"] for x in show("techniques"))
    assert any(x["revoked"] or x["deprecated"] for x in show("techniques", "--include-revoked"))
    assert run(cli, ["attack", "show", "weapons", *t]).exit_code == 2


def test_api_lookups_go_through_the_policy(tmp_path: Path) -> None:
    topo = make_workdir(tmp_path, background=1)
    r = CliRunner().invoke(
        cli,
        ["attack", "load", str(SAMPLE), "--agency", "CA0190000", "--by", "a", "--tlp", "TLP:AMBER", "-t", str(topo)],
    )
    assert r.exit_code == 0, r.output  # loaded AMBER on purpose: only the loading agency sees it
    live = Live(topo)
    try:
        own = live.client("CA0190000").get("/api/v1/attack/groups", params={"q": "sandworm", "related": True})
        assert own.status_code == 200 and own.json()["total"] == 1
        assert own.json()["groups"][0]["related"]["uses software"]
        other = live.client("CA0430000").get("/api/v1/attack/groups", params={"q": "sandworm"})
        assert other.json()["total"] == 0 and "Sandworm" not in other.text
        assert live.client("CA0190000").get("/api/v1/attack/weapons").status_code == 400
    finally:
        live.close()


def test_sar_narratives_are_matched_to_techniques_and_groups_in_the_pipeline(tmp_path: Path) -> None:
    from argus.backends import read_topic
    from argus.runtime.core import Runtime
    from argus.topology import load_topology

    topo = make_workdir(tmp_path, background=10)
    t = ["-t", str(topo)]
    run = CliRunner().invoke
    assert run(cli, ["attack", "load", str(SAMPLE), "--agency", "CA0190000", "--by", "admin1", *t]).exit_code == 0
    sar = {
        "sar_id": "SAR-2026-0999",
        "agency": "CA0100000",
        "tlp": "TLP:AMBER",
        "reliability": "B",
        "validity": 2,
        "behavior": "CYBER",
        "occurred_at": "2026-11-20T10:00:00Z",
        "submitted_by": "Water utility SCADA engineer",
        "narrative": "Unknown party used a command-line interface on the plant HMI to execute commands and "
        "set up a connection proxy that relayed network traffic to an outside host.",
        "vehicles": [],
        "locations": [],
    }
    (tmp_path / "inbox" / "sar" / "ttp.json").write_bytes(orjson.dumps([sar]))
    r = run(cli, ["run", "--until-idle", "--metrics-port", "0", *t])
    assert r.exit_code == 0, r.output
    with Runtime(load_topology(topo)) as rt:
        matched = read_topic(rt.bus, rt.schemas, "ttp.matches")
    (mine,) = [m for m in matched if "T0884" in {x["attack_id"] for x in m.body["techniques"]}]
    assert mine.envelope["tlp"] == "AMBER" and mine.envelope["source_agency"] == "CA0100000"  # the SAR's marking
    got = {x["attack_id"]: x for x in mine.body["techniques"]}
    assert {"T0807", "T0884"} <= set(got) and got["T0807"]["evidence"]
    assert mine.body["source_type"] == "sar"
    assert mine.body["event_id"] and got["T0884"]["stix_id"].startswith("attack-pattern--")

    # The match is in the graph: the SAR's event -> the technique, marked as the SAR is.
    live = Live(topo)
    try:
        own = live.client("CA0100000").get("/api/v1/attack/matches", params={"technique": "T0884"})
        assert own.status_code == 200, own.text
        (hit,) = [m for m in own.json()["matches"] if m["record_id"] == mine.envelope["id"]]
        assert hit["attack_id"] == "T0884" and hit["report"]["id"] == mine.body["event_id"]
        assert "Connection Proxy" in hit["evidence"] and hit["score"] > 0
        other = live.client("CA0430000").get("/api/v1/attack/matches", params={"technique": "T0884"})
        theirs = [m for m in other.json()["matches"] if m["record_id"] == mine.envelope["id"]]
        # Another agency sees what the policy lets it see of an AMBER SAR (that it exists, whom
        # to contact), never the evidence: the edge is cut as the report is.
        assert all(m["evidence"] == "withheld" and m["score"] is None for m in theirs)
        assert all(m["report"]["access"] != "full" for m in theirs)
        assert mine.body["attributions"][0]["name"] == "Sandworm Team"
        by_group = live.client("CA0100000").get("/api/v1/attack/matches", params={"group": "G0034"}).json()
        (g,) = [m for m in by_group["matches"] if m["record_id"] == mine.envelope["id"]]
        assert "uses T0884 Connection Proxy" in g["evidence"]
        # ... and in search: the matches of a report are a document beside it, marked as it is.
        found = live.client("CA0100000").get("/api/v1/search", params={"q": "connection proxy", "type": "ttp"})
        (doc,) = [h for h in found.json()["hits"] if h["fields"]["source_id"] == mine.envelope["id"]]
        assert "T0884" in doc["fields"]["techniques"] and "Sandworm Team" in doc["fields"]["groups"]
        assert doc["access"] == "full" and doc["tlp"] == "AMBER"
        theirs = live.client("CA0430000").get("/api/v1/search", params={"q": "connection proxy", "type": "ttp"})
        assert all(
            (h.get("access") != "full" and "fields" not in h) or h["access"] != "full" for h in theirs.json()["hits"]
        )
        bad = live.client("CA0100000").get("/api/v1/attack/matches")
        assert bad.status_code == 400
    finally:
        live.close()
