"""Argus records through a real Apache Kafka broker: the Confluent wire format, keys that keep
per-entity order, and transactions that make a consume-process-produce step atomic (the building
blocks of the Kafka runtime)."""

from __future__ import annotations

import time

import pytest

from argus.schemas import default_schemas
from tests.conftest import query_record, rms_record

ck = pytest.importorskip("confluent_kafka", reason="pip install 'argus-fusion[kafka]'")
from confluent_kafka import Consumer, Producer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

pytestmark = pytest.mark.integration


def create(bootstrap: str, *topics: tuple[str, int]) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})  # must outlive its futures
    for f in admin.create_topics([NewTopic(t, p, 1) for t, p in topics]).values():
        f.result(30)


def consume(bootstrap: str, topic: str, n: int, group: str, timeout: float = 30) -> list:
    c = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": group,
            "auto.offset.reset": "earliest",
            "isolation.level": "read_committed",
            "enable.auto.commit": False,
        }
    )
    c.subscribe([topic])
    out, deadline = [], time.time() + timeout
    while len(out) < n and time.time() < deadline:
        m = c.poll(0.5)
        if m is not None and not m.error():
            out.append(m)
    c.close()
    return out


def test_avro_records_round_trip_through_kafka_in_key_order(kafka: str) -> None:
    schemas = default_schemas()
    ts = schemas.get("rms_record.v2")
    create(kafka, ("it.rms.records", 4))
    p = Producer({"bootstrap.servers": kafka, "enable.idempotence": True})
    sent = [rms_record(report_id=f"R-{i}", version=i + 1) for i in range(20)]
    for rec in sent:  # one key (the same report id would be; here one agency's feed key)
        p.produce("it.rms.records", key=b"CA0190000", value=schemas.encode(ts, rec.value))
    assert p.flush(30) == 0
    got = consume(kafka, "it.rms.records", 20, "it-order")
    assert len({m.partition() for m in got}) == 1  # same key, same partition
    bodies = [schemas.decode(m.value(), ts)["body"] for m in got]
    assert [b["report_id"] for b in bodies] == [f"R-{i}" for i in range(20)]
    assert got[0].value()[0] == 0 and int.from_bytes(got[0].value()[1:5], "big") == ts.schema_id


def test_transaction_commits_outputs_and_input_offsets_together_or_not_at_all(kafka: str) -> None:
    schemas = default_schemas()
    q_in, q_out = schemas.get("cad_query.v1"), schemas.get("cad_query.v1")
    create(kafka, ("it.in", 1), ("it.out", 1))
    p = Producer({"bootstrap.servers": kafka})
    p.produce("it.in", key=b"8ABC123", value=schemas.encode(q_in, query_record().value))
    p.flush(30)

    def step(abort: bool) -> None:
        tp = Producer({"bootstrap.servers": kafka, "transactional.id": "it-node"})
        tp.init_transactions(30)
        c = Consumer(
            {
                "bootstrap.servers": kafka,
                "group.id": "it-node",
                "auto.offset.reset": "earliest",
                "enable.auto.commit": False,
                "isolation.level": "read_committed",
            }
        )
        c.assign([TopicPartition("it.in", 0, 0)]) if abort else c.subscribe(["it.in"])
        m = None
        deadline = time.time() + 30
        while (m is None or m.error()) and time.time() < deadline:
            m = c.poll(0.5)
        tp.begin_transaction()
        tp.produce("it.out", key=m.key(), value=schemas.encode(q_out, schemas.decode(m.value(), q_in)))
        tp.send_offsets_to_transaction([TopicPartition("it.in", 0, m.offset() + 1)], c.consumer_group_metadata(), 30)
        (tp.abort_transaction if abort else tp.commit_transaction)(30)
        c.close()

    step(abort=True)  # a worker that dies mid-batch: nothing of its step is visible
    assert consume(kafka, "it.out", 1, "it-reader-1", timeout=5) == []
    step(abort=False)  # the retry: output and offset land together, exactly once
    assert len(consume(kafka, "it.out", 1, "it-reader-2")) == 1
    c = Consumer({"bootstrap.servers": kafka, "group.id": "it-node"})
    (committed,) = c.committed([TopicPartition("it.in", 0)], 30)
    c.close()
    assert committed.offset == 1
