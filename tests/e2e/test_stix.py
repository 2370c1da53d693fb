"""STIX 2.1 end to end: a partner bundle dropped in the inbox and one posted to the API go
through the pipeline into the object store; exports over real HTTP are valid STIX, carry their
markings, hold only what each caller may see, are audited as disseminations; a purge removes an
object from the store and from every later export."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from stix2validator import ValidationOptions, validate_parsed_json
from typer.testing import CliRunner

from argus.cli import app as cli
from argus.security.audit import AuditLog
from argus.stores.stix import EmbeddedStixStore
from tests.e2e.conftest import make_workdir
from tests.e2e.test_api import Live

BUNDLE = Path(__file__).parents[1] / "data" / "stix" / "all-types.json"
PARTNER = "USDHS0000"  # the topology's STIX feed belongs to this agency
OTHER = "CA0430000"
AMBER_PATTERN = "attack-pattern"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    wd = tmp_path_factory.mktemp("stix")
    topo = make_workdir(wd, background=10)
    shutil.copy(BUNDLE, wd / "inbox" / "stix" / "partner.json")
    lv = Live(topo)
    yield lv
    lv.close()


def store(live: Live) -> EmbeddedStixStore:
    return EmbeddedStixStore(live.topo.data_dir / "stix.db")


def test_every_object_and_version_reaches_the_store(live: Live) -> None:
    s = store(live)
    sent = orjson.loads(BUNDLE.read_bytes())["objects"]
    assert s.count() == len({o["id"] for o in sent})
    assert len(list(s.scan(versions="all"))) == len(sent)  # the older attack-pattern is history
    s.close()


def test_exports_are_valid_marked_and_cut_per_caller(live: Live) -> None:
    own = live.client(PARTNER).get("/api/v1/stix/bundle")
    assert own.status_code == 200 and own.headers["content-type"].startswith("application/stix+json;version=2.1")
    bundle = orjson.loads(own.content)
    res = validate_parsed_json(bundle, ValidationOptions(version="2.1"))
    assert res.is_valid, [e.message for e in res.errors]
    types = {o["type"] for o in bundle["objects"]}
    assert {"x-mitre-tactic", "relationship", "sighting", "file", "marking-definition"} <= types
    amber = next(o for o in bundle["objects"] if o["type"] == AMBER_PATTERN)
    assert amber["description"] == "newer version"

    other = live.client(OTHER).get("/api/v1/stix/bundle")
    theirs = {o["id"] for o in orjson.loads(other.content)["objects"]}
    assert amber["id"] not in theirs and amber["id"].encode() not in other.content  # AMBER, not on a case
    assert next(o["id"] for o in bundle["objects"] if o["type"] == "indicator") in theirs  # unmarked: GREEN
    entries = AuditLog.for_data_dir(live.topo.data_dir).query(action="export", limit=1000)
    assert any(e["recipient"] == OTHER and e["agency"] == PARTNER for e in entries)


def test_posted_bundle_is_validated_object_by_object(live: Live) -> None:
    ip = {"type": "ipv4-addr", "spec_version": "2.1", "id": "ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd",
          "value": "203.0.113.99"}  # fmt: skip
    tool = {
        "type": "tool",
        "spec_version": "2.1",
        "id": "tool--8c2f1f5e-52b7-4c8e-9f63-0a6f3d1c4b21",
        "created": "2026-11-20T00:00:00.000Z",
        "modified": "2026-11-20T00:00:00.000Z",
        "name": "bolt cutters",
    }
    r = live.client(OTHER).post(
        "/api/v1/stix/bundle", json={"type": "bundle", "id": "bundle--1", "objects": [ip, tool]}
    )
    assert r.status_code == 202, r.text
    out = r.json()
    assert out["accepted"] == 1 and out["rejected"][0]["id"] == ip["id"]
    assert "does not match its contributing properties" in out["rejected"][0]["problem"]
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        got = live.client(OTHER).get("/api/v1/stix/bundle", params={"id": tool["id"]})
        if tool["id"].encode() in got.content:
            break
        time.sleep(0.2)
    assert orjson.loads(got.content)["objects"][0] == tool
    assert live.client("PS0000001", "private_sector_partner").get("/api/v1/stix/bundle").status_code == 200
    assert live.client(OTHER, "auditor").get("/api/v1/stix/bundle").status_code == 403


def test_export_by_search_query_and_by_collection(live: Live) -> None:
    """An analyst exports what a search found (through the same policy), or a collection's view."""
    client = live.client(PARTNER)
    got = client.get("/api/v1/stix/bundle", params={"q": "ledgersync"})
    assert got.status_code == 200
    bundle = orjson.loads(got.content)
    assert validate_parsed_json(bundle, ValidationOptions(version="2.1")).is_valid
    named = {(o["type"], o.get("name")) for o in bundle["objects"]}
    assert {("malware", "LedgerSync"), ("software", "LedgerSync")} <= named
    assert ("intrusion-set", "Valley Fence Ring") not in named and ("attack-pattern", "Phishing") not in named
    hits = client.get("/api/v1/search", params={"q": "ledgersync", "type": "stix", "limit": 100}).json()["hits"]
    exported = {o["id"] for o in bundle["objects"] if o["type"] != "marking-definition"}
    assert exported == {h["fields"]["source_id"] for h in hits}  # exactly what the search showed
    nothing = orjson.loads(client.get("/api/v1/stix/bundle", params={"q": "zzqqxx"}).content)
    assert nothing["objects"] == []  # a search that finds nothing exports nothing, not everything

    shared = "8f1b5e2c-3a47-4d1e-9c0b-6e2f4a9d7c31"
    whole = orjson.loads(client.get("/api/v1/stix/bundle").content)["objects"]
    col = orjson.loads(client.get("/api/v1/stix/bundle", params={"collection": shared}).content)["objects"]
    assert sorted(o["id"] for o in col) == sorted(o["id"] for o in whole)
    typed = client.get("/api/v1/stix/bundle", params={"collection": shared, "type": "malware"})
    assert {o["type"] for o in orjson.loads(typed.content)["objects"]} == {"malware"}
    missing = client.get("/api/v1/stix/bundle", params={"collection": "00000000-0000-4000-8000-000000000000"})
    assert missing.status_code == 404
    entries = AuditLog.for_data_dir(live.topo.data_dir).query(action="export", limit=1000)
    assert any((e.get("detail") or {}).get("selection", {}).get("q") == "ledgersync" for e in entries)


def test_a_purged_object_leaves_the_store_and_every_export(live: Live) -> None:
    s = store(live)
    ind = next(o for o in s.scan(types=["indicator"]))
    s.close()
    topology = str(live.topo.base_dir / "topology.yaml")
    args = ["purge", ind.record_id, "--reason", "test", "--by", "sup1", "--agency", PARTNER, "-t", topology]
    r = CliRunner().invoke(cli, args)
    assert r.exit_code == 0, r.output

    def exported() -> set[str]:
        return {o["id"] for o in orjson.loads(live.client(PARTNER).get("/api/v1/stix/bundle").content)["objects"]}

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and ind.id in exported():
        time.sleep(0.2)
    assert ind.id not in exported()  # (relationships of other records still name it)
    s = store(live)
    assert s.versions(ind.id) == []
    s.close()


def test_taxii_server_with_the_oasis_client(live: Live) -> None:
    from taxii2client.v21 import Server, as_pages

    live.client(OTHER)  # creates the partner user and key
    key = live.keys[(OTHER, "analyst", None)]
    server = Server(live.url + "/taxii2/", user="ca0430000-analyst", password=key)
    (root,) = server.api_roots
    assert root.versions == ["application/taxii+json;version=2.1"]
    (col,) = root.collections
    assert col.can_read and col.can_write and col.title == "Shared intelligence"

    got: list[dict] = []
    pages = 0
    for envelope in as_pages(col.get_objects, per_request=7):
        pages += 1
        got += envelope.get("objects", [])
    export = orjson.loads(live.client(OTHER).get("/api/v1/stix/bundle").content)["objects"]
    assert pages >= 5 and sorted(o["id"] for o in got) == sorted(
        o["id"] for o in export if o["type"] != "marking-definition" or o["id"] in {g["id"] for g in got}
    )
    assert len({o["id"] for o in got}) == len(got)  # no object twice across pages
    amber = next(o for o in orjson.loads(BUNDLE.read_bytes())["objects"] if o["type"] == AMBER_PATTERN)
    assert amber["id"] not in {o["id"] for o in got}  # the policy holds on TAXII too
    assert [o["type"] for o in col.get_objects(type=["campaign"])["objects"]] == ["campaign"]

    new = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": "indicator--5d2f1c0e-7a6b-4c3d-8e9f-0a1b2c3d4e5f",
        "created": "2026-11-24T08:00:00.000Z",
        "modified": "2026-11-24T08:00:00.000Z",
        "pattern": "[ipv4-addr:value = '203.0.113.5']",
        "pattern_type": "stix",
        "valid_from": "2026-11-24T08:00:00Z",
    }
    bad = {"type": "ipv4-addr", "id": "ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd", "value": "1.2.3.4"}
    status = col.add_objects({"objects": [new, bad]})
    assert status.status == "complete" and status.success_count == 1 and status.failure_count == 1
    assert status.failures[0]["id"] == bad["id"]
    assert root.get_status(status.id).success_count == 1

    # Resume with added_after = the last page's X-TAXII-Date-Added-Last: only what came after.
    h = {"Accept": "application/taxii+json;version=2.1", "X-API-Key": key}
    base = f"{live.url}/argus/collections/{col.id}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        first = live.client(OTHER).get(f"{base}/objects/", headers=h)
        if new["id"].encode() in first.content:
            break
        time.sleep(0.2)
    last = first.headers["X-TAXII-Date-Added-Last"]
    assert first.headers["content-type"] == "application/taxii+json;version=2.1"
    assert live.client(OTHER).get(f"{base}/objects/", headers=h, params={"added_after": last}).json() == {"more": False}
    one = live.client(OTHER).get(f"{base}/objects/{new['id']}/versions/", headers=h).json()
    assert one == {"more": False, "versions": [new["modified"]]}
    man = live.client(OTHER).get(f"{base}/manifest/", headers=h, params={"match[id]": new["id"]}).json()
    assert man["objects"][0]["media_type"] == "application/stix+json;version=2.1"
    assert (
        live.client(OTHER).get(f"{base}/objects/", headers={"Accept": "text/html", "X-API-Key": key}).status_code == 406
    )
    # Only the owning agency deletes, and a delete is a purge.
    owner_key = live.keys[(PARTNER, "analyst", None)]
    assert (
        live.client(PARTNER).delete(f"{base}/objects/{new['id']}/", headers=h | {"X-API-Key": owner_key}).status_code
        == 404
    )
    assert live.client(OTHER).delete(f"{base}/objects/{new['id']}/", headers=h).status_code == 200
    while (
        time.monotonic() < deadline
        and new["id"].encode() in live.client(OTHER).get(f"{base}/objects/", headers=h).content
    ):
        time.sleep(0.2)
    assert new["id"].encode() not in live.client(OTHER).get(f"{base}/objects/", headers=h).content


def test_attack_techniques_over_the_api(live: Live) -> None:
    r = live.client(OTHER).get("/api/v1/attack/techniques", params={"id": "T1566"})
    assert r.status_code == 200
    assert r.json()["techniques"] == []  # the fixture's Phishing pattern is AMBER from another agency
    mine = live.client(PARTNER).get("/api/v1/attack/techniques", params={"q": "phish"}).json()["techniques"]
    assert [(t["attack_id"], t["name"], t["description"]) for t in mine] == [("T1566", "Phishing", "newer version")]
