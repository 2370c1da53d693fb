"""An identity provider that cannot be reached is a 503 to come back from, or a refused login;
never a 500, never a session."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from argus.api.app import create_app
from argus.security.audit import AuditLog
from argus.topology import OidcModel, load_topology
from tests.conftest import REPO
from tests.servers import free_port


def test_an_unreachable_issuer_is_a_503_and_a_refused_login(tmp_path: Path) -> None:
    topo = load_topology(REPO / "topology.yaml", tmp_path)
    topo.model.api.oidc = OidcModel(issuer=f"http://127.0.0.1:{free_port()}/realms/x", client_id="argus")
    with TestClient(create_app(topo), raise_server_exceptions=False) as c:
        r = c.get("/api/v1/session/oidc/login", follow_redirects=False)
        assert r.status_code == 503 and r.headers["content-type"] == "application/problem+json"
        assert r.headers["Retry-After"] and "Identity provider unavailable" in r.text
        r = c.get(
            "/api/v1/session/oidc/callback", params={"code": "c", "state": "s"},
            headers={"Cookie": "argus_oidc=s.n.v"}, follow_redirects=False,
        )  # fmt: skip
        assert r.status_code == 303 and r.headers["location"] == "/#login-failed"
        assert "argus_session" not in r.headers.get("set-cookie", "")
    refused = AuditLog.for_data_dir(tmp_path).query(action="login", limit=10)
    assert any(e["outcome"] == "denied" and "discovery" in (e["reason"] or "") for e in refused), refused
