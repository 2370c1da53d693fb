"""The embedded runtime: every node of a topology in one process, on the embedded bus.

One thread schedules the connectors and processors in work units (a node and one of its input
topics, or a connector). Units reading `priority: high` topics (the field-query path), and the
connectors feeding them, run before anything else at every step, and an ingest batch yields to a
waiting query after the record it is on.

Sinks run in a second thread: they touch nothing but their own store, their own input offsets
and the (locked) bus, and SQLite releases the GIL while it writes, so store writes overlap with
processing on a second core, and a long store flush never delays a field query.

Per batch: read from the node's in-memory positions, process each record (retrying, then
dead-lettering), flush sinks, then commit outputs + state + offsets in one bus transaction.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_any
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from argus import metrics
from argus.bus.base import Bus, Commit, Fenced, Message, RegistryUnavailable, SchemaRow, TopicSpec, partition_for
from argus.contracts import Backpressure, Connector, Context, DeadLetterRecord, Node, Processor, Sink
from argus.records import Record, deterministic_id, utcnow
from argus.registry import backend_class, node_class, role_of
from argus.runtime.order import STATE_KEY, OrderedInput, OrderPlan, mark_key, parse_mark, plan_order
from argus.runtime.tasks import Task, plan
from argus.schemas import SchemaError, SchemaSet, TopicSchema, default_schemas
from argus.state import NodeState
from argus.topology import NodeModel, Topology, embedded_path

log = logging.getLogger("argus.runtime")


# What a task's new owner reads before it runs: its state, and its committed input offsets.
Recovered = tuple[dict[str, Any], dict[tuple[str, int], int]]

ORDERED = "argus:ordered"  # the work unit of an ordered node's source-ordered inputs
# Header on a record a node in the producing process already answered (_answer_here): the
# node's name. That node skips the record when it reads it; any other reader does not.
ANSWERED_BY = "argus-answered-by"
MARK_STATE = "argus:mark"  # a connector's place in its marks: {"epoch", "since", "idle"}
READ_AHEAD = 20_000  # records an ordered node buffers past the release it is working through
# The cyclic GC's full collection walks every object the process holds (the nodes' state, a
# million objects and more): 120-215 ms each on the Kafka latency bench, and those pauses were
# the field-query lane's p99. The scheduler freezes what has survived this often, so a full
# collection only walks what came since; and once in a while, when there is nothing to do, it
# unfreezes and collects everything, so cycles among frozen objects are not kept for ever.
GC_FREEZE_EVERY = 10.0
GC_FULL_EVERY = 600.0
READ_CHUNK = 64  # records an ordered node reads and decodes between looks at the field-query lane
# Tasks recovered side by side (_recover_all): each waits on the broker, not on this process.
RECOVER_THREADS = 16
HOT_FETCH_WAIT = 0.02  # s: how long the query lane waits for a query it sees but has not fetched


class NodeFailure(RuntimeError):
    """A node could not make progress (e.g. its store is gone); the runtime stops."""


@dataclass
class Host:
    name: str
    node: Node
    model: NodeModel
    role: str
    state: NodeState
    ctx: Context
    positions: dict[tuple[str, int], int] = field(default_factory=dict)
    gen: Any = None
    next_poll: float = 0.0
    poll_interval: float = 0.25
    emits_alerts: bool = False
    task: Task | None = None
    held: Commit | None = None  # batches done but not yet committed (see _finish)
    held_since: float = 0.0
    order: OrderedInput | None = None  # an ordered node's source-ordered input
    mark_topics: tuple[str, ...] = ()  # outputs that carry source-order marks (order.py)
    # A commit on its way to the bus (see EmbeddedRuntime._commit): its future, the commit, and
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


def prepare_bus(topo: Topology, bus: Bus, schemas: SchemaSet) -> dict[str, TopicSchema]:
    """Make the bus ready for this topology's producers: every topic there, every schema
    registered, and `schemas` able to read every writer the bus has carried. No producer starts
    with a schema some reader of the bus could not read, or that could not read what is already
    there (FULL_TRANSITIVE per subject): the reasons, not records. Closes the bus on refusal."""
    history = list(bus.schema_history())
    used = {t.schema_: schemas.get(t.schema_) for t in topo.topics.values()}
    wrong = [p for ts in used.values() for p in schemas.compatibility(ts, history)]
    if wrong:
        bus.close()
        raise SchemaError(
            "schemas incompatible with what this bus already carries (argus/avro/README.md, "
            "compatibility rule):\n  " + "\n  ".join(wrong)
        )
    specs: list[TopicSpec] = []
    rows: list[SchemaRow] = []
    by_topic: dict[str, TopicSchema] = {}
    for name, t in topo.topics.items():
        ts = schemas.get(t.schema_)
        by_topic[name] = ts
        specs.append(t.spec(name))
        rows.append((ts.schema_id, ts.name, ts.canonical, json.dumps(ts.raw), name))
    bus.ensure_topics(specs)
    try:
        bus.register_schemas(rows)
    except (SchemaError, RegistryUnavailable):  # a schema registry refused one, or is down
        bus.close()
        raise
    for sid, _, schema in history:  # read once above: the bus's writers, older ones included
        schemas.register_writer(sid, schema)
    return by_topic


def dead_letter_value(
    node: str,
    *,
    reason: str,
    error_type: str,
    original: bytes,
    failed_at: datetime,
    topic: str | None = None,
    partition: int = -1,
    offset: int = -1,
    source: str | None = None,
    attempts: int = 1,
) -> dict[str, Any]:
    """A dead_letter.v1 value; its id is deterministic in (node, where), so a replayed failure
    is one dead letter, not two."""
    where = source if source is not None else f"{topic}/{partition}/{offset}"
    return {
        "id": deterministic_id("deadletter", node, where),
        "node": node,
        "topic": topic,
        "partition": partition,
        "offset": offset,
        "source": source,
        "reason": reason[:4000],
        "error_type": error_type,
        "attempts": attempts,
        "original": original,
        "failed_at": failed_at,
    }


def dead_letter_headers(value: dict[str, Any]) -> list[tuple[str, bytes]]:
    """The Kafka headers of a dead letter: an operator's tool (kcat, a console consumer) shows why
    and where without an Avro decoder, and the original bytes ride along untouched."""
    where = (
        value["source"] if value["source"] is not None else f"{value['topic']}/{value['partition']}/{value['offset']}"
    )
    return [
        ("argus.dlq.node", value["node"].encode()),
        ("argus.dlq.reason", value["reason"].encode()),
        ("argus.dlq.error_type", value["error_type"].encode()),
        ("argus.dlq.source", where.encode()),
        ("argus.dlq.attempts", str(value["attempts"]).encode()),
        ("argus.dlq.original", value["original"]),
    ]


QUERY_WRITER = ".q"  # a task's field-query lane commits as `<task>.q` (_finish_query)


def _disown(task_id: str) -> None:
    """The task's series leaves /metrics with it: a stopped task reported as 0 would still be
    summed over the group, and a worker that gave a task up must not look like its owner."""
    try:
        metrics.TASKS_OWNED.remove(task_id)
    except KeyError:
        pass


def bus_url_for(url: str, role: str | None) -> str:
    if not role or not url.startswith("kafka:"):
        return url
    parts = urlsplit(url)
    q = dict(parse_qsl(parts.query))
    q["client"] = f"{q.get('client', 'argus')}-{role}"
    return urlunsplit(parts._replace(query=urlencode(q)))


def open_bus(topo: Topology, role: str | None = None) -> Bus:
    """`role` names a writer other than the pipeline (the API, a CLI command): on Kafka it gets a
    transactional.id of its own, since sharing the pipeline's would fence the running pipeline."""
    url = bus_url_for(topo.bus_url, role)
    cls = backend_class("bus", url)
    bus: Bus = cls(embedded_path(url)) if url.startswith("embedded:") else cls(url)
    # Another producer's version of a subject met on the wire (a registry's): readable by the
    # process's decoder (a runtime with a schema set of its own points it there instead).
    bus.on_foreign_schema = default_schemas().register_writer
    return bus


def open_store(topo: Topology, kind: str) -> Any:
    return open_url(kind, topo.store_url(kind))


def open_url(kind: str, url: str) -> Any:
    """A store of `kind` at `url`, through the backend registry (embedded: a file path)."""
    cls = backend_class(kind, url)
    return cls(embedded_path(url)) if url.startswith("embedded:") else cls(url)


class _Fault:
    """Test hook: ARGUS_FAULT=node:phase:n SIGKILLs this process the n-th time `node` reaches
    `phase` (after_flush: sink writes durable, offsets not yet committed; before_commit)."""

    def __init__(self) -> None:
        spec = os.environ.get("ARGUS_FAULT", "")
        self.node, self.phase, self.n = None, None, 0
        if spec:
            node, phase, n = spec.split(":")
            self.node, self.phase, self.n = node, phase, int(n)

    def hit(self, node: str, phase: str) -> None:
        if node == self.node and phase == self.phase:
            self.n -= 1
            if self.n <= 0:
                os.kill(os.getpid(), signal.SIGKILL)


class EmbeddedRuntime:
    def __init__(
        self,
        topo: Topology,
        *,
        schemas: SchemaSet | None = None,
        clock: Callable[[], datetime] = utcnow,
        ids: Callable[[], str] | None = None,
    ) -> None:
        self.topo = topo
        self.schemas = schemas or default_schemas()
        self.clock = clock
        self.ids = ids
        self.bus: Bus | None = None
        self.stores: dict[str, Any] = {}
        self.hosts: dict[str, Host] = {}
        self._topic_schema: dict[str, TopicSchema] = {}
        self._units: list[tuple[Host, str | None]] = []
        self._hot: list[tuple[Host, str]] = []
        # Query units that showed input the last lane run could not read (see _run_hot).
        self._hot_stalled: set[tuple[str, str]] = set()
        self._hot_sources: list[Host] = []
        self._sink_units: list[tuple[Host, str]] = []
        self._sink_thread: threading.Thread | None = None
        self._sink_stop = threading.Event()
        self._sink_wake = threading.Event()
        self._sink_error: BaseException | None = None
        self._units_lock = threading.Lock()  # tasks come and go while the sink thread runs
        self.fenced: set[str] = set()  # tasks whose sink batches were fenced: to drop (worker.py)
        self.tasks: list[Task] = []
        self._rr = 0
        self._gc_frozen, self._gc_full = 0.0, time.monotonic()  # freeze what open() loaded at once
        self._fault = _Fault()
        self._stop = threading.Event()  # set once run_forever has returned (threads tied to it end)
        self._stopping = False  # see stop()
        self._commit_interval = 0.0
        self._committer: ThreadPoolExecutor | None = None  # see _commit
        self.order_plan: OrderPlan | None = None
        self._here: dict[str, list[Host]] | None = None  # see _answerers; None: look again
        self.task_cpu: dict[str, float] = {}  # CPU seconds per task (see _cpu)
        self._cpu_lock = threading.Lock()
        self._cpu_counters: dict[str, Any] = {}  # each task's argus_task_cpu_seconds_total child

    # --- lifecycle ------------------------------------------------------------------------
    def open(self) -> EmbeddedRuntime:
        # Threads in this process (a field API, a test's terminal) hand work to the scheduler;
        # the default 5 ms GIL switch interval would add up to 5 ms to every field query.
        sys.setswitchinterval(0.0005)
        topo = self.topo
        topo.data_dir.mkdir(parents=True, exist_ok=True)
        self.bus = open_bus(topo)
        ms = topo.model.commit_interval_ms
        self._commit_interval = self.bus.commit_interval if ms is None else ms / 1000
        if topo.model.commit_threads and self.bus.concurrent_commits:
            self._committer = ThreadPoolExecutor(topo.model.commit_threads, thread_name_prefix="argus-commit")
        self._topic_schema.update(prepare_bus(topo, self.bus, self.schemas))
        self.bus.on_foreign_schema = self.schemas.register_writer  # its own schema set (open_bus)
        self.order_plan = plan_order(topo)
        self.tasks = plan(topo, split=self.bus.partitioned_state)
        metrics.TASKS_PLANNED.set(len(self.tasks))
        initial = self._initial_tasks()
        for task, got in zip(initial, self._recover_all(initial), strict=True):
            self._start_task(task, got)
        if any(role_of(node_class(m.use)) == "sink" for m in topo.nodes.values()):
            self._sink_thread = threading.Thread(target=self._sink_loop, name="argus-sinks", daemon=True)
            self._sink_thread.start()
        return self

    # --- tasks ----------------------------------------------------------------------------------
    def _initial_tasks(self) -> list[Task]:
        """One process runs every task; a worker in a group (argus/runtime/worker.py) starts with
        none and runs those the group assigns it."""
        return list(self.tasks)

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
        state = {} if sink else self.bus.load_state(name, task.index, task.count)
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
                lambda msg: decode(self.schemas, msg, self._topic_schema[msg.topic]),
            )
            units.append((host, ORDERED))
        with self._units_lock:
            self.hosts[task.id] = host
            self._here = None
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
            self._here = None
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

    # --- the sink thread ----------------------------------------------------------------------
    def _sink_loop(self) -> None:
        try:
            while not self._sink_stop.is_set():
                worked = 0
                for unit in list(self._sink_units):
                    with self._units_lock:
                        if unit not in self._sink_units:
                            continue  # its task was stopped
                        host, topic = unit
                        if not self._pending(host, topic):
                            continue
                        try:
                            with self._cpu(host):
                                worked += self._run_batch(host, topic)
                        except Fenced as exc:  # another worker owns it now: stop, drop (worker.py)
                            log.warning("%s: %s; leaving it to its new owner", host.name, exc)
                            self._sink_units = [u for u in self._sink_units if u[0] is not host]
                            assert host.task is not None
                            self.fenced.add(host.task.id)
                if not worked:
                    self._sink_wake.wait(0.01)
                    self._sink_wake.clear()
        except BaseException as exc:  # surfaced to the scheduling thread, which stops
            log.exception("sink thread failed")
            self._sink_error = exc

    def _check_sinks(self) -> None:
        if isinstance(self._sink_error, RegistryUnavailable):
            raise self._sink_error  # the process's to handle (argus run exits 75), not a node's failure
        if self._sink_error is not None:
            raise NodeFailure(f"sink failed: {self._sink_error}") from self._sink_error

    def _work_pending(self) -> bool:
        if any(h.inflight is not None for h in self.hosts.values()):
            return True  # what it commits is the next node's input
        return any(self._pending(h, t) for h, t in [*self._units, *self._hot, *self._sink_units] if t is not None)

    def sinks_idle(self) -> bool:
        return all(not self._pending(h, t) for h, t in self._sink_units)

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

    def close(self) -> None:
        if self.bus is not None:
            try:
                for host in list(self.hosts.values()):
                    self._settle(host)
                self._commit_held(force=True)
            except Exception:  # fenced, say: the next owner redoes it, nothing is lost
                log.exception("could not commit held batches at close")
        self._sink_stop.set()
        self._sink_wake.set()
        if self._sink_thread is not None:
            self._sink_thread.join()
            self._sink_thread = None
        if self._committer is not None:
            self._committer.shutdown(wait=True)
            self._committer = None
        for tid, host in self.hosts.items():
            self._close_node(host)
            _disown(tid)
        for store in self.stores.values():
            store.close()
        if self.bus is not None:
            self.bus.close()
            self.bus = None
        gc.unfreeze()  # what this runtime held goes back to the collector

    def __enter__(self) -> EmbeddedRuntime:
        return self.open() if self.bus is None else self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def stop(self) -> None:
        """Ask run_forever to return once the batch in hand is done. It only sets a flag, which
        the loop looks at every `idle_sleep`: `argus run` calls it from its SIGTERM handler, which
        runs on the scheduling thread itself, between two bytecodes, possibly while that thread
        holds an Event's lock inside Event.wait; an Event.set there waits for that lock for ever
        (seen: a worker that never stopped, its stack in the handler inside Condition.__enter__)."""
        self._stopping = True

    # --- scheduling ----------------------------------------------------------------------
    @contextmanager
    def _cpu(self, host: Host) -> Iterator[None]:
        """Charge the CPU this thread spends inside to the host's task (argus_task_cpu_seconds_total).
        Summed over a run, the largest task's share bounds what any group can gain: that task
        runs in one process whatever the group's size (docs/scale-out.md). Wrapped around the
        outermost calls only (a turn, a held commit, a commit on a committer thread), so nothing
        is charged twice."""
        t0 = time.thread_time()
        try:
            yield
        finally:
            used = time.thread_time() - t0
            task = host.reader
            with self._cpu_lock:  # the scheduler, the sink thread and committer threads all charge
                self.task_cpu[task] = self.task_cpu.get(task, 0.0) + used
                counter = self._cpu_counters.get(task)
                if counter is None:  # looked up once, not on every turn of the query lane's loop
                    counter = self._cpu_counters[task] = metrics.TASK_CPU.labels(task)
            counter.inc(used)

    def _pending(self, host: Host, topic: str) -> bool:
        assert self.bus is not None
        if topic == ORDERED:
            return self._ordered_pending(host)
        return any(pos < self.bus.end_offset(t, p, host.reader) for (t, p), pos in host.positions.items() if t == topic)

    @staticmethod
    def _inputs(host: Host) -> set[str]:
        """What a host reads, as its units name it (an ordered node's ordered inputs are one)."""
        ordered = {ch[0] for ch in host.order.channels} if host.order is not None else set()
        return {t for t, _ in host.positions if t not in ordered} | ({ORDERED} if ordered else set())

    def _ordered_pending(self, host: Host) -> bool:
        """Unread input, or a release to work on (argus/runtime/order.py)."""
        assert self.bus is not None and host.order is not None
        bus, reader, order = self.bus, host.reader, host.order
        if order.next_release() is not None or order.strays_waiting:
            return True
        return order.has_unread(lambda ch: bus.end_offset(ch[0], ch[1], reader))

    def step(self) -> int:
        """Run the hot lane dry, then one other unit. Returns records handled."""
        assert self.bus is not None
        self._check_sinks()
        self.bus.refresh()
        done = self._run_hot()  # before held ingest commits: a waiting query goes first
        self._commit_held()
        n = len(self._units)
        for i in range(n):
            host, topic = self._units[(self._rr + i) % n]
            if host.inflight is not None and not self._settle(host, block=False):
                continue  # its last batch is still being committed: other nodes meanwhile
            if topic is None:
                if host.gen is None and time.monotonic() < host.next_poll:
                    continue
                with self._cpu(host):
                    got = self._run_connector(host)
                if not got:
                    continue  # an empty poll is not a turn: look for work elsewhere
            elif self._pending(host, topic):
                with self._cpu(host):
                    got = self._run_ordered(host) if topic == ORDERED else self._run_batch(host, topic)
            else:
                continue
            self._rr = (self._rr + i + 1) % n
            return done + got
        if not done:
            flying = [h.inflight[0] for h in self.hosts.values() if h.inflight is not None]
            if flying:  # nothing to do until a commit lands: wait for the first, not a fixed nap
                wait_any(flying, timeout=0.005, return_when=FIRST_COMPLETED)
        return done

    def _run_hot(self) -> int:
        done = 0
        now = time.monotonic()
        for host in self._hot_sources:
            if host.gen is not None or now >= host.next_poll:
                with self._cpu(host):
                    done += self._run_connector(host)
        progressed = True
        stalled: set[tuple[str, str]] = set()
        waiting_since: dict[tuple[str, str], float] = {}
        while progressed:
            progressed = False
            for host, topic in self._hot:
                if not self._pending(host, topic):
                    continue
                with self._cpu(host):
                    got = self._run_batch(host, topic)
                done += got
                if got:
                    progressed = True
                    continue
                # On Kafka a partition can show input a reader does not have yet: a query whose
                # fetch is in flight (a few ms: worth waiting for, or it waits behind a whole
                # ingest turn), or a dead writer's transaction left open until it is fenced
                # (up to its timeout). Wait up to HOT_FETCH_WAIT, then call the unit stalled:
                # until it reads again it is not waited for, nor counted as a query waiting,
                # or held commits and ingest would keep stepping aside for it.
                unit = (host.name, topic)
                since = waiting_since.setdefault(unit, time.monotonic())
                if unit not in self._hot_stalled and time.monotonic() - since < HOT_FETCH_WAIT:
                    progressed = True
                    time.sleep(0.0002)  # the fetcher's threads need no GIL, the sink thread does
                else:
                    stalled.add(unit)
        self._hot_stalled = stalled
        return done

    def run_until_idle(self, max_seconds: float | None = None, on_step: Callable[[int], None] | None = None) -> int:
        """Process until no unit has work and every connector has run dry once; `on_step` hears
        the running total of records handled by every node (a progress display)."""
        deadline = None if max_seconds is None else time.monotonic() + max_seconds
        total = 0
        sources = [h for h, t in self._units if t is None] + self._hot_sources
        for host in sources:
            host.next_poll = 0.0
        idle_rounds = 0
        while idle_rounds < 2:
            got = self.step()
            self._tend_gc(idle=False)  # a run to the end: no pause is worth taking for cycles
            total += got
            if on_step is not None and got:
                on_step(total)
            connectors_dry = all(h.gen is None for h in sources)
            if got == 0 and connectors_dry and any(h.node.pending() for h in sources):  # type: ignore[attr-defined]
                for host in sources:
                    host.next_poll = min(host.next_poll, time.monotonic() + 0.005)
                time.sleep(0.005)  # a fetch is in flight: its records are still to come
                if deadline is None or time.monotonic() <= deadline:
                    continue
            if got == 0 and connectors_dry and self._work_pending():
                # Records are committed but not yet readable (on Kafka, until the transaction
                # marker lands), or the sink thread is still writing: not idle.
                self._sink_wake.set()
                time.sleep(0.002)
                continue
            idle_rounds = idle_rounds + 1 if got == 0 and connectors_dry else 0
            if got == 0 and idle_rounds == 1:
                for host in sources:  # one more poll of every source
                    host.next_poll = 0.0
            if deadline is not None and time.monotonic() > deadline:
                break
        return total

    def source_problems(self) -> list[str]:
        """What keeps a source from delivering now: a failing source, a partner feed timing out."""
        out = []
        for host in self._sources():
            assert isinstance(host.node, Connector)
            out += [f"{host.name}: {host.problem}"] if host.problem else []
            out += [f"{host.name}: {p}" for p in host.node.problems()]
        return out

    def _sources(self) -> list[Host]:
        return [h for h, t in self._units if t is None and isinstance(h.node, Connector)] + self._hot_sources

    def ingest_counts(self) -> tuple[int, int]:
        """(records the sources delivered, records they dead-lettered) since this runtime opened."""
        srcs = self._sources()
        return sum(h.ingested for h in srcs), sum(h.dead_lettered for h in srcs)

    def _tend_gc(self, idle: bool) -> None:
        """See GC_FREEZE_EVERY."""
        now = time.monotonic()
        if idle and now - self._gc_full >= GC_FULL_EVERY:
            gc.unfreeze()
            gc.collect()
            gc.freeze()
            self._gc_full = self._gc_frozen = now
        elif now - self._gc_frozen >= GC_FREEZE_EVERY:
            gc.freeze()
            self._gc_frozen = now

    def run_forever(self, idle_sleep: float = 0.01, lag_every: float = 5.0) -> None:
        next_lag = 0.0
        try:
            while not self._stopping:
                got = self.step()
                self._tend_gc(idle=got == 0)
                if got == 0:
                    time.sleep(idle_sleep)  # no lock: a signal handler may run on this thread
                if time.monotonic() >= next_lag:
                    try:
                        self.lag()  # refreshes the consumer-lag gauge for /metrics
                    except Exception:  # a gauge is not worth the process: the broker may be restarting
                        log.warning("could not refresh the consumer-lag gauge", exc_info=True)
                    next_lag = time.monotonic() + lag_every
        finally:
            self._stop.set()

    # --- publishing from outside (API, tests, bench) ---------------------------------------
    def publish(self, topic: str, value: dict[str, Any], key: str | None = None) -> None:
        assert self.bus is not None
        data = self.schemas.encode(self._topic_schema[topic], value)
        self.bus.commit(Commit(appends=[(topic, key, data)]))

    # --- the three kinds of unit -------------------------------------------------------------
    def _dead_letter(
        self,
        commit: Commit,
        host: Host,
        *,
        reason: str,
        error_type: str,
        original: bytes,
        topic: str | None = None,
        partition: int = -1,
        offset: int = -1,
        source: str | None = None,
        attempts: int = 1,
    ) -> None:
        dlq = self.topo.dead_letter_topic
        value = dead_letter_value(
            host.name,
            reason=reason,
            error_type=error_type,
            original=original,
            topic=topic,
            partition=partition,
            offset=offset,
            source=source,
            attempts=attempts,
            failed_at=host.ctx.now(),
        )
        commit.append(dlq, host.name, self.schemas.encode(self._topic_schema[dlq], value), dead_letter_headers(value))
        metrics.DEAD_LETTERS.labels(host.name).inc()
        log.warning("dead letter from %s (%s): %s", host.name, error_type, reason[:200])

    def _encode_outputs(self, host: Host, outs: list[Record]) -> list[tuple[str, str | None, bytes]]:
        encoded = []
        for out in outs:
            topic = self._route(host, out.topic)
            encoded.append((topic, out.key, self.schemas.encode(self._topic_schema[topic], out.value)))
        return encoded

    def _route(self, host: Host, target: str | None) -> str:
        """An emitted record names an output topic, or the schema it is written in, or nothing
        (the first output): processors need not know the topology's topic names."""
        outputs = host.model.outputs
        if target is None:
            return outputs[0]
        if target in outputs:
            return target
        for t in outputs:
            if self._topic_schema[t].name == target:
                return t
        raise SchemaError(
            f"{host.name} emitted to {target!r}, which is neither one of its outputs {outputs} nor the schema of one"
        )

    def _finish(
        self,
        host: Host,
        commit: Commit,
        started: float,
        topic: str | None = None,
        alone: bool = False,
        wait: bool = False,
    ) -> None:
        """Commit a batch, or (ingest on a bus whose commits are dear, `topic` still has input
        waiting) hold it so the next batches join its transaction, for up to the bus's
        `commit_interval`. A held batch is lost if the process dies, and redone from the
        committed offsets like any uncommitted batch. The field-query lane never waits: its
        batches commit at once. A query batch that wrote no state (`alone`) commits its answers
        and offsets by themselves, leaving the node's held ingest held: carrying up to
        `commit_interval` of ingest output and state in the query's transaction made the
        officer wait for it. Its answer was read from that held state; if the process dies
        before the held batch commits, the batch is redone from its committed offsets and,
        the answer being a function of the input in source order, comes out the same."""
        assert self.bus is not None
        if alone and self._committer is not None:
            self._finish_query(host, commit, started)
            return
        if host.qheld is not None and wait:  # a query batch that wrote state: its offsets after the held ones
            host.qheld.absorb(commit)
            commit, host.qheld = host.qheld, None
        if alone and not commit.appends and self._commit_interval > 0:
            # Nothing for anyone to read (a query this node does not answer, an answer with no
            # hit): its offsets wait for the node's next commit instead of costing a transaction
            # on the query lane. Redone after a crash, it is read again and answered as then.
            if host.held is not None:
                host.held.absorb(commit)
            else:
                host.held, host.held_since = commit, time.monotonic()
            return
        if alone and host.held is not None:
            self._commit(host, commit, with_state=False)
            metrics.BATCH_SECONDS.labels(host.name).observe(time.perf_counter() - started)
            return
        if host.held is not None:
            host.held.absorb(commit)
            commit = host.held
        elif topic is not None:
            host.held_since = time.monotonic()
        if (
            topic is not None
            and time.monotonic() - host.held_since < self._commit_interval
            and self._pending(host, topic)
        ):
            host.held = commit
        else:
            host.held = None
            self._commit(host, commit, wait=wait)
        metrics.BATCH_SECONDS.labels(host.name).observe(time.perf_counter() - started)

    def _finish_query(self, host: Host, commit: Commit, started: float) -> None:
        """A field-query batch that wrote no state, on a bus with concurrent commits: it commits
        through the task's query writer (`<task>.q`, a transactional id of its own, fenced with
        the task's on takeover), so the officer's answer waits neither for the node's held
        ingest nor for its ingest commit in flight. A batch with nothing for anyone to read (a
        query this node does not answer, an answer with no hit) holds its offsets up to
        `commit_interval` for the next query commit, instead of costing a transaction. The
        query offsets only ever go through this writer, so they cannot go back."""
        if host.qheld is not None:
            host.qheld.absorb(commit)
            commit = host.qheld
        elif not commit.appends:
            host.qheld_since = time.monotonic()
        if not commit.appends and time.monotonic() - host.qheld_since < self._commit_interval:
            host.qheld = commit
            return
        host.qheld = None
        self._commit(host, commit, with_state=False, query=True)
        metrics.BATCH_SECONDS.labels(host.name).observe(time.perf_counter() - started)

    @staticmethod
    def _query_writer(task: Task) -> str:
        return f"{task.id}{QUERY_WRITER}"

    def _task_of_writer(self, writer: str | None) -> str | None:
        """The task of this process a writer commits for: the task's own, or its query lane's."""
        for tid in (writer, writer.removesuffix(QUERY_WRITER) if writer else None):
            if tid is not None and tid in self.hosts:
                return tid
        return None

    def _commit(
        self, host: Host, commit: Commit, with_state: bool = True, wait: bool = True, query: bool = False
    ) -> None:
        """Commit a batch. On a bus whose commits are round trips to a server (Kafka: a
        transaction, 5-10 ms, more with the broker short of CPU), an ingest batch's commit
        (`wait=False`) goes to a committer thread and this thread runs other nodes meanwhile;
        its node runs again only once it has landed (_settle), so one node's transactions stay
        in order and its state is folded in before it changes again. Commits were half of a
        worker's scheduling thread's time, one after another. The query lane, sinks and stops
        wait for theirs."""
        assert self.bus is not None
        if not query:
            self._settle(host)
        flying = not wait and self._committer is not None
        if with_state:
            commit.state[host.name] = host.state.detach() if flying else host.state.pending()
        if host.task is not None:
            writer = self._query_writer(host.task) if query else host.task.id
            commit.writer, commit.state_partition = writer, host.task.index
        self._fault.hit(host.name, "before_commit")
        if flying:
            assert self._committer is not None
            host.inflight = (self._committer.submit(self._charged_commit, host, commit), commit, with_state)
            return
        fold = host.state.committed if with_state else None
        self._landed(host, commit, lambda: self._bus_commit(host.name, commit), fold)

    def _charged_commit(self, host: Host, commit: Commit) -> object:
        """A commit on a committer thread: its CPU (the state's and offsets' encoding, the
        bus's client calls) is its task's too."""
        with self._cpu(host):
            return self._bus_commit(host.name, commit)

    def _bus_commit(self, node: str, commit: Commit) -> object:
        """The bus's commit, timed apart from the batch's work (argus_commit_seconds): on Kafka
        it is the transaction's round trips, what a worker mostly waits on."""
        assert self.bus is not None
        started = time.perf_counter()
        try:
            return self.bus.commit(commit)
        finally:
            metrics.COMMIT_SECONDS.labels(node).observe(time.perf_counter() - started)

    def _settle(self, host: Host, block: bool = True) -> bool:
        """Finish the node's commit in flight, if any (waiting for it unless not `block`).
        False: it is still in flight. A failed commit raises here: the process stops and the
        batch is redone from the committed offsets, as when a commit fails in place."""
        if host.inflight is None:
            return True
        future, commit, with_state = host.inflight
        if not block and not future.done():
            return False
        host.inflight = None
        self._landed(host, commit, future.result, host.state.landed if with_state else None)
        return True

    def _landed(
        self, host: Host, commit: Commit, outcome: Callable[[], object], fold: Callable[[], None] | None
    ) -> None:
        """A commit's end, in place or in flight: `outcome` raises if it failed (the process
        stops; the batch is redone from the committed offsets), else the state it carried is
        folded in (`fold`) and its readers woken."""
        try:
            outcome()
        except BaseException:
            host.state.rollback()
            raise
        if fold is not None:
            fold()
        if commit.appends and self._sink_units:
            self._sink_wake.set()
        for t, _key, _data in commit.appends:
            metrics.RECORDS_OUT.labels(host.name, t).inc()

    def _commit_held(self, force: bool = False) -> None:
        """Commit what a node holds once its interval is up or its input has run dry (or now,
        when the task stops or the process does)."""
        assert self.bus is not None
        now = time.monotonic()
        for host in list(self.hosts.values()):
            if host.qheld is not None and (force or now - host.qheld_since >= self._commit_interval):
                qheld, host.qheld = host.qheld, None
                with self._cpu(host):
                    self._commit(host, qheld, with_state=False, query=True)
            commit = host.held
            if commit is None:
                continue
            if not force and self._hot_waiting():
                return  # the rest next step, after the query
            if not force and not self._settle(host, block=False):
                continue  # a query's offsets held while its node's commit flies: next step
            drained = not any(self._pending(host, t) for t in self._inputs(host))
            if force or drained or now - host.held_since >= self._commit_interval:
                host.held = None
                with self._cpu(host):
                    self._commit(host, commit, wait=force)

    def _run_connector(self, host: Host) -> int:
        self._settle(host)
        started = time.perf_counter()
        node = host.node
        assert isinstance(node, Connector)
        commit = Commit()
        count = 0
        exhausted = False
        marks = self._marks(host) if host.mark_topics else None
        try:
            if host.gen is None:
                host.gen = iter(node.run(host.ctx))
            for n in range(host.model.batch_size):
                if n and n % 32 == 0 and self._hot_waiting():
                    break  # yield to a waiting field query
                try:
                    item = next(host.gen)
                except StopIteration:
                    exhausted = True
                    break
                count += 1
                if isinstance(item, DeadLetterRecord):
                    host.dead_lettered += 1
                    self._dead_letter(
                        commit,
                        host,
                        reason=item.reason,
                        error_type="InvalidRecord",
                        original=item.original,
                        source=item.source,
                    )
                    continue
                try:
                    out = self._encode_outputs(host, [item])
                except SchemaError as exc:
                    self._dead_letter(
                        commit,
                        host,
                        reason=str(exc),
                        error_type="SchemaError",
                        original=repr(item.value).encode()[:65536],
                        source=item.key or "",
                    )
                else:
                    if marks is not None and marks["idle"] and marks["epoch"] > 0:
                        # Awake again: say so before the record, or ordered nodes would take it
                        # for a stray of an idle source and release it alone after a second.
                        self._mark(host, commit, marks, idle=False)
                    commit.appends.extend(out)
                    host.ingested += 1
                    if marks is not None:
                        marks["since"] += 1
                        if marks["since"] >= self.topo.model.order_mark_every:
                            self._mark(host, commit, marks, idle=False)
        except Exception as exc:  # the source itself failed (unreadable file, ...)
            metrics.ERRORS.labels(host.name).inc()
            host.problem = f"{type(exc).__name__}: {str(exc)[:300]}"
            log.error("connector %s failed: %s; retrying in %.1fs", host.name, exc, max(host.poll_interval, 1.0))
            host.state.rollback()
            host.gen = None
            host.next_poll = time.monotonic() + max(host.poll_interval, 1.0)
            marks = self._marks(host) if host.mark_topics else None
            if marks is not None and self._marks_due(marks):
                commit = Commit()  # a failing source has nothing for now: ordered nodes go on without it
                self._mark(host, commit, marks, idle=True)
                self._commit(host, commit)
            return 0
        host.problem = None
        if exhausted:
            host.gen = None
            host.next_poll = time.monotonic() + host.poll_interval
            if marks is not None and self._marks_due(marks) and not node.pending():
                self._mark(host, commit, marks, idle=True)
        if marks is not None and marks != self._marks(host):
            host.state.put(MARK_STATE, dict(marks))  # the count since the last mark, with the cursor
        if count or host.state.pending():
            self._finish(host, commit, started, wait=host in self._hot_sources)
        return count

    # --- source order (argus/runtime/order.py) --------------------------------------------------
    @staticmethod
    def _marks(host: Host) -> dict[str, Any]:
        return dict(host.state.get(MARK_STATE) or {"epoch": 0, "since": 0, "idle": False})

    @staticmethod
    def _marks_due(marks: dict[str, Any]) -> bool:
        """An idle mark is due unless the last mark was one and nothing came since."""
        return marks["epoch"] == 0 or marks["since"] > 0 or not marks["idle"]

    def _mark(self, host: Host, commit: Commit, marks: dict[str, Any], idle: bool) -> None:
        """A connector marks its place in every partition of its ordered outputs."""
        assert self.bus is not None
        marks.update(epoch=marks["epoch"] + 1, since=0, idle=idle)
        self._append_mark(host, commit, mark_key(host.name, marks["epoch"], idle))
        host.state.put(MARK_STATE, dict(marks))

    def _append_mark(self, host: Host, commit: Commit, key: str) -> None:
        """A mark goes to every partition of the node's ordered outputs."""
        assert self.bus is not None
        for t in host.mark_topics:
            for p in range(self.bus.partitions(t)):
                commit.append(t, key, b"", partition=p)

    def _run_ordered(self, host: Host) -> int:
        """Read an ordered node's source-ordered inputs into its buffer, and work through the
        release they make, one batch at a time (preempted by field queries like any ingest)."""
        assert self.bus is not None and host.order is not None
        self._settle(host)
        started = time.perf_counter()
        order, reader = host.order, host.reader
        got = 0
        # Read on while no release can form (its marks are further on); while one is being worked
        # through, read ahead only so far, or a large backlog would all sit decoded in memory.
        # A turn reads (and decodes) one batch at most, and stops for a waiting field query.
        ahead = order.release is None or order.buffered() < READ_AHEAD
        budget = host.model.batch_size if ahead else 0
        order.turn = (order.turn + 1) % len(order.channels)  # each turn starts one channel on
        for t, p in order.channels[order.turn :] + order.channels[: order.turn]:
            if budget <= 0 or (got and self._hot_waiting()):
                break
            # In chunks: adding decodes, and 500 records decoded at once held a query up 50-100 ms.
            while budget > 0 and order.read_pos[(t, p)] < self.bus.end_offset(t, p, reader):
                msgs = self.bus.read(t, p, order.read_pos[(t, p)], min(budget, READ_CHUNK), reader=reader)
                if not msgs:
                    break
                budget -= len(msgs)
                order.add(msgs)
                host.positions[(t, p)] = order.read_pos[(t, p)]
                metrics.RECORDS_IN.labels(host.name, t).inc(sum(1 for m in msgs if m.value))
                got += len(msgs)
                if self._hot_waiting():
                    budget = 0
        release = order.next_release()
        if release is None:
            return got
        commit = Commit()
        alerts: list[dict[str, Any]] = []
        todo = release.records[release.done : release.done + host.model.batch_size]
        done = 0
        for item in todo:
            if done and done % 8 == 0 and self._hot_waiting():
                break  # yield to a waiting field query; the release goes on next time
            done += 1
            msg = item.msg
            if item.error is not None:
                self._dead_letter(
                    commit,
                    host,
                    reason=str(item.error),
                    error_type=type(item.error).__name__,
                    original=msg.value,
                    topic=msg.topic,
                    partition=msg.partition,
                    offset=msg.offset,
                )
                continue
            rec = Record(
                item.value, key=msg.key, topic=msg.topic, partition=msg.partition, offset=msg.offset, raw=msg.value
            )
            self._process(host, commit, rec, msg, alerts)
        release.done += done
        if release.done >= len(release.records):
            for (t, p), off in order.finish().items():
                commit.offsets[(host.name, t, p)] = off
            for o, (epoch, idle) in sorted(release.marks.items()):
                self._append_mark(host, commit, mark_key(o, epoch, idle))
        host.state.put(STATE_KEY, order.to_state())
        self._finish(host, commit, started, ORDERED)
        self._observe_alerts(alerts)
        return got + max(done, 1)

    def _read(self, host: Host, topic: str) -> list[Message]:
        assert self.bus is not None
        msgs: list[Message] = []
        budget = host.model.batch_size
        reader = host.reader
        for (t, p), pos in host.positions.items():
            if t != topic or budget <= 0 or pos >= self.bus.end_offset(t, p, reader):
                continue  # nothing there: an empty read is a wasted round trip on Kafka
            got = self.bus.read(t, p, pos, budget, reader=reader)
            msgs.extend(got)
            budget -= len(got)
        return msgs

    def _run_batch(self, host: Host, topic: str) -> int:
        hot = (host, topic) in self._hot
        if not hot:
            self._settle(host)  # a field query does not wait for its node's ingest commit
        started = time.perf_counter()
        msgs = self._read(host, topic)
        if not msgs:
            return 0
        commit = Commit()
        reader = self._topic_schema[topic]
        is_sink = isinstance(host.node, Sink)
        preemptible = not is_sink and not hot
        writes = host.state.writes
        alerts: list[dict[str, Any]] = []
        sink_ok = True
        for i, msg in enumerate(msgs):
            if preemptible and i and i % 8 == 0 and self._hot_waiting():
                msgs = msgs[:i]  # yield to a waiting field query; commit what is done
                break
            if is_sink and i % 8 == 0:
                self._yield_to_queries()
            if not msg.value:  # erased by a purge, or a source-order mark to pass on
                if host.mark_topics and parse_mark(msg.key) is not None:
                    for t in host.mark_topics:
                        commit.append(t, msg.key, b"", partition=msg.partition)
                continue
            if msg.headers and host.name.encode() in msg.header(ANSWERED_BY):
                continue  # answered in the process that wrote it, in the same transaction
            try:
                value = decode(self.schemas, msg, reader)
            except SchemaError as exc:
                self._dead_letter(
                    commit,
                    host,
                    reason=str(exc),
                    error_type="SchemaError",
                    original=msg.value,
                    topic=topic,
                    partition=msg.partition,
                    offset=msg.offset,
                )
                continue
            rec = Record(value, key=msg.key, topic=topic, partition=msg.partition, offset=msg.offset, raw=msg.value)
            self._process(host, commit, rec, msg, alerts)
        if is_sink:
            sink_ok = self._flush(host)
        if not sink_ok:
            host.state.rollback()
            return 0
        self._fault.hit(host.name, "after_flush")
        new_pos: dict[tuple[str, int], int] = {}
        for msg in msgs:
            new_pos[(topic, msg.partition)] = msg.offset + 1
        for (t, p), off in new_pos.items():
            commit.offsets[(host.name, t, p)] = off
        # A failed commit stops the process, which restarts from the committed offsets.
        host.positions.update(new_pos)
        alone = not is_sink and not preemptible and host.state.writes == writes
        self._finish(host, commit, started, topic if preemptible else None, alone=alone, wait=not preemptible)
        metrics.RECORDS_IN.labels(host.name, topic).inc(len(msgs))
        now_us = time.time_ns() // 1000
        hist = metrics.RECORD_LATENCY.labels(host.name)
        for msg in msgs:
            hist.observe(max(0, now_us - msg.timestamp_us) / 1e6)
        self._observe_alerts(alerts)
        return len(msgs)

    @staticmethod
    def _observe_alerts(alerts: list[dict[str, Any]]) -> None:
        if alerts:
            now = time.time()
            for body in alerts:
                if body.get("alert_type") == "QUERY_HIT":
                    metrics.QUERY_TO_ALERT.observe(max(0.0, now - body["trigger_received_at"].timestamp()))

    def _process(self, host: Host, commit: Commit, rec: Record, msg: Message, alerts: list[dict[str, Any]]) -> None:
        """One record through a processor or into a sink: retried per the node's error policy,
        then dead-lettered. A node passing source-order marks on keeps the record's partition."""
        policy = host.model.error_policy
        is_sink = isinstance(host.node, Sink)
        assert self.order_plan is not None
        passes = host.mark_topics and host.order is None and msg.topic in self.order_plan.marked
        keep = msg.partition if passes else None
        attempt = 0
        while True:
            attempt += 1
            host.state.begin_record()
            try:
                if is_sink:
                    host.node.add(rec)  # type: ignore[union-attr]
                    encoded: list[tuple[str, str | None, bytes]] = []
                else:
                    outs = list(host.node.process(rec, host.ctx))  # type: ignore[union-attr]
                    encoded = self._encode_outputs(host, outs)
                    if host.emits_alerts:
                        alerts.extend(o.value["body"] for o in outs)
                host.state.end_record(True)
                for t, k, data in encoded:
                    by, extra = self._answer_here(host, t, k, data, alerts)
                    headers = [(ANSWERED_BY, h.name.encode()) for h in by]
                    commit.append(t, k, data, headers=headers, partition=keep if t in host.mark_topics else None)
                    for t2, k2, d2 in extra:
                        commit.append(t2, k2, d2)
                return
            except Exception as exc:
                host.state.end_record(False)
                metrics.ERRORS.labels(host.name).inc()
                if attempt > policy.retries or isinstance(exc, SchemaError):
                    self._dead_letter(
                        commit,
                        host,
                        reason=f"{type(exc).__name__}: {exc}",
                        error_type=type(exc).__name__,
                        original=msg.value,
                        topic=msg.topic,
                        partition=msg.partition,
                        offset=msg.offset,
                        attempts=attempt,
                    )
                    return
                time.sleep(min(policy.backoff_ms * 2 ** (attempt - 1), policy.max_backoff_ms) / 1000)

    def _answerers(self, host: Host, topic: str, key: str | None) -> list[Host]:
        """The nodes in this process that may answer a record `host` writes to `topic` at once
        (_answer_here): on the field-query lane, declaring the topic's schema stateless, and
        holding the partition the record goes to."""
        if self._here is None:
            here: dict[str, list[Host]] = {}
            if self.topo.model.answer_in_process:
                for t, spec in self.topo.topics.items():
                    if spec.priority != "high":
                        continue
                    here[t] = [
                        h
                        for h in self.hosts.values()
                        if isinstance(h.node, Processor)
                        and t in h.model.inputs
                        and spec.schema_ in type(h.node).stateless_inputs
                    ]
            self._here = here
        found = self._here.get(topic)
        if not found:
            return []
        assert self.bus is not None
        part = partition_for(key, self.bus.partitions(topic))
        return [h for h in found if h is not host and (h.task is None or h.task.owns(part))]

    def _answer_here(
        self, host: Host, topic: str, key: str | None, data: bytes, alerts: list[dict[str, Any]]
    ) -> tuple[list[Host], list[tuple[str, str | None, bytes]]]:
        """Hand a field query's answer to the next node of the lane in this process, now: its
        output joins the producer's transaction, and the record is marked answered (ANSWERED_BY)
        so that node skips it when it reads it. The node reads its state as it stands, as it
        would reading the record a hop later; it must not write (checked: a node that does is
        left to read the record from the bus). Exactly once holds because answer and alert
        commit together or not at all. A node that fails here reads the record from the bus,
        where its error policy applies. Returns who answered and what they wrote. Nothing here
        raises into the producer's record: a failure leaves the record to the bus path."""
        done: list[Host] = []
        extra: list[tuple[str, str | None, bytes]] = []
        by = self._answerers(host, topic, key)
        if not by:
            return done, extra
        try:
            rec = Record(self.schemas.decode(data, self._topic_schema[topic]), key=key, topic=topic)
        except SchemaError:
            return done, extra
        for h in by:
            writes = h.state.writes
            h.state.begin_record()
            try:
                outs = list(h.node.process(rec, h.ctx))  # type: ignore[union-attr]
                encoded = self._encode_outputs(h, outs)
            except Exception as exc:
                h.state.end_record(False)
                log.warning("%s could not answer %s in process (%s); it reads it from the bus", h.name, topic, exc)
                continue
            if h.state.writes != writes:
                h.state.end_record(False)
                log.error(
                    "%s wrote state answering %s, which it declares stateless; it reads it from the bus", h.name, topic
                )
                continue
            h.state.end_record(True)
            done.append(h)
            extra.extend(encoded)
            if h.emits_alerts:
                alerts.extend(o.value["body"] for o in outs)
        return done, extra

    def _yield_to_queries(self, limit: float = 0.05) -> None:
        """Sink thread: step aside (release the GIL) while a field query is queued."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline and self._queries_queued():
            time.sleep(0.0005)

    def _hot_waiting(self) -> bool:
        """A field query to run before the rest of this batch: one on the bus, or a hot source
        due a poll that has something (or may have: a source with source-order marks to send,
        or one that cannot tell). A due source with nothing new is counted as polled: counting
        every due one, the query inbox's 10 ms poll would cut every ingest batch to a few dozen
        records, and on Kafka each cut a transaction."""
        if self._hot_sources:
            now = time.monotonic()
            for h in self._hot_sources:
                if h.gen is not None:
                    return True  # part-way through what it found
                if now >= h.next_poll:
                    node = h.node
                    assert isinstance(node, Connector)
                    if h.mark_topics or node.ready(h.ctx):
                        return True
                    h.next_poll = now + h.poll_interval
        return self._queries_queued()

    def _queries_queued(self) -> bool:
        """Query input to read: on units the last lane run did not find stalled (_run_hot), what
        the bus shows; on a stalled one, only what its reader can read now. A stalled unit is
        looked at again between ingest records, because one ingest batch can run for 0.4 s on a
        loaded machine and a query fetched just after the lane gave up on it would wait for all
        of it."""
        stalled = self._hot_stalled
        for h, t in self._hot:
            if (h.name, t) not in stalled:
                if self._pending(h, t):
                    return True
            elif self._readable(h, t):
                return True
        return False

    def _readable(self, host: Host, topic: str) -> bool:
        assert self.bus is not None
        reader = host.reader
        return any(
            self.bus.readable(t, p, pos, reader)
            for (t, p), pos in host.positions.items()
            if t == topic and pos < self.bus.end_offset(t, p, reader)
        )

    def _flush(self, host: Host) -> bool:
        """Flush a sink, waiting out backpressure; False if the runtime is stopping."""
        node = host.node
        assert isinstance(node, Sink)
        failures = 0
        while True:
            try:
                node.flush()
                return True
            except Backpressure as bp:
                if self._sink_stop.wait(bp.retry_after):
                    return False
            except Exception as exc:
                failures += 1
                metrics.ERRORS.labels(host.name).inc()
                if failures > host.model.error_policy.retries:
                    raise NodeFailure(f"sink {host.name} cannot flush: {exc}") from exc
                time.sleep(
                    min(host.model.error_policy.backoff_ms * 2**failures, host.model.error_policy.max_backoff_ms) / 1000
                )

    # --- inspection -------------------------------------------------------------------------
    def lag(self) -> dict[tuple[str, str], int]:
        assert self.bus is not None
        out: dict[tuple[str, str], int] = {}
        for host in self.hosts.values():
            for (t, p), pos in host.positions.items():
                out[(host.name, t)] = out.get((host.name, t), 0) + self.bus.end_offset(t, p, host.reader) - pos
        for (node, topic), n in out.items():
            metrics.CONSUMER_LAG.labels(node, topic).set(n)
        return out

    def read_topic(self, topic: str) -> list[Record]:
        """Every record of a topic, decoded (tests and the CLI)."""
        assert self.bus is not None
        return read_topic(self.bus, self.schemas, topic, self._topic_schema[topic])


def decode(schemas: SchemaSet, msg: Message, reader: TopicSchema | None) -> dict[str, Any]:
    if msg.unreadable is not None:  # the bus could not even say which schema wrote it
        raise SchemaError(msg.unreadable)
    return schemas.decode(msg.value, reader)


def read_topic(
    bus: Bus,
    schemas: SchemaSet,
    topic: str,
    reader: TopicSchema | None = None,
    start: dict[int, int] | None = None,
    on_read: Callable[[int], None] | None = None,
) -> list[Record]:
    """Every record of `topic` (from `start`), decoded; `on_read` hears how many offsets are read."""
    out = []
    seen = 0
    for p in range(bus.partitions(topic)):
        off = (start or {}).get(p, 0)
        while True:
            msgs = bus.read(topic, p, off, 5000)
            if not msgs:
                break
            for m in msgs:
                if not m.value:  # erased by a purge
                    continue
                out.append(
                    Record(
                        decode(schemas, m, reader),
                        key=m.key,
                        topic=topic,
                        partition=p,
                        offset=m.offset,
                        raw=m.value,
                    )
                )
            off = msgs[-1].offset + 1
            seen += len(msgs)
            if on_read is not None:
                on_read(seen)
    return out
