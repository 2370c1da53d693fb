"""The bus interface the runtime is written against.

A bus is topics of partitioned append-only logs, consumer offsets per group, and node state;
`commit()` applies a node's appends, state changes and new input offsets atomically.
"""

from __future__ import annotations

import zlib
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

DELETED: Any = object()  # a state value meaning "delete this key" in a Commit


def partition_for(key: str | None, partitions: int) -> int:
    """Same key, same partition: per-entity order holds within a partition."""
    if partitions <= 1 or key is None:
        return 0
    return zlib.crc32(key.encode()) % partitions


@dataclass(slots=True)
class Message:
    topic: str
    partition: int
    offset: int
    key: str | None
    value: bytes
    timestamp_us: int


@dataclass
class Commit:
    """Everything one node's batch changes, applied all-or-nothing."""

    appends: list[tuple[str, str | None, bytes]] = field(default_factory=list)
    offsets: dict[tuple[str, str, int], int] = field(default_factory=dict)  # (group, topic, part) -> next
    state: dict[str, dict[str, Any]] = field(default_factory=dict)  # node -> key -> value | DELETED

    def empty(self) -> bool:
        return not (self.appends or self.offsets or self.state)


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    schema: str


class Bus(ABC):
    """Implemented by the embedded bus here and by the Kafka bus in its own module."""

    @abstractmethod
    def ensure_topic(self, spec: TopicSpec) -> None: ...

    @abstractmethod
    def partitions(self, topic: str) -> int: ...

    @abstractmethod
    def read(self, topic: str, partition: int, offset: int, limit: int) -> list[Message]: ...

    @abstractmethod
    def end_offset(self, topic: str, partition: int) -> int: ...

    @abstractmethod
    def committed(self, group: str, topic: str, partition: int) -> int: ...

    @abstractmethod
    def commit(self, commit: Commit) -> list[tuple[str, int, int]]:
        """Apply atomically; return (topic, partition, offset) of each append, in order."""

    @abstractmethod
    def load_state(self, node: str) -> dict[str, Any]: ...

    @abstractmethod
    def register_schema(self, schema_id: int, subject: str, canonical: str) -> None: ...

    @abstractmethod
    def known_schemas(self) -> Iterator[tuple[int, str]]: ...

    def claim(self) -> None:
        """Become the one writer of this topology's outputs before reading where the last one
        stopped. A transactional bus fences a predecessor killed mid-batch, which aborts its
        open transaction; until then its offsets and state read as pending. Others need nothing."""
        return None

    def refresh(self) -> bool:
        """Pick up what other processes wrote; buses that always read through need nothing."""
        return False

    @abstractmethod
    def erase(self, at: list[tuple[str, int, int]]) -> int:
        """Purge: make the messages at (topic, partition, offset) unreadable, leaving a tombstone
        readers skip. Returns how many were erased."""

    @abstractmethod
    def close(self) -> None: ...
