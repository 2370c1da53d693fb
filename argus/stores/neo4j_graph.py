"""The graph store on Neo4j, through the official driver over Bolt.

Model (documented in the README):
- `(:Entity {id, kind, subtype, label, props})` plus a POLE label `:Person`, `:Object`,
  `:Location` or `:Event`; `props` is the entity's attributes as JSON. A merged entity keeps its
  node with `merged_into`, `merge_reason` and `merge_score`, and loses its relationships to the
  survivor.
- `(:Entity)-[:LINK {id, rel, props}]->(:Entity)`: one relationship type whose `rel` property
  carries the link (SUSPECT_VEHICLE, PART_OF_SERIES...). A single type is what lets a merge move
  every relationship without APOC.
- `(:Entity)-[:SOURCED_FROM {agency, tlp, method, score, reason}]->(:Record {id})`: each source
  record of an entity and why it was matched.

Writes are batched `UNWIND $rows ... MERGE` statements, queued and run in one write transaction
by commit() (the sink's flush), with the driver's retries on transient errors. Uniqueness
constraints on every MERGE key are created at start, so replays are idempotent and fast.
"""

from __future__ import annotations

import os
from typing import Any

import orjson

from argus.stores.graph import GraphEdge, GraphNode, GraphStore, SourceRow

try:
    from neo4j import GraphDatabase
except ImportError as exc:  # pragma: no cover - the registry reports the pip extra
    raise ImportError("the Neo4j graph store needs the neo4j driver: pip install 'argus-fusion[neo4j]'") from exc

POLE_LABELS = {"PERSON": "Person", "OBJECT": "Object", "LOCATION": "Location", "EVENT": "Event"}
SCHEMA = [
    "CREATE CONSTRAINT argus_entity_id IF NOT EXISTS FOR (n:Entity) REQUIRE n.id IS UNIQUE",
    "CREATE CONSTRAINT argus_record_id IF NOT EXISTS FOR (r:Record) REQUIRE r.id IS UNIQUE",
    "CREATE INDEX argus_link_id IF NOT EXISTS FOR ()-[x:LINK]-() ON (x.id)",
    "CREATE INDEX argus_entity_merged IF NOT EXISTS FOR (n:Entity) ON (n.merged_into)",
]


class Neo4jGraphStore(GraphStore):
    def __init__(self, url: str) -> None:
        user, password = os.environ.get("ARGUS_NEO4J_USER"), os.environ.get("ARGUS_NEO4J_PASSWORD")
        self._driver = GraphDatabase.driver(url, auth=(user, password) if user else None)
        self._db = os.environ.get("ARGUS_NEO4J_DATABASE") or None
        self._queue: list[tuple[str, dict[str, Any]]] = []
        with self._driver.session(database=self._db) as s:
            for stmt in SCHEMA:
                s.run(stmt)
            self._alias = {
                r["id"]: r["into"]
                for r in s.run(
                    "MATCH (n:Entity) WHERE n.merged_into IS NOT NULL RETURN n.id AS id, n.merged_into AS into"
                )
            }

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
            self._queue.append(
                (
                    f"UNWIND $rows AS r MERGE (n:Entity {{id: r.id}}) SET n:{label}, n.kind = r.kind, "
                    "n.subtype = r.subtype, n.label = r.label, n.props = r.props",
                    {"rows": rows},
                )
            )

    def upsert_edges(self, edges: list[GraphEdge]) -> None:
        rows = [
            {
                "id": e["id"],
                "src": self.canonical(e["src"]),
                "dst": self.canonical(e["dst"]),
                "rel": e["rel"],
                "props": orjson.dumps(e["props"]).decode(),
            }
            for e in edges
        ]
        self._queue.append(
            (
                "UNWIND $rows AS e MATCH (a:Entity {id: e.src}) MATCH (b:Entity {id: e.dst}) "
                "MERGE (a)-[x:LINK {id: e.id}]->(b) SET x.rel = e.rel, x.props = e.props",
                {"rows": rows},
            )
        )

    def add_sources(self, rows: list[SourceRow]) -> None:
        data = [dict(r, entity_id=self.canonical(r["entity_id"])) for r in rows]
        self._queue.append(
            (
                "UNWIND $rows AS s MATCH (e:Entity {id: s.entity_id}) MERGE (r:Record {id: s.record_id}) "
                "MERGE (e)-[x:SOURCED_FROM]->(r) SET x.agency = s.agency, x.tlp = s.tlp, x.method = s.method, "
                "x.score = s.score, x.reason = s.reason",
                {"rows": data},
            )
        )

    def merge(self, survivor: str, merged: str, reason: str, score: float) -> None:
        survivor = self.canonical(survivor)
        if survivor == merged:
            return
        p = {"s": survivor, "m": merged, "reason": reason, "score": score}
        self._queue += [
            ("MATCH (m:Entity {id: $m}) SET m.merged_into = $s, m.merge_reason = $reason, m.merge_score = $score", p),
            (
                "MATCH (m:Entity {id: $m})-[x:LINK]->(b) MATCH (s:Entity {id: $s}) "
                "MERGE (s)-[y:LINK {id: x.id}]->(b) SET y.rel = x.rel, y.props = x.props DELETE x",
                p,
            ),
            (
                "MATCH (a)-[x:LINK]->(m:Entity {id: $m}) MATCH (s:Entity {id: $s}) "
                "MERGE (a)-[y:LINK {id: x.id}]->(s) SET y.rel = x.rel, y.props = x.props DELETE x",
                p,
            ),
            (
                "MATCH (m:Entity {id: $m})-[x:SOURCED_FROM]->(r) MATCH (s:Entity {id: $s}) "
                "MERGE (s)-[y:SOURCED_FROM]->(r) SET y += properties(x) DELETE x",
                p,
            ),
        ]
        self._alias[merged] = survivor

    def commit(self) -> None:
        if not self._queue:
            return
        queue, self._queue = self._queue, []

        def work(tx: Any) -> None:
            for stmt, params in queue:
                tx.run(stmt, params).consume()

        with self._driver.session(database=self._db) as s:
            s.execute_write(work)  # retried by the driver on transient errors

    # --- reads ------------------------------------------------------------------------------------
    def _read(self, stmt: str, **params: Any) -> list[Any]:
        with self._driver.session(database=self._db) as s:
            return list(s.execute_read(lambda tx: list(tx.run(stmt, params))))

    def node(self, node_id: str) -> GraphNode | None:
        rows = self._read("MATCH (n:Entity {id: $id}) RETURN n", id=self.canonical(node_id))
        if not rows:
            return None
        n = rows[0]["n"]
        return {
            "id": n["id"],
            "kind": n["kind"],
            "subtype": n["subtype"],
            "label": n["label"],
            "props": orjson.loads(n["props"]),
        }

    def edges_of(self, ids: list[str]) -> list[GraphEdge]:
        rows = self._read(
            "MATCH (a:Entity)-[x:LINK]-(b:Entity) WHERE a.id IN $ids "
            "RETURN DISTINCT x.id AS id, startNode(x).id AS src, endNode(x).id AS dst, x.rel AS rel, x.props AS props",
            ids=ids,
        )
        return [
            {"id": r["id"], "src": r["src"], "dst": r["dst"], "rel": r["rel"], "props": orjson.loads(r["props"])}
            for r in rows
        ]

    def sources(self, entity_id: str) -> list[SourceRow]:
        rows = self._read(
            "MATCH (e:Entity {id: $id})-[x:SOURCED_FROM]->(r:Record) RETURN e.id AS entity_id, r.id AS record_id, "
            "x.agency AS agency, x.tlp AS tlp, x.method AS method, x.score AS score, x.reason AS reason "
            "ORDER BY record_id",
            id=self.canonical(entity_id),
        )
        return [dict(r) for r in rows]  # type: ignore[misc]

    def merges(self, entity_id: str) -> list[dict[str, Any]]:
        rows = self._read(
            "MATCH (m:Entity {merged_into: $id}) RETURN m.id AS merged, m.merged_into AS survivor, "
            "m.merge_reason AS reason, m.merge_score AS score ORDER BY merged",
            id=self.canonical(entity_id),
        )
        return [dict(r) for r in rows]

    def counts(self) -> dict[str, int]:
        r = self._read(
            "CALL { MATCH (n:Entity) WHERE n.merged_into IS NULL RETURN count(n) AS nodes } "
            "CALL { MATCH (n:Entity) WHERE n.merged_into IS NOT NULL RETURN count(n) AS merged_nodes } "
            "CALL { MATCH ()-[x:LINK]->() RETURN count(x) AS edges } "
            "CALL { MATCH ()-[x:SOURCED_FROM]->() RETURN count(x) AS sources } "
            "RETURN nodes, merged_nodes, edges, sources"
        )[0]
        return {"nodes": r["nodes"], "merged_nodes": r["merged_nodes"], "edges": r["edges"], "sources": r["sources"]}

    def close(self) -> None:
        self.commit()
        self._driver.close()
