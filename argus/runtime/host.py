"""What the runtime keeps for each task it runs (a Host), and the names its parts share."""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from argus.bus.base import Commit
from argus.contracts import Context, Node
from argus.runtime.order import OrderedInput
from argus.runtime.tasks import Task
from argus.state import NodeState
from argus.state_view import StateView
from argus.topology import NodeModel

# What a task's new owner reads before it runs: its state, and its committed input offsets.
Recovered = tuple[dict[str, Any] | StateView, dict[tuple[str, int], int]]

ORDERED = "argus:ordered"  # the work unit of an ordered node's source-ordered inputs
# Header on a record a node in the producing process already answered (_answer_here): the
# node's name. That node skips the record when it reads it; any other reader does not.
ANSWERED_BY = "argus-answered-by"
MARK_STATE = "argus:mark"  # a connector's place in its marks: {"epoch", "since", "idle"}


class NodeFailure(RuntimeError):
    """A node could not make progress (e.g. its store is gone); the runtime stops."""


@dataclass(eq=False)  # a host is itself: compared field by field, every unit lookup cost a walk of its state
class Host:
    name: str
    node: Node
    model: NodeModel
    role: str
    state: NodeState
    ctx: Context
    positions: dict[tuple[str, int], int] = field(default_factory=dict)
    # Each unit's partitions, from positions' keys (fixed once the host starts): looked at
    # between every two ingest records for a waiting field query (Scheduler._pending).
    parts_of: dict[str, tuple[tuple[str, int], ...]] = field(default_factory=dict)
    gen: Any = None
    next_poll: float = 0.0
    poll_interval: float = 0.25
    emits_alerts: bool = False
    task: Task | None = None
    held: Commit | None = None  # batches done but not yet committed (see _finish)
    held_since: float = 0.0
    order: OrderedInput | None = None  # an ordered node's source-ordered input
    mark_topics: tuple[str, ...] = ()  # outputs that carry source-order marks (order.py)
    # A commit on its way to the bus (see Runtime._commit): its future, the commit, and
    # whether it carries the node's state. The node runs again only once it has landed.
    inflight: tuple[Future, Commit, bool] | None = None
    qheld: Commit | None = None  # field-query offsets not yet committed (see _finish)
    qheld_since: float = 0.0
    problem: str | None = None  # a source's last failure, until it delivers again
    ingested: int = 0  # records a source delivered to its topics
    dead_lettered: int = 0  # of what a source read, the records it dead-lettered

    @property
    def reader(self) -> str:
        """Whom the bus reads for: the task (one consumer per task on Kafka), else the node."""
        return self.task.id if self.task else self.name
