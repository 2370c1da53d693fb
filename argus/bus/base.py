"""The bus interface the runtime is written against.

A bus is topics of partitioned append-only logs, consumer offsets per group, and node state;
`commit()` applies a node's appends, state changes and new input offsets atomically.
"""

from __future__ import annotations

import zlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from argus.state_view import StateView

DELETED: Any = object()  # a state value meaning "delete this key" in a Commit


def partition_for(key: str | None, partitions: int) -> int:
    """Same key, same partition: per-entity order holds within a partition."""
    if partitions <= 1 or key is None:
        return 0
    return zlib.crc32(key.encode()) % partitions


class RegistryUnavailable(RuntimeError):
    """The schema registry a bus frames records through could not be reached (or answered 5xx):
    at start-up, registering the topics' schemas, or later, asked for a schema id met on the wire.
    A transient condition (it may be restarting): `argus run` and every other command exit 75 for
    their supervisor or operator to retry, where a registry refusing a schema
    (argus.bus.kafka_registry.SchemaRegistryRefused) exits 2; the API answers 503."""


class Fenced(Exception):
    """A writer's commit was refused because another process has since claimed the same writer
    (on Kafka: a newer producer epoch for its transactional id). Nothing of the batch landed.
    In a worker group this means the task now belongs to another worker, usually because this
    one stalled past its session timeout; the runtime drops the task and carries on."""

    def __init__(self, writer: str | None, detail: str = "") -> None:
        super().__init__(f"writer {writer!r} was fenced by a newer owner{': ' + detail if detail else ''}")
        self.writer = writer


@dataclass(slots=True)
class Message:
    topic: str
    partition: int
    offset: int
    key: str | None
    value: bytes
    timestamp_us: int
    # Record headers as written (Commit.headers). The runtime marks a field query's answer
    # already handed to a node in the same process (argus-answered-by) here, next to the value.
    headers: list[tuple[str, bytes]] | None = None
    # Why the value cannot be read at all (its frame names a schema the bus's schema registry
    # does not hold): the runtime dead-letters it with this reason instead of decoding it.
    unreadable: str | None = None

    def header(self, name: str) -> list[bytes]:
        return [v for k, v in self.headers or () if k == name]


@dataclass
class Commit:
    """Everything one node's batch changes, applied all-or-nothing."""

    appends: list[tuple[str, str | None, bytes]] = field(default_factory=list)
    offsets: dict[tuple[str, str, int], int] = field(default_factory=dict)  # (group, topic, part) -> next
    state: dict[str, dict[str, Any]] = field(default_factory=dict)  # node -> key -> value | DELETED
    # The task committing (argus.runtime.tasks): a transactional bus keeps one producer per task,
    # so the worker that takes a task over fences only that task's previous owner.
    writer: str | None = None
    # Kafka record headers for some appends (by index): dead letters carry why, where and the
    # original bytes there, so a consumer that cannot read Avro still sees them. Others ignore it.
    headers: dict[int, list[tuple[str, bytes]]] = field(default_factory=dict)
    state_partition: int = 0  # which partition of the node's state the task owns
    # Appends placed in a given partition instead of the key's (by index): source-order marks
    # go to every partition, and a node passing marks on keeps each record in its partition
    # (argus/runtime/order.py).
    parts: dict[int, int] = field(default_factory=dict)

    def append(
        self,
        topic: str,
        key: str | None,
        value: bytes,
        headers: list[tuple[str, bytes]] | None = None,
        partition: int | None = None,
    ) -> None:
        if headers:
            self.headers[len(self.appends)] = headers
        if partition is not None:
            self.parts[len(self.appends)] = partition
        self.appends.append((topic, key, value))

    def partition_of(self, i: int, key: str | None, partitions: int) -> int:
        """Where append i goes: its given partition, else its key's."""
        part = self.parts.get(i)
        return partition_for(key, partitions) if part is None else part

    def empty(self) -> bool:
        return not (self.appends or self.offsets or self.state)

    def absorb(self, later: Commit) -> None:
        """Take a later batch's appends and offsets into this one (one transaction for both)."""
        base = len(self.appends)
        self.headers.update({base + i: h for i, h in later.headers.items()})
        self.parts.update({base + i: p for i, p in later.parts.items()})
        self.appends.extend(later.appends)
        self.offsets.update(later.offsets)


# (schema id, subject, canonical form, whole schema or None, topic or None): see register_schema
SchemaRow = tuple[int, str, str, str | None, str | None]


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    schema: str
    # Keep only each key's latest record (a tombstone, once a day old, goes too): Kafka's
    # cleanup.policy=compact, done by the embedded bus itself. Never on a topic carrying
    # source-order marks (argus/runtime/order.py): they are tombstones.
    compacted: bool = False
    # Records older than this are deleted; None: the bus's default (the broker's
    # log.retention.hours on Kafka; kept for good on the embedded bus).
    retention_hours: int | None = None
    # "high": the field-query path (topology.yaml `priority`); the Kafka bus fetches it apart.
    priority: str = "normal"


class Bus(ABC):
    """Implemented by the embedded bus here and by the Kafka bus in its own module."""

    #: True where several processes share a topology (Kafka): partitioned nodes then run as one
    #: task per partition, each with its own slice of state. The embedded bus is one process.
    partitioned_state: ClassVar[bool] = False
    #: How long (seconds) a task with more input waiting may keep its batches in one open
    #: commit. A Kafka transaction costs two round trips whatever its size; a SQLite one is
    #: cheap, so the embedded bus commits every batch.
    commit_interval: ClassVar[float] = 0.0
    #: True where each task writes through a client of its own (Kafka: a transactional producer
    #: per task): tasks' commits, and their recoveries at start-up, may then run side by side.
    concurrent_commits: ClassVar[bool] = False
    #: How often (seconds) an ingest batch may look for a waiting field query. The embedded bus
    #: keeps partitions' ends in memory, so it looks before every record; a Kafka look asks
    #: the client about every partition of the query lane, about 0.1 ms a look (see
    #: argus/runtime/scheduler.py).
    hot_look_every: ClassVar[float] = 0.0
    #: Called with (schema id, schema JSON) for a writer's schema the bus met on the wire but did
    #: not register itself (Kafka with a registry: an upstream producer's compatible version), so
    #: the decoder can read it before the record reaches a node. Set by `open_bus` (the process's
    #: schema set) and by a runtime with a schema set of its own.
    on_foreign_schema: Callable[[int, str], None] | None = None

    @abstractmethod
    def ensure_topic(self, spec: TopicSpec) -> None: ...

    def ensure_topics(self, specs: list[TopicSpec]) -> None:
        """Every topic of a topology at start-up: a bus whose topics live on a server asks it
        once for all of them, not once each."""
        for spec in specs:
            self.ensure_topic(spec)

    @abstractmethod
    def partitions(self, topic: str) -> int: ...

    @abstractmethod
    def read(self, topic: str, partition: int, offset: int, limit: int, reader: str | None = None) -> list[Message]:
        """Up to `limit` messages from `offset`. `reader` names who reads (a task), so a bus that
        keeps a cursor per reader keeps one per task."""

    @abstractmethod
    def end_offset(self, topic: str, partition: int, reader: str | None = None) -> int:
        """The offset after the last readable message (for `reader`, where that matters)."""

    def readable(self, topic: str, partition: int, offset: int, reader: str) -> bool:
        """Whether `reader`'s read at `offset` would return a message now, without waiting
        (`end_offset` can be ahead of it: a Kafka transaction's marker, a fetch in flight)."""
        return bool(self.read(topic, partition, offset, 1, reader))

    @abstractmethod
    def committed(self, group: str, topic: str, partition: int) -> int: ...

    @abstractmethod
    def commit(self, commit: Commit) -> list[tuple[str, int, int]]:
        """Apply atomically; return (topic, partition, offset) of each append, in order."""

    def state_view(self, node: str, partition: int = 0, partitions: int = 1) -> StateView | None:
        """The node's committed state read through key by key with a bounded part held in memory,
        where the bus can look a key up; None: the runtime loads the whole of it (load_state)."""
        return None

    @abstractmethod
    def load_state(self, node: str, partition: int = 0, partitions: int = 1) -> dict[str, Any]:
        """A node's committed state; on a bus with `partitioned_state`, only the slice of
        `partition` (of `partitions`) that one task owns."""

    @abstractmethod
    def register_schema(
        self, schema_id: int, subject: str, canonical: str, full: str | None = None, topic: str | None = None
    ) -> None:
        """Keep a writer schema: its parsing canonical form (to decode with) and, when given, the
        whole schema (defaults included: what compatibility is judged by). `topic`: the topic it
        is written to (a bus with a schema registry registers it there under `<topic>-value`)."""

    def register_schemas(self, rows: list[SchemaRow]) -> None:
        """Several writer schemas at start-up (each as `register_schema` takes it): a bus that
        writes them to a server waits for them once, not once each."""
        for schema_id, subject, canonical, full, topic in rows:
            self.register_schema(schema_id, subject, canonical, full, topic)

    @abstractmethod
    def known_schemas(self) -> Iterator[tuple[int, str]]: ...

    @abstractmethod
    def schema_history(self) -> Iterator[tuple[int, str, str]]:
        """Every schema ever registered: (id, subject as registered, e.g. "cad_query.v1", the
        whole schema as JSON, or its parsing canonical form if registered without it). What a
        new producer's schema must stay compatible with."""

    def claim(self, writer: str | None = None) -> None:
        """Become the one writer of a task's outputs (or, with no writer, of this client's)
        before reading where the last one stopped. A transactional bus fences a predecessor
        killed mid-batch, which aborts its open transaction; until then its offsets and state
        read as pending. Others need nothing."""
        return None

    def release(self, writer: str) -> None:
        """This process no longer runs the task (another worker took it over)."""
        return None

    def refresh(self, block: bool = True) -> bool:
        """Pick up what other processes wrote; buses that always read through need nothing.
        `block=False`: while another thread is using the bus, do not wait to look (False)."""
        return False

    @abstractmethod
    def erase(self, at: list[tuple[str, int, int]]) -> int:
        """Purge: make the messages at (topic, partition, offset) unreadable, leaving a tombstone
        readers skip. Returns how many were erased."""

    @abstractmethod
    def close(self) -> None: ...
