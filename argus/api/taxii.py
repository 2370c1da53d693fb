"""A TAXII 2.1 server over the STIX object store, for partner agencies.

Partners authenticate as every API caller does (an API key as `X-API-Key`, or as the password of
HTTP Basic auth, which is what TAXII clients send; or an OIDC bearer token). Collections are
declared in topology.yaml (`taxii.collections`): a view over the store (optionally some STIX
types, some originating agencies) with the agencies that may read and write it. Every object a
response carries has passed the one policy for the caller (only what they may see in full:
a STIX object cannot be half shown), so pages, manifests and `X-TAXII-Date-Added-*` headers
say nothing about what they may not see. A write is a STIX import as the caller's agency: each
object is validated (SCO ids recomputed) and published into the pipeline; its status resource
says which objects were taken and why others were not.
"""

import sqlite3
import threading
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any

import orjson
from fastapi import Depends, FastAPI, Query, Request
from fastapi.responses import Response

from argus.runtime.embedded import open_store
from argus.security.policy import FULL, Marking
from argus.stix.export import audit_release
from argus.stores.stix import StoredObject, Versions, instant
from argus.topology import TaxiiCollection

TAXII = "application/taxii+json;version=2.1"
STIX = "application/stix+json;version=2.1"
MAX_PAGE = 1000


def _taxii(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type=TAXII, headers=headers)


def _versions(raw: str | None) -> Versions:
    if not raw or raw == "last":
        return "last"
    if raw in ("first", "all"):
        return raw  # type: ignore[return-value]
    return [v.strip() for v in raw.split(",") if v.strip()]


class StatusStore(ABC):
    """Status resources of POSTed envelopes: whichever API process took the POST, any answers the
    GET (`<data_dir>/taxii.db` by default; OpenSearch with `ARGUS_TAXII`, for several hosts)."""

    @abstractmethod
    def put(self, agency: str, body: dict[str, Any]) -> None: ...

    @abstractmethod
    def get(self, sid: str, agency: str) -> dict[str, Any] | None:
        """The status, if it is there and the asking agency's."""

    @abstractmethod
    def close(self) -> None: ...


class Statuses(StatusStore):
    """The embedded status store (SQLite, shared by the API processes of one host)."""

    def __init__(self, path: Any) -> None:
        self._db = sqlite3.connect(path, check_same_thread=False)
        self._db.execute("CREATE TABLE IF NOT EXISTS status(id TEXT PRIMARY KEY, agency TEXT, body BLOB)")
        self._db.commit()
        self._lock = threading.Lock()

    def put(self, agency: str, body: dict[str, Any]) -> None:
        with self._lock:
            self._db.execute("INSERT INTO status VALUES(?,?,?)", (body["id"], agency, orjson.dumps(body)))
            self._db.commit()

    def get(self, sid: str, agency: str) -> dict[str, Any] | None:
        with self._lock:
            r = self._db.execute("SELECT body FROM status WHERE id=? AND agency=?", (sid, agency)).fetchone()
        return orjson.loads(r[0]) if r else None

    def close(self) -> None:
        self._db.close()


def routes(
    app: FastAPI,
    svc: Any,
    reader: Callable[[str], Callable[..., Any]],
    problem: Callable[[int, str, str], Exception],
    audit: Any,
    bounded: Callable[..., Any],
) -> None:
    topo = svc.topo
    cfg = topo.model.taxii
    root = cfg.api_root
    statuses: StatusStore = open_store(topo, "taxii")
    svc.closing(statuses)
    Reader = Annotated[Any, Depends(reader("read"))]
    Writer = Annotated[Any, Depends(reader("submit"))]

    def accepts(request: Request) -> None:
        acc = request.headers.get("accept", "*/*")
        if not any(
            a.strip().split(";")[0] in ("*/*", "application/*", "application/taxii+json") for a in acc.split(",")
        ):
            raise problem(406, "Not acceptable", f"this endpoint answers {TAXII}")

    def collection(c: Any, cid: str, write: bool = False) -> TaxiiCollection:
        col = cfg.collection(cid)
        if col is None or (not col.can_read(c.who.agency) and not col.can_write(c.who.agency)):
            raise problem(404, "No such collection", f"no collection {cid} you may use")
        if write and not col.can_write(c.who.agency):
            raise problem(403, "Not permitted", f"your agency may not write to collection {cid}")
        if not write and not col.can_read(c.who.agency):
            raise problem(403, "Not permitted", f"your agency may not read collection {cid}")
        return col

    def resource(c: Any, col: TaxiiCollection) -> dict[str, Any]:
        return {
            "id": col.id,
            "title": col.title,
            "description": col.description,
            "can_read": col.can_read(c.who.agency),
            "can_write": col.can_write(c.who.agency),
            "media_types": [STIX],
        }

    def page(
        c: Any,
        col: TaxiiCollection,
        *,
        added_after: str | None,
        limit: int,
        next_: str | None,
        ids: list[str] | None,
        types: list[str] | None,
        versions: Versions,
        spec_versions: list[str] | None,
    ) -> tuple[list[StoredObject], bool, int]:
        types = [t for t in types if not col.types or t in col.types] if types else (col.types or None)
        if types == []:
            return [], False, 0
        try:
            after = int(next_) if next_ else 0
        except ValueError:
            raise problem(400, "Bad next", "next must be the value a previous page returned") from None
        out: list[StoredObject] = []
        hidden = 0
        for o in svc.stix().scan(
            after_seq=after,
            added_after=added_after,
            ids=ids,
            types=types,
            versions=versions,
            spec_versions=spec_versions,
        ):
            if col.agencies and o.agency not in col.agencies:
                continue
            v = c.gate.view(Marking.of(o.row))
            if v is None or v.level != FULL:
                hidden += 1
                continue
            out.append(o)
            if len(out) > limit:
                return out[:limit], True, hidden
        return out, False, hidden

    def headers(objs: list[StoredObject]) -> dict[str, str]:
        if not objs:
            return {}
        added = sorted(o.added for o in objs)
        return {"X-TAXII-Date-Added-First": added[0], "X-TAXII-Date-Added-Last": added[-1]}

    def disseminated(c: Any, col: TaxiiCollection, objs: list[StoredObject], hidden: int, endpoint: str) -> None:
        audit_release(
            audit,
            c,
            objs,
            what=f"taxii:{col.id}",
            reason=f"TAXII {endpoint} of collection {col.title}",
            withheld=hidden,
            action="disseminate",
            own_action="read",
        )
        if not objs:
            audit.record(
                "read", actor=c.subject, agency=c.who.agency, object=f"taxii:{col.id}", source=c.source,
                detail={"endpoint": endpoint, "returned": 0, "withheld": hidden},
            )  # fmt: skip

    def filters(request: Request) -> dict[str, Any]:
        q = request.query_params

        def many(name: str) -> list[str] | None:
            vals = [v.strip() for raw in q.getlist(name) for v in raw.split(",") if v.strip()]
            return vals or None

        added_after = q.get("added_after")
        if added_after:
            try:
                instant(added_after)
            except ValueError:
                raise problem(400, "Bad added_after", "added_after must be an RFC 3339 timestamp") from None
        try:
            limit = min(int(q.get("limit", MAX_PAGE)), MAX_PAGE)
        except ValueError:
            raise problem(400, "Bad limit", "limit must be a positive integer") from None
        if limit < 1:
            raise problem(400, "Bad limit", "limit must be a positive integer")
        return {
            "added_after": added_after,
            "limit": limit,
            "next_": q.get("next"),
            "ids": many("match[id]"),
            "types": many("match[type]"),
            "versions": _versions(q.get("match[version]")),
            "spec_versions": many("match[spec_version]"),
        }

    # --- discovery, API root, collections ------------------------------------------------------
    @app.get("/taxii2/", tags=["taxii"], summary="TAXII 2.1 discovery")
    async def discovery(request: Request, c: Reader) -> Response:
        accepts(request)
        base = str(request.base_url).rstrip("/")
        return _taxii(
            {
                "title": cfg.title,
                "description": "Argus fusion-centre intelligence, filtered by TLP 2.0 and need-to-know",
                "default": f"{base}/{root}/",
                "api_roots": [f"{base}/{root}/"],
            }
        )

    @app.get(f"/{root}/", tags=["taxii"], summary="TAXII 2.1 API root")
    async def api_root(request: Request, c: Reader) -> Response:
        accepts(request)
        return _taxii({"title": cfg.title, "versions": [TAXII], "max_content_length": cfg.max_content_length})

    @app.get(f"/{root}/collections/", tags=["taxii"])
    async def collections(request: Request, c: Reader) -> Response:
        accepts(request)
        mine = [resource(c, x) for x in cfg.collections if x.can_read(c.who.agency) or x.can_write(c.who.agency)]
        return _taxii({"collections": mine} if mine else {})

    @app.get(f"/{root}/collections/{{cid}}/", tags=["taxii"])
    async def one_collection(request: Request, cid: str, c: Reader) -> Response:
        accepts(request)
        col = cfg.collection(cid)
        if col is None or not (col.can_read(c.who.agency) or col.can_write(c.who.agency)):
            raise problem(404, "No such collection", f"no collection {cid} you may use")
        return _taxii(resource(c, col))

    # --- objects and manifest -------------------------------------------------------------------
    def _objects(c: Any, cid: str, f: dict[str, Any], endpoint: str, object_id: str | None = None) -> Response:
        col = collection(c, cid)
        if object_id is not None:
            f = dict(f, ids=[object_id])
        objs, more, hidden = page(c, col, **f)
        disseminated(c, col, objs, hidden, endpoint)
        if object_id is not None and not objs:
            raise problem(404, "No such object", f"no object {object_id} you may see in this collection")
        if endpoint == "manifest":
            body: dict[str, Any] = {
                "more": more,
                "objects": [
                    {"id": o.id, "date_added": o.added, "version": o.modified or o.added, "media_type": STIX}
                    for o in objs
                ],
            }
        elif endpoint == "versions":
            body = {"more": more, "versions": [o.modified or o.added for o in objs]}
        else:
            body = {"more": more, "objects": [o.obj for o in objs]}
        if more:
            body["next"] = str(objs[-1].seq)
        if not objs:
            body.pop("objects", None)
            body.pop("versions", None)
        return _taxii(body, headers=headers(objs))

    @app.get(f"/{root}/collections/{{cid}}/objects/", tags=["taxii"])
    async def get_objects(request: Request, cid: str, c: Reader) -> Response:
        accepts(request)
        return await bounded(_objects, c, cid, filters(request), "objects")

    @app.get(f"/{root}/collections/{{cid}}/manifest/", tags=["taxii"])
    async def manifest(request: Request, cid: str, c: Reader) -> Response:
        accepts(request)
        return await bounded(_objects, c, cid, filters(request), "manifest")

    @app.get(f"/{root}/collections/{{cid}}/objects/{{object_id}}/", tags=["taxii"])
    async def get_object(request: Request, cid: str, object_id: str, c: Reader) -> Response:
        accepts(request)
        return await bounded(_objects, c, cid, filters(request), "object", object_id)

    @app.get(f"/{root}/collections/{{cid}}/objects/{{object_id}}/versions/", tags=["taxii"])
    async def versions(request: Request, cid: str, object_id: str, c: Reader) -> Response:
        accepts(request)
        f = dict(filters(request), versions="all")
        return await bounded(_objects, c, cid, f, "versions", object_id)

    # --- writes ---------------------------------------------------------------------------------
    def _add(c: Any, cid: str, envelope: Any) -> Response:
        collection(c, cid, write=True)
        if not isinstance(envelope, dict) or not isinstance(envelope.get("objects"), list):
            raise problem(422, "Bad envelope", 'POST a TAXII envelope: {"objects": [...]}')
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        res = svc.stix_import(envelope["objects"], c.who.agency)
        failures = [{"id": f["id"] or f"objects[{f['index']}]", "message": f["problem"]} for f in res["rejected"]]
        objs = envelope["objects"]
        ok = [o for o in objs if isinstance(o, dict) and o.get("id") in set(res["ids"])]
        status = {
            "id": str(uuid.uuid4()),
            "status": "complete",
            "request_timestamp": now,
            "total_count": len(objs),
            "success_count": len(ok),
            "successes": [{"id": o["id"], "version": o.get("modified") or o.get("created") or now} for o in ok],
            "failure_count": len(failures),
            "failures": failures,
            "pending_count": 0,
        }
        statuses.put(c.who.agency, status)
        audit.record(
            "write",
            actor=c.subject,
            agency=c.who.agency,
            object=f"taxii:{cid}",
            source=c.source,
            detail={"status": status["id"], "accepted": len(ok), "rejected": len(failures)},
        )
        return _taxii(status, 202)

    @app.post(f"/{root}/collections/{{cid}}/objects/", tags=["taxii"], status_code=202)
    async def add_objects(request: Request, cid: str, c: Writer) -> Response:
        accepts(request)
        ctype = request.headers.get("content-type", "")
        if not ctype.startswith("application/taxii+json"):
            raise problem(415, "Unsupported media type", f"POST {TAXII}")
        try:
            envelope = orjson.loads(await request.body())
        except orjson.JSONDecodeError as exc:
            raise problem(400, "Malformed JSON", str(exc)) from None
        return await bounded(_add, c, cid, envelope)

    @app.get(f"/{root}/status/{{sid}}/", tags=["taxii"])
    async def status(request: Request, sid: str, c: Reader) -> Response:
        accepts(request)
        body = statuses.get(sid, c.who.agency)
        if body is None:
            raise problem(404, "No such status", f"no status {sid} for your agency")
        return _taxii(body)

    def _delete(c: Any, cid: str, object_id: str, version: str | None) -> Response:
        collection(c, cid, write=True)
        mine = [o for o in svc.stix().versions(object_id) if o.agency == c.who.agency]
        if version is not None:
            mine = [o for o in mine if o.modified and instant(o.modified) == instant(version)]
        if not mine:
            raise problem(404, "No such object", f"no object {object_id} of your agency in this collection")
        svc.purge(
            [
                {"record_id": o.record_id, "agency": o.agency, "reason": f"TAXII DELETE {object_id}", "by": c.subject}
                for o in mine
            ]
        )
        return _taxii({}, 200)

    @app.delete(f"/{root}/collections/{{cid}}/objects/{{object_id}}/", tags=["taxii"])
    async def delete_object(
        request: Request,
        cid: str,
        object_id: str,
        c: Writer,
        version: Annotated[str | None, Query(alias="match[version]")] = None,
    ) -> Response:
        accepts(request)
        return await bounded(_delete, c, cid, object_id, version)
