"""Reference consumer of Argus alerts for a CAD or mobile integration: copy it, keep its rules.

It needs only confluent-kafka and fastavro, not Argus:

    pip install confluent-kafka fastavro                    # or 'confluent-kafka[schemaregistry]' for --registry
    python cad_alert_consumer.py --bootstrap kafka:9092 --prefix fusion. --agency CA0430000

The rules it shows:
- The alert topic (`<prefix>alerts`, schema argus/avro/alert.v1.avsc) is keyed `<agency ORI>:<unit>`
  (`-` when no unit): every alert for one unit is on one partition, in order.
- Alerts are already redacted for their recipient: display every field you get, add nothing.
- Values are Avro in the Confluent framing (magic byte 0, 4-byte big-endian schema id). Where the
  pipeline runs with a schema registry (`kafka://...?registry=URL`), the ids are the registry's
  (subject `<prefix>alerts-value`): pass `--registry URL` and Confluent's own AvroDeserializer
  reads them. Without one, the writer schemas are in the compacted topic `<prefix>schemas`
  (key: the id; value: JSON [subject, schema, ...]); read it before decoding, and again on an id
  you do not know.
- Read with isolation.level=read_committed (Argus writes in transactions), in a consumer group
  of your own (several CAD instances then share the partitions), and commit after you have shown
  an alert: a crash shows it again rather than never, and `alert_id` lets you drop the repeat.
"""

from __future__ import annotations

import argparse
import io
import json
import struct
import sys
from typing import Any

from confluent_kafka import Consumer, KafkaError, TopicPartition
from fastavro import parse_schema, schemaless_reader


def load_schemas(bootstrap: str, prefix: str) -> dict[int, Any]:
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "schema-reader", "enable.partition.eof": True})
    topic = f"{prefix}schemas"
    c.assign([TopicPartition(topic, 0, 0)])
    out: dict[int, Any] = {}
    while True:
        m = c.poll(10)
        if m is None or (m.error() and m.error().code() == KafkaError._PARTITION_EOF):
            break
        if not m.error() and m.value():
            row = json.loads(m.value())  # [subject, canonical form, the whole schema]
            # the whole schema: its logical types make timestamps datetimes (the canonical form drops them)
            out[int(m.key())] = parse_schema(json.loads(row[2] if len(row) > 2 else row[1]))
    c.close()
    return out


def decode(value: bytes, schemas: dict[int, Any], reload: Any) -> dict[str, Any]:
    magic, sid = struct.unpack(">bI", value[:5])
    if magic != 0:
        raise ValueError("not Confluent-framed Avro")
    if sid not in schemas:
        schemas.update(reload())
    return schemaless_reader(io.BytesIO(value[5:]), schemas[sid])


def to_json(alert: dict[str, Any]) -> str:
    """The alert as JSON, in the shape every Argus channel gives it (the SSE stream, the API):
    timestamps as RFC 3339 with their offset."""
    return json.dumps(alert, default=lambda o: o.isoformat() if hasattr(o, "isoformat") else str(o))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Print Argus alerts for one agency (and unit) as JSON lines")
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--prefix", default="", help="the topic prefix of the Argus pipeline (kafka://...?prefix=)")
    ap.add_argument("--agency", required=True, help="your ORI")
    ap.add_argument("--unit", default=None, help="only this unit's alerts")
    ap.add_argument("--group", default=None, help="consumer group (default cad-<agency>)")
    ap.add_argument("--from-beginning", action="store_true", help="a new group starts at the oldest alert")
    ap.add_argument("--max", type=int, default=0, help="stop after this many alerts (0: run forever)")
    ap.add_argument("--idle-timeout", type=float, default=0, help="stop after this long without alerts (0: never)")
    ap.add_argument("--registry", default=None, help="schema registry URL, when the pipeline uses one")
    args = ap.parse_args(argv)

    if args.registry:
        from confluent_kafka.schema_registry import SchemaRegistryClient
        from confluent_kafka.schema_registry.avro import AvroDeserializer
        from confluent_kafka.serialization import MessageField, SerializationContext

        avro = AvroDeserializer(SchemaRegistryClient({"url": args.registry}))

        def read(value: bytes) -> dict[str, Any]:
            return avro(value, SerializationContext(f"{args.prefix}alerts", MessageField.VALUE))
    else:
        schemas = load_schemas(args.bootstrap, args.prefix)

        def read(value: bytes) -> dict[str, Any]:
            return decode(value, schemas, lambda: load_schemas(args.bootstrap, args.prefix))

    consumer = Consumer(
        {
            "bootstrap.servers": args.bootstrap,
            "group.id": args.group or f"cad-{args.agency}",
            "isolation.level": "read_committed",
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest" if args.from_beginning else "latest",
        }
    )
    consumer.subscribe([f"{args.prefix}alerts"])
    want = f"{args.agency}:{args.unit}" if args.unit else f"{args.agency}:"
    shown, idle = 0, 0.0
    try:
        while not args.max or shown < args.max:
            m = consumer.poll(0.5)
            if m is None:
                idle += 0.5
                if args.idle_timeout and idle >= args.idle_timeout:
                    break
                continue
            idle = 0.0
            if m.error():
                print(f"consumer error: {m.error()}", file=sys.stderr)
                continue
            key = (m.key() or b"").decode()
            mine = key == want if args.unit else key.startswith(want)
            if mine and m.value():
                alert = read(m.value())["body"]
                print(to_json(alert), flush=True)
                shown += 1
            consumer.commit(m, asynchronous=False)  # after it is shown: at least once
    finally:
        consumer.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
