"""Reference consumer of Argus alerts for a CAD or mobile integration: copy it, keep its rules.

It needs only confluent-kafka and fastavro, not Argus:

    pip install confluent-kafka fastavro                    # or 'confluent-kafka[schemaregistry]' for --registry
    python cad_alert_consumer.py --bootstrap kafka:9092 --prefix fusion. --agency CA0430000

An integrator outside the deployment connects to the broker's integrator listener with what
`argus integrator add` printed (TLS, SCRAM credentials, its group) and the alert schema that
`argus integrator schema` printed; its ACLs let it read the alert topic and nothing else:

    python cad_alert_consumer.py --config cad-vendor.properties --schema alert.avsc --prefix fusion. --agency CA0430000

The rules it shows:
- The alert topic (`<prefix>alerts`, schema argus/avro/alert.v1.avsc) is keyed `<agency ORI>:<unit>`
  (`-` when no unit): every alert for one unit is on one partition, in order.
- Alerts are already redacted for their recipient: display every field you get, add nothing.
- Values are Avro in the Confluent framing (magic byte 0, 4-byte big-endian schema id). Where the
  pipeline runs with a schema registry (`kafka://...?registry=URL`), the ids are the registry's
  (subject `<prefix>alerts-value`): pass `--registry URL` and Confluent's own AvroDeserializer
  reads them. Without one, the writer schemas are in the compacted topic `<prefix>schemas`
  (key: the id; value: JSON [subject, schema, ...]); read it before decoding, and again on an id
  you do not know. An integrator reading the alert topic alone decodes with the schema file
  (`--schema`), whose id is its CRC-64-AVRO fingerprint; a value framed with another id was
  written with a newer schema, and the consumer stops and says so rather than guess.
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
from fastavro.schema import fingerprint, to_parsing_canonical_form


def load_schemas(conn: dict[str, str], prefix: str) -> dict[int, Any]:
    c = Consumer({**conn, "group.id": "schema-reader", "enable.partition.eof": True})
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


def schema_file(path: str) -> dict[int, Any]:
    """The alert schema from a file, under the id Argus frames it with (no registry)."""
    with open(path, encoding="utf-8") as fh:
        parsed = parse_schema(json.load(fh))
    return {int(fingerprint(to_parsing_canonical_form(parsed), "CRC-64-AVRO"), 16) & 0x7FFFFFFF: parsed}


def newer_schema(path: str) -> dict[int, Any]:
    raise SystemExit(
        f"an alert was written with a schema that is not {path}: get the current one (argus integrator schema)"
    )


def read_config(path: str) -> dict[str, str]:
    """librdkafka properties, one `key=value` a line (what `argus integrator add` prints)."""
    out = {}
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            line = line.strip()
            if line and not line.startswith("#"):
                key, _, value = line.partition("=")
                out[key.strip()] = value.strip()
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
    ap.add_argument("--bootstrap", default=None, help="host:port (or bootstrap.servers in --config)")
    ap.add_argument("--config", default=None, help="librdkafka properties: connection, credentials, group")
    ap.add_argument("--schema", default=None, help="the alert schema file; without it, read <prefix>schemas")
    ap.add_argument("--prefix", default="", help="the topic prefix of the Argus pipeline (kafka://...?prefix=)")
    ap.add_argument("--agency", required=True, help="your ORI")
    ap.add_argument("--unit", default=None, help="only this unit's alerts")
    ap.add_argument("--group", default=None, help="consumer group (default cad-<agency>)")
    ap.add_argument("--from-beginning", action="store_true", help="a new group starts at the oldest alert")
    ap.add_argument("--max", type=int, default=0, help="stop after this many alerts (0: run forever)")
    ap.add_argument("--idle-timeout", type=float, default=0, help="stop after this long without alerts (0: never)")
    ap.add_argument("--registry", default=None, help="schema registry URL, when the pipeline uses one")
    args = ap.parse_args(argv)
    conn = read_config(args.config) if args.config else {}
    if args.bootstrap:
        conn["bootstrap.servers"] = args.bootstrap
    if "bootstrap.servers" not in conn:
        ap.error("--bootstrap or a --config with bootstrap.servers is required")
    group = args.group or conn.pop("group.id", None) or f"cad-{args.agency}"
    conn = {k: v for k, v in conn.items() if k not in ("group.id", "isolation.level")}

    if args.registry:
        from confluent_kafka.schema_registry import SchemaRegistryClient
        from confluent_kafka.schema_registry.avro import AvroDeserializer
        from confluent_kafka.serialization import MessageField, SerializationContext

        avro = AvroDeserializer(SchemaRegistryClient({"url": args.registry}))

        def read(value: bytes) -> dict[str, Any]:
            return avro(value, SerializationContext(f"{args.prefix}alerts", MessageField.VALUE))
    elif args.schema:
        schemas = schema_file(args.schema)

        def read(value: bytes) -> dict[str, Any]:
            return decode(value, schemas, lambda: newer_schema(args.schema))
    else:
        schemas = load_schemas(conn, args.prefix)

        def read(value: bytes) -> dict[str, Any]:
            return decode(value, schemas, lambda: load_schemas(conn, args.prefix))

    consumer = Consumer(
        {
            **conn,
            "group.id": group,
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
