"""Taking tasks on and giving them up: recovery (fence the previous owner, read its state
and committed offsets), starting a task's node, and stopping or dropping it."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from argus import metrics
from argus.backends import open_store
from argus.contracts import Connector, Context, Sink
from argus.registry import node_class, role_of
from argus.runtime.host import ORDERED, Host, Recovered
from argus.runtime.order import STATE_KEY, OrderedInput
from argus.runtime.tasks import Task
from argus.state import NodeState
from argus.state_view import StateView

if TYPE_CHECKING:
    import threading
    from collections.abc import Callable
    from datetime import datetime

    from argus.bus.base import Bus, Commit, Message
    from argus.runtime.assignment import Assignment
    from argus.runtime.decoded import SharedDecoder
    from argus.runtime.order_plan import OrderPlan
    from argus.schemas import TopicSchema
    from argus.topology import Topology

log = logging.getLogger("argus.runtime")

# Tasks recovered side by side (_recover_all): each waits on the broker, not on this process.
RECOVER_THREADS = 16


def _disown(task_id: str) -> None:
    """The task's series leaves /metrics with it: a stopped task reported as 0 would still be
    summed over the group, and a worker that gave a task up must not look like its owner."""
    try:
        metrics.TASKS_OWNED.remove(task_id)
    except KeyError:
        pass


class TaskLifecycle:
    # What this part uses of the runtime's other parts (core.py composes them into one
    # runtime; tests/unit/test_runtime_parts.py checks this list is whole and provided).
    _committer: ThreadPoolExecutor | None
    _decoded: SharedDecoder
    _topic_schema: dict[str, TopicSchema]
    _units_lock: threading.Lock
    assignment: Assignment
    bus: Bus | None
    clock: Callable[[], datetime]
    hosts: dict[str, Host]
    ids: Callable[[], str] | None
    order_plan: OrderPlan | None
    stores: dict[str, Any]
    topo: Topology
    if TYPE_CHECKING:

        def _commit(
            self, host: Host, commit: Commit, with_state: bool = True, wait: bool = True, query: bool = False
        ) -> None: ...
        def _envelope(self, msg: Message) -> dict[str, Any] | None: ...
        @staticmethod
        def _query_writer(task: Task) -> str: ...
        def _settle(self, host: Host, block: bool = True) -> bool: ...

    def _initial_tasks(self) -> list[Task]:
        """What this process runs from the start, as its assignment says (a group worker: none)."""
        return self.assignment.initial_tasks(self)

    def _recover(self, task: Task) -> Recovered:
        """Fence the task's previous owner, then read where it stopped: its slice of the node's
        state and its committed input offsets. Only bus I/O, so a worker taking several tasks
        at once runs these side by side."""
        assert self.bus is not None
        name, model = task.node, self.topo.nodes[task.node]
        self.bus.claim(task.id)  # before any offset or state is read: a killed predecessor is fenced
        if self._query_lane(task):
            self.bus.claim(self._query_writer(task))  # and its query lane's open transaction aborted
        # Sinks keep no state (their store is their state): no changelog to read or create.
        sink = role_of(node_class(model.use)) == "sink"
        # Read through where the bus can look a key up (memory then holds only the keys in use),
        # loaded whole where it cannot.
        state: dict[str, Any] | StateView = {}
        if not sink:
            view = self.bus.state_view(name, task.index, task.count)
            state = view if view is not None else self.bus.load_state(name, task.index, task.count)
        positions = {
            (t, p): self.bus.committed(name, t, p)
            for t in model.inputs
            for p in range(self.bus.partitions(t))
            if task.owns(p)
        }
        # Where each input ends: on Kafka the first look at a partition is a round trip to the
        # broker (later ones are what its fetcher already knows). Taken here, side by side with
        # the other tasks', not one partition after another on the scheduling thread.
        for t, p in positions:
            self.bus.end_offset(t, p, task.id)
        return state, positions

    def _recover_all(self, tasks: list[Task]) -> list[Recovered]:
        """Recover several tasks (a process starting, a worker handed tasks). On a bus whose
        tasks have their own producers (Kafka) it is round trips to the broker, most of a
        worker's start-up when done one task after another, so there they run side by side."""
        if len(tasks) < 2 or not self.bus.concurrent_commits:
            return [self._recover(t) for t in tasks]
        with ThreadPoolExecutor(max_workers=min(len(tasks), RECOVER_THREADS)) as pool:
            return list(pool.map(self._recover, tasks))

    def _query_lane(self, task: Task | None) -> bool:
        """Whether the task commits field queries through a writer of their own (_finish_query)."""
        if task is None or self._committer is None:
            return False
        return any(self.topo.topics[t].priority == "high" for t in self.topo.nodes[task.node].inputs)

    def _start_task(self, task: Task, recovered: Recovered | None = None) -> None:
        assert self.bus is not None
        topo = self.topo
        name, model = task.node, topo.nodes[task.node]
        committed, positions = recovered or self._recover(task)
        cls = node_class(model.use)
        config = cls.Config.model_validate(self._resolve_paths(model.config))
        node = cls(config, name=name)
        role = role_of(cls)
        state = NodeState(committed)
        kwargs: dict[str, Any] = {"clock": self.clock}
        if self.ids:
            kwargs["ids"] = self.ids
        stores = {s: self._store(s) for s in getattr(cls, "stores", ())}
        ctx = Context(name, state, stores=stores, **kwargs)
        host = Host(name, node, model, role, state, ctx, positions=positions, task=task)
        metrics.TASKS_OWNED.labels(task.id).set(1)
        metrics.start_at_zero(name, list(model.inputs), list(model.outputs))
        host.emits_alerts = any(self._topic_schema[t].subject == "alert" for t in model.outputs)
        assert self.order_plan is not None
        host.mark_topics = self.order_plan.marks_out.get(name, ())
        node.setup(ctx)
        if host.role == "connector":
            host.poll_interval = float(getattr(config, "poll_interval", 0.25))
        ordered_in = self.order_plan.inputs.get(name, ())
        units: list[tuple[Host, str]] = [
            (host, t) for t in model.inputs if t not in ordered_in and any(tp[0] == t for tp in positions)
        ]
        if ordered_in:
            chans = [tp for tp in positions if tp[0] in ordered_in]
            host.order = OrderedInput(
                chans,
                self.order_plan.origins[name],
                self.order_plan.reach[name],
                {ch: positions[ch] for ch in chans},
                committed.get(STATE_KEY),
                self._envelope,
            )
            units.append((host, ORDERED))
        with self._units_lock:
            self.hosts[task.id] = host
            self._here = self._reader_counts = None
            self._decoded.forget()
            if host.role == "connector":
                if any(topo.topics[t].priority == "high" for t in model.outputs):
                    self._hot_sources.append(host)  # e.g. field queries: polled at every step
                else:
                    self._units.append((host, None))
            for unit in units:
                if host.role == "sink":
                    self._sink_units.append(unit)
                else:
                    hot = unit[1] != ORDERED and topo.topics[unit[1]].priority == "high"
                    (self._hot if hot else self._units).append(unit)

    def _stop_task(self, task_id: str) -> None:
        """Stop running a task (the group gave it to another worker). Between batches, so
        nothing is half-done: what this process did not commit, the next owner redoes."""
        going = self.hosts.get(task_id)
        if going is not None:
            self._settle(going)
            if going.qheld is not None:
                qheld, going.qheld = going.qheld, None
                self._commit(going, qheld, with_state=False, query=True)
        if going is not None and going.held is not None:
            commit, going.held = going.held, None
            self._commit(going, commit)  # what it did is kept: the next owner starts after it
        self._remove_task(task_id)

    def drop_task(self, task_id: str) -> None:
        """Stop running a task that is no longer this process's (its writer was fenced, or the
        group says it was lost): nothing more is committed for it. What it held or had in flight
        was never committed, so the new owner, starting from the committed offsets and state,
        redoes it; this process's uncommitted state for it is thrown away."""
        host = self.hosts.get(task_id)
        if host is None:
            return
        if host.inflight is not None:
            future, _commit, _with_state = host.inflight
            host.inflight = None
            try:
                future.result()
            except Exception:  # fenced too, most likely: either way it is the new owner's now
                log.debug("commit in flight for dropped task %s failed", task_id, exc_info=True)
        host.held = host.qheld = None
        host.state.rollback()
        self._remove_task(task_id)

    def _remove_task(self, task_id: str) -> None:
        with self._units_lock:  # the sink thread is not inside one of its batches
            host = self.hosts.pop(task_id, None)
            if host is None:
                return
            _disown(task_id)
            self._here = self._reader_counts = None
            self._decoded.forget()
            self._units = [u for u in self._units if u[0] is not host]
            self._hot = [u for u in self._hot if u[0] is not host]
            self._sink_units = [u for u in self._sink_units if u[0] is not host]
            self._hot_sources = [h for h in self._hot_sources if h is not host]
            self._rr = 0
        self._close_node(host)
        assert self.bus is not None
        self.bus.release(task_id)
        if self._query_lane(host.task):
            self.bus.release(self._query_writer(host.task))

    @staticmethod
    def _close_node(host: Host) -> None:
        try:
            if isinstance(host.node, Connector):
                host.node.stop()
            elif isinstance(host.node, Sink):
                host.node.close()
        except Exception:
            log.exception("node %s failed to close", host.name)

    def _store(self, kind: str) -> Any:
        if kind not in self.stores:
            self.stores[kind] = open_store(self.topo, kind)
        return self.stores[kind]

    def _resolve_paths(self, config: dict[str, Any]) -> dict[str, Any]:
        """Config fields named *path or *dir are relative to the topology file."""
        out = dict(config)
        for k, v in config.items():
            if isinstance(v, str) and (k.endswith("path") or k.endswith("dir")):
                out[k] = str(self.topo.resolve_path(v))
        return out
