"""STIX 2.1 and ATT&CK: bundle export (what the caller may see in full, with its
marking-definitions), bundle import as the caller's agency, and the ATT&CK mirror with the
reports the TTP matcher tied to techniques and groups."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from argus.api.deps import Caller, Problem, Reader, Submitter, bounded, json
from argus.api.models import EXAMPLES, Listing, StixImport, Taxii, answers
from argus.api.routes.search import parse_instant
from argus.api.services import Rejected
from argus.stix.attack import lookup, techniques
from argus.stix.export import audit_release, export

router = APIRouter(tags=["stix"])
MAX_EXPORT_HITS = 10_000  # what a search may select for one export (OpenSearch's result window)


def _stix_found(c: Caller, q: str, agencies: list[str] | None, since: str | None, until: str | None) -> list[str]:
    """Record ids of the STIX objects a search finds, as the caller may see them (the same
    search as /api/v1/search, so an analyst exports what they just looked at)."""
    found: list[str] = []
    while len(found) < MAX_EXPORT_HITS:
        res = c.svc.search().search(
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


def _stix_export(c: Caller, sel: dict[str, Any], limit: int) -> bytes:
    types, agencies, only = sel["types"], sel["agencies"], sel["agencies"]
    if sel["collection"] is not None:
        col = c.svc.topo.model.taxii.collection(sel["collection"])
        if col is None or not col.can_read(c.who.agency):
            raise Problem(404, "No such collection", f"no collection {sel['collection']} you may read")
        if col.types:
            types = [t for t in types if t in col.types] if types else list(col.types)
        if col.agencies:
            only = [a for a in agencies if a in col.agencies] if agencies else list(col.agencies)
    if types == [] or only == []:  # filters that exclude each other select nothing
        record_ids: list[str] | None = []
    else:
        q = sel["q"]
        record_ids = _stix_found(c, q, only, sel["since"], sel["until"]) if q is not None else None
    res = export(
        c.svc.stix(), c.gate.view, ids=sel["ids"], types=types, record_ids=record_ids, case=sel["case"],
        agencies=only, limit=limit,
    )  # fmt: skip
    selection = {"types": types, "ids": sel["ids"], "case": sel["case"], "collection": sel["collection"], "q": sel["q"]}
    audit_release(
        c.api.audit,
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
        c.audited("export", "stix", **selection, returned=0, withheld=res.withheld)
    return res.bundle


@router.get(
    "/api/v1/stix/bundle",
    summary="Export a STIX 2.1 bundle: the objects you may see in full, with their marking-definitions",
    responses=answers(Taxii, EXAMPLES["bundle"], media="application/stix+json;version=2.1"),
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
    since: Annotated[str | None, Query(max_length=64, description="Modified at or after (ISO 8601; with q)")] = None,
    until: Annotated[str | None, Query(max_length=64, description="Modified at or before (ISO 8601; with q)")] = None,
    limit: Annotated[int, Query(ge=1, le=100_000)] = 10_000,
) -> Any:
    """A selection (ids, types, a case, a TAXII collection's view, or what a search for `q`
    finds) as one bundle: only objects the caller may see in full, each with its markings."""
    sel = {
        "types": type,
        "ids": id,
        "case": case,
        "collection": collection,
        "q": q,
        "agencies": agency,
        "since": parse_instant(since, "since"),
        "until": parse_instant(until, "until"),
    }
    body = await bounded(c, _stix_export, c, sel, limit)
    return Response(body, media_type="application/stix+json;version=2.1")


def _techniques(c: Caller, ids: list[str] | None, tactic: str | None, q: str | None, revoked: bool) -> dict[str, Any]:
    found = list(techniques(c.svc.stix(), c.gate.view, ids=ids, tactic=tactic, q=q, include_revoked=revoked))
    c.audited("read", "attack", ids=ids, tactic=tactic, q=q, returned=len(found))
    return {"total": len(found), "techniques": found}


@router.get(
    "/api/v1/attack/techniques",
    summary="MITRE ATT&CK techniques in the STIX store, by ATT&CK id, tactic and name",
    responses=answers(Listing, EXAMPLES["techniques"]),
)
async def attack_techniques(
    c: Reader,
    id: Annotated[list[str] | None, Query(description="ATT&CK ids, e.g. T0800, T1566.001")] = None,
    tactic: Annotated[str | None, Query(max_length=64, description="Tactic short name, e.g. initial-access")] = None,
    q: Annotated[str | None, Query(max_length=200, description="Words of the name")] = None,
    include_revoked: bool = False,
) -> Any:
    """Techniques and sub-techniques of the loaded ATT&CK releases; revoked and deprecated ones
    only when asked for."""
    return json(await bounded(c, _techniques, c, id, tactic, q, include_revoked))


def _matches(c: Caller, technique: list[str] | None, group: list[str] | None, limit: int) -> dict[str, Any]:
    """Reports the TTP-matching processor tied to techniques or groups: the graph's
    MATCHES_TECHNIQUE / ATTRIBUTED_TO edges into the mirror's objects, each report and edge as
    the one policy shows them to the caller (an edge is there only if its report may be seen)."""
    if bool(technique) == bool(group):
        raise Problem(400, "Say what to look for", "give technique=<ATT&CK id> or group=<ATT&CK id>, not both")
    g = c.svc.graph()
    gate = c.gate
    gate.graph = g
    kind, rel = ("techniques", "MATCHES_TECHNIQUE") if technique else ("groups", "ATTRIBUTED_TO")
    targets = {f["stix_id"]: f for f in lookup(c.svc.stix(), gate.view, kind, ids=technique or group)}
    edges = [e for e in g.edges_of(list(targets), limit=20_000) if e["rel"] == rel and e["dst"] in targets]
    reports = []
    for e in gate.allow(edges):
        shown, node = gate.edge(e), gate.node(g.node(e["src"]))
        if shown is None or node is None:
            continue
        p = shown["props"]
        t = targets[e["dst"]]
        reports.append(
            {
                "attack_id": t["attack_id"],
                "name": t.get("name"),
                "score": p.get("score"),
                "evidence": p.get("reason"),
                "record_id": p.get("record_id"),
                "report": node,
            }
        )
    reports.sort(key=lambda r: (-(r["score"] or 0.0), r["record_id"] or ""))
    returned = [r["record_id"] for r in reports[:limit]]
    c.audited("read", "attack:matches", technique=technique, group=group, returned=returned)
    return {"total": len(reports), "matches": reports[:limit]}


@router.get(
    "/api/v1/attack/matches",
    summary="Reports matched to ATT&CK techniques, or attributed to groups, with the evidence",
    responses=answers(Listing, EXAMPLES["matches"]),
)
async def attack_matches(
    c: Reader,
    technique: Annotated[list[str] | None, Query(description="ATT&CK technique ids, e.g. T0884")] = None,
    group: Annotated[list[str] | None, Query(description="ATT&CK group ids, e.g. G0034")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Any:
    """The reports the TTP matcher tied to these techniques or groups, highest score first, each
    report as the policy shows it to the caller."""
    return json(await bounded(c, _matches, c, technique, group, limit))


def _attack(c: Caller, kind: str, ids: list[str] | None, q: str | None, revoked: bool, related: bool) -> dict[str, Any]:
    found = lookup(c.svc.stix(), c.gate.view, kind, ids=ids, q=q, include_revoked=revoked, related=related)
    c.audited("read", f"attack:{kind}", ids=ids, q=q, returned=len(found))
    return {"total": len(found), kind: found}


@router.get(
    "/api/v1/attack/{kind}",
    summary="ATT&CK groups, software, mitigations, tactics, campaigns (and techniques) with their relations",
    responses=answers(Listing, EXAMPLES["attack"]),
)
async def attack_kind(
    c: Reader,
    kind: Literal["techniques", "groups", "software", "mitigations", "tactics", "campaigns"],
    id: Annotated[list[str] | None, Query(description="ATT&CK ids, e.g. G0034, S0604, M0807")] = None,
    q: Annotated[str | None, Query(max_length=200, description="Words of the name or an alias")] = None,
    related: Annotated[bool, Query(description="With what ATT&CK relates each to")] = False,
    include_revoked: bool = False,
) -> Any:
    """ATT&CK objects of one kind by id or name (aliases too), with what ATT&CK relates each to."""
    return json(await bounded(c, _attack, c, kind, id, q, include_revoked, related))


def _stix_import(c: Caller, bundle: Any) -> dict[str, Any]:
    try:
        out = c.svc.stix_import(bundle, c.who.agency, c.gate.view)
    except Rejected as exc:
        raise Problem(422, "Bundle rejected", "; ".join(p["problem"] for p in exc.problems)) from None
    c.api.audit.record(
        "write",
        actor=c.subject,
        agency=c.who.agency,
        object=f"stix:{out['accepted']} object(s)",
        source=c.source,
        detail={"ids": out.pop("ids")[:1000], "rejected": len(out["rejected"])},
    )
    return out


@router.post(
    "/api/v1/stix/bundle",
    status_code=202,
    summary="Import a STIX 2.1 bundle as your agency (objects validated; SCO ids recomputed)",
    responses=answers(StixImport, EXAMPLES["import"], 202),
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"example": EXAMPLES["bundle"]}}}},
)
async def stix_import(c: Submitter, request: Request) -> Any:
    """Each object is checked (STIX 2.1, size and depth limits, hostile characters) and published
    into the pipeline as your agency's; each refused one is listed with its reason."""
    bundle = await read_json(request, c.svc.topo.model.taxii.max_content_length)
    return json(await bounded(c, _stix_import, c, bundle), 202)


async def read_body(request: Request, max_bytes: int, limit: str) -> bytes:
    """A request body's bytes, refused (413) as soon as they pass `max_bytes` (the `limit` named)."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_bytes:
            raise Problem(413, "Too large", f"the body is over {max_bytes} bytes ({limit})")
    return bytes(body)


async def read_json(request: Request, max_bytes: int) -> Any:
    """A request body as JSON, refused whole (413) past `max_bytes` and (400) when malformed or
    nested deeper than a STIX object can usefully be."""
    from argus.stix.limits import StixTooLarge, loads_bounded

    body = await read_body(request, max_bytes, "max_content_length")
    try:
        return loads_bounded(body)
    except StixTooLarge as exc:
        raise Problem(400, "Refused", str(exc)) from None
    except ValueError as exc:
        raise Problem(400, "Malformed JSON", f"body: {exc}") from None
