"""Every store interface has one contract suite, run against every backend listed here.

Server backends (Neo4j, OpenSearch) join these lists with fixtures that start real servers.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from argus.stores.embedded_graph import EmbeddedGraphStore
from argus.stores.embedded_search import EmbeddedSearchStore


@pytest.fixture(params=["embedded", pytest.param("neo4j", marks=pytest.mark.integration)])
def graph_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator:
    if request.param == "neo4j":
        from neo4j import GraphDatabase

        from argus.stores.neo4j_graph import Neo4jGraphStore

        url = request.getfixturevalue("neo4j_url")
        with GraphDatabase.driver(url, auth=None) as d, d.session() as s:
            s.run("MATCH (n) DETACH DELETE n").consume()  # one server per session: start each test empty
        store = Neo4jGraphStore(url)
    else:
        store = EmbeddedGraphStore(tmp_path / "graph.db")
    yield store
    store.close()


@pytest.fixture(params=["embedded", pytest.param("opensearch", marks=pytest.mark.integration)])
def search_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator:
    if request.param == "opensearch":
        from argus.stores.opensearch_search import OpenSearchStore

        url = request.getfixturevalue("opensearch_url")
        store = OpenSearchStore(f"{url}?index=t{uuid.uuid4().hex[:10]}")  # a fresh index per test
    else:
        store = EmbeddedSearchStore(tmp_path / "search.db")
    yield store
    store.close()


@pytest.fixture(params=["embedded", pytest.param("opensearch", marks=pytest.mark.integration)])
def stix_stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator:
    """Opens handles on one STIX store (call it once per writer or reader process)."""
    opened: list = []
    if request.param == "opensearch":
        from argus.stores.opensearch_stix import OpenSearchStixStore

        url = f"{request.getfixturevalue('opensearch_url')}?stix_index=s{uuid.uuid4().hex[:10]}&lease=5"

        def open_one() -> OpenSearchStixStore:
            opened.append(OpenSearchStixStore(url))
            return opened[-1]
    else:
        from argus.stores.stix import EmbeddedStixStore

        def open_one() -> EmbeddedStixStore:  # type: ignore[misc]
            opened.append(EmbeddedStixStore(tmp_path / "stix.db"))
            return opened[-1]

    yield open_one
    for s in opened:
        s.close()


@pytest.fixture(params=["embedded", pytest.param("opensearch", marks=pytest.mark.integration)])
def feed_stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator:
    """Opens handles on one feed registry (an API worker and a poller each hold one)."""
    opened: list = []
    if request.param == "opensearch":
        from argus.stores.opensearch_feeds import OpenSearchFeedRegistry

        url = f"{request.getfixturevalue('opensearch_url')}?feeds_index=f{uuid.uuid4().hex[:10]}"

        def open_one() -> OpenSearchFeedRegistry:
            opened.append(OpenSearchFeedRegistry(url))
            return opened[-1]
    else:
        from argus.feeds import FeedRegistry

        def open_one() -> FeedRegistry:  # type: ignore[misc]
            opened.append(FeedRegistry(tmp_path / "feeds.db"))
            return opened[-1]

    open_one.backend = request.param  # type: ignore[attr-defined]
    yield open_one
    for s in opened:
        s.close()
