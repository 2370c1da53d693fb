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
