"""Which of a topology's tasks this process runs. The runtime is given a strategy: one process
running every task (the default, on any bus), or a worker of a group on Kafka taking the tasks
the group hands it (argus/runtime/worker.py). The runtime asks it at open, before each step,
when a commit is fenced, before running until idle, and at close."""

from __future__ import annotations

from typing import TYPE_CHECKING

from argus.bus.base import Fenced
from argus.registry import node_class, role_of
from argus.runtime.tasks import Task, colocation_path

if TYPE_CHECKING:
    from argus.runtime.core import Runtime
    from argus.topology import Topology


class Assignment:
    """Every task in this one process: nobody else can own one, so a fenced commit is a fault."""

    def initial_tasks(self, rt: Runtime) -> list[Task]:
        return list(rt.tasks)

    def before_step(self, rt: Runtime) -> None:
        """Apply what changed hands since the last step (nothing does here)."""

    def fenced(self, rt: Runtime, exc: Fenced) -> bool:
        """A commit was fenced: True if the strategy dropped the task and the runtime goes on."""
        return False

    def wait_for_tasks(self, rt: Runtime, timeout: float = 60.0) -> None:
        """Return once this process holds the tasks it is to run."""

    def close(self) -> None:
        """Leave whatever this process joined."""


PARTS = ("all", "alerts", "stores")


def part_of(topo: Topology, name: str) -> str:
    """Which process of a split embedded bus runs the node: its own `part`, or the part of the
    node it is joined to by colocate_with; by default sinks "stores", the rest "alerts"."""
    root = topo.nodes[colocation_path(topo, name)[-1]]
    if root.part is not None:
        return root.part
    return "stores" if role_of(node_class(root.use)) == "sink" else "alerts"


class Part(Assignment):
    """One part of the tasks on the embedded bus, which every process on the machine shares:
    the path to an officer's alert (sources, resolution, correlation) in one process, the
    stores and the analyses that feed only them in another, so their Python no longer takes
    the alert path's interpreter. Each task is in one part, so no task has two owners."""

    def __init__(self, part: str) -> None:
        if part not in PARTS:
            raise ValueError(f"part must be one of {', '.join(PARTS)}, not {part!r}")
        self.part = part

    def initial_tasks(self, rt: Runtime) -> list[Task]:
        if self.part == "all":
            return list(rt.tasks)
        return [t for t in rt.tasks if part_of(rt.topo, t.node) == self.part]
