"""The OpenAPI is an integrator's contract: every operation described, with an example answer and
its error documents declared; credentials as security schemes (Swagger's Authorize button); and
/docs served from the package, so it works on an air-gapped network."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

from argus.api.app import create_app
from argus.topology import load_topology
from tests.conftest import REPO


def _app(tmp_path: Path):  # type: ignore[no-untyped-def]
    return create_app(load_topology(REPO / "topology.yaml", tmp_path))


def test_every_operation_has_a_description_an_example_and_its_problems(tmp_path: Path) -> None:
    spec = _app(tmp_path).openapi()
    ops = [(m.upper(), p, op) for p, item in spec["paths"].items() for m, op in item.items()]
    assert len(ops) >= 30
    for method, path, op in ops:
        assert op.get("summary") and len(op.get("description", "")) > 20, (method, path, "no description")
        ok = {c: r for c, r in op["responses"].items() if c.startswith("2")}
        examples = [m for r in ok.values() for m in r.get("content", {}).values() if "example" in m]
        redirect = any(c.startswith("3") for c in op["responses"])  # the OIDC login's redirects
        assert examples or set(ok) == {"204"} or redirect, (method, path, "no example answer")
        errors = {c: r for c, r in op["responses"].items() if c[0] in "45"}
        assert {"400", "401", "403", "404"} <= set(errors), (method, path, sorted(errors))
        media = {m for r in errors.values() for m in r.get("content", {})}
        taxii = path.startswith(("/taxii2/", "/argus/"))
        wanted = "application/taxii+json;version=2.1" if taxii else "application/problem+json"
        assert wanted in media or path == "/healthz", (method, path, media)
    schemes = spec["components"]["securitySchemes"]
    assert schemes["APIKeyHeader"] == {"type": "apiKey", "in": "header", "name": "X-API-Key",
                                       "description": schemes["APIKeyHeader"]["description"]}  # fmt: skip
    assert schemes["HTTPBearer"]["scheme"] == "bearer" and schemes["HTTPBasic"]["scheme"] == "basic"
    public = {"/healthz", "/api/v1/sar/categories", "/api/v1/tips"}  # open to anyone, saying so
    assert all(op.get("security") for _, p, op in ops if p not in public)
    assert all(op.get("security") == [] for _, p, op in ops if p in public - {"/healthz"})


def test_the_docs_load_nothing_from_outside_the_origin(tmp_path: Path) -> None:
    c = TestClient(_app(tmp_path))
    page = c.get("/docs")
    assert page.status_code == 200
    refs = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert refs and all(r.startswith("/") for r in refs), refs
    assert not re.search(r"https?://(?!localhost)", page.text), re.findall(r"https?://\S+", page.text)
    for r in refs:
        assert c.get(r).status_code == 200, r


def test_the_api_serves_its_metrics_by_route_template(tmp_path: Path) -> None:
    from argus.security.identity import open_directory

    app = _app(tmp_path)
    with TestClient(app) as c:
        topo = app.state.services.topo
        d = open_directory(topo)
        d.add_agency("CA0190000", "Fresno PD")
        d.add_subject("ana", "CA0190000", ["analyst"])
        key = d.create_key("ana")
        d.close()
        assert c.get("/api/v1/entities/no-such-id", headers={"X-API-Key": key}).status_code == 404
        text = c.get("/metrics").text
    assert 'argus_api_requests_total{method="GET",route="/api/v1/entities/{entity_id}",status="404"}' in text
    assert "no-such-id" not in text  # the template, never the path as asked
    assert "argus_api_request_seconds_bucket" in text and "argus_api_sse_subscribers" in text
    assert "argus_audit_write_seconds_count" in text


def test_cors_is_off_unless_the_site_lists_origins(tmp_path: Path) -> None:
    import yaml

    origin = {"Origin": "https://workbench.fusion.example", "Access-Control-Request-Method": "GET"}
    c = TestClient(_app(tmp_path / "a"))
    r = c.options("/api/v1/search", headers=origin)
    assert "access-control-allow-origin" not in r.headers
    doc = yaml.safe_load((REPO / "topology.yaml").read_text())
    doc["include"] = [str(REPO / "pipelines" / "fusion.yaml")]
    doc["api"] = {"cors_origins": ["https://workbench.fusion.example"]}
    topo_file = tmp_path / "topology.yaml"
    topo_file.write_text(yaml.safe_dump(doc))
    c = TestClient(create_app(load_topology(topo_file, tmp_path / "b")))
    assert c.options("/api/v1/search", headers=origin).headers["access-control-allow-origin"] == origin["Origin"]
    other = dict(origin, Origin="https://evil.example")
    assert "access-control-allow-origin" not in c.options("/api/v1/search", headers=other).headers
    doc["api"] = {"cors_origins": ["*"]}
    topo_file.write_text(yaml.safe_dump(doc))
    import pytest

    from argus.topology import TopologyError

    with pytest.raises(TopologyError, match="never"):
        load_topology(topo_file, tmp_path / "c")
