"""Processor and sink units: read a batch from the node's positions, process each record
(retrying, then dead-lettering), flush sinks, then hand outputs, state and offsets to the
committer as one transaction. Ordered nodes work through releases of their source-ordered input."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from argus import metrics
from argus.bus.base import Commit, Message
from argus.contracts import Sink
from argus.records import Record
from argus.runtime.dead_letters import dead_letter_headers, dead_letter_value
from argus.runtime.host import ANSWERED_BY, ORDERED, Host
from argus.runtime.order import STATE_KEY, mark_key, parse_mark
from argus.schemas import SchemaError

if TYPE_CHECKING:
    from argus.bus.base import Bus
    from argus.runtime.faults import Faults
    from argus.runtime.order_plan import OrderPlan
    from argus.schemas import SchemaSet, TopicSchema
    from argus.topology import Topology

log = logging.getLogger("argus.runtime")

READ_AHEAD = 20_000  # records an ordered node buffers past the release it is working through
READ_CHUNK = 64  # records an ordered node reads and decodes between looks at the field-query lane
# An ingest batch looks for a waiting field query before each record (about 10 µs a look): a
# query written mid-batch waits for one record of the stage in hand, not eight. On 10,000
# records with queries at 50/s from another process, four runs each: query-to-alert p50 8.3-9.2
# against 10.1-10.6 ms and p99 24.6-29.7 against 30.4-38.1 ms, for 107-124 against 116-129
# records/s. The field comes first.


class Processing:
    # What this part uses of the runtime's other parts (core.py composes them into one
    # runtime; tests/unit/test_runtime_parts.py checks this list is whole and provided).
    _fault: Faults
    _hot: list[tuple[Host, str]]
    _topic_schema: dict[str, TopicSchema]
    bus: Bus | None
    order_plan: OrderPlan | None
    schemas: SchemaSet
    topo: Topology
    if TYPE_CHECKING:

        def _answer_here(
            self, host: Host, topic: str, key: str | None, data: bytes, alerts: list[dict[str, Any]]
        ) -> tuple[list[Host], list[tuple[str, str | None, bytes]]]: ...
        def _append_mark(self, host: Host, commit: Commit, key: str) -> None: ...
        def _decode(self, msg: Message, shares: bool = False) -> dict[str, Any]: ...
        def _finish(
            self,
            host: Host,
            commit: Commit,
            started: float,
            topic: str | None = None,
            alone: bool = False,
            wait: bool = False,
        ) -> None: ...
        def _flush(self, host: Host) -> bool: ...
        def _hot_waiting(self) -> bool: ...
        def _settle(self, host: Host, block: bool = True) -> bool: ...
        def _yield_to_queries(self, limit: float = 0.05) -> None: ...

    def _run_ordered(self, host: Host) -> int:
        """Read an ordered node's source-ordered inputs into its buffer, and work through the
        release they make, one batch at a time (preempted by field queries like any ingest)."""
        assert self.bus is not None and host.order is not None
        self._settle(host)
        started = time.perf_counter()
        order = host.order
        got = self._read_ordered(host)
        release = order.next_release()
        if release is None:
            return got
        commit = Commit()
        alerts: list[dict[str, Any]] = []
        todo = release.records[release.done : release.done + host.model.batch_size]
        done = 0
        for item in todo:
            if done and self._hot_waiting():
                break  # yield to a waiting field query; the release goes on next time
            done += 1
            msg, error = item.msg, item.error
            value = None
            if error is None:
                try:
                    value = self._decode(msg, not host.node.changes_input)
                except Exception as exc:
                    error = exc
            if error is not None:
                self._dead_letter(
                    commit, host, reason=str(error), error_type=type(error).__name__, original=msg.value,
                    topic=msg.topic, partition=msg.partition, offset=msg.offset,
                )  # fmt: skip
                continue
            rec = Record(value, key=msg.key, topic=msg.topic, partition=msg.partition, offset=msg.offset, raw=msg.value)
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

    def _read_ordered(self, host: Host) -> int:
        """Read on while no release can form (its marks are further on); while one is being worked
        through, read ahead only so far, or a large backlog would all sit in memory. A turn reads
        one batch at most, and stops for a waiting field query. The buffer holds messages as read
        (a record is decoded when its release is worked through), so what it holds is the encoded
        bytes: about a seventh of the decoded tree."""
        assert self.bus is not None and host.order is not None
        order, reader = host.order, host.reader
        got = 0
        ahead = order.release is None or order.buffered() < READ_AHEAD
        budget = host.model.batch_size if ahead else 0
        order.turn = (order.turn + 1) % len(order.channels)  # each turn starts one channel on
        for t, p in order.channels[order.turn :] + order.channels[: order.turn]:
            if budget <= 0 or (got and self._hot_waiting()):
                break
            # In chunks, looking at the field-query lane between them (reading 500 records and
            # decoding them held a query up 50-100 ms; adding reads each record's envelope).
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
        return got

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
        is_sink = isinstance(host.node, Sink)
        preemptible = not is_sink and not hot
        writes = host.state.writes
        alerts: list[dict[str, Any]] = []
        sink_ok = True
        for i, msg in enumerate(msgs):
            if preemptible and i and self._hot_waiting():
                msgs = msgs[:i]  # yield to a waiting field query; commit what is done
                break
            if is_sink and i % 8 == 0:
                self._yield_to_queries()
            self._take_message(host, commit, msg, alerts)
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

    def _take_message(self, host: Host, commit: Commit, msg: Message, alerts: list[dict[str, Any]]) -> None:
        """One message of a batch: a mark passed on, a record skipped that was answered where it
        was written, one that cannot be decoded dead-lettered, or the record processed."""
        if not msg.value:  # erased by a purge, or a source-order mark to pass on
            if host.mark_topics and parse_mark(msg.key) is not None:
                for t in host.mark_topics:
                    commit.append(t, msg.key, b"", partition=msg.partition)
            return
        if msg.headers and host.name.encode() in msg.header(ANSWERED_BY):
            return  # answered in the process that wrote it, in the same transaction
        try:
            value = self._decode(msg, not host.node.changes_input)
        except SchemaError as exc:
            self._dead_letter(
                commit, host, reason=str(exc), error_type="SchemaError", original=msg.value,
                topic=msg.topic, partition=msg.partition, offset=msg.offset,
            )  # fmt: skip
            return
        rec = Record(value, key=msg.key, topic=msg.topic, partition=msg.partition, offset=msg.offset, raw=msg.value)
        self._process(host, commit, rec, msg, alerts)

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
