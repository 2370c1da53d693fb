"""Shared fixtures: sample source records as agencies send them, and nodes to build records."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from argus.contracts import Context
from argus.records import Record
from argus.state import NodeState
from argus.testing import FROZEN_NOW, counting_ids, frozen_clock

REPO = Path(__file__).resolve().parent.parent
# The audit trail on OpenSearch is keyed by a key every host shares (argus.security.audit): the
# test session's, for the servers its fixtures start and the processes its tests run.
os.environ.setdefault("ARGUS_AUDIT_KEY", "5eed" * 16)


@pytest.fixture(autouse=True)
def _no_log_handler_on_a_closed_stream() -> Iterator[None]:
    """A command run in-process (typer's CliRunner) routes the root logger to that run's output
    stream (argus.logs.configure), which is closed once it returns: every later test's log line
    then printed "Logging error ... I/O operation on closed file" in CI's output. Drop such
    handlers after each test."""
    yield
    root = logging.getLogger()
    for h in list(root.handlers):
        if isinstance(h, logging.StreamHandler) and getattr(h.stream, "closed", False):
            root.removeHandler(h)


def ago(**kw: Any) -> str:
    return (FROZEN_NOW - timedelta(**kw)).isoformat()


def rms_raw(**over: Any) -> dict[str, Any]:
    base = {
        "report_id": "RPT-2026-0412",
        "agency": "CA0190000",
        "tlp": "TLP:AMBER",
        "reliability": "B",
        "validity": 2,
        "offenses": ["120"],
        "occurred_at": ago(days=3),
        "series_id": "ROB-2026-014",
        "case_owner": "Det. M. Alvarez #4411",
        "narrative": "Armed robbery; fled in grey Civic 8ABC123.",
        "persons": [
            {"role": "suspect", "name": "SMITH, JONATHAN A", "dob": "1991-04-02", "sex": "M", "race": "W"},
            {"role": "suspect", "name": "REYES, MARCUS", "dob": "1994-11-19", "sex": "M", "race": "H"},
        ],
        "vehicles": [
            {
                "role": "suspect",
                "plate": "8ABC123",
                "state": "CA",
                "make": "HOND",
                "model": "CIVIC",
                "colour": "GRY",
                "year": 2014,
            }
        ],
        "locations": [{"role": "offense", "address": "2200 W Shaw Ave, Fresno, CA", "lat": 36.8083, "lon": -119.8269}],
    }
    base.update(over)
    return base


def query_raw(**over: Any) -> dict[str, Any]:
    base = {
        "query_id": "Q-1",
        "agency": "CA0430000",
        "officer_id": "4471",
        "unit_id": "2A31",
        "plate": "8-ABC 123",
        "state": "CA",
        "reason": "traffic stop",
        "issued_at": ago(seconds=1),
    }
    base.update(over)
    return base


def ctx(node: str = "test") -> Context:
    return Context(node, NodeState(), clock=frozen_clock(), ids=counting_ids())


def rms_record(**over: Any) -> Record:
    from connectors.rms import RmsConnector

    return RmsConnector(RmsConnector.Config(path="-"), name="rms").convert(rms_raw(**over), ctx())


def query_record(**over: Any) -> Record:
    from connectors.cad import CadQueryConnector

    return CadQueryConnector(CadQueryConnector.Config(path="-"), name="cad_queries").convert(query_raw(**over), ctx())


@pytest.fixture
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Bootstrap address of a real Apache Kafka broker (KRaft) started for this test session."""
    ck = pytest.importorskip("confluent_kafka.admin", reason="pip install 'argus-fusion[kafka]'")
    from tests.servers import kafka_broker

    with kafka_broker(tmp_path_factory.mktemp("kafka")) as bootstrap:
        admin = ck.AdminClient({"bootstrap.servers": bootstrap})
        deadline = time.time() + 60
        while not admin.list_topics(timeout=5).brokers:  # listening is not yet serving
            if time.time() > deadline:
                raise RuntimeError("Kafka broker never reported itself in metadata")
        yield bootstrap


@pytest.fixture(scope="session")
def schema_registry(kafka: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a real Confluent-compatible schema registry (Apicurio Registry, from Maven Central)
    started for this test session, keeping its schemas in the session's broker as the compose
    stack does: its /apis/ccompat/v7 API."""
    pytest.importorskip("confluent_kafka.schema_registry", reason="pip install 'argus-fusion[kafka]'")
    from tests.servers import schema_registry_server

    with schema_registry_server(tmp_path_factory.mktemp("registry"), kafka) as url:
        yield url


@pytest.fixture(scope="session")
def neo4j_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """bolt:// address of a real Neo4j Community server started for this test session."""
    from tests.servers import neo4j_server

    pytest.importorskip("neo4j", reason="pip install 'argus-fusion[neo4j]'")
    with neo4j_server(tmp_path_factory.mktemp("neo4j")) as url:
        yield url


@pytest.fixture(scope="session")
def opensearch_url() -> Iterator[str]:
    """http:// address of a real single-node OpenSearch started for this test session."""
    from tests.servers import opensearch_server

    pytest.importorskip("opensearchpy", reason="pip install 'argus-fusion[opensearch]'")
    with opensearch_server() as url:
        yield url


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """postgresql:// address of a real PostgreSQL server started for this test session."""
    from tests.servers.postgres import postgres_server

    pytest.importorskip("psycopg", reason="pip install 'argus-fusion[postgres]'")
    with postgres_server() as url:
        yield url


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """http:// endpoint of a real S3-compatible server (S3Proxy) started for this test session."""
    from tests.servers.s3proxy import s3proxy_server

    pytest.importorskip("boto3", reason="pip install 'argus-fusion[s3]'")
    with s3proxy_server() as url:
        yield url


@pytest.fixture(scope="session")
def openc2_consumer() -> Iterator[Any]:
    """A real OpenC2 v1.1 consumer (otupy, HTTPS with mutual TLS, the SLPF profile)."""
    from tests.servers.openc2 import openc2_consumer as start

    with start() as consumer:
        yield consumer
