"""The analyst and field API (FastAPI; OpenAPI at /openapi.json, docs at /docs).

Every endpoint reads through the GraphStore and SearchStore interfaces, so it answers alike on
the embedded stores and on Neo4j/OpenSearch, and every response passes through one Gate
(argus/api/access.py) for the subject making the request. Reads are time-bounded (a 504 problem
after `ARGUS_API_TIMEOUT` seconds, default 5) and paginated; errors are RFC 9457 problem
details (`application/problem+json`).

Callers authenticate with an API key (`X-API-Key: argus_...`, for systems such as a CAD
integration) or an OIDC bearer token (`Authorization: Bearer <JWT>`, verified against the issuer
keys in the directory); `X-Argus-Role` picks which of the subject's roles it acts in. Agency,
roles, cases and dissemination lists come from the directory (argus/security/identity.py), never
from the request. Every request is audited (argus/security/audit.py): logins, reads with what
was returned and how much was withheld, writes, and denials.
"""

import asyncio
import base64
import hashlib
import logging
import math
import os
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Any, Literal, TypeVar

import anyio
import orjson
from fastapi import Depends, FastAPI, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

from argus.alerts import for_recipient
from argus.api import taxii
from argus.api.access import Gate
from argus.api.services import FieldDesk, Rejected, ServiceError, Services, Submissions
from argus.bus.base import RegistryUnavailable
from argus.feeds import FeedError, FeedSpec, feed_nodes, subscriptions
from argus.records import InvalidRecord, deterministic_id, utcnow
from argus.security.identity import AuthError, IdentityError
from argus.security.policy import Recipient
from argus.stix.attack import lookup, techniques
from argus.stix.export import audit_release, export
from argus.stores.graph import GraphStore
from argus.topology import Topology

T = TypeVar("T")
MAX_EXPORT_HITS = 10_000  # what a search may select for one export (OpenSearch's result window)


@dataclass
class Caller:
    """An authenticated request: who (as the policy sees them), how, from where."""

    who: Recipient
    subject: str
    method: str
    source: str | None
    gate: Gate


class Problem(Exception):
    def __init__(self, status: int, title: str, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail, self.extra = status, title, detail, extra


def _problem(request: Request, status: int, title: str, detail: str, **extra: Any) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, "instance": request.url.path}
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type="application/problem+json")


log = logging.getLogger("argus.api")


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


def _dumps(obj: Any) -> bytes:
    return orjson.dumps(obj, default=str)


class FieldQuery(BaseModel):
    """What a mobile data terminal sends: a plate (with state) or VIN, or a name (with DOB)."""

    query_id: str = Field(min_length=1, max_length=64)
    officer_id: str = Field(min_length=1, max_length=32)
    unit_id: str = Field(min_length=1, max_length=32)
    plate: str | None = Field(default=None, max_length=16)
    state: str | None = Field(default=None, max_length=2)
    vin: str | None = Field(default=None, max_length=24)
    name: str | None = Field(default=None, max_length=128)
    dob: str | None = Field(default=None, max_length=10)
    reason: str = Field(default="traffic stop", max_length=128)
    location: dict[str, Any] | None = None
    issued_at: str | None = None


class Unmerge(BaseModel):
    reason: str = Field(min_length=3, max_length=2000, description="Why these are different entities")


def create_app(topo: Topology) -> FastAPI:
    svc = Services(topo)
    field = FieldDesk(svc)
    submissions = Submissions(svc)
    timeout = float(os.environ.get("ARGUS_API_TIMEOUT", "5"))

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        svc.close()

    app = FastAPI(
        lifespan=lifespan,
        title="Argus analyst and field API",
        version="1",
        description="Search, entity profiles, link analysis, timelines, geography and field queries over "
        "the fusion centre's holdings, each answer limited to what the caller may see.",
    )
    app.state.services = svc

    # --- errors as problem details -----------------------------------------------------------
    @app.exception_handler(Problem)
    async def _on_problem(request: Request, exc: Problem) -> JSONResponse:
        return _problem(request, exc.status, exc.title, exc.detail, **exc.extra)

    @app.exception_handler(HTTPException)
    async def _on_http(request: Request, exc: HTTPException) -> JSONResponse:
        return _problem(request, exc.status_code, "HTTP error", str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def _on_invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"where": ".".join(str(p) for p in e["loc"]), "problem": e["msg"]} for e in exc.errors()]
        detail = "; ".join(f"{e['where']}: {e['problem']}" for e in errors)
        return _problem(request, 422, "Invalid request", detail, errors=errors)

    @app.exception_handler(InvalidRecord)
    async def _on_bad_record(request: Request, exc: InvalidRecord) -> JSONResponse:
        return _problem(request, 422, "Invalid record", str(exc))

    @app.exception_handler(ServiceError)
    async def _on_service(request: Request, exc: ServiceError) -> JSONResponse:
        return _problem(request, 503, "Not available in this topology", str(exc))

    def _retry_later(request: Request, title: str, detail: str) -> JSONResponse:
        out = _problem(request, 503, title, detail)
        out.headers["Retry-After"] = "5"
        return out

    @app.exception_handler(RegistryUnavailable)
    async def _on_registry(request: Request, exc: RegistryUnavailable) -> JSONResponse:
        # Records on this bus carry the registry's ids: nothing can be published until it is back.
        return _retry_later(request, "Schema registry unavailable", str(exc))

    async def _on_unreachable(request: Request, exc: Exception) -> JSONResponse:
        # A store's server is down (the audit trail and the directory are read or written on
        # every request): nothing is answered unaudited, and the client is told to come back.
        server = {"opensearchpy": "OpenSearch", "neo4j": "Neo4j"}.get(type(exc).__module__.split(".")[0], "a store")
        log.warning("%s %s: %s unreachable: %s", request.method, request.url.path, server, exc)
        return _retry_later(request, "Store unavailable", f"{server} cannot be reached; retry shortly")

    for unreachable in _unreachable_errors():
        app.add_exception_handler(unreachable, _on_unreachable)

    @app.exception_handler(Exception)
    async def _on_error(request: Request, exc: Exception) -> JSONResponse:
        return _problem(request, 500, "Internal error", f"{type(exc).__name__}; see the API log")

    async def bounded(fn: Callable[..., T], *args: Any) -> T:
        try:
            return await asyncio.wait_for(anyio.to_thread.run_sync(fn, *args), timeout)
        except TimeoutError:
            raise Problem(504, "Timed out", f"the query took longer than {timeout:g}s; narrow it") from None

    # --- who is asking ------------------------------------------------------------------------
    audit = svc.audit
    logged_in: set[str] = set()  # credentials seen by this worker: their first use is the login
    logged_lock = threading.Lock()

    def caller(
        request: Request,
        authorization: Annotated[str | None, Header()] = None,
        x_api_key: Annotated[str | None, Header()] = None,
        x_argus_role: Annotated[str | None, Header()] = None,
    ) -> Caller:
        source = request.client.host if request.client else None
        token = x_api_key
        if token is None and authorization and authorization[:7].lower() == "bearer ":
            token = authorization[7:].strip()
        elif token is None and authorization and authorization[:6].lower() == "basic ":
            # TAXII clients send HTTP Basic: the password is the API key (the user name is ignored)
            try:
                token = base64.b64decode(authorization[6:].strip()).decode().partition(":")[2]
            except (ValueError, UnicodeDecodeError):
                token = None
        if not token:
            raise Problem(401, "Not authenticated", "send X-API-Key or Authorization: Bearer <token>")
        directory = svc.directory()
        try:
            ident = (
                directory.authenticate_key(token, x_argus_role)
                if token.startswith("argus_")
                else directory.authenticate_jwt(token, x_argus_role)
            )
        except (AuthError, IdentityError) as exc:
            subject = getattr(exc, "subject", None)
            audit.record(
                "login", actor=subject or "unknown", agency="-", outcome="denied", source=source, reason=str(exc)
            )
            raise Problem(401, "Not authenticated", "the credentials were not accepted") from None
        digest = hashlib.sha256(token.encode()).hexdigest()
        with logged_lock:
            first = digest not in logged_in
            logged_in.add(digest)
        who = ident.recipient
        if first:
            audit.record(
                "login", actor=ident.subject, agency=who.agency, source=source, detail={"method": ident.method}
            )
        return Caller(
            who, ident.subject, ident.method, source, Gate(who, None, directory.rules, directory.barring(who))
        )

    def need(c: Caller, permission: str, what: str) -> None:
        if not c.who.may(permission):
            audit.record(
                "deny",
                actor=c.subject,
                agency=c.who.agency,
                object=what,
                outcome="denied",
                source=c.source,
                reason=f"role {c.who.role} lacks {permission}",
            )
            raise Problem(403, "Not permitted", f"the role {c.who.role} may not {permission}")

    def reader(permission: str) -> Callable[..., Caller]:
        def dep(request: Request, c: Annotated[Caller, Depends(caller)]) -> Caller:
            need(c, permission, request.url.path)
            return c

        return dep

    Reader = Annotated[Caller, Depends(reader("read"))]
    Officer = Annotated[Caller, Depends(reader("field"))]
    Decider = Annotated[Caller, Depends(reader("decide"))]

    def audited(c: Caller, action: str, what: str, **detail: Any) -> None:
        audit.record(
            action,
            actor=c.subject,
            agency=c.who.agency,
            object=what,
            source=c.source,
            detail=dict(detail, withheld=c.gate.hidden),
        )

    def delivered(c: Caller, alerts: list[dict[str, Any]], channel: str) -> None:
        """28 CFR 23.20(f): each report of another agency that reached this caller, with the
        recipient and the reason; once per alert, report and subject (a reconnecting stream
        does not record it again)."""
        for a in alerts:
            for h in a["hits"]:
                if h["report_agency"] == c.who.agency:
                    continue
                audit.record(
                    "disseminate",
                    actor=c.subject,
                    agency=h["report_agency"],
                    object=h["report_id"],
                    source=c.source,
                    recipient=c.who.agency,
                    reason=f"{a['alert_type']} alert {a['alert_id']} via {channel}",
                    detail={"subject": c.subject, "unit": c.who.unit, "tlp": h["report_tlp"]},
                    dedup=f"{a['alert_id']}|{h['report_id']}|{c.subject}",
                )

    def hide(c: Caller, what: str) -> Problem:
        """A 404 for what the caller may not see (as for what does not exist), audited as a denial."""
        audit.record(
            "deny",
            actor=c.subject,
            agency=c.who.agency,
            object=what,
            outcome="denied",
            source=c.source,
            reason="policy",
        )
        return Problem(404, "No such entity", f"no entity {what!r} you may see")

    def json(obj: Any, status: int = 200) -> Response:
        return Response(_dumps(obj), status_code=status, media_type="application/json")

    # --- search -----------------------------------------------------------------------------
    def _parse_box(bbox: str | None) -> tuple[float, float, float, float] | None:
        if not bbox:
            return None
        try:
            a, b, c, d = (float(x) for x in bbox.split(","))
        except ValueError:
            raise Problem(400, "Bad bbox", "bbox is min_lat,min_lon,max_lat,max_lon") from None
        if not (-90 <= a <= c <= 90 and -180 <= b <= d <= 180):
            raise Problem(400, "Bad bbox", "bbox is min_lat,min_lon,max_lat,max_lon with min <= max")
        return (a, b, c, d)

    def _parse_near(near: str | None) -> tuple[float, float, float] | None:
        if not near:
            return None
        try:
            lat, lon, km = (float(x) for x in near.split(","))
        except ValueError:
            raise Problem(400, "Bad near", "near is lat,lon,radius_km") from None
        if not (-90 <= lat <= 90 and -180 <= lon <= 180 and 0 < km <= 2000):
            raise Problem(400, "Bad near", "near is lat,lon,radius_km with 0 < radius <= 2000")
        return (lat, lon, km)

    class SearchArgs(BaseModel):
        q: str | None = None
        kinds: list[str] | None = None
        agencies: list[str] | None = None
        tlps: list[str] | None = None
        since: str | None = None
        until: str | None = None
        bbox: tuple[float, float, float, float] | None = None
        near: tuple[float, float, float] | None = None

    def search_args(
        q: Annotated[str | None, Query(max_length=500, description="Words; the last one matches as a prefix")] = None,
        type: Annotated[
            list[str] | None, Query(description="rms.incident, cad.incident, sar, stix, ttp (ATT&CK matches)")
        ] = None,
        agency: Annotated[list[str] | None, Query(description="Originating agency ORI")] = None,
        tlp: Annotated[list[str] | None, Query(description="CLEAR, GREEN, AMBER, AMBER_STRICT, RED")] = None,
        since: Annotated[str | None, Query(description="ISO 8601")] = None,
        until: Annotated[str | None, Query(description="ISO 8601")] = None,
        bbox: Annotated[str | None, Query(description="min_lat,min_lon,max_lat,max_lon")] = None,
        near: Annotated[str | None, Query(description="lat,lon,radius_km")] = None,
    ) -> SearchArgs:
        for t in tlp or []:
            if t not in ("CLEAR", "GREEN", "AMBER", "AMBER_STRICT", "RED"):
                raise Problem(400, "Bad tlp", f"unknown TLP {t!r}; one of CLEAR, GREEN, AMBER, AMBER_STRICT, RED")
        return SearchArgs(
            q=q,
            kinds=type,
            agencies=agency,
            tlps=tlp,
            since=since,
            until=until,
            bbox=_parse_box(bbox),
            near=_parse_near(near),
        )

    Filters = Annotated[SearchArgs, Depends(search_args)]

    def _search(c: Caller, a: SearchArgs, limit: int, offset: int, ids: list[str] | None = None) -> dict:
        gate = c.gate
        res = svc.search().search(
            a.q,
            kinds=a.kinds,
            agencies=a.agencies,
            tlps=a.tlps,
            since=a.since,
            until=a.until,
            bbox=a.bbox,
            near=a.near,
            ids=ids,
            visible_to=gate.audience,
            limit=limit,
            offset=offset,
        )
        hits = [h for h in (gate.hit(x) for x in res["hits"]) if h is not None]
        return {"total": res["total"], "limit": limit, "offset": offset, "hits": hits}

    @app.get("/api/v1/search", tags=["analyst"], summary="Full-text search with filters, geo and paging")
    async def search(
        c: Reader,
        f: Filters,
        limit: Annotated[int, Query(ge=1, le=100)] = 20,
        offset: Annotated[int, Query(ge=0, le=10_000)] = 0,
    ) -> Any:
        res = await bounded(_search, c, f, limit, offset)
        await anyio.to_thread.run_sync(
            lambda: audited(
                c, "read", "search", query=f.model_dump(exclude_none=True), returned=[h["id"] for h in res["hits"]]
            )
        )
        return json(res)

    # --- entities -----------------------------------------------------------------------------
    def _visible(c: Caller, g: GraphStore, entity_id: str) -> dict[str, Any]:
        """The entity as the gate shows it; an entity the caller may not see does not exist."""
        c.gate.graph = g
        node = c.gate.node(g.node(entity_id))
        if node is None:
            raise hide(c, entity_id)
        return node

    def _profile(c: Caller, entity_id: str) -> dict:
        g = svc.graph()
        gate = c.gate
        node = _visible(c, g, entity_id)
        canonical = node["id"]
        merges = g.merges(canonical)
        out = {
            "entity": node,
            "requested_id": entity_id,
            "merged_from": gate.merges(canonical, merges),
            "sources": gate.sources(canonical),
        }
        audited(c, "read", canonical, endpoint="entity", access=node["access"])
        return out

    @app.get("/api/v1/entities/{entity_id}", tags=["analyst"], summary="A resolved entity, its sources, merges")
    async def entity(c: Reader, entity_id: str) -> Any:
        return json(await bounded(_profile, c, entity_id))

    def _unmerge(c: Caller, entity_id: str, body: Unmerge) -> dict:
        g = svc.graph()
        survivor = g.canonical(entity_id)
        if survivor == entity_id:
            raise Problem(409, "Not merged", f"{entity_id} is not merged into another entity")
        c.gate.graph = g
        view = c.gate.node_view(survivor)
        if view is None or view.level != "full":
            audit.record(
                "deny",
                actor=c.subject,
                agency=c.who.agency,
                object=entity_id,
                outcome="denied",
                source=c.source,
                reason="unmerge needs full access to the entity",
            )
            raise Problem(403, "Not yours to split", "undoing a merge needs full access to the entity")
        did = svc.decide_unmerge(entity_id, survivor, c.subject, c.who.agency, body.reason)
        audit.record(
            "write",
            actor=c.subject,
            agency=c.who.agency,
            object=entity_id,
            source=c.source,
            reason=body.reason,
            detail={"decision": "UNMERGE", "decision_id": did, "survivor": survivor},
        )
        return {"decision_id": did, "entity_id": entity_id, "was_merged_into": survivor, "status": "accepted"}

    @app.post(
        "/api/v1/entities/{entity_id}/unmerge",
        status_code=202,
        tags=["analyst"],
        summary="Undo the merge of this entity into its survivor (applied by the pipeline)",
    )
    async def unmerge(c: Decider, entity_id: str, body: Unmerge) -> Any:
        return json(await bounded(_unmerge, c, entity_id, body), 202)

    def _neighbours(c: Caller, entity_id: str, hops: int, limit: int) -> dict:
        g = svc.graph()
        gate = c.gate
        _visible(c, g, entity_id)
        res = g.neighbours(entity_id, hops=hops, limit=limit, allow=gate.allow)
        nodes = [n for n in (gate.node(x) for x in res["nodes"]) if n is not None]
        kept = {n["id"] for n in nodes}
        edges = [x for x in (gate.edge(e) for e in res["edges"] if e["src"] in kept and e["dst"] in kept) if x]
        audited(c, "read", entity_id, endpoint="neighbours", hops=hops, returned=len(nodes))
        return {
            "center": g.canonical(entity_id),
            "hops": hops,
            "truncated": res["truncated"],
            "nodes": nodes,
            "edges": edges,
        }

    @app.get("/api/v1/entities/{entity_id}/neighbours", tags=["analyst"], summary="n-hop link analysis")
    async def neighbours(
        c: Reader,
        entity_id: str,
        hops: Annotated[int, Query(ge=1, le=3)] = 1,
        limit: Annotated[int, Query(ge=1, le=500)] = 200,
    ) -> Any:
        return json(await bounded(_neighbours, c, entity_id, hops, limit))

    def _paths(c: Caller, src: str, dst: str, max_hops: int, limit: int) -> dict:
        g = svc.graph()
        gate = c.gate
        for x in (src, dst):
            _visible(c, g, x)
        found = g.paths(src, dst, max_hops=max_hops, limit=limit, allow=gate.allow)
        ids = sorted({x for p in found for e in p for x in (e["src"], e["dst"])})
        nodes = {i: gate.node(n) for i, n in g.nodes_of(ids).items()}
        shown = [[gate.edge(e) for e in p] for p in found]
        audited(c, "read", f"{src}->{dst}", endpoint="paths", returned=len(found))
        return {
            "from": g.canonical(src),
            "to": g.canonical(dst),
            "paths": [p for p in shown if all(p)],
            "nodes": [n for n in nodes.values() if n is not None],
        }

    @app.get("/api/v1/paths", tags=["analyst"], summary="Shortest paths between two entities, with reasons")
    async def paths(
        c: Reader,
        src: Annotated[str, Query(alias="from")],
        dst: Annotated[str, Query(alias="to")],
        max_hops: Annotated[int, Query(ge=1, le=6)] = 4,
        limit: Annotated[int, Query(ge=1, le=20)] = 5,
    ) -> Any:
        return json(await bounded(_paths, c, src, dst, max_hops, limit))

    # --- timelines and geography ----------------------------------------------------------------
    def _timeline(c: Caller, entity_id: str, limit: int, offset: int) -> dict:
        g = svc.graph()
        gate = c.gate
        node = _visible(c, g, entity_id)
        records = sorted({s["record_id"] for s in gate.sources(node["id"])})
        res = _search(c, SearchArgs(), 1000, 0, ids=records)
        events = sorted(res["hits"], key=lambda h: (h.get("occurred_at") or "", h["id"]))
        audited(c, "read", node["id"], endpoint="timeline", returned=[e["id"] for e in events[offset : offset + limit]])
        return {"entity": node, "total": len(events), "events": events[offset : offset + limit]}

    @app.get("/api/v1/entities/{entity_id}/timeline", tags=["analyst"], summary="Reports about an entity in time order")
    async def timeline(
        c: Reader,
        entity_id: str,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> Any:
        return json(await bounded(_timeline, c, entity_id, limit, offset))

    @app.get("/api/v1/cases/{series}/timeline", tags=["analyst"], summary="A case (crime series) in time order")
    async def case_timeline(
        c: Reader,
        series: str,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> Any:
        return json(await bounded(_timeline, c, deterministic_id("series", series.upper()), limit, offset))

    def _geo(c: Caller, a: SearchArgs, cell_km: float, limit: int) -> dict:
        res = _search(c, a, limit, 0)
        audited(c, "read", "geo", query=a.model_dump(exclude_none=True), returned=len(res["hits"]))
        pts = [
            {"id": h["id"], "lat": h["lat"], "lon": h["lon"], "occurred_at": h.get("occurred_at"), "kind": h["kind"]}
            for h in res["hits"]
            if h.get("lat") is not None and h.get("lon") is not None
        ]
        return {"total": res["total"], "points": pts, "clusters": clusters(pts, cell_km)}

    @app.get("/api/v1/geo", tags=["analyst"], summary="Points and clusters for a set of events")
    async def geo(
        c: Reader,
        f: Filters,
        cell_km: Annotated[float, Query(gt=0, le=500)] = 1.0,
        limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
    ) -> Any:
        return json(await bounded(_geo, c, f, cell_km, limit))

    # --- field --------------------------------------------------------------------------------
    @app.post("/api/v1/field/query", tags=["field"], summary="A CAD query (plate or person): answer plus alerts")
    async def field_query(
        c: Officer,
        q: FieldQuery,
        wait: Annotated[float, Query(ge=0, le=10, description="Seconds to wait for the pipeline")] = 2.0,
    ) -> Any:
        raw = q.model_dump(exclude_none=True)
        raw["agency"] = c.who.agency  # an officer queries as their own agency, never another's
        raw.setdefault("issued_at", utcnow().isoformat())
        res = await asyncio.wait_for(anyio.to_thread.run_sync(field.submit, raw, wait), wait + timeout)
        shown = [c.gate.allows_alert(a) for a in res["alerts"] if for_recipient(a, c.who.agency, None)]
        res["alerts"] = [a for a in shown if a is not None]
        await anyio.to_thread.run_sync(lambda: delivered(c, res["alerts"], f"field query {q.query_id}"))
        audit_q = {"query_id": q.query_id, "status": res["status"], "record_id": res["record_id"]}
        await anyio.to_thread.run_sync(lambda: audited(c, "read", res["record_id"], endpoint="field_query", **audit_q))
        return json(res)

    @app.get("/api/v1/field/alerts/stream", tags=["field"], summary="Server-Sent Events: alerts for a unit or agency")
    async def alert_stream(
        request: Request,
        c: Officer,
        unit: Annotated[str | None, Query(max_length=32)] = None,
        last_event_id: Annotated[str | None, Header()] = None,
        heartbeat: Annotated[float, Query(gt=0, le=60)] = 15.0,
    ) -> StreamingResponse:
        topic = field.alerts_topic
        start = await anyio.to_thread.run_sync(svc.end_offsets, topic)
        if last_event_id:  # resume where the terminal's connection dropped: "p:o,p:o,..."
            try:
                for part in last_event_id.split(","):
                    p, o = part.split(":")
                    start[int(p)] = int(o) + 1
            except ValueError:
                raise Problem(400, "Bad Last-Event-ID", "expected partition:offset pairs") from None

        async def events() -> AsyncIterator[bytes]:
            pos = dict(start)
            idle = 0.0
            yield b": argus alert stream\n\n"
            while not await request.is_disconnected():
                recs = await anyio.to_thread.run_sync(svc.read_from, topic, pos)
                for r in recs:
                    pos[r.partition] = r.offset + 1
                    shown = c.gate.allows_alert(r.body) if for_recipient(r.body, c.who.agency, unit) else None
                    if shown is None:
                        continue
                    body = shown
                    await anyio.to_thread.run_sync(lambda b=body: delivered(c, [b], "alert stream"))
                    cursor = ",".join(f"{p}:{o - 1}" for p, o in sorted(pos.items()))
                    yield b"id: " + cursor.encode() + b"\nevent: alert\ndata: " + _dumps(body) + b"\n\n"
                if recs:
                    idle = 0.0
                    continue
                await asyncio.sleep(0.05)
                idle += 0.05
                if idle >= heartbeat:
                    idle = 0.0
                    yield b": keep-alive\n\n"

        return StreamingResponse(
            events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        )

    # --- submissions (28 CFR Part 23) ---------------------------------------------------------
    def _submit(c: Caller, body: dict[str, Any]) -> dict:
        kind = str(body.pop("kind", ""))
        try:
            out = submissions.submit(kind, body, c.who.agency, c.who.law_enforcement)
        except Rejected as exc:
            audit.record(
                "submit",
                actor=c.subject,
                agency=c.who.agency,
                object=kind or None,
                outcome="rejected",
                source=c.source,
                reason="28 CFR Part 23",
                detail={"fields": [p["field"] for p in exc.problems]},
            )
            raise Problem(422, "Submission rejected, not stored", str(exc), errors=exc.problems) from None
        audit.record(
            "submit",
            actor=c.subject,
            agency=c.who.agency,
            object=out["record_id"],
            source=c.source,
            detail={"kind": kind, "ratings": f"{out['reliability']}{out['validity']}", "review_by": out["review_by"]},
        )
        return out

    @app.post(
        "/api/v1/submissions",
        status_code=202,
        tags=["submission"],
        summary="Submit criminal intelligence or a SAR (checked against 28 CFR Part 23; rejected ones are not stored)",
    )
    async def submit(c: Annotated[Caller, Depends(reader("submit"))], body: dict[str, Any]) -> Any:
        return json(await bounded(_submit, c, body), 202)

    # --- audit -------------------------------------------------------------------------------
    def _audit(
        c: Caller,
        actor: str | None,
        action: str | None,
        obj: str | None,
        since: str | None,
        until: str | None,
        after: int,
        limit: int,
    ) -> dict:
        entries = audit.query(
            actor=actor,
            action=action,
            object=obj,
            since=since,
            until=until,
            visible_to_agency=c.who.agency,
            after=after,
            limit=limit,
        )
        audit.record(
            "read",
            actor=c.subject,
            agency=c.who.agency,
            object="audit",
            source=c.source,
            detail={"actor": actor, "action": action, "object": obj, "returned": len(entries)},
        )
        return {"entries": entries, "next_after": entries[-1]["seq"] if entries else after}

    @app.get("/api/v1/audit", tags=["audit"], summary="The audit trail of the auditor's agency (auditors only)")
    async def audit_trail(
        c: Annotated[Caller, Depends(reader("audit"))],
        actor: str | None = None,
        action: str | None = None,
        object: Annotated[str | None, Query(alias="object")] = None,
        since: str | None = None,
        until: str | None = None,
        after: Annotated[int, Query(ge=0)] = 0,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> Any:
        return json(await bounded(_audit, c, actor, action, object, since, until, after, limit))

    # --- STIX 2.1 ------------------------------------------------------------------------------
    def _stix_found(c: Caller, q: str, agencies: list[str] | None, since: str | None, until: str | None) -> list[str]:
        """Record ids of the STIX objects a search finds, as the caller may see them (the same
        search as /api/v1/search, so an analyst exports what they just looked at)."""
        found: list[str] = []
        while len(found) < MAX_EXPORT_HITS:
            res = svc.search().search(
                q,
                kinds=["stix"],
                agencies=agencies,
                since=since,
                until=until,
                visible_to=c.gate.audience,
                limit=500,
                offset=len(found),
            )
            found += [h["id"] for h in res["hits"]]
            if len(res["hits"]) < 500:
                break
        return found

    def _stix_export(
        c: Caller,
        types: list[str] | None,
        ids: list[str] | None,
        case: str | None,
        collection: str | None,
        q: str | None,
        agencies: list[str] | None,
        since: str | None,
        until: str | None,
        limit: int,
    ) -> bytes:
        only = agencies
        if collection is not None:
            col = svc.topo.model.taxii.collection(collection)
            if col is None or not col.can_read(c.who.agency):
                raise Problem(404, "No such collection", f"no collection {collection} you may read")
            if col.types:
                types = [t for t in types if t in col.types] if types else list(col.types)
            if col.agencies:
                only = [a for a in agencies if a in col.agencies] if agencies else list(col.agencies)
        if types == [] or only == []:  # filters that exclude each other select nothing
            record_ids: list[str] | None = []
        else:
            record_ids = _stix_found(c, q, only, since, until) if q is not None else None
        res = export(
            svc.stix(), c.gate.view, ids=ids, types=types, record_ids=record_ids, case=case, agencies=only, limit=limit
        )
        selection = {"types": types, "ids": ids, "case": case, "collection": collection, "q": q}
        audit_release(
            audit,
            c,
            res.objects,
            what="stix",
            reason="STIX bundle export",
            withheld=res.withheld,
            action="export",
            own_action="export",
            selection={k: v for k, v in selection.items() if v},
        )
        if not res.objects:
            audited(c, "export", "stix", **selection, returned=0, withheld=res.withheld)
        return res.bundle

    @app.get(
        "/api/v1/stix/bundle",
        tags=["stix"],
        summary="Export a STIX 2.1 bundle: the objects you may see in full, with their marking-definitions",
    )
    async def stix_bundle(
        c: Reader,
        type: Annotated[list[str] | None, Query(description="STIX types")] = None,
        id: Annotated[list[str] | None, Query(description="STIX ids")] = None,
        case: Annotated[str | None, Query(max_length=64, description="Objects shared for this case")] = None,
        collection: Annotated[str | None, Query(max_length=64, description="A TAXII collection's view")] = None,
        q: Annotated[
            str | None, Query(max_length=500, description="What /api/v1/search?type=stix finds for these words")
        ] = None,
        agency: Annotated[list[str] | None, Query(description="Originating agency ORI")] = None,
        since: Annotated[str | None, Query(description="Modified at or after (ISO 8601; with q)")] = None,
        until: Annotated[str | None, Query(description="Modified at or before (ISO 8601; with q)")] = None,
        limit: Annotated[int, Query(ge=1, le=100_000)] = 10_000,
    ) -> Any:
        body = await bounded(_stix_export, c, type, id, case, collection, q, agency, since, until, limit)
        return Response(body, media_type="application/stix+json;version=2.1")

    def _techniques(c: Caller, ids: list[str] | None, tactic: str | None, q: str | None, revoked: bool) -> dict:
        found = list(techniques(svc.stix(), c.gate.view, ids=ids, tactic=tactic, q=q, include_revoked=revoked))
        audited(c, "read", "attack", ids=ids, tactic=tactic, q=q, returned=len(found))
        return {"total": len(found), "techniques": found}

    @app.get(
        "/api/v1/attack/techniques",
        tags=["stix"],
        summary="MITRE ATT&CK techniques in the STIX store, by ATT&CK id, tactic and name",
    )
    async def attack_techniques(
        c: Reader,
        id: Annotated[list[str] | None, Query(description="ATT&CK ids, e.g. T0800, T1566.001")] = None,
        tactic: Annotated[
            str | None, Query(max_length=64, description="Tactic short name, e.g. initial-access")
        ] = None,
        q: Annotated[str | None, Query(max_length=200, description="Words of the name")] = None,
        include_revoked: bool = False,
    ) -> Any:
        return json(await bounded(_techniques, c, id, tactic, q, include_revoked))

    def _matches(c: Caller, technique: list[str] | None, group: list[str] | None, limit: int) -> dict:
        """Reports the TTP-matching processor tied to techniques or groups: the graph's
        MATCHES_TECHNIQUE / ATTRIBUTED_TO edges into the mirror's objects, each report and edge as
        the one policy shows them to the caller (an edge is there only if its report may be seen)."""
        if bool(technique) == bool(group):
            raise Problem(400, "Say what to look for", "give technique=<ATT&CK id> or group=<ATT&CK id>, not both")
        g = svc.graph()
        gate = c.gate
        gate.graph = g
        kind, rel = ("techniques", "MATCHES_TECHNIQUE") if technique else ("groups", "ATTRIBUTED_TO")
        found = lookup(svc.stix(), gate.view, kind, ids=technique or group)
        targets = {f["stix_id"]: f for f in found}
        edges = [e for e in g.edges_of(list(targets), limit=20_000) if e["rel"] == rel and e["dst"] in targets]
        reports = []
        for e in gate.allow(edges):
            shown, node = gate.edge(e), gate.node(g.node(e["src"]))
            if shown is None or node is None:
                continue
            p = shown["props"]
            reports.append(
                {
                    "attack_id": targets[e["dst"]]["attack_id"],
                    "name": targets[e["dst"]].get("name"),
                    "score": p.get("score"),
                    "evidence": p.get("reason"),
                    "record_id": p.get("record_id"),
                    "report": node,
                }
            )
        reports.sort(key=lambda r: (-(r["score"] or 0.0), r["record_id"] or ""))
        audited(
            c,
            "read",
            "attack:matches",
            technique=technique,
            group=group,
            returned=[r["record_id"] for r in reports[:limit]],
        )
        return {"total": len(reports), "matches": reports[:limit]}

    @app.get(
        "/api/v1/attack/matches",
        tags=["stix"],
        summary="Reports matched to ATT&CK techniques, or attributed to groups, with the evidence",
    )
    async def attack_matches(
        c: Reader,
        technique: Annotated[list[str] | None, Query(description="ATT&CK technique ids, e.g. T0884")] = None,
        group: Annotated[list[str] | None, Query(description="ATT&CK group ids, e.g. G0034")] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> Any:
        return json(await bounded(_matches, c, technique, group, limit))

    def _attack(c: Caller, kind: str, ids: list[str] | None, q: str | None, revoked: bool, related: bool) -> dict:
        found = lookup(svc.stix(), c.gate.view, kind, ids=ids, q=q, include_revoked=revoked, related=related)
        audited(c, "read", f"attack:{kind}", ids=ids, q=q, returned=len(found))
        return {"total": len(found), kind: found}

    @app.get(
        "/api/v1/attack/{kind}",
        tags=["stix"],
        summary="ATT&CK groups, software, mitigations, tactics, campaigns (and techniques) with their relations",
    )
    async def attack_kind(
        c: Reader,
        kind: Literal["techniques", "groups", "software", "mitigations", "tactics", "campaigns"],
        id: Annotated[list[str] | None, Query(description="ATT&CK ids, e.g. G0034, S0604, M0807")] = None,
        q: Annotated[str | None, Query(max_length=200, description="Words of the name or an alias")] = None,
        related: Annotated[bool, Query(description="With what ATT&CK relates each to")] = False,
        include_revoked: bool = False,
    ) -> Any:
        return json(await bounded(_attack, c, kind, id, q, include_revoked, related))

    def _stix_import(c: Caller, bundle: Any) -> dict:
        try:
            out = svc.stix_import(bundle, c.who.agency)
        except Rejected as exc:
            raise Problem(422, "Bundle rejected", "; ".join(p["problem"] for p in exc.problems)) from None
        audit.record(
            "write",
            actor=c.subject,
            agency=c.who.agency,
            object=f"stix:{out['accepted']} object(s)",
            source=c.source,
            detail={"ids": out.pop("ids")[:1000], "rejected": len(out["rejected"])},
        )
        return out

    @app.post(
        "/api/v1/stix/bundle",
        status_code=202,
        tags=["stix"],
        summary="Import a STIX 2.1 bundle as your agency (objects validated; SCO ids recomputed)",
    )
    async def stix_import(c: Annotated[Caller, Depends(reader("submit"))], body: dict[str, Any]) -> Any:
        return json(await bounded(_stix_import, c, body), 202)

    # --- TAXII feed subscriptions ---------------------------------------------------------------
    def _feeds(c: Caller) -> dict:
        with svc.bus_lock:
            bus, _ = svc.bus()
            found = subscriptions(svc.topo, svc.feeds(), bus)
        audited(c, "read", "feeds", returned=len(found))
        return {"total": len(found), "feeds": found}

    @app.get("/api/v1/feeds", tags=["stix"], summary="The TAXII feeds the pipeline polls, and where each resumes")
    async def feeds_list(c: Annotated[Caller, Depends(reader("subscribe"))]) -> Any:
        return json(await bounded(_feeds, c))

    def _feed_add(c: Caller, spec: FeedSpec) -> dict:
        if not feed_nodes(svc.topo):
            raise Problem(409, "No TAXII poller", "the topology has no node with `use: taxii` to read feeds")
        try:
            svc.feeds().add(spec, c.subject)
        except FeedError as exc:
            raise Problem(409, "Feed exists", str(exc)) from None
        audit.record(
            "admin",
            actor=c.subject,
            agency=c.who.agency,
            object=f"feed:{spec.name}",
            source=c.source,
            detail={"action": "feed add", **spec.public()},
        )
        return spec.public()

    @app.post(
        "/api/v1/feeds",
        status_code=201,
        tags=["stix"],
        summary="Subscribe to a partner's TAXII collection (polled within seconds, no restart)",
    )
    async def feed_add(c: Annotated[Caller, Depends(reader("subscribe"))], spec: FeedSpec) -> Any:
        return json(await bounded(_feed_add, c, spec), 201)

    def _feed_remove(c: Caller, name: str) -> None:
        if not svc.feeds().remove(name):
            raise Problem(404, "No such feed", f"no analyst-added feed named {name}")
        audit.record(
            "admin", actor=c.subject, agency=c.who.agency, object=f"feed:{name}", source=c.source,
            detail={"action": "feed remove"},
        )  # fmt: skip

    @app.delete("/api/v1/feeds/{name}", status_code=204, tags=["stix"], summary="Stop polling an analyst-added feed")
    async def feed_remove(c: Annotated[Caller, Depends(reader("subscribe"))], name: str) -> Response:
        await bounded(_feed_remove, c, name)
        return Response(status_code=204)

    @app.get("/healthz", tags=["ops"])
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    taxii.routes(app, svc, reader, Problem, audit, bounded)

    return app


def clusters(points: list[dict[str, Any]], cell_km: float) -> list[dict[str, Any]]:
    """Grid clustering: points binned into cells of about `cell_km`, each cluster at the mean of
    its points. Deterministic and linear; what a map needs to draw hot spots at a zoom level."""
    cells: dict[tuple[int, int], list[dict[str, Any]]] = {}
    dlat = cell_km / 111.195
    for p in points:
        dlon = cell_km / max(1e-6, 111.195 * math.cos(math.radians(p["lat"])))
        cells.setdefault((math.floor(p["lat"] / dlat), math.floor(p["lon"] / dlon)), []).append(p)
    out = [
        {
            "lat": sum(p["lat"] for p in ps) / len(ps),
            "lon": sum(p["lon"] for p in ps) / len(ps),
            "count": len(ps),
            "ids": sorted(p["id"] for p in ps),
        }
        for ps in cells.values()
    ]
    return sorted(out, key=lambda c: (-c["count"], c["ids"][0]))


def from_env() -> FastAPI:
    """The app for `argus api --workers N`: each uvicorn worker process builds its own from these."""
    from pathlib import Path

    from argus.topology import load_topology

    data_dir = os.environ.get("ARGUS_API_DATA_DIR")
    topo = load_topology(Path(os.environ["ARGUS_API_TOPOLOGY"]), Path(data_dir) if data_dir else None)
    return create_app(topo)
