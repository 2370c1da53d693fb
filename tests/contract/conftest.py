"""Every store interface has one contract suite, run against every backend listed here.

Server backends (Neo4j, OpenSearch) join these lists with fixtures that start real servers.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TypeVar

import pytest

from argus.backends import open_url
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


ON_BOTH = ["embedded", pytest.param("opensearch", marks=pytest.mark.integration)]


class Handles:
    """Opens handles on one store of `kind` (call it, or `open`, once per process that would hold
    one: an API worker, a poller, a CLI), by URL through the backend registry as the runtime
    does: a file in the test's directory, or a fresh OpenSearch index named by `index_param`."""

    def __init__(self, request: pytest.FixtureRequest, tmp_path: Path, kind: str, index_param: str, extra: str = ""):
        self.kind, self.backend = kind, request.param
        self.opened: list = []
        self.path = tmp_path / f"{kind}.db"
        if self.backend == "opensearch":
            base = request.getfixturevalue("opensearch_url")
            self.url = f"{base}?{index_param}={kind[0]}{uuid.uuid4().hex[:10]}{extra}"
        else:
            self.url = f"embedded://{self.path}"

    def open(self, **params: object):  # type: ignore[no-untyped-def]
        """`params`: more URL parameters (OpenSearch only)."""
        extra = "".join(f"&{k}={v}" for k, v in params.items()) if self.backend == "opensearch" else ""
        self.opened.append(open_url(self.kind, self.url + extra))
        return self.opened[-1]

    __call__ = open

    def close(self) -> None:
        for s in self.opened:
            s.close()


H = TypeVar("H", bound=Handles)


def _handles(handles: H) -> Iterator[H]:
    yield handles
    handles.close()


@pytest.fixture(params=ON_BOTH)
def stix_stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Handles]:
    """Opens handles on one STIX store (call it once per writer or reader process)."""
    yield from _handles(Handles(request, tmp_path, "stix", "stix_index", "&lease=5"))


@pytest.fixture(params=ON_BOTH)
def feed_stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Handles]:
    """Opens handles on one feed registry (an API worker and a poller each hold one)."""
    yield from _handles(Handles(request, tmp_path, "feeds", "feeds_index"))


@pytest.fixture(params=ON_BOTH)
def status_stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Handles]:
    """Opens handles on one TAXII status store (each API process holds one)."""
    yield from _handles(Handles(request, tmp_path, "taxii", "taxii_index"))


class AuditBackend(Handles):
    """Handles on one audit trail (each API process or CLI holds one); to test that verify finds
    it, edits or removes an entry behind the trail's back as someone with direct access to the
    file or the cluster could."""

    def __init__(self, request: pytest.FixtureRequest, tmp_path: Path) -> None:
        super().__init__(request, tmp_path, "audit", "audit_index")

    def _sqlite(self, trigger: str, sql: str, args: tuple[object, ...]) -> None:
        import sqlite3

        db = sqlite3.connect(self.path)
        db.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        db.execute(sql, args)
        db.commit()
        db.close()

    def edit(self, seq: int, field: str, value: str) -> None:
        if self.backend == "opensearch":
            t = self.open()
            t.client.update(index=t.index, id=str(seq), body={"doc": {field: value}})
        else:
            self._sqlite("audit_no_update", f"UPDATE audit SET {field}=? WHERE seq=?", (value, seq))

    def remove(self, seq: int) -> None:
        if self.backend == "opensearch":
            t = self.open()
            t.client.delete(index=t.index, id=str(seq))
        else:
            self._sqlite("audit_no_delete", "DELETE FROM audit WHERE seq=?", (seq,))

    def append_raw(self, entry: dict[str, object]) -> None:
        """Write an entry straight into the store, as an insider forging one would."""
        if self.backend == "opensearch":
            t = self.open()
            t.client.index(index=t.index, id=str(entry["seq"]), body=entry, refresh=True)
            return
        import orjson

        cols = list(entry)
        vals = [orjson.dumps(v) if k == "detail" else v for k, v in entry.items()]
        self._sqlite("x", f"INSERT INTO audit({','.join(cols)}) VALUES({','.join('?' * len(cols))})", tuple(vals))


@pytest.fixture(params=ON_BOTH)
def audit_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AuditBackend]:
    yield from _handles(AuditBackend(request, tmp_path))


class DirectoryBackend(Handles):
    """Handles on one identity directory (each API process holds one), and a dump of what it
    stores, to check what is never kept."""

    def __init__(self, request: pytest.FixtureRequest, tmp_path: Path) -> None:
        # rules looked up afresh on every call, so a change by another handle shows at once
        super().__init__(request, tmp_path, "identity", "identity_index", "&rules_ttl=0")

    def stored(self) -> bytes:
        """Everything the backend holds, as bytes."""
        if self.backend == "opensearch":
            import orjson

            d = self.open()
            d.client.indices.refresh(index=",".join(d.ix.values()))
            docs = [d.client.search(index=ix, body={"size": 1000})["hits"]["hits"] for ix in d.ix.values()]
            return orjson.dumps(docs)
        files = (self.path, self.path.with_name(self.path.name + "-wal"))  # WAL mode: recent pages are in -wal
        return b"".join(f.read_bytes() for f in files if f.exists())


@pytest.fixture(params=ON_BOTH)
def directory_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[DirectoryBackend]:
    yield from _handles(DirectoryBackend(request, tmp_path))


@pytest.fixture(params=ON_BOTH)
def session_stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Handles]:
    """Opens handles on one workbench session store (each API process holds one)."""
    yield from _handles(Handles(request, tmp_path, "sessions", "sessions_index"))


def _workflow_store(request: pytest.FixtureRequest, tmp_path: Path, kind: str, tables: tuple[str, ...]) -> Iterator:
    """A workflow store of `kind` through the backend registry, empty: a file, or a real
    PostgreSQL (one server per session: its tables dropped so each test starts empty)."""
    if request.param == "postgres":
        import psycopg

        url = request.getfixturevalue("postgres_url")
        with psycopg.connect(url, autocommit=True) as db:
            for t in tables:
                db.execute(f"DROP TABLE IF EXISTS {t}")
    else:
        url = f"embedded://{tmp_path / (kind + '.db')}"
    store = open_url(kind, url)
    yield store
    store.close()


WORKFLOW_BACKENDS = ["embedded", pytest.param("postgres", marks=pytest.mark.integration)]


@pytest.fixture(params=WORKFLOW_BACKENDS)
def sar_reviews(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator:
    yield from _workflow_store(request, tmp_path, "sar_reviews", ("sar_reviews",))


@pytest.fixture(params=WORKFLOW_BACKENDS)
def requirement_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator:
    yield from _workflow_store(request, tmp_path, "requirements", ("requirements", "requirement_hits", "taskings"))


@pytest.fixture(params=WORKFLOW_BACKENDS)
def product_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator:
    yield from _workflow_store(request, tmp_path, "products", ("products", "product_deliveries", "product_feedback"))


@pytest.fixture(params=WORKFLOW_BACKENDS)
def risk_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator:
    yield from _workflow_store(request, tmp_path, "risk", ("risk_scores", "risk_notices"))


@pytest.fixture(params=WORKFLOW_BACKENDS)
def operation_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator:
    yield from _workflow_store(
        request,
        tmp_path,
        "operations",
        ("operations", "operation_entities", "operation_conflicts", "operation_notices"),
    )


@pytest.fixture(params=["file", pytest.param("s3", marks=pytest.mark.integration)])
def evidence_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator:
    """A case-file store through the backend registry: a directory, or a fresh bucket on a real
    S3-compatible server (S3Proxy)."""
    if request.param == "s3":
        from tests.servers.s3proxy import CREDENTIAL, IDENTITY

        endpoint = request.getfixturevalue("s3_endpoint")
        url = (
            f"s3://t{uuid.uuid4().hex[:12]}?endpoint={endpoint}&access_key={IDENTITY}&secret_key={CREDENTIAL}"
            "&create=true"
        )
    else:
        url = f"file://{tmp_path / 'evidence'}"
    store = open_url("evidence", url)
    yield store
    store.close()


@pytest.fixture(params=WORKFLOW_BACKENDS)
def case_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator:
    tables = (
        "cases",
        "case_members",
        "case_tasks",
        "case_entries",
        "case_files",
        "custody",
        "message_threads",
        "message_receipts",
        "rfis",
        "training",
        "messages",
    )
    yield from _workflow_store(request, tmp_path, "cases", tables)


@pytest.fixture(params=WORKFLOW_BACKENDS)
def shift_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator:
    yield from _workflow_store(request, tmp_path, "shifts", ("shifts", "shift_log"))


@pytest.fixture(params=WORKFLOW_BACKENDS)
def playbook_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator:
    yield from _workflow_store(
        request, tmp_path, "playbooks", ("playbooks", "pb_executions", "pb_steps", "pb_tasks", "pb_cursors")
    )
