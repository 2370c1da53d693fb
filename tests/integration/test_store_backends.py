"""The pipeline on the server backends answers as on the embedded stores, given the same input.
On Neo4j (`ARGUS_GRAPH=neo4j://...`): same counts, same clusters of source records per entity,
same explanation path. On OpenSearch (`ARGUS_SEARCH=http://...`): searches find the same documents."""

from __future__ import annotations

from pathlib import Path

import pytest

from argus.runtime.embedded import EmbeddedRuntime
from argus.topology import load_topology
from tests.e2e.conftest import make_workdir

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def graph_of(topo: Path, data: Path) -> tuple[dict, list, list]:
    with EmbeddedRuntime(load_topology(topo, data)) as rt:
        rt.run_until_idle()
        g = rt._store("graph")
        vehicle = next(r for r in rt.read_topic("resolved") if r.body["report"].get("report_id") == "RPT-2026-0412")
        ents = vehicle.body["entities"]
        v = next(e for e in ents if e["subtype"] == "vehicle")["entity_id"]
        s = next(e for e in ents if e["subtype"] == "series")["entity_id"]
        ids = [e["entity_id"] for e in ents]
        clusters = sorted(sorted(x["record_id"] for x in g.sources(i)) for i in ids)
        paths = sorted([e["rel"] for e in p] for p in g.paths(v, s))
        return g.counts(), clusters, paths


def test_neo4j_graph_equals_the_embedded_graph(neo4j_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from neo4j import GraphDatabase

    with GraphDatabase.driver(neo4j_url, auth=None) as d, d.session() as s:
        s.run("MATCH (n) DETACH DELETE n").consume()
    topo = make_workdir(tmp_path, background=120)
    embedded = graph_of(topo, tmp_path / "embedded")
    monkeypatch.setenv("ARGUS_GRAPH", neo4j_url)
    on_neo4j = graph_of(topo, tmp_path / "neo4j")
    assert on_neo4j == embedded
    assert embedded[0]["nodes"] > 300 and embedded[2] == [["SUSPECT_VEHICLE", "PART_OF_SERIES"]] * 2


def search_answers(topo: Path, data: Path) -> list:
    with EmbeddedRuntime(load_topology(topo, data)) as rt:
        rt.run_until_idle()
        s = rt._store("search")
        out = [s.count()]
        for q, kw in [
            ("robbery", {}),
            ("8ABC123", {}),
            ("Civic", {"agencies": ["CA0190000"]}),
            (None, {"tlps": ["AMBER"], "kinds": ["rms.incident"]}),
            (None, {"since": "2026-11-01T00:00:00+00:00"}),
        ]:
            res = s.search(q, limit=500, **kw)
            out.append((q, res["total"], sorted(h["id"] for h in res["hits"])))
        return out


def test_opensearch_answers_equal_the_embedded_store(
    opensearch_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    topo = make_workdir(tmp_path, background=120)
    embedded = search_answers(topo, tmp_path / "embedded")
    monkeypatch.setenv("ARGUS_SEARCH", f"{opensearch_url}?index=pipeline-{tmp_path.name[-8:].lower()}")
    assert search_answers(topo, tmp_path / "opensearch") == embedded
    assert embedded[0] > 100 and embedded[2][1] >= 3  # 8ABC123: the robbery reports and the SAR
