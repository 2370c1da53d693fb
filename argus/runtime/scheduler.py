"""The scheduling thread: units reading `priority: high` topics (the field-query lane), and the
connectors feeding them, run before anything else at every step; the rest take turns; an
ingest batch yields to a waiting query after the record it is on."""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED
from concurrent.futures import wait as wait_any
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from argus import metrics
from argus.bus.base import Fenced
from argus.contracts import Connector
from argus.runtime.host import ORDERED, Host

if TYPE_CHECKING:
    import threading

    from argus.bus.base import Bus
    from argus.runtime.assignment import Assignment

log = logging.getLogger("argus.runtime")

# The cyclic GC's full collection walks every object the process holds (the nodes' state, a
# million objects and more): 120-215 ms each on the Kafka latency bench, and those pauses were
# the field-query lane's p99. The scheduler freezes what has survived this often, so a collection
# of the older generations only walks what came since; and once in a while, when there is nothing
# to do, it unfreezes and collects everything, so cycles among frozen objects are not kept for ever.
GC_FREEZE_EVERY = 1.0
GC_FULL_EVERY = 600.0
# A batch's records, decoded values and outputs live for the whole batch, so at Python's default
# thresholds (700, 10, 10) nearly all of them outlive two young collections and reach the old
# generation by the hundred thousand a second: on 10,000 records that is 68 full collections of up
# to 650,000 objects (up to 440 ms each, finding no garbage), 11.5 s of 70 s in the collector. With
# a young generation of 10,000 a batch dies young: 2 full collections, the longest pause 51 ms,
# 2.4 s in all. The data path makes almost no cycles (under 1,000 objects on those 10,000
# records), so collecting the old generation rarely leaves little garbage waiting. Set while a
# runtime is open (_take_gc, _give_back_gc).
GC_THRESHOLDS = (10_000, 10, 100)
FOREIGN_LOOK_EVERY = 0.001  # s: see _look_for_writers
HOT_FETCH_WAIT = 0.02  # s: how long the query lane waits for a query it sees but has not fetched


class Scheduler:
    # What this part uses of the runtime's other parts (core.py composes them into one
    # runtime; tests/unit/test_runtime_parts.py checks this list is whole and provided).
    _cpu_counters: dict[str, Any]
    _cpu_lock: threading.Lock
    _hot: list[tuple[Host, str]]
    _hot_sources: list[Host]
    _sink_units: list[tuple[Host, str]]
    _sink_wake: threading.Event
    _stop: threading.Event
    _stopping: bool
    _units: list[tuple[Host, str | None]]
    assignment: Assignment
    bus: Bus | None
    hosts: dict[str, Host]
    task_cpu: dict[str, float]
    if TYPE_CHECKING:

        def _check_sinks(self) -> None: ...
        def _commit_held(self, force: bool = False) -> None: ...
        def _run_batch(self, host: Host, topic: str) -> int: ...
        def _run_connector(self, host: Host) -> int: ...
        def _run_ordered(self, host: Host) -> int: ...
        def _settle(self, host: Host, block: bool = True) -> bool: ...
        def lag(self) -> dict[tuple[str, str], int]: ...

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
        parts = host.parts_of.get(topic)
        if parts is None:
            parts = host.parts_of[topic] = tuple(tp for tp in host.positions if tp[0] == topic)
        positions, end, reader = host.positions, self.bus.end_offset, host.reader
        for tp in parts:
            if positions[tp] < end(tp[0], tp[1], reader):
                return True
        return False

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
        """Run the hot lane dry, then one other unit. Returns records handled. What changed
        hands in a group is applied first; a commit fenced by a task's new owner drops the task
        if the assignment says it moved (else it is a fault and raises)."""
        self.assignment.before_step(self)
        try:
            return self._step()
        except Fenced as exc:
            if self.assignment.fenced(self, exc):
                return 0
            raise

    def _step(self) -> int:
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
        self.assignment.wait_for_tasks(self)
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

    def _take_gc(self) -> None:
        """Set GC_THRESHOLDS for as long as this runtime is open."""
        if self._gc_before is None:
            self._gc_before = gc.get_threshold()
            gc.set_threshold(*GC_THRESHOLDS)

    def _give_back_gc(self) -> None:
        """What this runtime held goes back to the collector, at the thresholds it found."""
        gc.unfreeze()
        if self._gc_before is not None:
            gc.set_threshold(*self._gc_before)
            self._gc_before = None

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

    def _work_pending(self) -> bool:
        if any(h.inflight is not None for h in self.hosts.values()):
            return True  # what it commits is the next node's input
        return any(self._pending(h, t) for h, t in [*self._units, *self._hot, *self._sink_units] if t is not None)

    def _hot_waiting(self) -> bool:
        """A field query to run before the rest of this batch: one on the bus, or a hot source
        due a poll that has something (or may have: a source with source-order marks to send,
        or one that cannot tell). A due source with nothing new is counted as polled: counting
        every due one, the query inbox's 10 ms poll would cut every ingest batch to a few dozen
        records, and on Kafka each cut a transaction. On Kafka it looks at most every
        `hot_look_every`: looking before every record of the quick stages (dedup, TTP matching)
        cost two workers 25 CPU-s and a fifth of their throughput on 20,000 records."""
        now = time.monotonic()
        every = self.bus.hot_look_every if self.bus is not None else 0.0
        if every:
            if now < self._next_hot_look:
                return False
            self._next_hot_look = now + every
        if self._hot_sources:
            for h in self._hot_sources:
                if h.gen is not None:
                    return True  # part-way through what it found
                if now >= h.next_poll:
                    node = h.node
                    assert isinstance(node, Connector)
                    if h.mark_topics or node.ready(h.ctx):
                        return True
                    h.next_poll = now + h.poll_interval
        self._look_for_writers()
        return self._queries_queued()

    def _look_for_writers(self) -> None:
        """A query another process wrote (`argus api` has its own connection to the embedded
        bus) shows only once the bus has looked at the file again, which a step does first; an
        ingest batch takes up to half a second, so the scheduling thread looks between its
        records too, at most every FOREIGN_LOOK_EVERY and never waiting for the bus (the sink
        thread may be reading): 240 ms at the median from the API's write to the officer's alert
        otherwise, 11 ms with it."""
        now = time.monotonic()
        if now >= self._next_foreign_look:
            assert self.bus is not None
            self._next_foreign_look = now + FOREIGN_LOOK_EVERY
            self.bus.refresh(block=False)

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
