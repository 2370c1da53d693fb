"""The API with a store's server unreachable mid-run: a 503 with Retry-After (not a 500), nothing
answered without its audit entry, and answers again once the server is back."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from argus.api.app import create_app
from argus.demo import OWNER
from argus.security.identity import open_directory
from argus.topology import load_topology
from tests.e2e.conftest import make_workdir
from tests.servers import free_port

pytestmark = pytest.mark.integration


def test_an_unreachable_audit_trail_is_a_503_and_nothing_goes_out_unaudited(
    opensearch_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from opensearchpy import OpenSearch

    monkeypatch.setenv("ARGUS_AUDIT", f"{opensearch_url}?audit_index=outage{uuid.uuid4().hex[:8]}")
    topo = load_topology(make_workdir(tmp_path / "work", background=20))
    d = open_directory(topo)
    d.add_agency(OWNER, "Fresno PD")
    d.add_subject("ana", OWNER, ["analyst"])
    headers = {"X-API-Key": d.create_key("ana")}
    d.close()
    app = create_app(topo)
    audit = app.state.services.audit
    with TestClient(app, raise_server_exceptions=False) as c:
        assert c.get("/api/v1/search", params={"q": "Civic"}, headers=headers).status_code == 200
        entries = len(audit.query(limit=1000))
        server = audit.client
        audit.client = OpenSearch(f"http://127.0.0.1:{free_port()}", max_retries=0, timeout=2)  # the cluster gone
        r = c.get("/api/v1/search", params={"q": "Civic"}, headers=headers)
        assert r.status_code == 503 and r.headers["retry-after"] == "5", r.text
        assert r.json()["title"] == "Store unavailable" and "OpenSearch cannot be reached" in r.json()["detail"]
        assert "hits" not in r.json()  # the search ran, its read could not be audited: nothing went out
        audit.client = server  # back
        assert c.get("/api/v1/search", params={"q": "Civic"}, headers=headers).status_code == 200
        got = audit.query(limit=1000)
        assert len(got) == entries + 1 and got[-1]["action"] == "read"
        assert audit.verify().ok
