"""A worker of a group: several processes share one topology's tasks on Kafka.

Membership is Kafka's own consumer-group protocol. Every task of the topology (or unit of tasks
joined by `colocate_with`) is one partition of a coordination topic (`<prefix>tasks.<digest>`,
never written to); the workers subscribe to it in one group, and whichever partitions the group
coordinator assigns a worker are the tasks it runs.
A worker that joins, leaves (SIGTERM) or dies (missed heartbeats, `session.timeout.ms`) triggers a
rebalance, with the cooperative-sticky assignor so tasks that stay put are not restarted.

Taking a task over: `init_transactions` on the task's transactional id fences the previous owner
(a dead one's open transaction is aborted), then the task's committed offsets and its partition of
the state changelog are read. Giving one up happens between batches. Either way nothing is done
twice or lost: a batch's outputs, state and offsets are one transaction.
"""

from __future__ import annotations

import faulthandler
import logging
import os
import threading
import time
from typing import Any

from tenacity import retry, retry_if_exception, stop_after_attempt, wait_fixed

from argus import metrics
from argus.bus.base import Fenced
from argus.bus.kafka import KafkaBus
from argus.runtime.assignment import Assignment
from argus.runtime.core import Runtime
from argus.runtime.tasks import Task, plan_digest, units

try:
    from confluent_kafka import Consumer, KafkaException, TopicPartition
except ImportError as exc:  # pragma: no cover - the registry reports the pip extra
    raise ImportError("the Kafka worker needs confluent-kafka: pip install 'argus-fusion[kafka]'") from exc

log = logging.getLogger("argus.worker")


class GroupAssignment(Assignment):
    """The tasks the group hands this worker (the runtime's assignment strategy on Kafka)."""

    session_timeout_ms = 10_000

    def __init__(self, instance: str | None = None) -> None:
        """`instance`: a stable name (static membership): restarted under the same name, the
        worker gets its tasks back without a rebalance; a stopped one's tasks move only after
        the session timeout."""
        self.instance = instance
        self.rt: Runtime | None = None
        self._coord: Any = None
        self._assigned_once = False

    def initial_tasks(self, rt: Runtime) -> list[Task]:
        self.rt = rt
        bus = rt.bus
        if not isinstance(bus, KafkaBus):
            raise ValueError(f"a worker group needs a Kafka bus (bus: kafka://...), not {rt.topo.bus_url}")
        grouped = units(rt.topo, rt.tasks)  # colocated nodes' tasks: one partition
        digest = plan_digest(grouped)
        self._coord_topic = bus.kafka_topic(f"tasks.{digest}")
        bus.create_topic(self._coord_topic, len(grouped))
        self._by_partition = dict(enumerate(grouped))
        self._coord = Consumer(
            {
                "bootstrap.servers": bus.bootstrap,
                "group.id": bus.group_id(f"workers.{digest}"),
                "client.id": bus.client,
                "enable.auto.commit": False,
                "partition.assignment.strategy": "cooperative-sticky",
                "session.timeout.ms": self.session_timeout_ms,
                "heartbeat.interval.ms": 1000,
                "max.poll.interval.ms": 600_000,
                **({"group.instance.id": self.instance} if self.instance else {}),
            }
        )
        self._coord.subscribe(
            [self._coord_topic], on_assign=self._on_assign, on_revoke=self._on_revoke, on_lost=self._on_lost
        )
        threading.Thread(target=self._watch_commits, args=(rt, bus), name="argus-commit-watch", daemon=True).start()
        return []

    def _watch_commits(self, rt: Runtime, bus: KafkaBus) -> None:
        """A commit that never returns (a librdkafka hang: KafkaBus.stuck_commits) leaves its
        tasks held by a worker that will not move them, while its heartbeats, sent by
        librdkafka's own thread, keep the group from noticing. The only way out is to end the
        process: its stacks go to stderr, it exits with 75 (EX_TEMPFAIL) and its supervisor
        starts it again; the open transaction is aborted when the tasks are claimed next, so
        nothing is lost or doubled (that is the SIGKILL case, tested)."""
        while not rt._stop.wait(5.0):
            stuck = bus.stuck_commits(rt.topo.model.commit_hang_s)
            if stuck:
                writer, secs = stuck[0]
                log.critical(
                    "the commit of %s has not returned in %.0f s (a librdkafka hang, see KafkaBus.stuck_commits): "
                    "exiting for the supervisor to restart this worker",
                    writer,
                    secs,
                )
                faulthandler.dump_traceback(all_threads=True)
                os._exit(75)

    # --- group callbacks (run inside poll, on the scheduling thread, between batches) -----------
    def _on_assign(self, _consumer: Any, partitions: list[TopicPartition]) -> None:
        rt, tasks = self.rt, self._tasks_in(partitions)
        assert rt is not None
        started = time.perf_counter()
        for task, got in zip(tasks, rt._recover_all(tasks), strict=True):
            rt._start_task(task, got)
            log.info("took task %s", task.id)
        if tasks:
            took = time.perf_counter() - started
            metrics.TASK_TAKEOVER_SECONDS.observe(took)
            log.info("took %d task(s) in %.2fs", len(tasks), took)
        metrics.GROUP_EVENTS.labels("assigned").inc()
        self._assigned_once = True

    def _on_revoke(self, _consumer: Any, partitions: list[TopicPartition]) -> None:
        metrics.GROUP_EVENTS.labels("revoked").inc()
        assert self.rt is not None
        for task in self._tasks_in(partitions):
            try:
                self.rt._stop_task(task.id)  # commits what it holds, for the next owner
            except Fenced:  # the next owner has it already: what was held is redone there
                self.rt.drop_task(task.id)
            log.info("gave up task %s", task.id)

    def _on_lost(self, _consumer: Any, partitions: list[TopicPartition]) -> None:
        """This worker was dropped from the group (it missed heartbeats past the session
        timeout: a VM paused, a process starved of CPU or stopped in a debugger). Its tasks are
        someone else's now, so nothing more is committed for them: they are dropped, and
        librdkafka rejoins the group, which hands this worker tasks again."""
        metrics.GROUP_EVENTS.labels("lost").inc()
        assert self.rt is not None
        for task in self._tasks_in(partitions):
            self.rt.drop_task(task.id)
            log.warning("lost task %s (this worker was dropped from the group)", task.id)

    def _tasks_in(self, partitions: list[TopicPartition]) -> list[Task]:
        """The tasks of the coordination partitions the group hands over or takes back."""
        return [t for tp in partitions for t in self._by_partition[tp.partition]]

    def _drop_fenced(self, rt: Runtime, tasks: set[str]) -> None:
        """A task's commit was fenced: another worker owns it now (this one stalled past its
        session timeout, and the group moved its tasks). Its whole unit goes, since colocated
        tasks move together; the group's revocation, when this worker next polls, finds them
        gone, and the worker rejoins and is given tasks again."""
        for tid in sorted(tasks):
            unit = next((u for u in self._by_partition.values() if any(t.id == tid for t in u)), [])
            for task in unit:
                if task.id in rt.hosts:
                    rt.drop_task(task.id)
                    metrics.GROUP_EVENTS.labels("fenced").inc()
                    log.warning("dropped task %s: another worker owns it now (fenced)", task.id)

    # --- the runtime's hooks ------------------------------------------------------------------
    def before_step(self, rt: Runtime) -> None:
        self._coord.poll(0)  # heartbeats are in the background; (re)assignments are applied here
        if rt.fenced:  # found by the sink thread, which adds to it holding the units' lock
            with rt._units_lock:
                found, rt.fenced = rt.fenced, set()
            self._drop_fenced(rt, found)

    def fenced(self, rt: Runtime, exc: Fenced) -> bool:
        tid = rt._task_of_writer(exc.writer)
        if tid is None:
            return False
        log.warning("%s", exc)
        self._drop_fenced(rt, {tid})
        return True

    def wait_for_tasks(self, rt: Runtime, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while not self._assigned_once:
            if time.monotonic() > deadline:
                raise TimeoutError(f"no tasks from group {self._coord_topic} after {timeout}s")
            self._coord.poll(0.1)

    def close(self) -> None:
        coord, self._coord = self._coord, None
        if coord is not None:
            coord.close()  # leaves the group now: the others take these tasks without waiting


def group_worker(topo: Any, instance: str | None = None) -> Runtime:
    """A runtime taking the tasks its group on Kafka hands it."""
    return Runtime(topo, assignment=GroupAssignment(instance))


def _coordinator_busy(exc: BaseException) -> bool:
    return isinstance(exc, KafkaException) and (exc.args[0].retriable() or "COORDINATOR" in str(exc))


@retry(retry=retry_if_exception(_coordinator_busy), stop=stop_after_attempt(50), wait=wait_fixed(0.2), reraise=True)
def _describe(bus: KafkaBus, group: str) -> Any:
    """The group as its coordinator describes it; the coordinator may be moving or still loading."""
    return bus.describe_group(group)


def status(bus: KafkaBus, topo: Any) -> dict[str, Any]:
    """What an operator asks of a running group: which worker holds which task, and how far
    behind each node is (records committed to its inputs that it has not yet committed as read)."""
    from argus.runtime.lag import node_lag
    from argus.runtime.tasks import plan

    tasks = plan(topo, split=True)
    grouped = units(topo, tasks)
    digest = plan_digest(grouped)
    members: dict[str, list[str]] = {}
    group = bus.group_id(f"workers.{digest}")
    desc = _describe(bus, group)
    if desc.state is not None:
        for m in desc.members:
            parts = m.assignment.topic_partitions if m.assignment else []
            name = m.group_instance_id or f"{m.client_id}{m.host}/{m.member_id[-8:]}"
            members[name] = sorted(t.id for tp in parts if tp.partition < len(grouped) for t in grouped[tp.partition])
    lag = node_lag(bus, topo)
    return {"group": group, "tasks": len(tasks), "workers": members, "lag": lag}
