"""What an outside probe did to the API and TAXII, done again: hostile parameters, hostile STIX,
another agency's objects, a POST before the pipeline ever ran. Each is a clear 4xx (TAXII error
messages on TAXII paths), never a 500, and nothing of the owner's is lost or overwritten."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from argus.api.app import create_app
from argus.security.identity import open_directory
from argus.stix.markings import to_tlp2
from argus.stores.stix import StixItem
from argus.topology import load_topology
from tests.conftest import REPO

FED, B = "USDHS0000", "CA0430000"
COLLECTION = "8f1b5e2c-3a47-4d1e-9c0b-6e2f4a9d7c31"  # topology.yaml's shared collection
INDICATOR = "indicator--6e2bf0a6-53f1-4b34-9c2b-5d31f1c7e1a0"
TAXII = "application/taxii+json;version=2.1"
OBJECTS = f"/argus/collections/{COLLECTION}/objects/"


def indicator(**over: Any) -> dict[str, Any]:
    base = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": INDICATOR,
        "created": "2026-11-01T10:00:00.000Z",
        "modified": "2026-11-01T10:00:00.000Z",
        "name": "Federal C2 beacon",
        "pattern": "[ipv4-addr:value = '198.51.100.7']",
        "pattern_type": "stix",
        "valid_from": "2026-11-01T10:00:00Z",
    }
    return base | over


class Api:
    def __init__(self, tmp: Path) -> None:
        self.topo = load_topology(REPO / "topology.yaml", tmp / "data")  # nothing has ever run here
        d = open_directory(self.topo)
        self.keys: dict[str, str] = {}
        for ori, role in ((FED, "analyst"), (B, "analyst"), (B, "auditor")):
            d.add_agency(ori, f"agency {ori}")
            user = f"{role}-{ori}".lower()
            d.add_subject(user, ori, [role])
            self.keys[f"{ori}/{role}"] = d.create_key(user)
        d.close()
        self.client = TestClient(create_app(self.topo), raise_server_exceptions=False)

    def as_(self, who: str) -> dict[str, str]:
        return {"X-API-Key": self.keys[who]}

    def post_taxii(self, who: str, objects: list[Any], **headers: str) -> Any:
        body = orjson.dumps({"objects": objects}).replace(b'"__DEEP__"', deep_json(300))
        h = {"Content-Type": TAXII, "Accept": TAXII, **self.as_(who), **headers}
        return self.client.post(OBJECTS, content=body, headers=h)


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    a = Api(tmp_path)
    with a.client:
        yield a


def _hold_federal(api: Api, sid: str = INDICATOR, tlp: str = "GREEN") -> None:
    """The federal feed's indicator, as the STIX sink stores it."""
    from argus.backends import open_store

    store = open_store(api.topo, "stix")
    store.put([StixItem(to_tlp2(indicator(id=sid)), f"fed-{sid}", FED, tlp, {"whole": True})])
    store.commit()
    store.close()


def test_a_taxii_post_before_the_pipeline_ever_ran_is_pending_then_complete(api: Api) -> None:
    r = api.post_taxii(f"{B}/analyst", [indicator(id="indicator--0f0e0d0c-0b0a-4909-8807-060504030201")])
    assert r.status_code == 202, r.text
    status = r.json()
    assert status["status"] == "pending" and status["pending_count"] == 1 and status["success_count"] == 0
    got = api.client.get(f"/argus/status/{status['id']}/", headers={"Accept": TAXII, **api.as_(f"{B}/analyst")})
    assert got.json()["status"] == "pending"  # nothing has stored it yet: no pipeline runs here


def test_another_agencys_version_of_an_object_is_refused_and_cannot_purge_it(api: Api) -> None:
    _hold_federal(api)
    r = api.post_taxii(f"{B}/analyst", [indicator(modified="2030-01-01T00:00:00.000Z", name="planted")])
    assert r.status_code == 202
    status = r.json()
    assert status["failure_count"] == 1 and f"belongs to {FED}" in status["failures"][0]["message"]
    assert status["pending_count"] == 0
    gone = api.client.delete(f"{OBJECTS}{INDICATOR}/", headers={"Accept": TAXII, **api.as_(f"{B}/analyst")})
    assert gone.status_code == 404
    mine = api.client.get(f"{OBJECTS}{INDICATOR}/", headers={"Accept": TAXII, **api.as_(f"{FED}/analyst")})
    assert mine.status_code == 200 and mine.json()["objects"][0]["name"] == "Federal C2 beacon"
    bundle = {"type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d", "objects": [indicator()]}
    r = api.client.post("/api/v1/stix/bundle", json=bundle, headers=api.as_(f"{B}/analyst"))
    assert r.status_code == 202 and r.json()["accepted"] == 0 and "belongs to" in r.json()["rejected"][0]["problem"]
    # an object the caller may not see is not refused at the door (that would say it exists): the
    # stream refuses it, and the TAXII status never shows it stored
    _hold_federal(api, "indicator--7f1e0d0c-0b0a-4909-8807-060504030201", "RED")
    r = api.post_taxii(f"{B}/analyst", [indicator(id="indicator--7f1e0d0c-0b0a-4909-8807-060504030201")])
    assert r.json()["failure_count"] == 0 and r.json()["pending_count"] == 1


def deep_json(n: int) -> bytes:
    """A value nested `n` levels deep (past what orjson itself will encode)."""
    return b'{"x":' * n + b"1" + b"}" * n


def test_hostile_stix_is_refused_with_its_reason_and_the_rest_kept(api: Api) -> None:
    good = indicator(id="indicator--11111111-2222-4333-8444-555555555555")
    hostile = [
        (indicator(id="indicator--11111111-2222-4333-8444-000000000001", x_deep="__DEEP__"), "levels deep"),
        (indicator(id="indicator--11111111-2222-4333-8444-000000000002", description="d" * 10_000_000), "over the"),
        (indicator(id="indicator--11111111-2222-4333-8444-000000000003", name="evil\u202etxt.exe"), "U+202E"),
        (indicator(id="indicator--11111111-2222-4333-8444-000000000004", name="nul\x00"), "U+0000"),
    ]
    r = api.post_taxii(f"{B}/analyst", [good, *(h for h, _ in hostile)])
    assert r.status_code == 202, r.text
    status = r.json()
    assert status["pending_count"] == 1 and status["pendings"][0]["id"] == good["id"]
    for (obj, why), failure in zip(hostile, status["failures"], strict=True):
        assert failure["id"] == obj["id"] and why in failure["message"], failure
    stix20 = {k: v for k, v in good.items() if k != "spec_version"} | {"id": "indicator--9" + good["id"][12:]}
    r = api.post_taxii(f"{B}/analyst", [stix20])
    assert "STIX 2.0" in r.json()["failures"][0]["message"]
    # a whole envelope nested past any STIX object's depth, and one over max_content_length
    deep = b'{"objects": [' + deep_json(900) + b"]}"
    h = {"Content-Type": TAXII, "Accept": TAXII, **api.as_(f"{B}/analyst")}
    r = api.client.post(OBJECTS, content=deep, headers=h)
    assert r.status_code == 400 and r.headers["content-type"] == TAXII and "deep" in r.json()["description"]
    big = b'{"objects": [' + b"0," * (api.topo.model.taxii.max_content_length // 2) + b"0]}"
    assert api.client.post(OBJECTS, content=big, headers=h).status_code == 413
    r = api.client.post("/api/v1/stix/bundle", content=deep, headers=api.as_(f"{B}/analyst"))
    assert r.status_code == 400 and r.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    "path,params,headers,name",
    [
        ("/api/v1/audit", {"after": str(10**25)}, {}, "after"),
        (OBJECTS, {"next": str(10**25)}, {"Accept": TAXII}, "next"),
        (OBJECTS, {"added_after": "0001-01-01T00:00:00+23:59"}, {"Accept": TAXII}, "added_after"),
        (OBJECTS, {"match[version]": "garbage"}, {"Accept": TAXII}, "match[version]"),
        ("/api/v1/geo", {"cell_km": "1e-310"}, {}, "cell_km"),
        ("/api/v1/search", {"since": "9999-12-31T23:00:00-05:00"}, {}, "since"),
        ("/api/v1/search", {"near": "nan,nan,5"}, {}, "near"),
        ("/api/v1/field/alerts/stream", {}, {"Last-Event-ID": f"0:{10**25}"}, "Last-Event-ID"),
    ],
)
def test_a_hostile_parameter_is_a_400_naming_it(api: Api, path: str, params: dict, headers: dict, name: str) -> None:
    who = f"{B}/auditor" if path == "/api/v1/audit" else f"{B}/analyst"
    r = api.client.get(path, params=params, headers={**api.as_(who), **headers})
    assert r.status_code == 400, (r.status_code, r.text)
    body = r.json()
    assert name in (body.get("detail") or body.get("description") or ""), body


def test_taxii_speaks_taxii_errors_and_versions(api: Api) -> None:
    r = api.client.get(OBJECTS, headers={"Accept": TAXII})
    assert r.status_code == 401 and r.headers["content-type"] == TAXII
    assert r.headers["www-authenticate"].startswith("Basic") and r.json()["http_status"] == "401"
    r = api.client.get(OBJECTS, headers={"Accept": "application/taxii+json;version=2.0", **api.as_(f"{B}/analyst")})
    assert r.status_code == 406 and r.headers["content-type"] == TAXII
    r = api.client.get("/api/v1/search")
    assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")
    assert r.headers["content-type"] == "application/problem+json"


def test_the_field_query_takes_no_identity_from_its_body(api: Api) -> None:
    d = open_directory(api.topo)
    d.add_subject("officer-1", B, ["patrol_officer"], unit="2A31")
    key = d.create_key("officer-1")
    d.close()
    q = {"query_id": "Q-1", "plate": "8ABC123", "state": "CA", "officer_id": "analyst-ca0430000", "unit_id": "HQ"}
    r = api.client.post("/api/v1/field/query", json=q, headers={"X-API-Key": key})
    assert r.status_code == 422 and "officer_id" in r.json()["detail"] and "unit_id" in r.json()["detail"]
