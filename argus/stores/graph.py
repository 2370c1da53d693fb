"""The graph store interface: POLE entities, their links, where each came from, and merges.

Writes are upserts by deterministic id, and a write naming an entity that has since been
merged lands on the survivor: a replay after a crash, in any order relative to the merge,
leaves the same graph.

Every edge and source row remembers the entity it was first written for, so an analyst can
undo a merge: unmerge() gives the merged entity back its own links and source records, and the
pair is kept apart from then on (a merge of it arriving later, from a replay or a lagging
partition, is ignored). delete_record() removes what one source record contributed, and any
entity left with no source record at all (a purge).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping
from typing import Any, NotRequired, TypedDict

import orjson


class GraphNode(TypedDict):
    id: str
    kind: str  # PERSON | OBJECT | LOCATION | EVENT
    subtype: str
    label: str
    props: dict[str, Any]


class GraphEdge(TypedDict):
    id: str
    src: str
    dst: str
    rel: str
    props: dict[str, Any]


class SourceRow(TypedDict):
    entity_id: str
    record_id: str
    agency: str
    tlp: str
    method: str
    score: float
    reason: str
    # The rest of the record's marking (argus.security.policy.Marking), kept so that the policy
    # decides on a source row exactly as it would on the record.
    ci: NotRequired[bool]
    handling: NotRequired[list[str]]
    cases: NotRequired[list[str]]
    recipients: NotRequired[list[str]]
    whole: NotRequired[bool]  # the record is shown whole or not at all (a STIX object)
    # What this record said about the entity (its display and attributes). An entity merged from
    # several records is shown to each reader from the mentions that reader may see, never from
    # whichever record happened to be written last (a RED report's spelling of a name must not
    # surface through a GREEN report of the same person).
    label: NotRequired[str]
    attrs: NotRequired[dict[str, str]]


MARK_KEYS = ("ci", "handling", "cases", "recipients", "whole", "label", "attrs")


def marks_json(row: Mapping[str, Any]) -> bytes:
    """A source row's marking beyond agency and tlp, and its mention, as stores keep it (one
    JSON value)."""
    return orjson.dumps({k: row[k] for k in MARK_KEYS if k in row})


EDGES_PER_NODE = 3
EdgeFilter = Callable[[list["GraphEdge"]], list["GraphEdge"]]


def display_of(rows: list[SourceRow]) -> tuple[str | None, dict[str, str]]:
    """An entity's label and attributes as a function of its sources' mentions alone, whatever
    order they were written in: the most common spelling of each (ties to the first in sort
    order), so a typist's one-off "LNOG" does not displace "LONG" however the records arrive."""
    labels = Counter(r["label"] for r in rows if r.get("label"))
    label = min(labels, key=lambda x: (-labels[x], x)) if labels else None
    values: dict[str, Counter[str]] = {}
    for r in rows:
        for k, v in (r.get("attrs") or {}).items():
            values.setdefault(k, Counter())[v] += 1
    return label, {k: min(c, key=lambda x: (-c[x], x)) for k, c in sorted(values.items())}


# A spelling tally: how many of an entity's sources wrote each (field, value). The label's field
# is LABEL, an attribute's its name (never empty); TOLD counts the sources that said anything.
LABEL, TOLD = "", "\x00"
Tally = Mapping[tuple[str, str], int]


def spellings(row: Mapping[str, Any]) -> list[tuple[str, str]]:
    """What one source row says of its entity's display, as (field, value) pairs; nothing from
    a row written before mentions were kept."""
    if "attrs" not in row:
        return []
    out = [(TOLD, "")] + ([(LABEL, row["label"])] if row.get("label") else [])
    return out + sorted((k, str(v)) for k, v in (row.get("attrs") or {}).items())


def tally(rows: Iterable[Mapping[str, Any]]) -> Counter[tuple[str, str]]:
    return Counter(sp for r in rows for sp in spellings(r))


def winners(counts: Tally) -> tuple[str | None, dict[str, str]]:
    """The label and attributes a tally elects: the most common spelling of each field, ties to
    the first in sort order (as display_of does on the rows themselves)."""
    fields: dict[str, dict[str, int]] = {}
    for (f, v), n in counts.items():
        if n > 0 and f != TOLD:
            fields.setdefault(f, {})[v] = n
    labels = fields.pop(LABEL, {})
    label = min(labels, key=lambda x: (-labels[x], x)) if labels else None
    return label, {f: min(c, key=lambda x, c=c: (-c[x], x)) for f, c in sorted(fields.items())}


def settled(node: GraphNode, counts: Tally) -> tuple[str, dict[str, Any]] | None:
    """The label and props `node` should hold given its sources' spelling tally, or None if it
    holds them (an EVENT node is its record's; sources written before mentions were kept say
    nothing)."""
    if node["kind"] == "EVENT" or counts.get((TOLD, ""), 0) <= 0:
        return None
    label, attrs = winners(counts)
    props: dict[str, Any] = dict(attrs)
    if "keys" in node["props"]:
        props["keys"] = node["props"]["keys"]
    label = label or node["label"]
    return None if (label, props) == (node["label"], node["props"]) else (label, props)


class GraphStore(ABC):
    _alias: dict[str, str]  # merged id -> survivor id, as the backend last saw it
    _unsettled: set[str]

    def settle(self, entity_ids: list[str]) -> None:
        """Have these entities' labels and attributes rewritten from all their sources at the
        next commit (after a write or a purge touched them): a stored entity is then the same
        whatever order its records came in, and keeps no word of a purged record."""
        if not hasattr(self, "_unsettled"):
            self._unsettled = set()
        self._unsettled.update(entity_ids)

    def take_unsettled(self) -> list[str]:
        ids = sorted(getattr(self, "_unsettled", ()))
        self._unsettled = set()
        return ids

    @abstractmethod
    def refresh(self) -> None:
        """Pick up merges written by another process (a reader beside the sink calls this)."""

    def _subtree(self, node_id: str) -> list[str]:
        """The node and every id merged into it, directly or through a chain of merges."""
        children: dict[str, list[str]] = {}
        for m, s in self._alias.items():
            children.setdefault(s, []).append(m)
        out, stack = [], [node_id]
        while stack:
            n = stack.pop()
            out.append(n)
            stack.extend(children.get(n, ()))
        return out

    @abstractmethod
    def upsert_nodes(self, nodes: list[GraphNode]) -> None: ...

    @abstractmethod
    def upsert_edges(self, edges: list[GraphEdge]) -> None: ...

    @abstractmethod
    def add_sources(self, rows: list[SourceRow]) -> None: ...

    @abstractmethod
    def merge(self, survivor: str, merged: str, reason: str, score: float) -> None: ...

    @abstractmethod
    def unmerge(self, merged: str) -> bool:
        """Undo the merge of `merged` into its survivor; False if it is not merged."""

    @abstractmethod
    def keep_apart(self, a: str, b: str, reason: str) -> None:
        """From now on, a merge of these two is ignored (an analyst said they differ, and why)."""

    @abstractmethod
    def kept_apart(self, a: str, b: str) -> bool: ...

    @abstractmethod
    def delete_record(self, record_id: str) -> None:
        """Remove a source record's contribution, and the entities left with no source record."""

    def begin(self) -> None:
        """Start a write (a sink's flush): a store that maps merged ids to their survivor on the
        client side reads the current merges here, under its write lock, so a merge another
        writer (a sink task in another process) committed since is followed. Others need nothing."""
        return None

    @abstractmethod
    def commit(self) -> None:
        """Make everything written so far durable."""

    @abstractmethod
    def node(self, node_id: str) -> GraphNode | None:
        """The node, following merges to the survivor."""

    @abstractmethod
    def nodes_of(self, ids: list[str]) -> dict[str, GraphNode]:
        """Many (canonical) nodes in one round trip, by id; missing ids are left out."""

    @abstractmethod
    def canonical(self, node_id: str) -> str:
        """The id a node is known by now (the survivor, if it was merged)."""

    @abstractmethod
    def edges_of(self, ids: list[str], limit: int | None = None) -> list[GraphEdge]:
        """Every edge touching any of these (canonical) nodes: the one primitive traversals use.
        With a limit, the first `limit` by edge id (the same ones on every backend)."""

    @abstractmethod
    def edges_by_rel(self, rel: str, limit: int) -> list[GraphEdge]:
        """The first `limit` edges of one relationship type by edge id, between the nodes' ids
        as they are now (the review queue: every POSSIBLE_SAME_AS)."""

    # Traversals are written once, here, over edges_of(): every backend answers them alike.
    # `allow` is the reader's policy on edges: a traversal never steps over an edge it refuses,
    # so a hidden link cannot be inferred from what lies beyond it.
    def neighbours(
        self, node_id: str, hops: int = 1, limit: int = 200, allow: EdgeFilter | None = None
    ) -> dict[str, Any]:
        """{"nodes": [...], "edges": [...], "truncated": bool} within `hops` of the node.

        A dense node (a place or a series with thousands of links) would make every expansion
        fetch all its edges only to keep `limit` nodes: each hop reads at most EDGES_PER_NODE x
        `limit` edges, the same ones on every backend, and says so with `truncated`."""
        start = self.canonical(node_id)
        seen = {start}
        frontier = [start]
        edges: dict[str, GraphEdge] = {}
        cap = EDGES_PER_NODE * limit
        truncated = False
        for _ in range(hops):
            nxt = []
            got = self.edges_of(frontier, limit=cap)
            truncated = truncated or len(got) >= cap
            for e in self._allowed(got, allow):
                edges[e["id"]] = e
                for n in (e["src"], e["dst"]):
                    if n not in seen:
                        if len(seen) >= limit:
                            truncated = True
                            continue
                        seen.add(n)
                        nxt.append(n)
            frontier = nxt
            if not frontier:
                break
        nodes = list(self.nodes_of(sorted(seen)).values())
        kept = {n["id"] for n in nodes}
        return {
            "nodes": nodes,
            "edges": [e for e in edges.values() if e["src"] in kept and e["dst"] in kept],
            "truncated": truncated,
        }

    @staticmethod
    def _allowed(edges: list[GraphEdge], allow: EdgeFilter | None) -> list[GraphEdge]:
        return edges if allow is None else allow(edges)

    def paths(
        self, src: str, dst: str, max_hops: int = 4, limit: int = 5, allow: EdgeFilter | None = None
    ) -> list[list[GraphEdge]]:
        """Shortest paths (as edge lists) between two nodes."""
        src, dst = self.canonical(src), self.canonical(dst)
        if src == dst:
            return [[]]
        # BFS keeping every shortest-path parent, then enumerate up to `limit` paths.
        parents: dict[str, list[GraphEdge]] = {src: []}
        depth = {src: 0}
        queue = deque([src])
        found = False
        while queue and not found:
            level = list(queue)
            queue.clear()
            if depth[level[0]] >= max_hops:
                break
            for e in self._allowed(self.edges_of(level), allow):
                for a, b in ((e["src"], e["dst"]), (e["dst"], e["src"])):
                    if a in depth and depth[a] == depth[level[0]] and (b not in depth or depth[b] == depth[a] + 1):
                        if b not in depth:
                            depth[b] = depth[a] + 1
                            parents[b] = []
                            queue.append(b)
                        parents[b].append(e)
                        found = found or b == dst
        if dst not in parents:
            return []
        out: list[list[GraphEdge]] = []

        def walk(node: str, acc: list[GraphEdge]) -> None:
            if len(out) >= limit:
                return
            if node == src:
                out.append(list(reversed(acc)))
                return
            for e in parents[node]:
                prev = e["src"] if e["dst"] == node else e["dst"]
                if depth.get(prev, -1) == depth[node] - 1:
                    walk(prev, [*acc, e])

        walk(dst, [])
        return out

    @abstractmethod
    def sources(self, entity_id: str) -> list[SourceRow]: ...

    @abstractmethod
    def sources_for(self, entity_ids: list[str]) -> dict[str, list[SourceRow]]:
        """Source rows of many (canonical) entities in one round trip: what a reader's policy
        needs to decide, per node of a neighbourhood, whether and how it may be shown."""

    @abstractmethod
    def merges(self, entity_id: str) -> list[dict[str, Any]]: ...

    @abstractmethod
    def counts(self) -> dict[str, int]: ...

    @abstractmethod
    def close(self) -> None: ...
