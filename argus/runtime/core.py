"""The runtime: every node of a topology that this process runs, on any bus. One thread schedules
connectors and processors (scheduler.py); sinks run on a thread of their own (sink_thread.py);
commits go through the committer (committer.py); tasks are taken on and given up by recovery.py,
as the assignment strategy (assignment.py) says. Per batch: read from the node's positions,
process each record (retrying, then dead-lettering), flush sinks, then commit outputs, state and
offsets in one bus transaction."""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from argus import metrics
from argus.backends import decode, decode_envelope, open_bus, prepare_bus, read_topic
from argus.bus.base import Bus, Commit, Message
from argus.contracts import Connector
from argus.records import Record, utcnow
from argus.registry import node_class, role_of
from argus.runtime import faults as _faults
from argus.runtime.answers import Answers
from argus.runtime.assignment import Assignment
from argus.runtime.committer import Committer
from argus.runtime.decoded import SharedDecoder
from argus.runtime.faults import Faults
from argus.runtime.host import Host
from argus.runtime.order_plan import OrderPlan, plan_order
from argus.runtime.processing import Processing
from argus.runtime.recovery import TaskLifecycle, _disown
from argus.runtime.scheduler import Scheduler
from argus.runtime.sink_thread import SinkThread
from argus.runtime.sources import Sources
from argus.runtime.tasks import Task, plan
from argus.schemas import SchemaSet, TopicSchema, default_schemas
from argus.topology import Topology

log = logging.getLogger("argus.runtime")


class Runtime(Scheduler, Processing, Sources, Answers, Committer, SinkThread, TaskLifecycle):
    def __init__(
        self,
        topo: Topology,
        *,
        schemas: SchemaSet | None = None,
        clock: Callable[[], datetime] = utcnow,
        ids: Callable[[], str] | None = None,
        assignment: Assignment | None = None,
        faults: Faults | None = None,
    ) -> None:
        """`assignment`: which tasks this process runs (every one, unless a group worker's);
        `faults`: where a test stops the process (none in production)."""
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
        self._next_foreign_look = 0.0  # see Scheduler._look_for_writers
        self._next_hot_look = 0.0  # see Scheduler._hot_waiting
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
        self._gc_before: tuple[int, int, int] | None = None  # see _take_gc
        self._fault = faults or _faults.installed
        self.assignment = assignment or Assignment()
        self._stop = threading.Event()  # set once run_forever has returned (threads tied to it end)
        self._stopping = False  # see stop()
        self._commit_interval = 0.0
        self._committer: ThreadPoolExecutor | None = None  # see _commit
        self.order_plan: OrderPlan | None = None
        self._here: dict[str, list[Host]] | None = None  # see _answerers; None: look again
        self._reader_counts: dict[tuple[str, int], int] | None = None  # see _readers_of; None: count again
        self._decoded = SharedDecoder(self._readers_of)
        self.task_cpu: dict[str, float] = {}  # CPU seconds per task (see _cpu)
        self._cpu_lock = threading.Lock()
        self._cpu_counters: dict[str, Any] = {}  # each task's argus_task_cpu_seconds_total child

    def open(self) -> Runtime:
        # Threads in this process (a field API, a test's terminal) hand work to the scheduler;
        # the default 5 ms GIL switch interval would add up to 5 ms to every field query.
        sys.setswitchinterval(0.0005)
        self._take_gc()
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

    def close(self) -> None:
        self.assignment.close()  # a group worker leaves now: the others take its tasks without waiting
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
        self._give_back_gc()

    def __enter__(self) -> Runtime:
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

    def publish(self, topic: str, value: dict[str, Any], key: str | None = None) -> None:
        assert self.bus is not None
        data = self.schemas.encode(self._topic_schema[topic], value)
        self.bus.commit(Commit(appends=[(topic, key, data)]))

    def lag(self) -> dict[tuple[str, str], int]:
        assert self.bus is not None
        out: dict[tuple[str, str], int] = {}
        for host in self.hosts.values():
            for (t, p), pos in host.positions.items():
                out[(host.name, t)] = out.get((host.name, t), 0) + self.bus.end_offset(t, p, host.reader) - pos
        for (node, topic), n in out.items():
            metrics.CONSUMER_LAG.labels(node, topic).set(n)
        return out

    def _readers_of(self, topic: str, partition: int) -> int:
        """How many of this process's nodes read a partition (SharedDecoder)."""
        counts = self._reader_counts
        if counts is None:
            counts = {}
            for host in list(self.hosts.values()):
                for tp in host.positions:
                    counts[tp] = counts.get(tp, 0) + 1
            self._reader_counts = counts
        return counts.get((topic, partition), 0)

    def _decode(self, msg: Message, shares: bool = False) -> dict[str, Any]:
        """A message's record, decoded once for every reader in this process; `shares`: the
        reader's node never changes it (`Node.changes_input`)."""
        return self._decoded.decode(msg, self._decode_alone, shares)

    def _decode_alone(self, msg: Message) -> dict[str, Any]:
        return decode(self.schemas, msg, self._topic_schema[msg.topic])

    def _envelope(self, msg: Message) -> dict[str, Any] | None:
        """What an ordered node's buffer sorts a message by (argus/runtime/order.py)."""
        return decode_envelope(self.schemas, msg, self._topic_schema[msg.topic])

    def task_ids(self) -> list[str]:
        return sorted(self.hosts)

    def read_topic(self, topic: str) -> list[Record]:
        """Every record of a topic, decoded (tests and the CLI)."""
        assert self.bus is not None
        return read_topic(self.bus, self.schemas, topic, self._topic_schema[topic])

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
