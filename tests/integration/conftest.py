from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests.servers import kafka_broker


@pytest.fixture(scope="session")
def kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Bootstrap address of a real Apache Kafka broker (KRaft) started for this test session."""
    ck = pytest.importorskip("confluent_kafka.admin", reason="pip install 'argus-fusion[kafka]'")
    with kafka_broker(tmp_path_factory.mktemp("kafka")) as bootstrap:
        admin = ck.AdminClient({"bootstrap.servers": bootstrap})
        deadline = time.time() + 60
        while not admin.list_topics(timeout=5).brokers:  # listening is not yet serving
            if time.time() > deadline:
                raise RuntimeError("Kafka broker never reported itself in metadata")
        yield bootstrap


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
