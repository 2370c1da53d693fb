"""Connector units: a source's batch of records onto its topics, dead letters for what it
could not read, and the source-order marks ordered nodes release by (argus/runtime/order.py)."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from argus import metrics
from argus.bus.base import Commit
from argus.contracts import Connector, DeadLetterRecord
from argus.records import Record
from argus.runtime.host import MARK_STATE, Host
from argus.runtime.order import mark_key
from argus.schemas import SchemaError

if TYPE_CHECKING:
    from argus.bus.base import Bus
    from argus.topology import Topology

log = logging.getLogger("argus.runtime")


class Sources:
    # What this part uses of the runtime's other parts (core.py composes them into one
    # runtime; tests/unit/test_runtime_parts.py checks this list is whole and provided).
    _hot_sources: list[Host]
    bus: Bus | None
    topo: Topology
    if TYPE_CHECKING:

        def _commit(
            self, host: Host, commit: Commit, with_state: bool = True, wait: bool = True, query: bool = False
        ) -> None: ...
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
        ) -> None: ...
        def _encode_outputs(self, host: Host, outs: list[Record]) -> list[tuple[str, str | None, bytes]]: ...
        def _finish(
            self,
            host: Host,
            commit: Commit,
            started: float,
            topic: str | None = None,
            alone: bool = False,
            wait: bool = False,
        ) -> None: ...
        def _hot_waiting(self) -> bool: ...
        def _settle(self, host: Host, block: bool = True) -> bool: ...

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
                self._take(host, commit, item, marks)
        except Exception as exc:  # the source itself failed (unreadable file, ...)
            self._source_failed(host, exc)
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

    def _take(self, host: Host, commit: Commit, item: Record | DeadLetterRecord, marks: dict[str, Any] | None) -> None:
        """One item a source delivered: its record onto the topic (a mark first if the source
        was idle, one every `order_mark_every` records), or a dead letter saying why not."""
        if isinstance(item, DeadLetterRecord):
            host.dead_lettered += 1
            self._dead_letter(
                commit, host, reason=item.reason, error_type="InvalidRecord", original=item.original, source=item.source
            )
            return
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
            return
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

    def _source_failed(self, host: Host, exc: Exception) -> None:
        """The source itself failed: it is retried after a pause, what it read this turn is
        not committed, and ordered nodes are told it is idle so they go on without it."""
        metrics.ERRORS.labels(host.name).inc()
        host.problem = f"{type(exc).__name__}: {str(exc)[:300]}"
        log.error("connector %s failed: %s; retrying in %.1fs", host.name, exc, max(host.poll_interval, 1.0))
        host.state.rollback()
        host.gen = None
        host.next_poll = time.monotonic() + max(host.poll_interval, 1.0)
        marks = self._marks(host) if host.mark_topics else None
        if marks is not None and self._marks_due(marks):
            commit = Commit()
            self._mark(host, commit, marks, idle=True)
            self._commit(host, commit)

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
