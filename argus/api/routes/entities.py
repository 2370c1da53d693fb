"""Entities and link analysis: a resolved entity with its sources and merges, undoing a merge,
n-hop neighbourhoods, paths between two entities, and timelines of an entity or a case.

Every node, edge and source passes the caller's gate; a traversal follows only edges whose
report the caller may see beyond its mere existence, so a neighbourhood never tells whom a
withheld record mentions.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from argus.api.deps import Caller, Decider, Problem, Reader, bounded, json
from argus.api.models import EXAMPLES, Accepted, Neighbourhood, PathsAnswer, Profile, Timeline, answers
from argus.api.routes.search import SearchArgs, run_search
from argus.records import deterministic_id
from argus.stores.graph import GraphStore

router = APIRouter(tags=["analyst"])
DEGREE_CAP = 200


class Unmerge(BaseModel):
    reason: str = Field(min_length=3, max_length=2000, description="Why these are different entities")


def visible(c: Caller, g: GraphStore, entity_id: str) -> dict[str, Any]:
    """The entity as the gate shows it; an entity the caller may not see does not exist."""
    c.gate.graph = g
    node = c.gate.node(g.node(entity_id))
    if node is None:
        raise c.hide(entity_id)
    return node


def _profile(c: Caller, entity_id: str) -> dict[str, Any]:
    g = c.svc.graph()
    gate = c.gate
    node = visible(c, g, entity_id)
    canonical = node["id"]
    out = {
        "entity": node,
        "requested_id": entity_id,
        "merged_from": gate.merges(canonical, g.merges(canonical)),
        "sources": gate.sources(canonical),
    }
    c.audited("read", canonical, endpoint="entity", access=node["access"])
    return out


@router.get(
    "/api/v1/entities/{entity_id}",
    summary="A resolved entity, its sources, merges",
    responses=answers(Profile, EXAMPLES["profile"]),
)
async def entity(c: Reader, entity_id: str) -> Any:
    """The entity (a merged id answers with its survivor) as the caller's visible sources tell
    it, each source record with why it matched, and what was merged into it and why."""
    return json(await bounded(c, _profile, c, entity_id))


def _unmerge(c: Caller, entity_id: str, body: Unmerge) -> dict[str, Any]:
    g = c.svc.graph()
    survivor = g.canonical(entity_id)
    if survivor == entity_id:
        raise Problem(409, "Not merged", f"{entity_id} is not merged into another entity")
    c.gate.graph = g
    view = c.gate.node_view(survivor)
    if view is None or view.level != "full":
        c.denied(entity_id, "unmerge needs full access to the entity")
        raise Problem(403, "Not yours to split", "undoing a merge needs full access to the entity")
    did = c.svc.decide_unmerge(entity_id, survivor, c.subject, c.who.agency, body.reason)
    c.api.audit.record(
        "write",
        actor=c.subject,
        agency=c.who.agency,
        object=entity_id,
        source=c.source,
        reason=body.reason,
        detail={"decision": "UNMERGE", "decision_id": did, "survivor": survivor},
    )
    return {"decision_id": did, "entity_id": entity_id, "was_merged_into": survivor, "status": "accepted"}


@router.post(
    "/api/v1/entities/{entity_id}/unmerge",
    status_code=202,
    summary="Undo the merge of this entity into its survivor (applied by the pipeline)",
    responses=answers(Accepted, EXAMPLES["unmerge"], 202),
)
async def unmerge(c: Decider, entity_id: str, body: Unmerge) -> Any:
    """An analyst's decision that two merged entities are different: published on the decisions
    topic; entity resolution, correlation and the graph split them and keep them apart."""
    return json(await bounded(c, _unmerge, c, entity_id, body), 202)


def _neighbours(c: Caller, entity_id: str, hops: int, limit: int, rels: frozenset[str], degree: bool) -> dict[str, Any]:
    g = c.svc.graph()
    gate = c.gate
    visible(c, g, entity_id)

    def allow(edges: list[Any]) -> list[Any]:  # the relationship types asked for, then the policy
        return gate.allow([e for e in edges if e["rel"] in rels] if rels else edges)

    res = g.neighbours(entity_id, hops=hops, limit=limit, allow=allow)
    nodes = [n for n in (gate.node(x) for x in res["nodes"]) if n is not None]
    kept = {n["id"] for n in nodes}
    edges = [x for x in (gate.edge(e) for e in res["edges"] if e["src"] in kept and e["dst"] in kept) if x]
    if degree:  # how many links each node has that this caller may follow: a chart's "+N"
        for n in nodes:
            around = g.neighbours(n["id"], hops=1, limit=DEGREE_CAP, allow=gate.allow)
            n["degree"] = len({e["id"] for e in around["edges"]})
    c.audited("read", entity_id, endpoint="neighbours", hops=hops, returned=len(nodes))
    return {
        "center": g.canonical(entity_id),
        "hops": hops,
        "truncated": res["truncated"],
        "nodes": nodes,
        "edges": edges,
    }


@router.get(
    "/api/v1/entities/{entity_id}/neighbours",
    summary="n-hop link analysis",
    responses=answers(Neighbourhood, EXAMPLES["neighbours"]),
)
async def neighbours(
    c: Reader,
    entity_id: str,
    hops: Annotated[int, Query(ge=1, le=3)] = 1,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
    rel: Annotated[
        list[str] | None, Query(max_length=20, description="Follow only these relationship types (default: all)")
    ] = None,
    degree: Annotated[bool, Query(description="Give each node the number of links the caller may follow")] = False,
) -> Any:
    """Entities within `hops` links, each edge with the reason it exists. No edge of a record
    the caller may not read is followed, so a neighbourhood never tells whom it mentions, and a
    node's `degree` counts only such edges."""
    rels = frozenset(r[:64] for r in rel or ())
    return json(await bounded(c, _neighbours, c, entity_id, hops, limit, rels, degree))


def _paths(c: Caller, src: str, dst: str, max_hops: int, limit: int) -> dict[str, Any]:
    g = c.svc.graph()
    gate = c.gate
    for x in (src, dst):
        visible(c, g, x)
    found = g.paths(src, dst, max_hops=max_hops, limit=limit, allow=gate.allow)
    ids = sorted({x for p in found for e in p for x in (e["src"], e["dst"])})
    nodes = {i: gate.node(n) for i, n in g.nodes_of(ids).items()}
    shown = [[gate.edge(e) for e in p] for p in found]
    c.audited("read", f"{src}->{dst}", endpoint="paths", returned=len(found))
    return {
        "from": g.canonical(src),
        "to": g.canonical(dst),
        "paths": [p for p in shown if all(p)],
        "nodes": [n for n in nodes.values() if n is not None],
    }


@router.get(
    "/api/v1/paths",
    summary="Shortest paths between two entities, with reasons",
    responses=answers(PathsAnswer, EXAMPLES["paths"]),
)
async def paths(
    c: Reader,
    src: Annotated[str, Query(alias="from", max_length=128)],
    dst: Annotated[str, Query(alias="to", max_length=128)],
    max_hops: Annotated[int, Query(ge=1, le=6)] = 4,
    limit: Annotated[int, Query(ge=1, le=20)] = 5,
) -> Any:
    """Up to `limit` shortest paths, edge by edge with reasons; a path is shown only if the
    caller may see every edge of it."""
    return json(await bounded(c, _paths, c, src, dst, max_hops, limit))


def _timeline(c: Caller, entity_id: str, limit: int, offset: int) -> dict[str, Any]:
    g = c.svc.graph()
    node = visible(c, g, entity_id)
    records = sorted({s["record_id"] for s in c.gate.sources(node["id"])})
    res = run_search(c, SearchArgs(), 1000, 0, ids=records)
    events = sorted(res["hits"], key=lambda h: (h.get("occurred_at") or "", h["id"]))
    page = events[offset : offset + limit]
    c.audited("read", node["id"], endpoint="timeline", returned=[e["id"] for e in page])
    return {"entity": node, "total": len(events), "events": page}


@router.get(
    "/api/v1/entities/{entity_id}/timeline",
    summary="Reports about an entity in time order",
    responses=answers(Timeline, EXAMPLES["timeline"]),
)
async def timeline(
    c: Reader,
    entity_id: str,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> Any:
    """The reports that mention the entity, oldest first, as search shows them to the caller."""
    return json(await bounded(c, _timeline, c, entity_id, limit, offset))


@router.get(
    "/api/v1/cases/{series}/timeline",
    summary="A case (crime series) in time order",
    responses=answers(Timeline, EXAMPLES["timeline"]),
)
async def case_timeline(
    c: Reader,
    series: str,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> Any:
    """The reports of a crime series (its id as the RMS writes it, e.g. ROB-2026-014), oldest first."""
    return json(await bounded(c, _timeline, c, deterministic_id("series", series.upper()), limit, offset))
