"""How a topology splits into tasks, the unit a worker process runs.

A task is a node, or one partition of a partitioned node. A node is partitioned when its state is
keyed by what its input records are keyed by (dedup: the report id), or when it has no state
(sinks): then partition p of its inputs, and the slice of state those records touch, can run in
one process while partition p+1 runs in another, and the answer is the same.

Entity resolution and correlation are not partitioned by key, by design: a report links a person,
a vehicle and a place, and whether it matches an earlier report depends on all three at once.
Splitting the index by any one key would let two records that match on another key resolve in
different processes, and miss the match. They are split by kind instead, as chains of nodes
(resolve_persons -> resolve_vehicles -> resolve_places, correlate_persons -> correlation), each
node one task (on whichever worker holds it, recovered from its changelog when it moves), while
dedup, the alert composer (a report's alerts, from what the correlation nodes found), the sinks
and the connectors spread over the group, one task per partition. bench/kafka.py measures what that
leaves on the table. Being single tasks is also what lets them be *ordered*
(argus/runtime/order.py): each sees its input in source order, so a group of any size gives the
answer one process gives.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from argus.registry import node_class, role_of

if TYPE_CHECKING:
    from argus.topology import Topology


@dataclass(frozen=True)
class Task:
    node: str
    index: int
    count: int

    @property
    def id(self) -> str:
        return self.node if self.count == 1 else f"{self.node}#{self.index}"

    def owns(self, partition: int) -> bool:
        return partition % self.count == self.index


def partitioned(topo: Topology, node: str) -> bool:
    model = topo.nodes[node]
    cls = node_class(model.use)
    return role_of(cls) != "connector" and bool(model.inputs) and bool(getattr(cls, "partitioned", False))


def plan(topo: Topology, split: bool) -> list[Task]:
    """Every task of the topology. Unsplit (one process): one task per node. Split: the global
    nodes first, so a group's assignor spreads the heaviest tasks over different workers."""
    single: list[Task] = []
    parts: list[Task] = []
    for name, model in topo.nodes.items():
        if split and partitioned(topo, name):
            n = max(topo.topics[t].partitions for t in model.inputs)
            parts.extend(Task(name, i, n) for i in range(n))
        else:
            single.append(Task(name, 0, 1))
    processors = [t for t in single if topo.nodes[t.node].inputs]
    connectors = [t for t in single if not topo.nodes[t.node].inputs]
    return [*processors, *connectors, *parts]


def units(topo: Topology, tasks: list[Task]) -> list[tuple[Task, ...]]:
    """What a group assigns: each task alone, except nodes joined by `colocate_with`, whose
    tasks go together (in plan order, under the first one's place). A node answering a field
    query in process (correlation) is joined to the one resolving it, so whatever the
    assignment, the query never takes a hop through the bus between them."""

    groups: dict[str, list[Task]] = {}
    for t in tasks:
        groups.setdefault(colocation_path(topo, t.node)[-1] if t.count == 1 else t.id, []).append(t)
    return [tuple(g) for g in groups.values()]


def colocation_path(topo: Topology, node: str) -> list[str]:
    """`node`, the node it runs with (`colocate_with`), that one's, and so on: up to an unknown
    node or a repeat, which `argus check` reports (argus/topology.py)."""
    path = [node]
    while (nxt := topo.nodes[path[-1]].colocate_with) is not None and nxt in topo.nodes and nxt not in path:
        path.append(nxt)
    return path


def plan_digest(units: list[tuple[Task, ...]]) -> str:
    """Names the group's coordination topic: a topology whose units change gets a new one."""
    return hashlib.blake2b("|".join("+".join(t.id for t in u) for u in units).encode(), digest_size=5).hexdigest()
