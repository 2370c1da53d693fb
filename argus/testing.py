"""Run one node on given records and look at what it emitted: the harness every node test uses.

Inputs and outputs go through the real Avro schemas (encode, then decode), so a test fails if
a node emits something its topic could not carry. Clocks and ids are frozen by default so
outputs are exact.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from argus.contracts import Connector, Context, DeadLetterRecord, Node, Processor, Sink
from argus.records import Record
from argus.schemas import SchemaSet, default_schemas
from argus.state import NodeState

FROZEN_NOW = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)


def frozen_clock(at: datetime = FROZEN_NOW) -> Callable[[], datetime]:
    return lambda: at


def counting_ids(prefix: str = "00000000-0000-4000-8000-") -> Callable[[], str]:
    counter = itertools.count(1)
    return lambda: f"{prefix}{next(counter):012d}"


@dataclass
class NodeRun:
    """What a node did: emitted records (per topic/schema), dead letters, and its state."""

    outputs: list[Record] = field(default_factory=list)
    dead_letters: list[DeadLetterRecord | tuple[Record, Exception]] = field(default_factory=list)
    state: NodeState = field(default_factory=NodeState)
    ctx: Context | None = None

    def to(self, target: str) -> list[Record]:
        """Outputs addressed to a topic or schema name."""
        return [r for r in self.outputs if r.topic == target]

    def bodies(self, target: str | None = None) -> list[Any]:
        return [r.body for r in (self.to(target) if target else self.outputs)]


class Harness:
    """Hosts one node the way the runtime does, minus the bus."""

    def __init__(
        self,
        node: Node,
        *,
        emits: dict[str | None, str] | None = None,
        schemas: SchemaSet | None = None,
        clock: Callable[[], datetime] | None = None,
        ids: Callable[[], str] | None = None,
        stores: dict[str, Any] | None = None,
    ) -> None:
        self.node = node
        self.schemas = schemas or default_schemas()
        # Which schema an output is encoded with: by Record.topic (None: the node's first `emits`).
        declared = getattr(node, "emits", ())
        self.emits = emits or ({None: declared[0], **{s: s for s in declared}} if declared else {})
        self.state = NodeState()
        self.ctx = Context(
            node.name, self.state, clock=clock or frozen_clock(), ids=ids or counting_ids(), stores=stores
        )
        node.setup(self.ctx)

    def _roundtrip(self, rec: Record, schema: str | None) -> Record:
        if schema is None:
            return rec
        ts = self.schemas.get(schema)
        value = self.schemas.decode(self.schemas.encode(ts, rec.value), ts)
        return Record(value, key=rec.key, topic=rec.topic or schema)

    def run(self, records: Iterable[Record] = (), input_schema: str | None = None) -> NodeRun:
        run = NodeRun(state=self.state, ctx=self.ctx)
        node = self.node
        if isinstance(node, Connector):
            for item in node.run(self.ctx):
                if isinstance(item, DeadLetterRecord):
                    run.dead_letters.append(item)
                else:
                    run.outputs.append(self._roundtrip(item, self.emits.get(item.topic)))
            self.state.committed()
            return run
        for rec in records:
            rec = self._roundtrip(rec, input_schema)
            self.state.begin_record()
            try:
                if isinstance(node, Sink):
                    node.add(rec)
                else:
                    assert isinstance(node, Processor)
                    for out in node.process(rec, self.ctx):
                        run.outputs.append(self._roundtrip(out, self.emits.get(out.topic, out.topic)))
                self.state.end_record(True)
            except Exception as exc:  # the runtime would retry, then dead-letter
                self.state.end_record(False)
                run.dead_letters.append((rec, exc))
        if isinstance(node, Sink):
            node.flush()
        self.state.committed()
        return run


def run_node(node: Node, records: Iterable[Record] = (), **kwargs: Any) -> NodeRun:
    input_schema = kwargs.pop("input_schema", None)
    return Harness(node, **kwargs).run(records, input_schema)
