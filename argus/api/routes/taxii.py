"""A TAXII 2.1 server over the STIX object store, for partner agencies.

Partners authenticate as every API caller does (an API key as `X-API-Key`, or as the password of
HTTP Basic auth, which is what TAXII clients send; or an OIDC bearer token). Collections are
declared in topology.yaml (`taxii.collections`): a view over the store (optionally some STIX
types, some originating agencies) with the agencies that may read and write it. Every object a
response carries has passed the one policy for the caller (only what they may see in full: a
STIX object cannot be half shown), so pages, manifests and `X-TAXII-Date-Added-*` headers say
nothing about what they may not see. A write is a STIX import as the caller's agency: each object
is validated and published into the pipeline; its status resource lists it as pending until the
STIX store holds it, and says why others were refused. Errors on these paths are TAXII error
messages (argus.api.app).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel

from argus.api.deps import Caller, Problem, Reader, Submitter, bounded
from argus.api.models import Taxii as TaxiiResource
from argus.api.routes.stix import read_json
from argus.backends import open_store
from argus.security.policy import FULL, Marking
from argus.stix.export import audit_release
from argus.stores.stix import StoredObject, Versions, instant, stamp
from argus.stores.taxii_status import StatusStore
from argus.topology import TaxiiCollection, TaxiiModel

TAXII = "application/taxii+json;version=2.1"
STIX = "application/stix+json;version=2.1"
MAX_PAGE = 1000
MAX_NEXT = 2**62


def taxii(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type=TAXII, headers=headers)


def accepts(request: Request) -> None:
    """406 unless the client takes TAXII 2.1 (a media type without a version is taken as 2.1)."""
    for a in request.headers.get("accept", "*/*").split(","):
        kind, *params = (x.strip().lower() for x in a.split(";"))
        version = next((p.split("=", 1)[1].strip() for p in params if p.startswith("version=")), None)
        if kind in ("*/*", "application/*") or (kind == "application/taxii+json" and version in (None, "2.1")):
            return
    raise Problem(406, "Not acceptable", f"this endpoint answers {TAXII} only")


def _versions(raw: str | None) -> Versions:
    if not raw or raw == "last":
        return "last"
    if raw in ("first", "all"):
        return raw  # type: ignore[return-value]
    out = [v.strip() for v in raw.split(",") if v.strip()]
    for v in out:
        _instant(v, "match[version]")
    return out


def _instant(value: str, name: str) -> int:
    try:
        stamp(instant(value))  # an instant TAXII can write back as a date_added
        return instant(value)
    except (ValueError, OverflowError):
        raise Problem(400, f"Bad {name}", f"{name}: {value[:64]!r} is not an RFC 3339 timestamp") from None


def filters(request: Request) -> dict[str, Any]:
    q = request.query_params

    def many(name: str) -> list[str] | None:
        vals = [v.strip() for raw in q.getlist(name) for v in raw.split(",") if v.strip()]
        return vals or None

    added_after = q.get("added_after")
    if added_after:
        _instant(added_after, "added_after")
    try:
        limit = min(int(q.get("limit", MAX_PAGE)), MAX_PAGE)
    except ValueError:
        raise Problem(400, "Bad limit", "limit: a positive integer") from None
    if limit < 1:
        raise Problem(400, "Bad limit", "limit: a positive integer")
    nxt = q.get("next")
    if nxt is not None and not (nxt.isdigit() and len(nxt) < 20 and int(nxt) < MAX_NEXT):
        raise Problem(400, "Bad next", "next: the value a previous page returned")
    return {
        "added_after": added_after,
        "limit": limit,
        "next_": int(nxt) if nxt else 0,
        "ids": many("match[id]"),
        "types": many("match[type]"),
        "versions": _versions(q.get("match[version]")),
        "spec_versions": many("match[spec_version]"),
    }


class Taxii:
    """The TAXII routes of one app: its collections config and status store."""

    def __init__(self, cfg: TaxiiModel, statuses: StatusStore) -> None:
        self.cfg = cfg
        self.statuses = statuses

    def collection(self, c: Caller, cid: str, write: bool = False) -> TaxiiCollection:
        col = self.cfg.collection(cid)
        agency = c.who.agency
        if col is None or not (col.can_read(agency) or col.can_write(agency)):
            raise Problem(404, "No such collection", f"no collection {cid} you may use")
        if write and not col.can_write(agency):
            raise Problem(403, "Not permitted", f"your agency may not write to collection {cid}")
        if not write and not col.can_read(agency):
            raise Problem(403, "Not permitted", f"your agency may not read collection {cid}")
        return col

    def resource(self, c: Caller, col: TaxiiCollection) -> dict[str, Any]:
        return {
            "id": col.id,
            "title": col.title,
            "description": col.description,
            "can_read": col.can_read(c.who.agency),
            "can_write": col.can_write(c.who.agency),
            "media_types": [STIX],
        }


def _page(c: Caller, col: TaxiiCollection, f: dict[str, Any]) -> tuple[list[StoredObject], bool, int]:
    types = f["types"]
    types = [t for t in types if not col.types or t in col.types] if types else (col.types or None)
    if types == []:
        return [], False, 0
    out: list[StoredObject] = []
    hidden = 0
    limit = f["limit"]
    for o in c.svc.stix().scan(
        after_seq=f["next_"],
        added_after=f["added_after"],
        ids=f["ids"],
        types=types,
        versions=f["versions"],
        spec_versions=f["spec_versions"],
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


def _released(c: Caller, col: TaxiiCollection, objs: list[StoredObject], hidden: int, endpoint: str) -> None:
    audit_release(
        c.api.audit, c, objs, what=f"taxii:{col.id}", reason=f"TAXII {endpoint} of collection {col.title}",
        withheld=hidden, action="disseminate", own_action="read",
    )  # fmt: skip
    if not objs:
        c.audited("read", f"taxii:{col.id}", endpoint=endpoint, returned=0)


def _objects(t: Taxii, c: Caller, cid: str, f: dict[str, Any], endpoint: str, object_id: str | None = None) -> Response:
    col = t.collection(c, cid)
    if object_id is not None:
        f = dict(f, ids=[object_id])
    objs, more, hidden = _page(c, col, f)
    _released(c, col, objs, hidden, endpoint)
    if object_id is not None and not objs:
        raise Problem(404, "No such object", f"no object {object_id} you may see in this collection")
    if endpoint == "manifest":
        body: dict[str, Any] = {
            "more": more,
            "objects": [
                {"id": o.id, "date_added": o.added, "version": o.modified or o.added, "media_type": STIX} for o in objs
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
    headers = {}
    if objs:
        added = sorted(o.added for o in objs)
        headers = {"X-TAXII-Date-Added-First": added[0], "X-TAXII-Date-Added-Last": added[-1]}
    return taxii(body, headers=headers)


def taxii_of(request: Request) -> Taxii:
    t: Taxii = request.app.state.taxii
    return t


T = Annotated[Taxii, Depends(taxii_of)]
Accepting = Depends(accepts)


async def discovery(request: Request, c: Reader, t: T) -> Response:
    """Where the API root is (TAXII 2.1 section 4.1)."""
    base = str(request.base_url).rstrip("/")
    root = t.cfg.api_root
    return taxii(
        {
            "title": t.cfg.title,
            "description": "Argus fusion-centre intelligence, filtered by TLP 2.0 and need-to-know",
            "default": f"{base}/{root}/",
            "api_roots": [f"{base}/{root}/"],
        }
    )


async def api_root(c: Reader, t: T) -> Response:
    """The API root: its TAXII version and largest body it takes."""
    return taxii({"title": t.cfg.title, "versions": [TAXII], "max_content_length": t.cfg.max_content_length})


async def collections(c: Reader, t: T) -> Response:
    """The collections the caller's agency may read or write (topology.yaml `taxii.collections`)."""
    agency = c.who.agency
    mine = [t.resource(c, x) for x in t.cfg.collections if x.can_read(agency) or x.can_write(agency)]
    return taxii({"collections": mine} if mine else {})


async def one_collection(cid: str, c: Reader, t: T) -> Response:
    """One collection, if the caller's agency may use it."""
    col = t.cfg.collection(cid)
    if col is None or not (col.can_read(c.who.agency) or col.can_write(c.who.agency)):
        raise Problem(404, "No such collection", f"no collection {cid} you may use")
    return taxii(t.resource(c, col))


async def get_objects(request: Request, cid: str, c: Reader, t: T) -> Response:
    """Objects the caller may see in full, paged with `next`, filtered by `added_after` and `match[...]`."""
    return await bounded(c, _objects, t, c, cid, filters(request), "objects")


async def manifest(request: Request, cid: str, c: Reader, t: T) -> Response:
    """The manifest of what `objects` would return: ids, versions, date_added."""
    return await bounded(c, _objects, t, c, cid, filters(request), "manifest")


async def get_object(request: Request, cid: str, object_id: str, c: Reader, t: T) -> Response:
    """One object's versions as `match[version]` selects (default: the last)."""
    return await bounded(c, _objects, t, c, cid, filters(request), "object", object_id)


async def versions(request: Request, cid: str, object_id: str, c: Reader, t: T) -> Response:
    """Every version of one object the caller may see."""
    f = dict(filters(request), versions="all")
    return await bounded(c, _objects, t, c, cid, f, "versions", object_id)


def _add(t: Taxii, c: Caller, cid: str, envelope: Any) -> Response:
    t.collection(c, cid, write=True)
    if not isinstance(envelope, dict) or not isinstance(envelope.get("objects"), list):
        raise Problem(422, "Bad envelope", 'envelope: POST a TAXII envelope, {"objects": [...]}')
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    objs = envelope["objects"]
    res = c.svc.stix_import(objs, c.who.agency, c.gate.view)
    failures = [{"id": f["id"] or f"objects[{f['index']}]", "message": f["problem"]} for f in res["rejected"]]
    status = {
        "id": str(uuid.uuid4()),
        "status": "pending" if res["objects"] else "complete",
        "request_timestamp": now,
        "total_count": len(objs),
        "success_count": 0,
        "successes": [],
        "failure_count": len(failures),
        "failures": failures,
        "pending_count": len(res["objects"]),
        "pendings": [{"id": o["id"], "version": o["version"] or now} for o in res["objects"]],
    }
    t.statuses.put(c.who.agency, status)
    c.api.audit.record(
        "write",
        actor=c.subject,
        agency=c.who.agency,
        object=f"taxii:{cid}",
        source=c.source,
        detail={"status": status["id"], "accepted": len(res["objects"]), "rejected": len(failures)},
    )
    return taxii(status, 202)


async def add_objects(request: Request, cid: str, c: Submitter, t: T) -> Response:
    """An envelope of objects, each validated and published as the caller's agency; the status
    lists each as pending until the STIX store holds it, or as failed with the reason."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "application/taxii+json":
        raise Problem(415, "Unsupported media type", f"POST {TAXII}")
    envelope = await read_json(request, t.cfg.max_content_length)
    return await bounded(c, _add, t, c, cid, envelope)


def _stored(c: Caller, pending: dict[str, Any]) -> bool:
    want = instant(pending["version"])
    for o in c.svc.stix().versions(pending["id"]):
        if o.agency == c.who.agency and (o.modified is None or instant(o.modified) == want):
            return True
    return False


def _status(t: Taxii, c: Caller, sid: str) -> Response:
    body = t.statuses.get(sid, c.who.agency)
    if body is None:
        raise Problem(404, "No such status", f"no status {sid} for your agency")
    if body.get("pendings"):
        done = [p for p in body["pendings"] if _stored(c, p)]
        if done:
            body["pendings"] = [p for p in body["pendings"] if p not in done]
            body["successes"] = body["successes"] + done
            body["success_count"] = len(body["successes"])
            body["pending_count"] = len(body["pendings"])
            body["status"] = "pending" if body["pendings"] else "complete"
            t.statuses.update(c.who.agency, body)
    return taxii(body)


async def status(sid: Annotated[str, Path(max_length=64)], c: Reader, t: T) -> Response:
    """A POST's status, to the agency that POSTed only."""
    return await bounded(c, _status, t, c, sid)


def _delete(t: Taxii, c: Caller, cid: str, object_id: str, version: str | None) -> Response:
    t.collection(c, cid, write=True)
    mine = [o for o in c.svc.stix().versions(object_id) if o.agency == c.who.agency]
    if version is not None:
        want = _instant(version, "match[version]")
        mine = [o for o in mine if o.modified and instant(o.modified) == want]
    if not mine:
        raise Problem(404, "No such object", f"no object {object_id} of your agency in this collection")
    c.svc.purge(
        [
            {"record_id": o.record_id, "agency": o.agency, "reason": f"TAXII DELETE {object_id}", "by": c.subject}
            for o in mine
        ]
    )
    return taxii({}, 200)


async def delete_object(
    cid: str,
    object_id: str,
    c: Submitter,
    t: T,
    version: Annotated[str | None, Query(alias="match[version]", max_length=64)] = None,
) -> Response:
    """Purge the caller's own agency's object (every version, or `match[version]`) from every store."""
    return await bounded(c, _delete, t, c, cid, object_id, version)


class TaxiiError(BaseModel):
    """A TAXII 2.1 error message (every error on the TAXII paths)."""

    title: str
    description: str
    http_status: str


def _answers(example: Any, status: int = 200, media: str = TAXII) -> dict[int | str, dict[str, Any]]:
    err = {"title": "No such collection", "description": "no collection c1 you may use", "http_status": "404"}
    errors = {
        code: {"model": TaxiiError, "description": why, "content": {TAXII: {"example": err | {"title": why}}}}
        for code, why in ((400, "Bad parameter"), (401, "Not authenticated"), (403, "Not permitted"),
                          (404, "Nothing you may see"), (406, "Not TAXII 2.1"), (413, "Over max_content_length"),
                          (415, "Not application/taxii+json"))
    }  # fmt: skip
    return {status: {"model": TaxiiResource, "content": {media: {"example": example}}}, **errors}


OBJ = {"type": "indicator", "spec_version": "2.1", "id": "indicator--6e2b…", "name": "C2 beacon"}
PENDING = [{"id": "indicator--6e2b…", "version": "2026-11-01T10:00:00.000Z"}]
STATUS = {"id": "2d08…", "status": "pending", "total_count": 1, "success_count": 0, "pending_count": 1,
          "pendings": PENDING}  # fmt: skip
ROUTES: list[tuple[str, str, Any, str, Any, int]] = [
    ("/taxii2/", "GET", discovery, "TAXII 2.1 discovery", {"title": "Argus TAXII 2.1", "api_roots": ["…/argus/"]}, 200),
    ("/{root}/", "GET", api_root, "TAXII 2.1 API root", {"versions": [TAXII], "max_content_length": 104857600}, 200),
    ("/{root}/collections/", "GET", collections, "Collections you may use", {"collections": []}, 200),
    ("{coll}/", "GET", one_collection, "One collection", {"id": "8f1b…", "can_read": True, "can_write": True}, 200),
    ("{coll}/objects/", "GET", get_objects, "Objects you may see, paged", {"more": False, "objects": [OBJ]}, 200),
    ("{coll}/objects/", "POST", add_objects, "Add objects as your agency", STATUS, 202),
    ("{coll}/manifest/", "GET", manifest, "The objects' manifest", {"more": False, "objects": []}, 200),
    ("{coll}/objects/{{object_id}}/", "GET", get_object, "One object", {"more": False, "objects": [OBJ]}, 200),
    ("{coll}/objects/{{object_id}}/", "DELETE", delete_object, "Delete your own object", {}, 200),
    ("{coll}/objects/{{object_id}}/versions/", "GET", versions, "Its versions", {"versions": ["2026-11-01…"]}, 200),
    ("/{root}/status/{{sid}}/", "GET", status, "What became of a POST", STATUS, 200),
]


def router(root: str) -> APIRouter:
    """The TAXII routes under the discovery path and the configured API root."""
    r = APIRouter(tags=["taxii"], dependencies=[Accepting])
    coll = f"/{root}/collections/{{cid}}"
    for path, method, fn, summary, example, code in ROUTES:
        where = path.format(root=root, coll=coll)
        answers = _answers(example, code)
        r.add_api_route(where, fn, methods=[method], status_code=code, summary=summary, responses=answers)
    return r


def open_taxii(topo: Any) -> Taxii:
    return Taxii(topo.model.taxii, open_store(topo, "taxii"))
