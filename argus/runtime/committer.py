"""Committing batches: held ingest batches joining one transaction, commits in flight on
committer threads while the scheduling thread runs other nodes, and the field-query lane's own
writer, which never waits for ingest."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from argus import metrics
from argus.bus.base import Commit
from argus.runtime.host import Host
from argus.runtime.tasks import Task

if TYPE_CHECKING:
    import threading
    from concurrent.futures import ThreadPoolExecutor
    from contextlib import AbstractContextManager

    from argus.bus.base import Bus
    from argus.runtime.faults import Faults

log = logging.getLogger("argus.runtime")

QUERY_WRITER = ".q"  # a task's field-query lane commits as `<task>.q` (_finish_query)


class Committer:
    # What this part uses of the runtime's other parts (core.py composes them into one
    # runtime; tests/unit/test_runtime_parts.py checks this list is whole and provided).
    _commit_interval: float
    _committer: ThreadPoolExecutor | None
    _fault: Faults
    _sink_units: list[tuple[Host, str]]
    _sink_wake: threading.Event
    bus: Bus | None
    hosts: dict[str, Host]
    if TYPE_CHECKING:

        def _cpu(self, host: Host) -> AbstractContextManager[None]: ...
        def _hot_waiting(self) -> bool: ...
        @staticmethod
        def _inputs(host: Host) -> set[str]: ...
        def _pending(self, host: Host, topic: str) -> bool: ...

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
