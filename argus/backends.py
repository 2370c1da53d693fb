"""Backends opened by URL, beside the registry that names their classes: the bus, a store, and
reading a whole topic back. The runtime, the API and the CLI open what a topology names here."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from argus.bus.base import Bus, Message, RegistryUnavailable, SchemaRow, TopicSpec
from argus.records import Record
from argus.registry import backend_class
from argus.schemas import SchemaError, SchemaSet, TopicSchema, default_schemas
from argus.topology import Topology, embedded_path


def bus_url_for(url: str, role: str | None) -> str:
    if not role or not url.startswith("kafka:"):
        return url
    parts = urlsplit(url)
    q = dict(parse_qsl(parts.query))
    q["client"] = f"{q.get('client', 'argus')}-{role}"
    return urlunsplit(parts._replace(query=urlencode(q)))


def open_bus(topo: Topology, role: str | None = None) -> Bus:
    """`role` names a writer other than the pipeline (the API, a CLI command): on Kafka it gets a
    transactional.id of its own, since sharing the pipeline's would fence the running pipeline."""
    url = bus_url_for(topo.bus_url, role)
    cls = backend_class("bus", url)
    bus: Bus = cls(embedded_path(url)) if url.startswith("embedded:") else cls(url)
    # Another producer's version of a subject met on the wire (a registry's): readable by the
    # process's decoder (a runtime with a schema set of its own points it there instead).
    bus.on_foreign_schema = default_schemas().register_writer
    return bus


def open_store(topo: Topology, kind: str) -> Any:
    return open_url(kind, topo.store_url(kind))


def open_url(kind: str, url: str) -> Any:
    """A store of `kind` at `url`, through the backend registry (embedded: a file path)."""
    cls = backend_class(kind, url)
    return cls(embedded_path(url)) if url.startswith("embedded:") else cls(url)


def prepare_bus(topo: Topology, bus: Bus, schemas: SchemaSet) -> dict[str, TopicSchema]:
    """Make the bus ready for this topology's producers: every topic there, every schema
    registered, and `schemas` able to read every writer the bus has carried. No producer starts
    with a schema some reader of the bus could not read, or that could not read what is already
    there (FULL_TRANSITIVE per subject): the reasons, not records. Closes the bus on refusal."""
    history = list(bus.schema_history())
    used = {t.schema_: schemas.get(t.schema_) for t in topo.topics.values()}
    wrong = [p for ts in used.values() for p in schemas.compatibility(ts, history)]
    if wrong:
        bus.close()
        raise SchemaError(
            "schemas incompatible with what this bus already carries (argus/avro/README.md, "
            "compatibility rule):\n  " + "\n  ".join(wrong)
        )
    specs: list[TopicSpec] = []
    rows: list[SchemaRow] = []
    by_topic: dict[str, TopicSchema] = {}
    for name, t in topo.topics.items():
        ts = schemas.get(t.schema_)
        by_topic[name] = ts
        specs.append(t.spec(name))
        rows.append((ts.schema_id, ts.name, ts.canonical, json.dumps(ts.raw), name))
    bus.ensure_topics(specs)
    try:
        bus.register_schemas(rows)
    except (SchemaError, RegistryUnavailable):  # a schema registry refused one, or is down
        bus.close()
        raise
    for sid, _, schema in history:  # read once above: the bus's writers, older ones included
        schemas.register_writer(sid, schema)
    return by_topic


def decode(schemas: SchemaSet, msg: Message, reader: TopicSchema | None) -> dict[str, Any]:
    if msg.unreadable is not None:  # the bus could not even say which schema wrote it
        raise SchemaError(msg.unreadable)
    return schemas.decode(msg.value, reader)


def decode_envelope(schemas: SchemaSet, msg: Message, reader: TopicSchema | None) -> dict[str, Any] | None:
    """A message's envelope alone (SchemaSet.envelope)."""
    if msg.unreadable is not None:
        raise SchemaError(msg.unreadable)
    return schemas.envelope(msg.value, reader)


def read_topic(
    bus: Bus,
    schemas: SchemaSet,
    topic: str,
    reader: TopicSchema | None = None,
    start: dict[int, int] | None = None,
    on_read: Callable[[int], None] | None = None,
) -> list[Record]:
    """Every record of `topic` (from `start`), decoded; `on_read` hears how many offsets are read."""
    return list(iter_topic(bus, schemas, topic, reader, start, on_read))


def iter_topic(
    bus: Bus,
    schemas: SchemaSet,
    topic: str,
    reader: TopicSchema | None = None,
    start: dict[int, int] | None = None,
    on_read: Callable[[int], None] | None = None,
) -> Iterator[Record]:
    """`read_topic` one record at a time: a topic of a large run (650,000 alerts of 100,000
    records) decoded at once takes more memory than the machine has."""
    seen = 0
    for p in range(bus.partitions(topic)):
        off = (start or {}).get(p, 0)
        while True:
            msgs = bus.read(topic, p, off, 5000)
            if not msgs:
                break
            for m in msgs:
                if not m.value:  # erased by a purge
                    continue
                yield Record(
                    decode(schemas, m, reader), key=m.key, topic=topic, partition=p, offset=m.offset, raw=m.value
                )
            off = msgs[-1].offset + 1
            seen += len(msgs)
            if on_read is not None:
                on_read(seen)
