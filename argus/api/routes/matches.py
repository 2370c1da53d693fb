"""The possible-match review queue: persons entity resolution could not decide, for an analyst to
confirm (one person from then on) or reject (kept apart for good).

A possible match is shown, and may be decided, only by a caller who sees in full the record that
raised it and both persons: its evidence (which fields agree and how far) says something about
each side's records, so partial sight of either is no sight of the match. Everything else is
answered as if it did not exist. Decisions are published on the decisions topic, applied by
entity resolution, correlation and the graph, and audited; they are the analysts' labels too.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from argus.api.deps import Caller, Decider, Problem, Reader, bounded, json
from argus.api.models import EXAMPLES, Accepted, MatchQueue, PossibleMatch, answers
from argus.security.policy import FULL
from argus.stores.graph import GraphEdge, GraphStore

router = APIRouter(tags=["analyst"])
POSSIBLE = "POSSIBLE_SAME_AS"
# Possible matches read per request, the first by id (the graph store reads them in id order),
# then filtered by the caller's view: a queue longer than this shows its first SCAN only.
SCAN = 2000


class MatchDecision(BaseModel):
    verdict: Literal["SAME", "APART"] = Field(description="SAME: one person; APART: two, kept apart for good")
    reason: str = Field(min_length=3, max_length=2000, description="Why (kept in the audit trail and with the merge)")


def _open(g: GraphStore, e: GraphEdge) -> bool:
    """Still undecided: its two persons are not one already and were not kept apart."""
    a, b = g.canonical(e["src"]), g.canonical(e["dst"])
    return a != b and not g.kept_apart(a, b)


def _item(c: Caller, g: GraphStore, e: GraphEdge) -> dict[str, Any] | None:
    """The match as the caller may see it, or None: the raising record and both persons in full."""
    shown = c.gate.edge(e)
    if shown is None or shown["props"].get("reason") == "withheld":
        return None
    ends = []
    for x in (e["src"], e["dst"]):
        view = c.gate.node_view(g.canonical(x))
        node = c.gate.node(g.node(x))
        if view is None or view.level != FULL or node is None:
            return None
        ends.append(node)
    p = e["props"]
    return {
        "id": e["id"],
        "entity": ends[0],
        "other": ends[1],
        "weight": p.get("weight", 0.0),
        "evidence": p.get("evidence", []),
        "reason": p.get("reason", ""),
        "record_id": p.get("record_id", ""),
    }


def _queue(c: Caller, limit: int) -> dict[str, Any]:
    g = c.svc.graph()
    c.gate.graph = g
    items = [x for e in g.edges_by_rel(POSSIBLE, SCAN) if _open(g, e) and (x := _item(c, g, e)) is not None]
    items.sort(key=lambda x: (-x["weight"], x["id"]))
    c.audited("read", "possible-matches", endpoint="matches", returned=min(limit, len(items)))
    return {"total": len(items), "matches": items[:limit]}


@router.get(
    "/api/v1/matches",
    summary="Possible matches to review, strongest first",
    responses=answers(MatchQueue, EXAMPLES["possible_matches"]),
)
async def matches(c: Reader, limit: Annotated[int, Query(ge=1, le=200)] = 50) -> Any:
    """Persons a record named whose match weight with a person on file fell between the review
    and merge thresholds (or who fit several people who cannot be one), with each field's part."""
    return json(await bounded(c, _queue, c, limit))


def _find(c: Caller, g: GraphStore, match_id: str) -> tuple[GraphEdge, dict[str, Any]]:
    c.gate.graph = g
    for e in g.edges_by_rel(POSSIBLE, SCAN):
        if e["id"] == match_id:
            item = _item(c, g, e)
            if item is not None:
                return e, item
            break
    c.denied(match_id, "policy")
    raise Problem(404, "No such possible match", f"no possible match {match_id!r} you may see")


def _one(c: Caller, match_id: str) -> dict[str, Any]:
    g = c.svc.graph()
    e, item = _find(c, g, match_id)
    c.audited("read", match_id, endpoint="match", open=_open(g, e))
    return item | {"open": _open(g, e)}


@router.get(
    "/api/v1/matches/{match_id}",
    summary="One possible match: why these may be the same person",
    responses=answers(PossibleMatch, EXAMPLES["possible_matches"]["matches"][0]),
)
async def match(c: Reader, match_id: str) -> Any:
    """Each field's comparison and the weight it contributed, and whether it is still open."""
    return json(await bounded(c, _one, c, match_id))


def _decide(c: Caller, match_id: str, body: MatchDecision) -> dict[str, Any]:
    g = c.svc.graph()
    e, _ = _find(c, g, match_id)
    if not _open(g, e):
        raise Problem(409, "Already decided", f"possible match {match_id} was decided or merged already")
    did = c.svc.decide(e["src"], e["dst"], body.verdict, c.subject, c.who.agency, body.reason)
    c.api.audit.record(
        "write",
        actor=c.subject,
        agency=c.who.agency,
        object=match_id,
        source=c.source,
        reason=body.reason,
        detail={"decision": body.verdict, "decision_id": did, "entity": e["src"], "other": e["dst"]},
    )
    return {"decision_id": did, "match_id": match_id, "verdict": body.verdict, "status": "accepted"}


@router.post(
    "/api/v1/matches/{match_id}/decision",
    status_code=202,
    summary="Confirm (SAME) or reject (APART) a possible match (applied by the pipeline)",
    responses=answers(Accepted, EXAMPLES["match_decision"], 202),
)
async def decide(c: Decider, match_id: str, body: MatchDecision) -> Any:
    """An analyst's decision, published on the decisions topic: SAME merges the two persons in
    entity resolution, correlation and the graph; APART keeps them apart from then on."""
    return json(await bounded(c, _decide, c, match_id, body), 202)
