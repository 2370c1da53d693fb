"""The Cypher the Neo4j graph store (neo4j_graph.py) runs: its constraints and indexes, what a
merge moves, and the two steps inside a write transaction that keep the graph right whoever wrote
first: rows landing on a survivor, and labels settled from what the sources said."""

from __future__ import annotations

from collections import Counter
from typing import Any

import orjson

from argus.stores.graph import GraphNode, settled, spellings

SCHEMA = [
    "CREATE CONSTRAINT argus_entity_id IF NOT EXISTS FOR (n:Entity) REQUIRE n.id IS UNIQUE",
    "CREATE CONSTRAINT argus_record_id IF NOT EXISTS FOR (r:Record) REQUIRE r.id IS UNIQUE",
    "CREATE INDEX argus_link_id IF NOT EXISTS FOR ()-[x:LINK]-() ON (x.id)",
    "CREATE INDEX argus_entity_merged IF NOT EXISTS FOR (n:Entity) ON (n.merged_into)",
    "CREATE INDEX argus_link_record IF NOT EXISTS FOR ()-[x:LINK]-() ON (x.record_id)",
    "CREATE INDEX argus_link_rel IF NOT EXISTS FOR ()-[x:LINK]-() ON (x.rel)",
    "CREATE INDEX argus_link_src0 IF NOT EXISTS FOR ()-[x:LINK]-() ON (x.src0)",
    "CREATE INDEX argus_link_dst0 IF NOT EXISTS FOR ()-[x:LINK]-() ON (x.dst0)",
    "CREATE INDEX argus_sourced_entity0 IF NOT EXISTS FOR ()-[x:SOURCED_FROM]-() ON (x.entity0)",
    "CREATE INDEX argus_sourced_key IF NOT EXISTS FOR ()-[x:SOURCED_FROM]-() ON (x.k)",
    "CREATE CONSTRAINT argus_kept_apart IF NOT EXISTS FOR (k:KeptApart) REQUIRE k.pair IS UNIQUE",
    "CREATE CONSTRAINT argus_meta IF NOT EXISTS FOR (m:ArgusMeta) REQUIRE m.id IS UNIQUE",
]

#: what a merge does to the merged entity's relationships ($m) once it points at $s
MOVE_TO_SURVIVOR = (
    "MATCH (m:Entity {id: $m})-[x:LINK]->(b) MATCH (s:Entity {id: $s}) "
    "MERGE (s)-[y:LINK {id: x.id}]->(b) SET y += properties(x) DELETE x",
    "MATCH (a)-[x:LINK]->(m:Entity {id: $m}) MATCH (s:Entity {id: $s}) "
    "MERGE (a)-[y:LINK {id: x.id}]->(s) SET y += properties(x) DELETE x",
    "MATCH (m:Entity {id: $m})-[x:SOURCED_FROM]->(r) MATCH (s:Entity {id: $s}) "
    "MERGE (s)-[y:SOURCED_FROM {entity0: x.entity0}]->(r) SET y += properties(x) DELETE x",
)


def rehome(tx: Any, ids: list[str]) -> None:
    """Rows this transaction hung on an entity that another writer merged after this one last
    read the merge map land on the survivor. Writing a relationship locks both its nodes, and a
    merge locks the merged node, so either the merge waited for this transaction (and moved its
    rows itself) or it committed first, and this read, after the writes, sees it."""
    merged = [r["id"] for r in tx.run(
        "UNWIND $ids AS id MATCH (m:Entity {id: id}) WHERE m.merged_into IS NOT NULL RETURN m.id AS id", ids=ids
    )]  # fmt: skip
    for m in merged:
        s = m
        for _ in range(64):
            rec = tx.run("MATCH (n:Entity {id: $id}) RETURN n.merged_into AS into", id=s).single()
            if rec is None or rec["into"] is None:
                break
            s = rec["into"]
        for stmt in MOVE_TO_SURVIVOR:
            tx.run(stmt, {"s": s, "m": m}).consume()


def settle(tx: Any, ids: list[str]) -> None:
    """Rewrite these entities' labels and props from their sources, inside the write
    (argus.stores.graph.settled). The server groups an entity's sources by what they said, so a
    much-reported entity comes back as its few distinct spellings, not as every source."""
    if not ids:
        return
    rows = tx.run(
        "MATCH (e:Entity) WHERE e.id IN $ids AND e.kind IS NOT NULL OPTIONAL MATCH (e)-[x:SOURCED_FROM]->(:Record) "
        "WITH e, x.marks AS marks, count(x) AS n "
        "RETURN e.id AS id, e.kind AS kind, e.subtype AS subtype, e.label AS label, e.props AS props, "
        "collect({marks: marks, n: n}) AS said",
        ids=ids,
    )
    out = []
    for r in rows:
        node: GraphNode = {"id": r["id"], "kind": r["kind"], "subtype": r["subtype"], "label": r["label"],
                           "props": orjson.loads(r["props"])}  # fmt: skip
        counts: Counter[tuple[str, str]] = Counter()
        for said in r["said"]:
            for sp in spellings(orjson.loads(said["marks"] or "{}")) if said["n"] else ():
                counts[sp] += said["n"]
        got = settled(node, counts)
        if got is not None:
            out.append({"id": r["id"], "label": got[0], "props": orjson.dumps(got[1]).decode()})
    if out:
        tx.run(
            "UNWIND $rows AS r MATCH (e:Entity {id: r.id}) SET e.label = r.label, e.props = r.props", rows=out
        ).consume()
