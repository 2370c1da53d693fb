"""How the Kafka bus reads: a task's partitions through one consumer, what it fetched for one
partition waiting for that partition's read, and where each reader can read up to.

A task (reader) reads all its partitions through one consumer, but for its field-query topics',
which keep one each. Tools and tests (reader None) and the watermark reader keep one consumer per
partition. A task's read never waits on the broker: it takes what the consumer's background
fetcher holds, and the scheduler comes back.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition
from tenacity import retry, retry_if_exception, stop_after_delay, wait_fixed

from argus.bus.base import Message, TopicSpec
from argus.bus.kafka_registry import SchemaRegistry, UnknownRegistrySchema
from argus.bus.kafka_topics import TIMEOUT

# How long the broker holds a task reader's fetch when there is nothing new. It answers at once
# when a record (or a transaction's commit marker) lands, so this is not a delay: it is how often
# an idle partition is asked again. A worker keeps one consumer per task (`_shared`); at 5 ms
# their empty fetches take a core of the broker, and the query lane and the feeder wait for it
# (bench/kafka.py: p50 150 ms at 5 ms, 48 ms at 200). What a long wait costs: a reader moved to
# another offset (a rollback) fetches again only when its outstanding fetch comes back. The
# watermark readers (one per partition whose end a worker looks at before any task reads it: the
# inputs that stay empty, purges, decisions, a source that sends nothing) wait as long; at 5 ms
# an idle worker keeps the broker at 65% of a core and itself at 48% (17% and 18% at 200). Tools
# and tests (reader None) read a partition once and go: they keep short waits.
TASK_FETCH_WAIT_MS = 200
WATERMARK = "#watermark"  # the reader that only learns partitions' ends
FETCH_CHUNK = 500  # most records one `consume` hands over
FETCH_BUFFER = 5000  # records fetched for a task's partition, not yet read, before it is paused

ReaderKey = tuple[str, int, str | None]  # (topic, partition, reader)


def lock_in(locks: dict[Any, threading.Lock], guard: threading.RLock, key: Any) -> threading.Lock:
    """The lock for `key`, made once under `guard`."""
    lock = locks.get(key)
    if lock is None:
        with guard:
            lock = locks.setdefault(key, threading.Lock())
    return lock


def _retriable_watermark(exc: BaseException) -> bool:
    if not isinstance(exc, KafkaException):
        return False
    err = exc.args[0] if exc.args else None
    return (
        getattr(err, "retriable", lambda: False)()
        or "leader" in str(exc).lower()
        or getattr(err, "code", lambda: None)() == KafkaError._UNKNOWN_PARTITION
    )


@retry(
    retry=retry_if_exception(_retriable_watermark), stop=stop_after_delay(TIMEOUT), wait=wait_fixed(0.1), reraise=True
)
def watermark(consumer: Consumer, tp: TopicPartition) -> tuple[int, int]:
    """A freshly created partition can answer NOT_LEADER for a moment after metadata shows its
    leader, and while the broker restarts the client forgets the partitions it knew
    (_UNKNOWN_PARTITION) until it has metadata again: retry those until the timeout."""
    return consumer.get_watermark_offsets(tp, TIMEOUT)  # type: ignore[no-any-return]


class KafkaReads:
    """The bus's readers and what they know of each partition's end. `topics` is the bus's own
    map of the topology's topics (which are field-query topics); `registry`, when the bus has
    one, undoes its framing of what is read. Nothing here refers back to the bus: a cycle would
    keep a closed bus and its librdkafka clients until a full collection, and each client holds
    one of the process's 1,024 thread-local keys."""

    def __init__(
        self,
        bootstrap: str,
        client: str,
        prefix: str,
        topics: dict[str, TopicSpec],
    ) -> None:
        self.bootstrap, self.client, self.prefix = bootstrap, client, prefix
        self._topics = topics
        self.registry: SchemaRegistry | None = None
        self._lock = threading.RLock()
        # (topic, partition, reader) -> (consumer, its next offset, whether it has seen the end)
        self._readers: dict[ReaderKey, tuple[Consumer, int, bool]] = {}
        # What `readable` took from a reader's fetcher to see it, handed over by its next read
        self._peeked: dict[ReaderKey, list[Message]] = {}
        self._wm: dict[tuple[str, int], Consumer] = {}  # a consumer fetching the partition, for watermarks
        # task -> the one consumer fetching every partition that task reads but the field-query
        # topics' (see `_shared`); what it fetched for a partition waits in `_peeked`
        self._fetchers: dict[str, Consumer] = {}
        self._paused: set[ReaderKey] = set()  # partitions whose waiting reads are full
        self._hotness: dict[str, bool] = {}  # topic -> read apart (`_shared`)
        self._rlocks: dict[Any, threading.Lock] = {}
        self._ends: dict[tuple[str, int], int] = {}
        self._ends_checked: dict[tuple[str, int], float] = {}
        self._produced: dict[tuple[str, int], int] = {}  # end of what this bus itself committed
        # Transaction markers occupy offsets, so a partition's high watermark overstates what is
        # readable. `_hw` is the last watermark seen; `_hw_drained` the watermark at which a read
        # found nothing more. Only a higher watermark than that means new records.
        self._hw: dict[tuple[str, int], int] = {}
        self._hw_drained: dict[tuple[str, int], int] = {}

    def _message(self, topic: str, partition: int, m: Any) -> Message:
        key = m.key().decode() if m.key() is not None else None
        value, unreadable = m.value(), None
        if self.registry is not None and value:
            try:
                value = self.registry.from_wire(value)
            except UnknownRegistrySchema as exc:  # a poison record: to the dead letters, not a stop
                unreadable = str(exc)
        return Message(topic, partition, m.offset(), key, value, m.timestamp()[1] * 1000, m.headers(), unreadable)

    def _t(self, topic: str) -> str:
        return f"{self.prefix}{topic}"

    def _topic_of(self, kafka_topic: str) -> str:
        return kafka_topic.removeprefix(self.prefix)

    def placed(self, placed: list[tuple[str, int, int]]) -> None:
        """Records this bus committed: their partitions' ends are known without asking."""
        with self._lock:  # two tasks' commits can land at once and write one partition
            for topic, part, off in placed:
                key = (topic, part)
                self._produced[key] = max(self._produced.get(key, 0), off + 1)
                self._ends[key] = max(self._ends.get(key, 0), off + 1)

    def close(self) -> None:
        with self._lock:
            for c in {id(c): c for c, _, _ in self._readers.values()}.values():
                c.close()
            self._fetchers.clear()
            self._paused.clear()
            self._readers.clear()
            self._peeked.clear()

    def _shared(self, topic: str, reader: str | None) -> bool:
        """Whether the reader's partition of `topic` is read through the task's one consumer:
        a task's, but not of a field-query topic (`priority: high`), whose partitions keep a
        consumer each, as the watermark reader's do: shared, the query lane's first leg waits
        behind the task's ingest fetches (measured: p99 157-164 ms against 78-100)."""
        return reader is not None and reader != WATERMARK and not self._hot(topic)

    def _hot(self, topic: str) -> bool:
        """Decided once per topic: a reader's consumer, shared or its own, must not change
        under it (topics ensured after a first read would otherwise move it)."""
        hot = self._hotness.get(topic)
        if hot is None:
            spec = self._topics.get(topic)
            hot = self._hotness[topic] = spec is not None and spec.priority == "high"
        return hot

    def _rlock(self, topic: str, partition: int, reader: str | None) -> threading.Lock:
        """A task's partitions share one consumer, so one lock: reading one hands what it
        fetched for the others to them."""
        if self._shared(topic, reader):
            return lock_in(self._rlocks, self._lock, ("fetcher", reader))
        return lock_in(self._rlocks, self._lock, (topic, partition, reader))

    def _consumer(self, reader: str | None) -> Consumer:
        return Consumer(
            {
                "bootstrap.servers": self.bootstrap,
                "group.id": f"{self.client}-reader",
                "enable.auto.commit": False,
                "isolation.level": "read_committed",
                "enable.partition.eof": True,
                "fetch.wait.max.ms": TASK_FETCH_WAIT_MS if reader is not None else 5,
                # Behind the log's start (retention deleted what a stopped task had not
                # read): on from the oldest record left, not librdkafka's default, the end.
                "auto.offset.reset": "earliest",
            }
        )

    def _reader(self, topic: str, partition: int, offset: int, reader: str | None) -> tuple[Consumer, bool]:
        """A task (reader) reads all its partitions through one consumer, but for its
        field-query topics' (`_shared`), which keep one each: nodes reading one topic at different positions
        (correlation and the sinks on `resolved`) each keep their own, so none seeks another's
        back and forth. Tools and tests (reader None) and the watermark reader keep one
        consumer per partition."""
        key = (topic, partition, reader)
        have = self._readers.get(key)
        if have is not None and have[1] == offset:
            return have[0], have[2]
        if self._shared(topic, reader):
            assert reader is not None
            consumer = self._fetchers.get(reader)
            if consumer is None:
                consumer = self._fetchers[reader] = self._consumer(reader)
            if have is not None:  # read from elsewhere: what was fetched past it is refetched
                consumer.incremental_unassign([TopicPartition(self._t(topic), partition)])
            consumer.incremental_assign([TopicPartition(self._t(topic), partition, offset)])
            self._paused.discard(key)
        else:
            consumer = have[0] if have else self._consumer(reader)
            consumer.assign([TopicPartition(self._t(topic), partition, offset)])
        self._readers[key] = (consumer, offset, False)
        self._peeked.pop(key, None)  # read from elsewhere: what was peeked is refetched
        self._wm.setdefault((topic, partition), consumer)
        return consumer, False

    def _retire_watermark_reader(self, topic: str, partition: int, consumer: Consumer) -> None:
        """A task's consumer has learnt the partition's end (it does with every fetch), so the
        watermark reader (which a look at the end before the task's first read started) goes,
        and with it a long poll every `TASK_FETCH_WAIT_MS` and a second fetch of every record,
        for as long as the worker runs. Not before: a consumer that has not fetched yet knows no
        end, and asking the broker instead is a round trip (30 s, retried, with the broker away)
        on the scheduling thread."""
        with lock_in(self._rlocks, self._lock, (topic, partition, WATERMARK)):
            have = self._readers.pop((topic, partition, WATERMARK), None)
            self._wm[(topic, partition)] = consumer
            if have is not None:
                have[0].close()

    def read(self, topic: str, partition: int, offset: int, limit: int, reader: str | None = None) -> list[Message]:
        with self._rlock(topic, partition, reader):
            consumer, at_end = self._reader(topic, partition, offset, reader)
            if reader is not None:
                return self._read_now(consumer, at_end, topic, partition, offset, limit, reader)
            out: list[Message] = []
            # A reader that has not yet reached the partition's end (EOF event) waits for its
            # fetch; one already at the end only looks for what arrived since.
            deadline = time.monotonic() + (0.02 if at_end else 1.0)
            eof = False
            while len(out) < limit and not eof and time.monotonic() < deadline:
                asked = min(limit - len(out), FETCH_CHUNK)
                # What the background fetcher already holds comes back at once; wait (briefly)
                # only when it holds nothing.
                got = consumer.consume(asked, timeout=0) or consumer.consume(asked, timeout=0.005)
                for m in got:
                    if m.error():
                        eof = eof or m.error().code() == KafkaError._PARTITION_EOF
                        continue
                    out.append(self._message(topic, partition, m))
                if out and (at_end or len(got) < asked):
                    break  # what was fetched is handed over now; waiting for more only adds latency
            nxt = out[-1].offset + 1 if out else offset
            self._readers[(topic, partition, reader)] = (consumer, nxt, eof or (at_end and not out))
            if not out:
                # Nothing readable past `offset` now. Unless this bus committed data there (its
                # marker may not have landed yet), the partition is drained up to the watermark.
                tp = (topic, partition)
                self._hw_drained[tp] = max(self._hw_drained.get(tp, 0), self._hw.get(tp, 0))
                self._ends[tp] = max(offset, self._produced.get(tp, 0))
            return out

    def _read_now(
        self, consumer: Consumer, at_end: bool, topic: str, partition: int, offset: int, limit: int, reader: str
    ) -> list[Message]:
        """A task's read never waits: what the background fetcher holds now, or nothing, and the
        scheduler comes back. Waiting here (even 5 ms) for each of a worker's many partitions,
        one after another on its one thread, was most of its time. When there is nothing more
        is `end_offset`'s business (with the consumer's position, which passes markers)."""
        key = (topic, partition, reader)
        buf = self._peeked.pop(key, [])
        eof_here = at_end and not buf
        if len(buf) < limit:
            eof_here = self._fetch(consumer, key, buf, limit) or eof_here
        out, rest = buf[:limit], buf[limit:]
        if rest:
            self._peeked[key] = rest
        elif key in self._paused:  # its waiting reads are handed over: fetch it again
            consumer.resume([TopicPartition(self._t(topic), partition)])
            self._paused.discard(key)
        nxt = out[-1].offset + 1 if out else offset
        self._readers[key] = (consumer, nxt, eof_here and not out)
        return out

    def _fetch(self, consumer: Consumer, key: tuple[str, int, str | None], buf: list[Message], limit: int) -> bool:
        """Take what the consumer holds, without waiting, until `buf` (the reads waiting for
        `key`) has `limit` or the consumer is empty; whether `key`'s partition end came by. A
        consumer shared by a task's partitions hands what it holds for the others to their
        waiting reads (`_peeked`), and a partition with `FETCH_BUFFER` of those waiting is
        paused until they are read: a task reading one partition does not pull another's whole
        backlog into memory. A call takes at most twice `limit`: decoding another partition's
        backlog in one go is time a waiting field query would spend waiting."""
        shared = self._shared(key[0], key[2])
        eof = False
        taken = 0
        while len(buf) < limit:
            asked = min(limit - len(buf), FETCH_CHUNK)
            got = consumer.consume(asked, timeout=0)
            for m in got:
                k = key if not shared else (self._topic_of(m.topic()), m.partition(), key[2])
                err = m.error()
                if err is not None:
                    if err.code() == KafkaError._PARTITION_EOF:
                        if k == key:
                            eof = True
                        elif k in self._readers and not self._peeked.get(k):
                            c, nxt, _ = self._readers[k]
                            self._readers[k] = (c, nxt, True)
                    continue
                if k == key:
                    target = buf
                    eof = False
                else:
                    have = self._readers.get(k)
                    if have is None:
                        continue  # a partition this task no longer reads
                    target = self._peeked.setdefault(k, [])
                nxt = target[-1].offset + 1 if target else self._readers[k][1]
                if m.offset() < nxt:
                    continue  # fetched before a seek back: the read from there brings it again
                target.append(self._message(k[0], k[1], m))
                if k != key and len(target) >= FETCH_BUFFER and k not in self._paused:
                    consumer.pause([TopicPartition(m.topic(), m.partition())])
                    self._paused.add(k)
            taken += len(got)
            if len(got) < asked or (shared and taken >= 2 * limit):
                break
        return eof

    def readable(self, topic: str, partition: int, offset: int, reader: str) -> bool:
        """Whether a task's read at `offset` would return a message now. `end_offset` (the
        watermark) can be ahead of what the reader's fetcher holds: a record whose fetch is in
        flight, or one in a transaction not yet committed. The runtime asks this of a field
        query it has stopped waiting for (scheduler.py, `_queries_queued`), between the records
        of a long ingest batch: it looks at the fetcher's queue once, without waiting, and what
        it takes to see is kept for the next read."""
        key = (topic, partition, reader)
        with self._rlock(topic, partition, reader):
            consumer, _ = self._reader(topic, partition, offset, reader)
            buf = self._peeked.pop(key, [])
            if not buf and self._fetch(consumer, key, buf, 1):
                self._readers[key] = (consumer, offset, True)
            if buf:
                self._peeked[key] = buf
            return bool(buf)

    def end_offset(self, topic: str, partition: int, reader: str | None = None) -> int:
        """Where `reader` (a task) can read up to. Per reader: readers of one partition fetch at
        their own pace, and one's being at the end says nothing of another's."""
        have = self._readers.get((topic, partition, reader)) if reader is not None else None
        if have is not None:
            consumer, nxt, _ = have
            tp = TopicPartition(self._t(topic), partition)
            high = consumer.get_watermark_offsets(tp, cached=True)[1]
            produced = self._produced.get((topic, partition), 0)
            if high >= 0:
                if (topic, partition, WATERMARK) in self._readers and self._shared(topic, reader):
                    self._retire_watermark_reader(topic, partition, consumer)
                # The consumer's own position moves past transaction markers once it has fetched
                # them: at or past the watermark it has everything, and there is nothing to wait
                # for unless this bus itself committed more since.
                (pos,) = consumer.position([tp])
                if pos.offset >= high:
                    peeked = self._peeked.get((topic, partition, reader))
                    return max(nxt, produced, peeked[-1].offset + 1 if peeked else 0)
                return max(high, produced)
        key = (topic, partition)
        now = time.monotonic()
        if key in self._ends and now - self._ends_checked.get(key, 0) < 0.002:
            return self._ends[key]  # the cached watermark is a local read: fresh is cheap
        with lock_in(self._rlocks, self._lock, (topic, partition, WATERMARK)):
            consumer = self._wm.get(key)
            if consumer is None:
                consumer, _ = self._reader(topic, partition, 0, WATERMARK)
            tp = TopicPartition(self._t(topic), partition)
            # A reader's fetcher learns the high watermark with every fetch response: no round
            # trip to the broker unless it has not fetched yet.
            _low, high = consumer.get_watermark_offsets(tp, cached=True)
            if high < 0 and key in self._hw:
                high = self._hw[key]  # a task's consumer just moved (a takeover) fetches again soon
            elif high < 0:
                _low, high = watermark(consumer, tp)
            self._hw[key] = high
            self._ends_checked[key] = now
            if high > self._hw_drained.get(key, -1):
                self._ends[key] = max(self._ends.get(key, 0), high)
            return self._ends.get(key, 0)
