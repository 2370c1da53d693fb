"""Which of a topology's tasks this process runs. The runtime is given a strategy: one process
running every task (the default, on any bus), or a worker of a group on Kafka taking the tasks
the group hands it (argus/runtime/worker.py). The runtime asks it at open, before each step,
when a commit is fenced, before running until idle, and at close."""

from __future__ import annotations

from typing import TYPE_CHECKING

from argus.bus.base import Fenced
from argus.registry import node_class, role_of
from argus.runtime.tasks import Task

if TYPE_CHECKING:
    from argus.runtime.core import Runtime


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


PARTS: dict[str, frozenset[str]] = {
    "all": frozenset({"connector", "processor", "sink"}),
    "pipeline": frozenset({"connector", "processor"}),
    "sinks": frozenset({"sink"}),
}


class Part(Assignment):
    """The tasks of some roles only, on the embedded bus, which every process on the machine
    shares: the pipeline in one process and the sinks in another, so the sinks' Python (the
    graph, search and risk stores' writes) no longer takes the pipeline's interpreter. The two
    sets are disjoint, so no task has two owners."""

    def __init__(self, part: str) -> None:
        if part not in PARTS:
            raise ValueError(f"part must be one of {', '.join(PARTS)}, not {part!r}")
        self.part = part
        self.roles = PARTS[part]

    def initial_tasks(self, rt: Runtime) -> list[Task]:
        return [t for t in rt.tasks if role_of(node_class(rt.topo.nodes[t.node].use)) in self.roles]
