"""Every route is enrolled in the leak harness: one without a generator fails the build."""

from __future__ import annotations

import tempfile
from pathlib import Path

from fastapi import FastAPI

from argus.api.app import create_app
from argus.topology import load_topology
from tests.conftest import REPO
from tests.leak.routes import GENERATORS


def operations(app: FastAPI) -> set[tuple[str, str]]:
    """Every (method, path) the app answers: the OpenAPI's operations (the API, TAXII, the SSE
    stream) and the routes outside it (the docs pages, the schema)."""
    ops = {(m.upper(), p) for p, item in app.openapi()["paths"].items() for m in item if m != "parameters"}
    for r in app.routes:
        path, methods = getattr(r, "path", None), getattr(r, "methods", None)
        if path is not None and methods:
            ops |= {(m, path) for m in methods if m != "HEAD"}
        elif path is not None and hasattr(r, "app"):  # a mounted app (static files): read with GET
            ops.add(("GET", path))
    return ops


def test_every_route_has_a_leak_generator() -> None:
    app = create_app(load_topology(REPO / "topology.yaml", Path(tempfile.mkdtemp())))
    ops = operations(app)
    missing = sorted(ops - set(GENERATORS))
    assert not missing, f"routes the leak harness has no generator for (add them to tests/leak/routes.py): {missing}"
    stale = sorted(set(GENERATORS) - ops)
    assert not stale, f"generators for routes that no longer exist: {stale}"
