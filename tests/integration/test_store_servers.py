"""The server behaviours the Neo4j and OpenSearch backends are built on, against the real servers
the fixtures start: idempotent MERGE under a uniqueness constraint, and external versioning that
refuses to let a replay overwrite newer data."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration


def test_neo4j_merge_is_idempotent_and_paths_are_queryable(neo4j_url: str) -> None:
    from neo4j import GraphDatabase

    rows = [{"id": "q", "label": "query"}, {"id": "v", "label": "CA 8ABC123"}, {"id": "r", "label": "RPT-2026-0412"}]
    edges = [{"src": "q", "dst": "v", "rel": "MATCHED"}, {"src": "r", "dst": "v", "rel": "SUSPECT_VEHICLE"}]
    with GraphDatabase.driver(neo4j_url, auth=None) as driver, driver.session() as s:
        s.run("MATCH (n) DETACH DELETE n").consume()  # the server is shared by the session's tests
        s.run("CREATE CONSTRAINT entity_id IF NOT EXISTS FOR (n:Entity) REQUIRE n.id IS UNIQUE")
        for _ in range(2):  # a replay
            s.run("UNWIND $rows AS r MERGE (n:Entity {id: r.id}) SET n.label = r.label", rows=rows)
            s.run(
                "UNWIND $edges AS e MATCH (a:Entity {id: e.src}), (b:Entity {id: e.dst}) "
                "MERGE (a)-[x:LINK {rel: e.rel}]->(b)",
                edges=edges,
            )
        assert s.run("MATCH (n:Entity) RETURN count(n) AS c").single()["c"] == 3
        assert s.run("MATCH ()-[x:LINK]->() RETURN count(x) AS c").single()["c"] == 2
        path = s.run(
            "MATCH p = shortestPath((:Entity {id: 'q'})-[*..4]-(:Entity {id: 'r'})) "
            "RETURN [n IN nodes(p) | n.label] AS labels"
        ).single()["labels"]
        assert path == ["query", "CA 8ABC123", "RPT-2026-0412"]


def test_opensearch_mapping_external_versions_and_geo(opensearch_url: str) -> None:
    from opensearchpy import OpenSearch, helpers

    client = OpenSearch(opensearch_url, timeout=30)
    client.indices.create(
        index="it-reports-v1",
        body={
            "settings": {"number_of_shards": 1, "number_of_replicas": 0},
            "mappings": {
                "dynamic": "strict",
                "properties": {
                    "agency": {"type": "keyword"},
                    "tlp": {"type": "keyword"},
                    "text": {"type": "text"},
                    "occurred_at": {"type": "date"},
                    "location": {"type": "geo_point"},
                },
            },
        },
    )
    client.indices.put_alias(index="it-reports-v1", name="it-reports")

    def doc(version: int, text: str) -> dict:
        return {
            "_index": "it-reports",
            "_id": "RPT-2026-0412",
            "_version": version,
            "_version_type": "external",
            "_source": {
                "agency": "CA0190000",
                "tlp": "AMBER",
                "text": text,
                "occurred_at": "2026-11-22T10:00:00Z",
                "location": {"lat": 36.808, "lon": -119.827},
            },
        }

    helpers.bulk(client, [doc(2, "armed robbery grey Honda Civic")], refresh=True)
    ok, errors = helpers.bulk(client, [doc(1, "an older version replayed")], refresh=True, raise_on_error=False)
    assert ok == 0 and errors[0]["index"]["status"] == 409  # a replay never overwrites newer data
    hits = client.search(
        index="it-reports",
        body={
            "query": {
                "bool": {
                    "must": {"match": {"text": "robbery"}},
                    "filter": {"geo_distance": {"distance": "2km", "location": {"lat": 36.81, "lon": -119.83}}},
                }
            }
        },
    )["hits"]["hits"]
    assert [h["_source"]["text"] for h in hits] == ["armed robbery grey Honda Civic"]
