"""The sinks on the server backends answer as on the embedded stores, given the same writes.

The pipeline runs once on the embedded runtime; its `resolved` topic, in the order the embedded
sinks read it, is then written through the same sink into Neo4j (`ARGUS_GRAPH=neo4j://...`) or
OpenSearch (`ARGUS_SEARCH=http://...`). Re-running the pipeline instead would compare two
entity-resolution runs, whose interleaving of partitions may legitimately differ."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from argus.contracts import Context
from argus.records import Record
from argus.runtime.core import Runtime
from argus.state import NodeState
from argus.topology import load_topology
from sinks.graph import GraphSink
from sinks.search import SearchSink
from tests.e2e.conftest import make_workdir

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def run_pipeline(tmp_path: Path) -> tuple[Runtime, list[Record]]:
    topo = make_workdir(tmp_path, background=120)
    rt = Runtime(load_topology(topo, tmp_path / "var")).open()
    rt.run_until_idle()
    return rt, rt.read_topic("resolved")


def write_through(sink: Any, store_kind: str, store: Any, recs: list[Record]) -> None:
    sink.setup(Context(sink.name, NodeState(), stores={store_kind: store}))
    for i in range(0, len(recs), 1000):
        for r in recs[i : i + 1000]:
            sink.add(r)
        sink.flush()


def graph_answers(g: Any, recs: list[Record]) -> tuple[Any, ...]:
    vehicle = next(r for r in recs if r.body["report"].get("report_id") == "RPT-2026-0412")
    ents = vehicle.body["entities"]
    v = next(e for e in ents if e["subtype"] == "vehicle")["entity_id"]
    s = next(e for e in ents if e["subtype"] == "series")["entity_id"]
    ids = [e["entity_id"] for e in ents]
    clusters = sorted(sorted(x["record_id"] for x in g.sources(i)) for i in ids)
    paths = sorted([e["rel"] for e in p] for p in g.paths(v, s))
    hood = g.neighbours(v, hops=2)
    return g.counts(), clusters, paths, sorted(n["id"] for n in hood["nodes"]), sorted(e["id"] for e in hood["edges"])


def test_neo4j_graph_equals_the_embedded_graph(neo4j_url: str, tmp_path: Path) -> None:
    from neo4j import GraphDatabase

    from argus.stores.neo4j_graph import Neo4jGraphStore

    with GraphDatabase.driver(neo4j_url, auth=None) as d, d.session() as s:
        s.run("MATCH (n) DETACH DELETE n").consume()
    rt, recs = run_pipeline(tmp_path)
    try:
        embedded = graph_answers(rt.stores["graph"], recs)
    finally:
        rt.close()
    store = Neo4jGraphStore(neo4j_url)
    write_through(GraphSink(name="graph_sink"), "graph", store, recs)
    write_through(GraphSink(name="graph_sink"), "graph", store, recs[: len(recs) // 2])  # a replay: no change
    try:
        assert graph_answers(store, recs) == embedded
    finally:
        store.close()
    assert embedded[0]["nodes"] > 300 and embedded[2] == [["SUSPECT_VEHICLE", "PART_OF_SERIES"]] * 2


QUERIES: list[tuple[str | None, dict]] = [
    ("robbery", {}),
    ("8ABC123", {}),
    ("Civic", {"agencies": ["CA0190000"]}),
    (None, {"tlps": ["AMBER"], "kinds": ["rms.incident"]}),
    (None, {"since": "2026-11-01T00:00:00+00:00"}),
    (None, {"near": (36.8083, -119.8269, 5.0)}),
]


def search_answers(s: Any) -> list:
    out: list[Any] = [s.count()]
    for q, kw in QUERIES:
        res = s.search(q, limit=500, **kw)
        out.append((q, res["total"], sorted(h["id"] for h in res["hits"])))
    return out


def test_opensearch_answers_equal_the_embedded_store(opensearch_url: str, tmp_path: Path) -> None:
    from argus.stores.opensearch_search import OpenSearchStore

    rt, recs = run_pipeline(tmp_path)
    try:
        embedded = search_answers(rt.stores["search"])
    finally:
        rt.close()
    store = OpenSearchStore(f"{opensearch_url}?index=pipeline-{uuid.uuid4().hex[:8]}")
    write_through(SearchSink(name="search_sink"), "search", store, recs)
    write_through(SearchSink(name="search_sink"), "search", store, recs[: len(recs) // 3])  # a replay
    try:
        assert search_answers(store) == embedded
    finally:
        store.close()
    assert embedded[0] > 100 and embedded[2][1] >= 3  # 8ABC123: the robbery reports and the SAR
