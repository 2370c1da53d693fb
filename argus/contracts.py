"""The three contracts every node implements: Connector, Processor, Sink.

They are plain Python with no runtime in sight, so the same class runs on the embedded runtime
and on Kafka. Keyed state is reached only through `ctx.state`, which the runtime commits
atomically with the node's outputs and input offsets.
"""

from __future__ import annotations

import uuid
from abc import abstractmethod
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Any, ClassVar, Protocol

from pydantic import BaseModel, ConfigDict

from argus.records import Record, utcnow


class NodeConfig(BaseModel):
    """Base of every node's typed config: unknown keys are errors, caught by `argus check`."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Backpressure(Exception):
    """A sink that cannot take more now raises this instead of dropping anything."""

    def __init__(self, retry_after: float, reason: str = "") -> None:
        super().__init__(reason or f"backpressure, retry after {retry_after:.3f}s")
        self.retry_after = retry_after


class State(Protocol):
    """Keyed state of one node. Values are JSON-compatible."""

    def get(self, key: str, default: Any = None) -> Any: ...
    def put(self, key: str, value: Any) -> None: ...
    def delete(self, key: str) -> None: ...
    def prefetch(self, keys: Iterable[str]) -> None:
        """A hint: these keys are read next, so a state read through from the bus may look them
        up in one query. It changes nothing a node reads."""


class Context:
    """What a node may touch: its name, its state, the clock and id source (frozen in tests)."""

    def __init__(
        self,
        node: str,
        state: State,
        *,
        clock: Callable[[], datetime] = utcnow,
        ids: Callable[[], str] = lambda: str(uuid.uuid4()),
        stores: dict[str, Any] | None = None,
    ) -> None:
        self.node = node
        self.state = state
        self._clock = clock
        self._ids = ids
        self.stores = stores or {}

    def now(self) -> datetime:
        return self._clock()

    def new_id(self) -> str:
        return self._ids()


class Node:
    """Common to all three roles: the config model and the name the topology gave it."""

    Config: ClassVar[type[NodeConfig]] = NodeConfig
    #: True if every state key the node touches is determined by the input record's key, so each
    #: input partition can run in a process of its own (argus/runtime/tasks.py)
    partitioned: ClassVar[bool] = False
    #: False if the node never changes a record it is handed, nor anything in it later (state
    #: holding parts of it included): it is then handed the decoded value that every such reader
    #: in the process shares, uncopied (argus/runtime/decoded.py). The pipeline test holds each
    #: node that says so to it.
    changes_input: ClassVar[bool] = True

    def __init__(self, config: NodeConfig | None = None, name: str | None = None) -> None:
        self.config = config if config is not None else self.Config()
        self.name = name or type(self).__name__


class Connector(Node):
    """Reads a source and emits records.

    `run(ctx)` yields what is available now and returns; the runtime calls it again on the next
    poll (that is how watch-a-folder modes follow new input). The connector's cursor lives in
    ctx.state and must describe exactly the records yielded so far: set it, then yield. The
    runtime commits cursor and records together, so a restart neither skips nor repeats.
    Bad input is yielded as `ctx`-free dead letters via `DeadLetterRecord`.
    """

    def setup(self, ctx: Context) -> None:
        """Open files or sessions."""

    @abstractmethod
    def run(self, ctx: Context) -> Iterator[Record | DeadLetterRecord]: ...

    def pending(self) -> bool:
        """True while work is under way that a later `run()` will yield (a network fetch in a
        worker thread): `run --until-idle` waits for it instead of calling the source dry."""
        return False

    def problems(self) -> list[str]:
        """What keeps this source from delivering now (a feed that times out, a partner that
        refuses): `run --until-idle` exits non-zero while any is left, `argus status` shows them."""
        return []

    def ready(self, ctx: Context) -> bool:
        """Whether `run()` could yield something now: a cheap look (a folder's file sizes
        against the cursor), asked of a source of urgent records (field queries) each time its
        poll is due while other work runs. False lets that work go on in whole batches until
        the next poll; True, the default when a source cannot tell, stops it at every poll to
        run this source, which on Kafka cut ingest into transactions of a few records."""
        return True

    def stop(self) -> None:
        """Release what setup opened."""


class Processor(Node):
    """Pure function of (record, keyed state) to output records."""

    #: True if the answer depends on the order records arrive in (entity resolution,
    #: correlation): the runtime then hands it its input in source order, the same whatever the
    #: timing or the number of processes (argus/runtime/order.py). Such a node runs as one task.
    ordered: ClassVar[bool] = False

    #: Schemas of the input records the node answers without writing state (correlation: a
    #: resolved field query). Where the node runs in the process that produced such a record,
    #: the runtime hands it over at once and commits the node's answer in the producer's
    #: transaction: a field query skips a hop. The runtime checks that nothing was written.
    stateless_inputs: ClassVar[tuple[str, ...]] = ()

    def setup(self, ctx: Context) -> None:
        """Load reference data."""

    @abstractmethod
    def process(self, record: Record, ctx: Context) -> Iterable[Record]: ...


class Sink(Node):
    """Writes to a store. `flush()` returns only when writes are durable; the runtime commits
    input offsets after it, so writes must be idempotent (upsert by deterministic id)."""

    #: names of the topology `stores:` this sink needs, handed over in ctx.stores
    stores: ClassVar[tuple[str, ...]] = ()
    partitioned = True  # no state of their own, and writes are idempotent upserts

    def setup(self, ctx: Context) -> None:
        """Create indexes and constraints."""

    @abstractmethod
    def add(self, record: Record) -> None: ...

    @abstractmethod
    def flush(self) -> None: ...

    def close(self) -> None:
        """Release what setup opened."""


class DeadLetterRecord:
    """Input a connector refuses: why, where it was, and its exact bytes."""

    __slots__ = ("original", "reason", "source")

    def __init__(self, reason: str, original: bytes, source: str) -> None:
        self.reason = reason
        self.original = original
        self.source = source
