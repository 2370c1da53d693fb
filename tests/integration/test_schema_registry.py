"""Argus on Kafka with a schema registry (`kafka://...?registry=URL`): records on the wire carry
the registry's ids under TopicNameStrategy subjects, so Confluent's own AvroDeserializer reads
every topic; Argus reads them back unchanged.

No Confluent-compatible registry can be run on this machine (Apicurio's app on Maven Central is
a Quarkus library that needs a build whose dependencies come from Confluent's repository, which
is not reachable; Karapace is not on PyPI), so this runs against confluent-kafka's mock registry,
shared within the process by its `mock://` name (README, "Scale-out on Kafka")."""

from __future__ import annotations

import struct
import uuid
from pathlib import Path

import pytest

from argus.runtime.embedded import EmbeddedRuntime
from argus.topology import load_topology
from tests.e2e.conftest import make_workdir

pytestmark = [pytest.mark.integration]


def test_confluent_deserializer_reads_what_argus_wrote(
    kafka: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from confluent_kafka import Consumer, TopicPartition
    from confluent_kafka.schema_registry.avro import AvroDeserializer
    from confluent_kafka.serialization import MessageField, SerializationContext

    from argus.bus.kafka import registry_client

    prefix = f"r{uuid.uuid4().hex[:8]}."
    registry = f"mock://argus-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("ARGUS_BUS", f"kafka://{kafka}?prefix={prefix}&registry={registry}")
    topo = load_topology(make_workdir(tmp_path, background=20))
    with EmbeddedRuntime(topo).open() as rt:
        rt.run_until_idle()
        ours = {t: rt.read_topic(t) for t in ("rms.records", "resolved")}
    client = registry_client(registry)
    for topic, records in ours.items():
        assert records, topic
        subject = f"{prefix}{topic}-value"
        rid = client.get_latest_version(subject).schema_id
        c = Consumer({"bootstrap.servers": kafka, "group.id": f"g{uuid.uuid4().hex[:6]}",
                      "isolation.level": "read_committed", "enable.partition.eof": True})  # fmt: skip
        c.assign([TopicPartition(prefix + topic, p, 0) for p in range(topo.topics[topic].partitions)])
        avro = AvroDeserializer(client)
        got, ids, eof = [], set(), 0
        while eof < topo.topics[topic].partitions:
            m = c.poll(10)
            assert m is not None, "timed out reading back"
            if m.error():
                eof += 1
                continue
            if m.value() is None:
                continue  # a source-order mark (argus/runtime/order.py): null, like a tombstone
            ids.add(struct.unpack(">bI", m.value()[:5])[1])
            got.append(avro(m.value(), SerializationContext(prefix + topic, MessageField.VALUE)))
        c.close()
        assert ids == {rid}  # every record framed with the registry's id of its subject
        assert sorted(g["envelope"]["id"] for g in got) == sorted(r.value["envelope"]["id"] for r in records)
        mine = {r.value["envelope"]["id"]: r.value for r in records}
        assert all(mine[g["envelope"]["id"]] == g for g in got)  # the same datum, field for field
