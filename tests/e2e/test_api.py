"""The analyst and field API over real HTTP (uvicorn), beside a running pipeline, on the demo
scenario: what each agency may see, field queries, the alert stream, problem details."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest
import uvicorn

from argus.api.app import create_app
from argus.demo import OFFICER_AGENCY, OWNER
from argus.records import deterministic_id
from argus.runtime.core import Runtime
from argus.security.audit import open_audit
from argus.security.identity import open_directory
from argus.topology import load_topology
from tests.e2e.conftest import make_workdir
from tests.servers import free_port

SERIES = deterministic_id("series", "ROB-2026-014")
CIVIC = deterministic_id("vehicle", "CA", "8ABC123")


class Live:
    def __init__(self, topology: Path) -> None:
        self.topo = load_topology(topology)
        self.rt = Runtime(self.topo).open()
        self.rt.run_until_idle()
        self.pipeline = threading.Thread(target=self.rt.run_forever, daemon=True)
        self.pipeline.start()
        port = free_port()
        self.server = uvicorn.Server(uvicorn.Config(create_app(self.topo), port=port, log_level="warning"))
        self.web = threading.Thread(target=self.server.run, daemon=True)
        self.web.start()
        self.url = f"http://127.0.0.1:{port}"
        self.keys: dict[tuple[str, str, str | None], str] = {}
        self.servers = False  # every store on a server (Neo4j, OpenSearch), none in the data dir
        for _ in range(200):
            try:
                httpx.get(self.url + "/healthz")
                break
            except httpx.TransportError:
                time.sleep(0.05)

    def client(self, agency: str, role: str = "analyst", unit: str | None = None) -> httpx.Client:
        """A client authenticated with an API key of a user of `agency` in `role`."""
        key = (agency, role, unit)
        if key not in self.keys:
            d = open_directory(self.topo)
            d.add_agency(agency, f"agency {agency}", law_enforcement=role != "private_sector_partner")
            user = f"{role.replace('_', '-')}-{agency}-{unit or 'x'}".lower()
            d.add_subject(user, agency, [role], unit=unit)
            self.keys[key] = d.create_key(user)
            d.close()
        return httpx.Client(base_url=self.url, headers={"X-API-Key": self.keys[key]}, timeout=30)

    def close(self) -> None:
        self.server.should_exit = True
        self.web.join(10)
        self.rt.stop()
        self.pipeline.join(30)
        self.rt.close()


@pytest.fixture(
    scope="module",
    params=["embedded", pytest.param("servers", marks=[pytest.mark.integration, pytest.mark.slow])],
)
def live(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """The same API tests on the embedded stores and on Neo4j + OpenSearch (the graph and search
    index, and the audit trail, identity directory and TAXII statuses an API on several hosts
    shares)."""
    with pytest.MonkeyPatch.context() as mp:
        if request.param == "servers":
            from neo4j import GraphDatabase

            neo4j_url = request.getfixturevalue("neo4j_url")
            with GraphDatabase.driver(neo4j_url, auth=None) as d, d.session() as s:
                s.run("MATCH (n) DETACH DELETE n").consume()
            mp.setenv("ARGUS_GRAPH", neo4j_url)
            os_url, run = request.getfixturevalue("opensearch_url"), str(time.time_ns())
            mp.setenv("ARGUS_SEARCH", f"{os_url}?index=api{run}")
            mp.setenv("ARGUS_AUDIT", f"{os_url}?audit_index=audit{run}")
            mp.setenv("ARGUS_IDENTITY", f"{os_url}?identity_index=identity{run}")
            mp.setenv("ARGUS_TAXII", f"{os_url}?taxii_index=taxii{run}")
        wd = tmp_path_factory.mktemp("api")
        lv = Live(make_workdir(wd, background=60))
        lv.servers = request.param == "servers"
        yield lv
        lv.close()


def test_search_shows_each_agency_what_its_marking_allows(live: Live) -> None:
    other = live.client(OFFICER_AGENCY).get("/api/v1/search", params={"q": "Civic", "limit": 50}).json()
    owner = live.client(OWNER).get("/api/v1/search", params={"q": "Civic", "limit": 50}).json()
    titles = {h["title"]: h for h in other["hits"]}
    assert any("RPT-2026-0412" in t for t in titles)
    assert not any("NTF-2026-0031" in t for t in titles)  # RED: not even its existence
    assert any("NTF-2026-0031" in h["title"] for h in owner["hits"])
    assert owner["total"] > other["total"] == len(other["hits"])  # the count never includes what it hides
    assert all(h["access"] in ("full", "amber") for h in other["hits"])  # existence-only records match no words
    amber = next(h for t, h in titles.items() if "RPT-2026-0412" in t)
    assert amber["access"] == "amber" and amber["snippet"] == "" and "narrative" in amber["withheld"]
    raw = live.client(OFFICER_AGENCY).get("/api/v1/search", params={"q": "pharmacy"}).content
    assert b"pharmacy" not in raw.lower() or b'"total":0' in raw  # the narrative is withheld
    assert b"Confidential informant" not in live.client(OFFICER_AGENCY).get("/api/v1/search?limit=100").content


def test_search_filters_geo_and_paging(live: Live) -> None:
    c = live.client(OWNER)
    near = c.get("/api/v1/search", params={"near": "36.8083,-119.8269,0.5", "agency": OWNER}).json()
    assert any("RPT-2026-0412" in h["title"] for h in near["hits"])
    page = c.get("/api/v1/search", params={"limit": 5, "offset": 5}).json()
    assert page["limit"] == 5 and page["offset"] == 5 and len(page["hits"]) <= 5
    only_sar = c.get("/api/v1/search", params={"type": "sar"}).json()
    assert only_sar["hits"] and {h["kind"] for h in only_sar["hits"]} == {"sar"}
    geo = c.get("/api/v1/geo", params={"bbox": "36.0,-121.0,37.5,-119.0", "cell_km": 5}).json()
    assert geo["points"] and sum(cl["count"] for cl in geo["clusters"]) == len(geo["points"])


def test_entity_profile_links_and_case_timeline(live: Live) -> None:
    owner, other = live.client(OWNER), live.client(OFFICER_AGENCY)
    prof = owner.get(f"/api/v1/entities/{CIVIC}").json()
    assert prof["entity"]["kind"] == "OBJECT" and len(prof["sources"]) >= 3
    # its own records whole; a third agency's AMBER+STRICT record only as existing
    assert all(s["reason"] != "withheld" for s in prof["sources"] if s["agency"] == OWNER)
    assert [s["access"] for s in prof["sources"] if s["agency"] == "CA0200000"] == ["existence"]
    seen = other.get(f"/api/v1/entities/{CIVIC}").json()
    assert len(seen["sources"]) < len(prof["sources"])  # the RED report's source row is gone
    hood = owner.get(f"/api/v1/entities/{CIVIC}/neighbours", params={"hops": 2}).content
    assert b"SMITH" in hood
    hood_other = other.get(f"/api/v1/entities/{CIVIC}/neighbours", params={"hops": 2})
    assert hood_other.status_code == 200 and b"SMITH" not in hood_other.content  # names withheld (AMBER)
    assert b"NTF-2026-0031" not in hood_other.content
    paths = owner.get("/api/v1/paths", params={"from": CIVIC, "to": SERIES}).json()
    assert paths["paths"] and all(e["props"]["reason"] for p in paths["paths"] for e in p)
    tl = owner.get("/api/v1/cases/ROB-2026-014/timeline").json()
    times = [e["occurred_at"] for e in tl["events"]]
    assert len(times) >= 2 and times == sorted(times)
    assert any("RPT-2026-0388" in e["title"] for e in tl["events"])


def test_field_query_answers_with_the_alert_and_the_stream_delivers_it(live: Live) -> None:
    officer = live.client(OFFICER_AGENCY, role="patrol_officer", unit="2A31")
    got: list[dict] = []
    ready = threading.Event()

    def listen() -> None:
        with officer.stream("GET", "/api/v1/field/alerts/stream", params={"unit": "2A31"}) as r:
            event = []
            for line in r.iter_lines():
                ready.set()
                if line.startswith("data: "):
                    event.append(orjson.loads(line[6:]))
                if line == "" and event:
                    got.extend(event)
                    return

    t = threading.Thread(target=listen, daemon=True)
    t.start()
    assert ready.wait(10)
    q = {"query_id": "API-Q-1", "plate": "8-ABC 123", "state": "CA"}
    t0 = time.monotonic()
    res = officer.post("/api/v1/field/query", json=q).json()
    took = time.monotonic() - t0
    assert res["status"] == "HIT", res
    hit = next(a for a in res["alerts"] if a["alert_type"] == "QUERY_HIT")
    assert hit["recipient_unit"] == "2A31" and "narrative" in hit["hits"][0]["withheld"]
    assert took < 5
    t.join(10)
    assert got and got[0]["trigger_id"] == res["record_id"]
    miss = officer.post("/api/v1/field/query", json=dict(q, query_id="API-Q-2", plate="ZZZ9999")).json()
    assert miss["status"] == "NO_HIT" and miss["alerts"] == []


def test_errors_are_problem_details(live: Live) -> None:
    c = live.client(OWNER)
    r = c.get("/api/v1/search", params={"bbox": "north"})
    assert r.status_code == 400 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["title"] == "Bad bbox"
    r = c.get("/api/v1/entities/no-such-entity")
    assert r.status_code == 404 and "no-such-entity" in r.json()["detail"]
    r = c.get("/api/v1/search", params={"limit": 1000})
    assert r.status_code == 400 and "limit" in r.json()["detail"]
    r = c.post("/api/v1/field/query", json={"query_id": "X"})
    assert r.status_code == 422 and "plate, a VIN or a name" in r.json()["detail"]
    r = c.post(f"/api/v1/entities/{CIVIC}/unmerge", json={"reason": "not merged at all"})
    assert r.status_code == 409
    r = httpx.get(live.url + "/api/v1/search")  # no subject
    assert r.status_code == 401 and r.json()["status"] == 401
    assert httpx.get(live.url + "/openapi.json").json()["info"]["title"].startswith("Argus")


def test_an_analyst_undoes_a_merge_and_the_pipeline_keeps_the_pair_apart(live: Live) -> None:
    import json

    inbox = live.topo.resolve_path("inbox/rms")
    base = {
        "agency": OWNER,
        "tlp": "TLP:GREEN",
        "reliability": "B",
        "validity": 2,
        "offenses": ["240"],
        "occurred_at": "2026-11-20T10:00:00+00:00",
        "persons": [],
        "locations": [],
    }
    plate_only = dict(
        base,
        report_id="MRG-1",
        narrative="Stolen truck, plate only.",
        vehicles=[{"role": "stolen", "plate": "7XYZ999", "state": "CA"}],
    )
    vin_only = dict(
        base,
        report_id="MRG-2",
        narrative="Truck recovered, VIN only.",
        vehicles=[{"role": "recovered", "vin": "1HGCM82633A004352", "plate": "5AAA111", "state": "NV"}],
    )
    both = dict(
        base,
        report_id="MRG-3",
        narrative="Truck stopped: VIN and the stolen plate.",
        vehicles=[{"role": "involved", "vin": "1HGCM82633A004352", "plate": "7XYZ999", "state": "CA"}],
    )
    c = live.client(OWNER)
    by_plate = deterministic_id("vehicle", "CA", "7XYZ999")

    def profile() -> dict:
        return c.get(f"/api/v1/entities/{by_plate}").json()

    def ingest(name: str, rec: dict) -> None:  # one at a time: partitions do not keep file order
        (inbox / f"{name}.jsonl").write_text(json.dumps(rec) + "\n")
        deadline = time.monotonic() + 30
        while (
            time.monotonic() < deadline and not c.get("/api/v1/search", params={"q": rec["narrative"]}).json()["total"]
        ):
            time.sleep(0.02)

    ingest("m1", plate_only)
    ingest("m2", vin_only)
    ingest("m3", both)

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and profile().get("entity", {}).get("id", by_plate) == by_plate:
        time.sleep(0.05)
    merged = profile()
    survivor = merged["entity"]["id"]
    assert survivor != by_plate, "the VIN record should have merged the plate-only vehicle"
    assert {s["record_id"] for s in merged["sources"]} >= {deterministic_id("rms", OWNER, "MRG-1")}

    r = c.post(f"/api/v1/entities/{by_plate}/unmerge", json={"reason": "plate was cloned; different trucks"})
    assert r.status_code == 202, r.text
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and profile()["entity"]["id"] != by_plate:
        time.sleep(0.05)
    split = profile()
    assert split["entity"]["id"] == by_plate
    assert [s["record_id"] for s in split["sources"]] == [deterministic_id("rms", OWNER, "MRG-1")]
    assert by_plate not in {m["merged"] for m in c.get(f"/api/v1/entities/{survivor}").json()["merged_from"]}

    again = dict(both, report_id="MRG-4", narrative="Stopped again with both.")
    ingest("m4", again)
    mrg4 = deterministic_id("rms", OWNER, "MRG-4")

    def survivor_sources() -> set[str]:
        return {s["record_id"] for s in c.get(f"/api/v1/entities/{survivor}").json()["sources"]}

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and mrg4 not in survivor_sources():  # the graph sink has it
        time.sleep(0.02)
    assert mrg4 in survivor_sources()
    assert profile()["entity"]["id"] == by_plate  # kept apart: the new record did not merge them again


def test_a_purged_record_leaves_search_and_graph(live: Live) -> None:
    from tests.e2e.conftest import argus

    c = live.client(OWNER)
    sar = deterministic_id("sar", "CA0100000", "SAR-2026-0107")
    assert c.get("/api/v1/search", params={"q": "armoured-car"}).json()["total"] == 1
    civic_sources = {s["record_id"] for s in c.get(f"/api/v1/entities/{CIVIC}").json()["sources"]}
    assert sar in civic_sources
    out = argus(
        "purge",
        sar,
        "--reason",
        "SAR unfounded; purged on review",
        "--by",
        "Sgt. K. Lee",
        "--agency",
        "CA0100000",
        "--topology",
        str(live.topo.base_dir / "topology.yaml"),
    )
    assert out.returncode == 0, out.stderr
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and c.get("/api/v1/search", params={"q": "armoured-car"}).json()["total"]:
        time.sleep(0.02)
    assert c.get("/api/v1/search", params={"q": "armoured-car"}).json()["total"] == 0
    while time.monotonic() < deadline and sar in {
        s["record_id"] for s in c.get(f"/api/v1/entities/{CIVIC}").json()["sources"]
    }:
        time.sleep(0.02)
    body = c.get(f"/api/v1/entities/{CIVIC}/neighbours", params={"hops": 2}).content
    assert sar.encode() not in body and b"armoured" not in body


def test_requests_are_audited_in_one_verifiable_chain(live: Live) -> None:
    """What the API did for a caller is in the audit trail its agency's auditor reads, and the
    trail verifies (on the servers variant it is the OpenSearch trail every API host shares)."""
    analyst = live.client(OWNER)
    assert analyst.get("/api/v1/search", params={"q": "Civic"}).status_code == 200
    auditor = live.client(OWNER, role="auditor")
    me = f"analyst-{OWNER}-x".lower()
    entries = auditor.get("/api/v1/audit", params={"actor": me, "limit": 1000}).json()["entries"]
    assert {"login", "read"} <= {e["action"] for e in entries}
    assert all(e["agency"] == OWNER for e in entries)
    trail = open_audit(live.topo)
    try:
        v = trail.verify()
        assert v.ok and v.entries >= max(e["seq"] for e in entries)
    finally:
        trail.close()


def test_an_admin_on_another_host_shares_the_directory_and_the_audit_trail(
    live: Live, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """With the directory and the audit trail on OpenSearch, `argus admin` on another host (its
    own data dir, nothing shared on disk) makes a key this API accepts at once, and `argus audit
    verify` there checks the one chain both append to. On the embedded stores the directory is a
    file in a data dir, so an admin with another data dir administers another directory."""
    from typer.testing import CliRunner

    from argus.cli import app as cli

    elsewhere = str(tmp_path_factory.mktemp("other-host"))
    topo = str(live.topo.base_dir / "topology.yaml")

    def admin(*args: str) -> str:
        res = CliRunner().invoke(cli, [*args, "-t", topo, "--data-dir", elsewhere])
        assert res.exit_code == 0, res.output
        return res.output

    admin("admin", "agency", "add", "NV0020000", "--name", "Las Vegas MPD", "--by", "admin1")
    admin("admin", "user", "add", "lv-analyst", "--agency", "NV0020000", "--role", "analyst", "--by", "admin1")
    key = admin("admin", "key", "create", "lv-analyst", "--by", "admin1").strip().split()[-1]
    assert key.startswith("argus_")
    if not live.servers:
        with httpx.Client(base_url=live.url, headers={"X-API-Key": key}, timeout=30) as c:
            assert c.get("/api/v1/search", params={"q": "Civic"}).status_code == 401
        return
    with httpx.Client(base_url=live.url, headers={"X-API-Key": key}, timeout=30) as c:
        assert c.get("/api/v1/search", params={"q": "Civic"}).status_code == 200
    out = admin("audit", "show", "--actor", "lv-analyst")
    assert {orjson.loads(line)["action"] for line in out.splitlines()} >= {"login", "read"}
    assert "audit trail intact" in admin("audit", "verify")
    admin("admin", "key", "revoke", key.split("_")[1], "--by", "admin1")
    with httpx.Client(base_url=live.url, headers={"X-API-Key": key}, timeout=30) as c:
        assert c.get("/api/v1/search", params={"q": "Civic"}).status_code == 401  # refused at once
