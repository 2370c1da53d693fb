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


class AuditBackend:
    """Opens handles on one audit trail (each API process or CLI holds one) and, to test that
    verify finds it, edits or removes an entry behind the trail's back as someone with direct
    access to the file or the cluster could."""

    def __init__(self, request: pytest.FixtureRequest, tmp_path: Path) -> None:
        self.name = request.param
        self.opened: list = []
        if self.name == "opensearch":
            self.url = f"{request.getfixturevalue('opensearch_url')}?audit_index=a{uuid.uuid4().hex[:10]}"
        self.path = tmp_path / "audit.db"

    def open(self, **query: object):  # type: ignore[no-untyped-def]
        if self.name == "opensearch":
            from argus.stores.opensearch_audit import OpenSearchAuditLog

            extra = "".join(f"&{k}={v}" for k, v in query.items())
            trail = OpenSearchAuditLog(self.url + extra)
        else:
            from argus.security.audit import AuditLog

            trail = AuditLog(self.path)
        self.opened.append(trail)
        return trail

    def edit(self, seq: int, field: str, value: str) -> None:
        if self.name == "opensearch":
            t = self.open()
            t.client.update(index=t.index, id=str(seq), body={"doc": {field: value}})
        else:
            import sqlite3

            db = sqlite3.connect(self.path)
            db.execute("DROP TRIGGER IF EXISTS audit_no_update")
            db.execute(f"UPDATE audit SET {field}=? WHERE seq=?", (value, seq))
            db.commit()
            db.close()

    def remove(self, seq: int) -> None:
        if self.name == "opensearch":
            t = self.open()
            t.client.delete(index=t.index, id=str(seq))
        else:
            import sqlite3

            db = sqlite3.connect(self.path)
            db.execute("DROP TRIGGER IF EXISTS audit_no_delete")
            db.execute("DELETE FROM audit WHERE seq=?", (seq,))
            db.commit()
            db.close()


@pytest.fixture(params=["embedded", pytest.param("opensearch", marks=pytest.mark.integration)])
def audit_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AuditBackend]:
    b = AuditBackend(request, tmp_path)
    yield b
    for t in b.opened:
        t.close()


class DirectoryBackend:
    """Opens handles on one identity directory (each API process holds one) and dumps what it
    stores, to check what is never kept."""

    def __init__(self, request: pytest.FixtureRequest, tmp_path: Path) -> None:
        self.name = request.param
        self.opened: list = []
        if self.name == "opensearch":
            # rules looked up afresh on every call, so a change by another handle shows at once
            base = request.getfixturevalue("opensearch_url")
            self.url = f"{base}?identity_index=i{uuid.uuid4().hex[:10]}&rules_ttl=0"
        self.path = tmp_path / "identity.db"

    def open(self):  # type: ignore[no-untyped-def]
        if self.name == "opensearch":
            from argus.stores.opensearch_identity import OpenSearchDirectory

            d = OpenSearchDirectory(self.url)
        else:
            from argus.security.identity import Directory

            d = Directory(self.path)
        self.opened.append(d)
        return d

    def stored(self) -> bytes:
        """Everything the backend holds, as bytes."""
        if self.name == "opensearch":
            import orjson

            d = self.open()
            d.client.indices.refresh(index=",".join(d.ix.values()))
            docs = [d.client.search(index=ix, body={"size": 1000})["hits"]["hits"] for ix in d.ix.values()]
            return orjson.dumps(docs)
        files = (self.path, self.path.with_name(self.path.name + "-wal"))  # WAL mode: recent pages are in -wal
        return b"".join(f.read_bytes() for f in files if f.exists())


@pytest.fixture(params=["embedded", pytest.param("opensearch", marks=pytest.mark.integration)])
def directory_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[DirectoryBackend]:
    b = DirectoryBackend(request, tmp_path)
    yield b
    for d in b.opened:
        d.close()


@pytest.fixture(params=["embedded", pytest.param("opensearch", marks=pytest.mark.integration)])
def status_stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator:
    """Opens handles on one TAXII status store (each API process holds one)."""
    opened: list = []
    if request.param == "opensearch":
        from argus.stores.opensearch_taxii import OpenSearchStatuses

        url = f"{request.getfixturevalue('opensearch_url')}?taxii_index=t{uuid.uuid4().hex[:10]}"

        def open_one() -> OpenSearchStatuses:
            opened.append(OpenSearchStatuses(url))
            return opened[-1]
    else:
        from argus.api.taxii import Statuses

        def open_one() -> Statuses:  # type: ignore[misc]
            opened.append(Statuses(tmp_path / "taxii.db"))
            return opened[-1]

    yield open_one
    for s in opened:
        s.close()
