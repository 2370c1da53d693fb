"""The Kafka bus's framing for a Confluent-compatible schema registry: records carry the
registry's ids on the wire and Argus's fingerprint ids inside."""

from __future__ import annotations

import struct
import threading
import weakref
from typing import TYPE_CHECKING, Any

import orjson

from argus.bus.base import RegistryUnavailable
from argus.schemas import SchemaError

if TYPE_CHECKING:
    from argus.bus.kafka import KafkaBus

_FRAME = struct.Struct(">bI")


class SchemaRegistryRefused(SchemaError):
    """The registry would not take a topic's schema (most often: incompatible under its rule
    with what another producer registered there): the bus does not start producing."""


class UnknownRegistrySchema(SchemaError):
    """A record's frame names a schema the registry does not hold (or one that is not Avro):
    that record can never be read, so it goes to the dead letters and its partition flows on."""


class SchemaRegistry:
    """Records on Kafka framed with the ids of a Confluent-compatible schema registry (subjects
    `<topic>-value`, TopicNameStrategy), so any Confluent deserializer reads Argus's topics; inside
    Argus they keep their fingerprint ids. The bus translates the 4-byte id as it produces and
    reads (one lookup each way, cached): the runtime, the CLI and the API stay as they are.

    Each subject gets Argus's compatibility rule in the registry before its first schema, so the
    registry holds every other producer (an upstream RMS writing to Argus's input topic, a
    consumer team's own tooling) to the rule Argus checks itself before it starts."""

    def __init__(self, url: str, bus: KafkaBus) -> None:
        from confluent_kafka.schema_registry import SchemaRegistryClient

        self.url = url
        self.client = SchemaRegistryClient({"url": url})
        # Weakly: a cycle would keep a closed bus, and its librdkafka clients, until a full
        # collection, and each client holds one of the process's 1,024 thread-local keys.
        self._bus = weakref.ref(bus)
        self._wire: dict[tuple[str, int], int] = {}  # (kafka topic, fingerprint id) -> registry id
        self._back: dict[int, int] = {}  # registry id -> fingerprint id
        self._lock = threading.Lock()

    def register(self, kafka_topic: str, fingerprint: int, schema_json: str) -> int:
        from confluent_kafka.schema_registry import Schema
        from confluent_kafka.schema_registry.error import SchemaRegistryError

        subject = f"{kafka_topic}-value"
        with self._lock:
            rid = self._wire.get((kafka_topic, fingerprint))
            if rid is None:
                schema = Schema(schema_json, "AVRO")
                try:
                    self._rule(subject)
                    rid = self._register(subject, schema)
                except SchemaRegistryError as exc:
                    if not 400 <= exc.http_status_code < 500:  # starting, overloaded, its storage away
                        raise self._unreachable(exc) from exc
                    raise SchemaRegistryRefused(
                        f"schema registry {self.url} refused the schema of {subject!r} "
                        f"(HTTP {exc.http_status_code}): {exc.error_message}"
                    ) from exc
                except Exception as exc:  # the HTTP client's own: refused connection, timeout, DNS
                    raise self._unreachable(exc) from exc
                self._wire[(kafka_topic, fingerprint)] = rid
                self._back[rid] = fingerprint
            return rid

    def _unreachable(self, exc: Exception) -> RegistryUnavailable:
        return RegistryUnavailable(f"schema registry {self.url} unreachable: {type(exc).__name__}: {exc}")

    # Workers of a group start together and register the same subjects at once; the registry
    # may refuse the second of two identical writes (Apicurio: "a rule named 'COMPATIBILITY'
    # already exists"). What matters is what the registry holds afterwards.
    def _rule(self, subject: str) -> None:
        from confluent_kafka.schema_registry.error import SchemaRegistryError

        from argus.schema_compat import RULE

        try:
            self.client.set_compatibility(subject_name=subject, level=RULE)
        except SchemaRegistryError:
            if self.client.get_compatibility(subject) != RULE:
                raise

    def _register(self, subject: str, schema: Any) -> int:
        from confluent_kafka.schema_registry.error import SchemaRegistryError

        try:
            return int(self.client.register_schema(subject, schema))
        except SchemaRegistryError as exc:
            try:  # registered meanwhile by another worker: the same id
                return int(self.client.lookup_schema(subject, schema).schema_id)
            except SchemaRegistryError:
                raise exc from None

    def to_wire(self, kafka_topic: str, value: bytes) -> bytes:
        magic, fp = _FRAME.unpack_from(value)
        rid = self._wire.get((kafka_topic, fp))
        if rid is None:  # written by a client that did not register it here (a CLI, the API)
            bus = self._bus()
            assert bus is not None, "the registry outlived its bus"
            known = {sid: (full or canonical) for sid, _, canonical, full in bus._schema_rows()}
            if fp not in known:
                raise KeyError(f"schema id {fp} is not among the bus's schemas: register it first")
            rid = self.register(kafka_topic, fp, known[fp])
        return _FRAME.pack(magic, rid) + value[5:]

    def from_wire(self, value: bytes) -> bytes:
        if len(value) < 5 or value[0] != 0:
            return value  # not Confluent-framed: the decoder says what is wrong with it
        rid = _FRAME.unpack_from(value)[1]
        fp = self._back.get(rid)
        if fp is None:
            fp = self._fingerprint(rid)
        return _FRAME.pack(0, fp) + value[5:]

    def _fingerprint(self, rid: int) -> int:
        from confluent_kafka.schema_registry.error import SchemaRegistryError
        from fastavro.schema import parse_schema, to_parsing_canonical_form

        from argus.schemas import schema_id_of

        try:
            found = self.client.get_schema(rid)
        except SchemaRegistryError as exc:
            if exc.http_status_code == 404:
                raise UnknownRegistrySchema(
                    f"schema id {rid} is not in schema registry {self.url}: written by a producer "
                    f"of another registry, or not framed by one (HTTP 404: {exc.error_message})"
                ) from None
            raise self._unreachable(exc) from exc  # starting, overloaded, its storage away
        except Exception as exc:  # the HTTP client's own: refused connection, timeout, DNS
            raise self._unreachable(exc) from exc
        schema = found.schema_str
        try:
            if (found.schema_type or "AVRO") != "AVRO":
                raise ValueError(f"a {found.schema_type} schema")
            fp = schema_id_of(to_parsing_canonical_form(parse_schema(orjson.loads(schema))))
        except Exception as exc:  # JSON Schema, Protobuf, or Avro fastavro will not parse
            raise UnknownRegistrySchema(
                f"schema id {rid} in schema registry {self.url} is not an Avro schema Argus can read: {str(exc)[:200]}"
            ) from None
        bus = self._bus()
        if bus is not None and bus.on_foreign_schema is not None:
            bus.on_foreign_schema(fp, schema)  # another producer's version: readable by resolution
        with self._lock:
            self._back[rid] = fp
        return fp
