"""The graph store on Neo4j, through the official driver over Bolt.

Model:
- `(:Entity {id, kind, subtype, label, props})` plus a POLE label `:Person`, `:Object`,
  `:Location` or `:Event`; `props` is the entity's attributes as JSON. A merged entity keeps its
  node with `merged_into`, `merge_reason` and `merge_score`, and loses its relationships to the
  survivor.
- `(:Entity)-[:LINK {id, rel, props, src0, dst0, record_id}]->(:Entity)`: one relationship type
  whose `rel` property carries the link (SUSPECT_VEHICLE, PART_OF_SERIES...). A single type is
  what lets a merge move every relationship without APOC. `src0`/`dst0` are the entities it was
  written for (what an undone merge gives back), `record_id` the report it came from (a purge).
- `(:Entity)-[:SOURCED_FROM {k, entity0, agency, tlp, method, score, reason}]->(:Record {id})`:
  each source record of an entity and why it was matched (`k` = entity0|record id, its key).
- A node without `kind` stands for an entity whose own record is not written yet: a link, a
  source or a merge that names it came first (the sink reads partitions in arrival order). It is
  not a node to readers or counts until its record fills it in, as in the embedded store, where
  such rows simply wait for the node. Either way the graph ends the same whatever the order.
- `(:KeptApart {pair: 'a|b', reason})`: pairs an analyst split; a later merge of them is ignored.
- `(:ArgusMeta {id: 'merges', n})`: bumped on each merge or split, so a reader in another process
  (the API) reloads its alias map only when it changed.

Writes are batched `UNWIND $rows ... MERGE` statements (`batch` rows per statement, default
5,000: bench/stores.py measured larger batches no faster and smaller ones slower), queued and
run in one write transaction by commit() (the sink's flush), with the driver's retries on
transient errors. Uniqueness constraints and indexes on every MERGE key are created at start, so
replays are idempotent and fast.

URL: `neo4j://host:port` or `bolt://host:port[?batch=5000]`; credentials from
ARGUS_NEO4J_USER / ARGUS_NEO4J_PASSWORD, database from ARGUS_NEO4J_DATABASE.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlparse, urlunparse

import orjson

from argus.stores.graph import GraphEdge, GraphNode, GraphStore, SourceRow, marks_json
from argus.stores.neo4j_cypher import MOVE_TO_SURVIVOR, SCHEMA, rehome, settle

try:
    from neo4j import GraphDatabase
except ImportError as exc:  # pragma: no cover - the registry reports the pip extra
    raise ImportError("the Neo4j graph store needs the neo4j driver: pip install 'argus-fusion[neo4j]'") from exc

POLE_LABELS = {"PERSON": "Person", "OBJECT": "Object", "LOCATION": "Location", "EVENT": "Event"}
Step = tuple[str, dict[str, Any]] | Callable[[Any], None]


class Neo4jGraphStore(GraphStore):
    def __init__(self, url: str) -> None:
        self.url = url
        u = urlparse(url)
        q = {k: v[-1] for k, v in parse_qs(u.query).items()}
        self.batch = int(q.get("batch", 5000))
        user, password = os.environ.get("ARGUS_NEO4J_USER"), os.environ.get("ARGUS_NEO4J_PASSWORD")
        self._driver = GraphDatabase.driver(urlunparse(u._replace(query="")), auth=(user, password) if user else None)
        self._db = os.environ.get("ARGUS_NEO4J_DATABASE") or None
        self._queue: list[Step] = []
        self._touched: set[str] = set()  # entities the queued links and sources hang on
        with self._driver.session(database=self._db) as s:
            for stmt in SCHEMA:
                s.run(stmt).consume()
        self._seen_version = -1
        self._merges_queued = False
        self.refresh()

    def refresh(self) -> None:
        with self._driver.session(database=self._db) as s:
            rec = s.run("MATCH (m:ArgusMeta {id: 'merges'}) RETURN m.n AS n").single()
            version = rec["n"] if rec else 0
            if version == self._seen_version:
                return
            self._seen_version = version
            self._alias = {
                r["id"]: r["into"]
                for r in s.run(
                    "MATCH (n:Entity) WHERE n.merged_into IS NOT NULL RETURN n.id AS id, n.merged_into AS into"
                )
            }
            self._apart = {tuple(r["pair"].split("|", 1)) for r in s.run("MATCH (k:KeptApart) RETURN k.pair AS pair")}

    def _queue_rows(self, stmt: str, rows: list[dict[str, Any]]) -> None:
        for i in range(0, len(rows), self.batch):
            self._queue.append((stmt, {"rows": rows[i : i + self.batch]}))

    def canonical(self, node_id: str) -> str:
        for _ in range(64):
            nxt = self._alias.get(node_id)
            if nxt is None:
                break
            node_id = nxt
        return node_id

    # --- writes (queued until commit) ------------------------------------------------------------
    def upsert_nodes(self, nodes: list[GraphNode]) -> None:
        by_label: dict[str, list[dict[str, Any]]] = {}
        for n in nodes:
            by_label.setdefault(POLE_LABELS.get(n["kind"], "Object"), []).append(
                {
                    "id": n["id"],
                    "kind": n["kind"],
                    "subtype": n["subtype"],
                    "label": n["label"],
                    "props": orjson.dumps(n["props"]).decode(),
                }
            )
        for label, rows in by_label.items():  # labels cannot be parameters; these are our four
            self._queue_rows(
                f"UNWIND $rows AS r MERGE (n:Entity {{id: r.id}}) SET n:{label}, n.kind = r.kind, "
                "n.subtype = r.subtype, n.label = r.label, n.props = r.props",
                rows,
            )

    def upsert_edges(self, edges: list[GraphEdge]) -> None:
        rows = [
            {
                "id": e["id"],
                "src": self.canonical(e["src"]),
                "dst": self.canonical(e["dst"]),
                "rel": e["rel"],
                "props": orjson.dumps(e["props"]).decode(),
                "src0": e["src"],
                "dst0": e["dst"],
                "record_id": e["props"].get("record_id"),
            }
            for e in edges
        ]
        self._touched.update(x for r in rows for x in (r["src"], r["dst"]))
        # Relationships are found by their indexed key, not by MERGE on a pattern: MERGE would
        # expand a series or place node's thousands of relationships for every row (bench: 3x).
        self._queue_rows(
            "UNWIND $rows AS e OPTIONAL MATCH ()-[old:LINK {id: e.id}]->() "
            "FOREACH (_ IN CASE WHEN old IS NULL THEN [] ELSE [1] END | SET old.rel = e.rel, old.props = e.props, "
            "old.src0 = e.src0, old.dst0 = e.dst0, old.record_id = e.record_id) WITH e, old WHERE old IS NULL "
            "MERGE (a:Entity {id: e.src}) MERGE (b:Entity {id: e.dst}) CREATE (a)-[:LINK {id: e.id, rel: e.rel, "
            "props: e.props, src0: e.src0, dst0: e.dst0, record_id: e.record_id}]->(b)",
            rows,
        )

    def add_sources(self, rows: list[SourceRow]) -> None:
        data = list(
            {
                f"{r['entity_id']}|{r['record_id']}": dict(
                    r,
                    entity_id=self.canonical(r["entity_id"]),
                    entity0=r["entity_id"],
                    k=f"{r['entity_id']}|{r['record_id']}",
                    marks=marks_json(r).decode(),
                )
                for r in rows
            }.values()
        )
        self._touched.update(r["entity_id"] for r in data)
        self._queue_rows(
            "UNWIND $rows AS s OPTIONAL MATCH ()-[old:SOURCED_FROM {k: s.k}]->() "
            "FOREACH (_ IN CASE WHEN old IS NULL THEN [] ELSE [1] END | SET old.agency = s.agency, old.tlp = s.tlp, "
            "old.method = s.method, old.score = s.score, old.reason = s.reason, old.marks = s.marks) "
            "WITH s, old WHERE old IS NULL "
            "MERGE (e:Entity {id: s.entity_id}) MERGE (r:Record {id: s.record_id}) "
            "CREATE (e)-[:SOURCED_FROM {k: s.k, entity0: s.entity0, agency: s.agency, tlp: s.tlp, "
            "method: s.method, score: s.score, reason: s.reason, marks: s.marks}]->(r)",
            data,
        )

    def merge(self, survivor: str, merged: str, reason: str, score: float) -> None:
        survivor = self.canonical(survivor)
        if survivor == merged or self.kept_apart(survivor, merged):
            return
        p = {"s": survivor, "m": merged, "reason": reason, "score": score}
        self._queue += [
            # MERGE, not MATCH: either entity's own record may not be written yet (the sink reads
            # partitions in arrival order), and the merged node is where the alias lives.
            (
                "MERGE (s:Entity {id: $s}) MERGE (m:Entity {id: $m}) "
                "SET m.merged_into = $s, m.merge_reason = $reason, m.merge_score = $score",
                p,
            ),
            *((stmt, p) for stmt in MOVE_TO_SURVIVOR),
        ]
        self._alias[merged] = survivor
        self._merges_queued = True

    def unmerge(self, merged: str) -> bool:
        if merged not in self._alias:
            return False
        moved = self._subtree(merged)
        at = self.canonical(merged)  # where its links live now
        del self._alias[merged]
        p = {"m": merged, "at": at, "moved": moved}
        self._queue += [
            ("MATCH (m:Entity {id: $m}) REMOVE m.merged_into, m.merge_reason, m.merge_score", p),
            (
                "MATCH (s:Entity {id: $at})-[x:LINK]->(b) WHERE x.src0 IN $moved MATCH (m:Entity {id: $m}) "
                "MERGE (m)-[y:LINK {id: x.id}]->(b) SET y += properties(x) DELETE x",
                p,
            ),
            (
                "MATCH (a)-[x:LINK]->(s:Entity {id: $at}) WHERE x.dst0 IN $moved MATCH (m:Entity {id: $m}) "
                "MERGE (a)-[y:LINK {id: x.id}]->(m) SET y += properties(x) DELETE x",
                p,
            ),
            (
                "MATCH (s:Entity {id: $at})-[x:SOURCED_FROM]->(r) WHERE x.entity0 IN $moved "
                "MATCH (m:Entity {id: $m}) MERGE (m)-[y:SOURCED_FROM {entity0: x.entity0}]->(r) "
                "SET y += properties(x) DELETE x",
                p,
            ),
        ]
        self._merges_queued = True
        return True

    def keep_apart(self, a: str, b: str, reason: str) -> None:
        pair = (min(a, b), max(a, b))
        stmt = "MERGE (k:KeptApart {pair: $pair}) SET k.reason = $reason"
        self._queue.append((stmt, {"pair": "|".join(pair), "reason": reason}))
        self._apart.add(pair)
        self._merges_queued = True

    def kept_apart(self, a: str, b: str) -> bool:
        return (min(a, b), max(a, b)) in self._apart

    def delete_record(self, record_id: str) -> None:
        def work(tx: Any) -> None:
            tx.run("MATCH ()-[x:LINK {record_id: $rid}]->() DELETE x", rid=record_id).consume()
            touched = [
                r["id"]
                for r in tx.run(
                    "MATCH (e:Entity)-[x:SOURCED_FROM]->(r:Record {id: $rid}) DELETE x RETURN DISTINCT e.id AS id",
                    rid=record_id,
                )
            ]
            tx.run("MATCH (r:Record {id: $rid}) DETACH DELETE r", rid=record_id).consume()
            orphans = [
                r["id"]
                for r in tx.run(
                    "MATCH (e:Entity) WHERE e.id IN $ids AND NOT (e)-[:SOURCED_FROM]->() RETURN e.id AS id",
                    ids=touched,
                )
            ]
            for eid in orphans:
                tree = self._subtree(eid)
                tx.run("MATCH (e:Entity) WHERE e.id IN $ids DETACH DELETE e", ids=tree).consume()
                for n in tree:
                    self._alias.pop(n, None)
            settle(tx, [t for t in touched if t not in orphans])

        self._queue.append(work)
        self._merges_queued = True

    def begin(self) -> None:
        self.refresh()  # merges other writers made since: the queued writes map ids through them

    def commit(self) -> None:
        unsettled = self.take_unsettled()
        if not self._queue and not unsettled:
            return
        queue, self._queue = self._queue, []
        touched, self._touched = sorted(self._touched), set()

        bump = self._merges_queued
        self._merges_queued = False

        def work(tx: Any) -> None:
            for step in queue:
                if callable(step):
                    step(tx)
                else:
                    tx.run(step[0], step[1]).consume()
            if touched:
                rehome(tx, touched)
            settle(tx, unsettled)
            if bump:
                tx.run("MERGE (m:ArgusMeta {id: 'merges'}) SET m.n = coalesce(m.n, 0) + 1").consume()

        with self._driver.session(database=self._db) as s:
            s.execute_write(work)  # retried by the driver on transient errors

    # --- reads ------------------------------------------------------------------------------------
    def _read(self, stmt: str, **params: Any) -> list[Any]:
        with self._driver.session(database=self._db) as s:
            return list(s.execute_read(lambda tx: list(tx.run(stmt, params))))

    def node(self, node_id: str) -> GraphNode | None:
        canonical = self.canonical(node_id)
        return self.nodes_of([canonical]).get(canonical)

    def nodes_of(self, ids: list[str]) -> dict[str, GraphNode]:
        rows = self._read(
            "MATCH (n:Entity) WHERE n.id IN $ids AND n.kind IS NOT NULL "
            "RETURN n.id AS id, n.kind AS kind, n.subtype AS subtype, n.label AS label, n.props AS props",
            ids=ids,
        )
        return {
            r["id"]: {
                "id": r["id"],
                "kind": r["kind"],
                "subtype": r["subtype"],
                "label": r["label"],
                "props": orjson.loads(r["props"]),
            }
            for r in rows
        }

    def edges_of(self, ids: list[str], limit: int | None = None) -> list[GraphEdge]:
        rows = self._read(
            "MATCH (a:Entity)-[x:LINK]-(b:Entity) WHERE a.id IN $ids "
            "RETURN DISTINCT x.id AS id, startNode(x).id AS src, endNode(x).id AS dst, x.rel AS rel, x.props AS props"
            + (" ORDER BY id LIMIT $limit" if limit is not None else ""),
            ids=ids,
            limit=limit,
        )
        return [
            {"id": r["id"], "src": r["src"], "dst": r["dst"], "rel": r["rel"], "props": orjson.loads(r["props"])}
            for r in rows
        ]

    def edges_by_rel(self, rel: str, limit: int) -> list[GraphEdge]:
        rows = self._read(
            "MATCH (a:Entity)-[x:LINK]->(b:Entity) WHERE x.rel = $rel "
            "RETURN x.id AS id, a.id AS src, b.id AS dst, x.rel AS rel, x.props AS props ORDER BY id LIMIT $limit",
            rel=rel,
            limit=int(limit),
        )
        return [
            {"id": r["id"], "src": r["src"], "dst": r["dst"], "rel": r["rel"], "props": orjson.loads(r["props"])}
            for r in rows
        ]

    def sources(self, entity_id: str) -> list[SourceRow]:
        rows = self._read(
            "MATCH (e:Entity {id: $id})-[x:SOURCED_FROM]->(r:Record) RETURN e.id AS entity_id, r.id AS record_id, "
            "x.agency AS agency, x.tlp AS tlp, x.method AS method, x.score AS score, x.reason AS reason, "
            "x.marks AS marks ORDER BY record_id, x.entity0",
            id=self.canonical(entity_id),
        )
        return [_source(r) for r in rows]

    def sources_for(self, entity_ids: list[str]) -> dict[str, list[SourceRow]]:
        rows = self._read(
            "MATCH (e:Entity)-[x:SOURCED_FROM]->(r:Record) WHERE e.id IN $ids RETURN e.id AS entity_id, "
            "r.id AS record_id, x.agency AS agency, x.tlp AS tlp, x.method AS method, x.score AS score, "
            "x.reason AS reason, x.marks AS marks ORDER BY record_id, x.entity0",
            ids=entity_ids,
        )
        out: dict[str, list[SourceRow]] = {}
        for r in rows:
            out.setdefault(r["entity_id"], []).append(_source(r))
        return out

    def merges(self, entity_id: str) -> list[dict[str, Any]]:
        rows = self._read(
            "MATCH (m:Entity {merged_into: $id}) RETURN m.id AS merged, m.merged_into AS survivor, "
            "m.merge_reason AS reason, m.merge_score AS score ORDER BY merged",
            id=self.canonical(entity_id),
        )
        return [dict(r) for r in rows]

    def counts(self) -> dict[str, int]:
        r = self._read(
            "CALL { MATCH (n:Entity) WHERE n.merged_into IS NULL AND n.kind IS NOT NULL RETURN count(n) AS nodes } "
            "CALL { MATCH (n:Entity) WHERE n.merged_into IS NOT NULL AND n.kind IS NOT NULL "
            "RETURN count(n) AS merged_nodes } "
            "CALL { MATCH ()-[x:LINK]->() RETURN count(x) AS edges } "
            "CALL { MATCH ()-[x:SOURCED_FROM]->() RETURN count(x) AS sources } "
            "RETURN nodes, merged_nodes, edges, sources"
        )[0]
        return {"nodes": r["nodes"], "merged_nodes": r["merged_nodes"], "edges": r["edges"], "sources": r["sources"]}

    def close(self) -> None:
        self.commit()
        self._driver.close()


def _source(r: Any) -> SourceRow:
    row = dict(r)
    marks = row.pop("marks", None)
    return {**row, **orjson.loads(marks or "{}")}  # type: ignore[typeddict-item]
