"""The analyst and field API (FastAPI; OpenAPI at /openapi.json, docs at /docs).

Every endpoint reads through the store interfaces, so it answers alike on the embedded stores
and on Neo4j/OpenSearch, and every response passes through one Gate (argus/api/access.py) for
the subject making the request. Reads are time-bounded (a 504 problem after `ARGUS_API_TIMEOUT`
seconds, default 5) and paginated; errors are RFC 9457 problem details
(`application/problem+json`), and TAXII error messages on the TAXII paths.

Callers authenticate with an API key (`X-API-Key: argus_...`, for systems such as a CAD
integration) or an OIDC bearer token (`Authorization: Bearer <JWT>`, verified against the issuer
keys in the directory); `X-Argus-Role` picks which of the subject's roles it acts in. Agency,
roles, unit, cases and dissemination lists come from the directory (argus/security/identity.py),
never from the request (argus/api/deps.py). Every request is audited (argus/security/audit.py).
The routes live in argus/api/routes/, one module per area.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import Response
from starlette.exceptions import HTTPException

from argus.api.deps import Api, Problem, problem_response
from argus.api.docs import mount_docs
from argus.api.models import Health, answers
from argus.api.playbook_host import Host
from argus.api.product_metrics import PRODUCTS
from argus.api.routes import (
    admin,
    audit,
    case_files,
    cases,
    entities,
    feeds,
    field,
    matches,
    messages,
    oidc,
    operations,
    ops,
    partners,
    playbooks,
    product_delivery,
    products,
    requirements,
    rfis,
    risk,
    sar_insights,
    sars,
    search,
    session,
    shifts,
    stix,
    submissions,
    taxii,
    tips,
    tlos,
    training,
)
from argus.api.services import ServiceError, Services
from argus.api.telemetry import instrument
from argus.api.workbench import mount_workbench
from argus.backends import open_store
from argus.bus.base import RegistryUnavailable
from argus.records import InvalidRecord
from argus.topology import Topology

log = logging.getLogger("argus.api")
ROUTERS = (
    oidc.router,
    session.router,
    search.router,
    entities.router,
    matches.router,
    field.router,
    submissions.router,
    sars.router,
    sar_insights.router,
    tips.router,
    tlos.router,
    requirements.router,
    products.router,
    product_delivery.router,
    risk.router,
    operations.router,
    cases.router,
    case_files.router,
    messages.router,
    rfis.router,
    training.router,
    shifts.router,
    partners.router,
    playbooks.router,
    audit.router,
    stix.router,
    feeds.router,
    ops.router,
    admin.router,
)


def _unreachable_errors() -> tuple[type[BaseException], ...]:
    """What the installed store clients raise when their server cannot be reached (OpenSearch:
    search, STIX, feeds, audit, directory, TAXII statuses; Neo4j: the graph)."""
    found: list[type[BaseException]] = []
    try:
        from opensearchpy.exceptions import ConnectionError as OpenSearchUnreachable

        found.append(OpenSearchUnreachable)
    except ImportError:
        pass
    try:
        from neo4j.exceptions import ServiceUnavailable, SessionExpired

        found += [ServiceUnavailable, SessionExpired]
    except ImportError:
        pass
    return tuple(found)


def _error(request: Request, status: int, title: str, detail: str, **extra: Any) -> Response:
    """A problem document, or on a TAXII path a TAXII error message; a 401 says how to log in."""
    taxii_root = request.app.state.taxii.cfg.api_root
    path = request.url.path
    on_taxii = path.startswith("/taxii2/") or path.startswith(f"/{taxii_root}/")
    if on_taxii:
        out: Response = taxii.taxii({"title": title, "description": detail, "http_status": str(status)}, status)
    else:
        out = problem_response(request, status, title, detail, **extra)
    if status == 401:
        out.headers["WWW-Authenticate"] = 'Basic realm="argus", charset="UTF-8"' if on_taxii else 'Bearer realm="argus"'
    if status == 503:
        out.headers["Retry-After"] = "5"
    if status == 429:
        out.headers["Retry-After"] = str(extra.get("retry_after", 60))
    return out


def _handlers(app: FastAPI) -> None:
    async def on_problem(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Problem)
        return _error(request, exc.status, exc.title, exc.detail, **exc.extra)

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return _error(request, exc.status_code, "HTTP error", str(exc.detail))

    async def on_invalid(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        errors = [{"where": ".".join(str(p) for p in e["loc"]), "problem": e["msg"]} for e in exc.errors()]
        detail = "; ".join(f"{e['where']}: {e['problem']}" for e in errors)
        # a parameter out of range is a bad request (400); a body that does not validate, unprocessable (422)
        status = 422 if any(e["loc"] and e["loc"][0] == "body" for e in exc.errors()) else 400
        return _error(request, status, "Invalid request", detail, errors=errors)

    async def on_bad_record(request: Request, exc: Exception) -> Response:
        return _error(request, 422, "Invalid record", str(exc))

    async def on_service(request: Request, exc: Exception) -> Response:
        return _error(request, 503, "Not available in this topology", str(exc))

    async def on_registry(request: Request, exc: Exception) -> Response:
        # Records on this bus carry the registry's ids: nothing can be published until it is back.
        return _error(request, 503, "Schema registry unavailable", str(exc))

    async def on_unreachable(request: Request, exc: Exception) -> Response:
        # A store's server is down (the audit trail and the directory are read or written on
        # every request): nothing is answered unaudited, and the client is told to come back.
        server = {"opensearchpy": "OpenSearch", "neo4j": "Neo4j"}.get(type(exc).__module__.split(".")[0], "a store")
        log.warning("%s %s: %s unreachable: %s", request.method, request.url.path, server, exc)
        return _error(request, 503, "Store unavailable", f"{server} cannot be reached; retry shortly")

    async def on_error(request: Request, exc: Exception) -> Response:
        log.error("%s %s: %s", request.method, request.url.path, exc, exc_info=exc)
        return _error(request, 500, "Internal error", f"{type(exc).__name__}; see the API log")

    for cls, handler in (
        (Problem, on_problem),
        (HTTPException, on_http),
        (RequestValidationError, on_invalid),
        (InvalidRecord, on_bad_record),
        (ServiceError, on_service),
        (RegistryUnavailable, on_registry),
        *((u, on_unreachable) for u in _unreachable_errors()),
        (Exception, on_error),
    ):
        app.add_exception_handler(cls, handler)


def create_app(topo: Topology) -> FastAPI:
    svc = Services(topo)
    PRODUCTS.bind(svc)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        clock = sars.SlaClock(svc)
        clock.start()
        if os.environ.get("ARGUS_PLAYBOOK_RUNNER", "1") != "0":  # one runner per store suffices; leases keep it safe
            app.state.playbooks.start()
        yield
        app.state.playbooks.stop()
        clock.stop()
        svc.close()

    app = FastAPI(
        lifespan=lifespan,
        docs_url=None,  # served from the package (argus/api/docs.py): no CDN
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
        title="Argus analyst and field API",
        version="1",
        description="Search, entity profiles, link analysis, timelines, geography and field queries over "
        "the fusion centre's holdings, each answer limited to what the caller may see.",
    )
    app.state.services = svc
    app.state.playbooks = Host(svc)
    site = topo.model.api
    sessions = open_store(topo, "sessions").limits(site.session_idle_minutes * 60.0, site.session_max_hours * 3600.0)
    svc.closing(sessions)
    app.state.api = Api(svc, float(os.environ.get("ARGUS_API_TIMEOUT", "5")), sessions)
    app.state.taxii = taxii.open_taxii(topo)
    svc.closing(app.state.taxii.statuses)
    _handlers(app)
    if topo.model.api.cors_origins:  # off unless the site lists the browser origins it trusts
        app.add_middleware(
            CORSMiddleware,
            allow_origins=topo.model.api.cors_origins,
            allow_credentials=True,
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "X-API-Key", "X-Argus-Role", "Content-Type", "Last-Event-ID"],
        )
    mount_docs(app)
    mount_workbench(app, topo.model.api.tile_url)
    instrument(app)
    for r in ROUTERS:
        app.include_router(r)
    app.include_router(taxii.router(topo.model.taxii.api_root))

    @app.get(
        "/healthz",
        tags=["ops"],
        summary="Liveness: the API process answers",
        responses=answers(Health, {"status": "ok"}),
    )
    async def healthz() -> dict[str, str]:
        """No credentials, no holdings: for load balancers and container health checks."""
        return {"status": "ok"}

    return app


def from_env() -> FastAPI:
    """The app for `argus api --workers N`: each uvicorn worker process builds its own from these."""
    from pathlib import Path

    from argus.topology import load_topology

    data_dir = os.environ.get("ARGUS_API_DATA_DIR")
    topo = load_topology(Path(os.environ["ARGUS_API_TOPOLOGY"]), Path(data_dir) if data_dir else None)
    return create_app(topo)


def openapi_document() -> str:
    """The OpenAPI document as the shipped topology serves it, stably formatted: web/openapi.json,
    from which the workbench's client types are generated (a test keeps the two equal)."""
    import json as stdjson
    import tempfile
    from importlib import resources
    from pathlib import Path

    from argus.topology import load_topology

    with tempfile.TemporaryDirectory(prefix="argus-openapi-") as tmp:
        topo = load_topology(Path(str(resources.files("pipelines") / "topology.yaml")), Path(tmp))
        app = create_app(topo)
        doc = app.openapi()
        app.state.services.close()
    return stdjson.dumps(doc, indent=1, sort_keys=True) + "\n"
