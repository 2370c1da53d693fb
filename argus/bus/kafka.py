"""The bus on Apache Kafka: the same interface as the embedded bus, so the same runtime and the
same processors run on it unchanged.

- A node's batch (output records, keyed-state changes, input offsets) is one Kafka transaction:
  outputs and state changelog records are produced inside it, and the input offsets are sent
  with `send_offsets_to_transaction`. Readers use `isolation.level=read_committed`, so a worker
  killed mid-batch leaves nothing visible and its successor (same `transactional.id`, which fences
  the dead one) redoes the batch exactly once.
- Keyed state lives in a compacted changelog topic per node (`<prefix>state.<node>`), replayed
  into memory at start-up, as Kafka Streams does.
- Records go to the partition `partition_for(key)` picks, the same function the embedded bus
  uses, so both runtimes place every key alike.
- Schemas written are kept in a compacted topic (`<prefix>schemas`) so old records stay readable.

URL: `kafka://host:port[,host:port...][?prefix=NAME.&client=ID]`. The prefix namespaces every
topic (several pipelines or test runs on one cluster).

Several worker processes share a topology (argus/runtime/worker.py): each task (a node, or one
partition of a partitioned node) writes through a transactional producer of its own,
`transactional.id = <prefix>task.<task>`, so the worker that takes a task over fences exactly
that task's previous owner, and the task's state lives in its own partition of the changelog.
A task that answers field queries has a second one, `<prefix>task.<task>.q`, for those answers
alone (argus/runtime/committer.py, `_finish_query`). Different writers' commits run side by side
(`concurrent_commits`); one writer's run one after another.
"""

from __future__ import annotations

import logging
import struct
import threading
import time
import weakref
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlparse

import orjson
from tenacity import retry, retry_if_exception, stop_after_delay, wait_fixed

from argus.bus.base import DELETED, Bus, Commit, Fenced, Message, RegistryUnavailable, SchemaRow, TopicSpec
from argus.schemas import SchemaError

try:
    from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
    from confluent_kafka.admin import (
        AdminClient,
        AlterConfigOpType,
        ConfigEntry,
        ConfigResource,
        ConfigSource,
        NewTopic,
    )
except ImportError as exc:  # pragma: no cover - the registry reports the pip extra
    raise ImportError("the Kafka bus needs confluent-kafka: pip install 'argus-fusion[kafka]'") from exc

log = logging.getLogger("argus.bus")

_TIMEOUT = 30.0
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
_STATE_CONFIG = {"cleanup.policy": "compact", "min.compaction.lag.ms": "0"}


def _topic_config(spec: TopicSpec) -> dict[str, str]:
    """A topology topic's settings as Kafka topic configs."""
    policy = "compact" if spec.compacted else "delete"
    if spec.compacted and spec.retention_hours:
        policy = "compact,delete"  # the latest per key, and nothing older than the retention
    config = {"cleanup.policy": policy}
    if spec.retention_hours:
        config["retention.ms"] = str(spec.retention_hours * 3_600_000)
    if spec.retention_hours or spec.compacted:
        # The broker deletes or compacts whole segments, never the one being written, which
        # rolls after segment.ms (7 days by default): a record would outlive its retention, or
        # a purge's tombstone its record, by up to that. A day at most, here.
        config["segment.ms"] = str(min(spec.retention_hours or 24, 24) * 3_600_000)
    return config


_FENCING = {KafkaError._FENCED, KafkaError.PRODUCER_FENCED, KafkaError.INVALID_PRODUCER_EPOCH}


def _fenced(exc: BaseException) -> bool:
    """A newer producer took the transactional id over (librdkafka says _FENCED locally, the
    broker PRODUCER_FENCED or INVALID_PRODUCER_EPOCH)."""
    return isinstance(exc, KafkaException) and bool(exc.args) and exc.args[0].code() in _FENCING


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
    retry=retry_if_exception(_retriable_watermark), stop=stop_after_delay(_TIMEOUT), wait=wait_fixed(0.1), reraise=True
)
def _watermark(consumer: Consumer, tp: TopicPartition) -> tuple[int, int]:
    """A freshly created partition can answer NOT_LEADER for a moment after metadata shows its
    leader, and while the broker restarts the client forgets the partitions it knew
    (_UNKNOWN_PARTITION) until it has metadata again: retry those until the timeout."""
    return consumer.get_watermark_offsets(tp, _TIMEOUT)  # type: ignore[no-any-return]


class KafkaBus(Bus):
    partitioned_state = True
    commit_interval = 0.1
    concurrent_commits = True  # each writer (task) has its own producer

    def __init__(self, url: str) -> None:
        u = urlparse(url)
        if u.scheme != "kafka" or not u.netloc:
            raise ValueError(f"expected kafka://host:port[?prefix=...], got {url!r}")
        q = {k: v[-1] for k, v in parse_qs(u.query).items()}
        self.bootstrap = u.netloc
        self.prefix = q.get("prefix", "")
        self.client = q.get("client", "argus")
        self._lock = threading.RLock()
        self._admin = AdminClient({"bootstrap.servers": self.bootstrap})
        self._producers: dict[str | None, Producer] = {}  # writer (task) -> its transactional producer
        self._committing: dict[str | None, float] = {}  # writer -> when its commit in progress began
        self._plain: Producer | None = None
        # (topic, partition) -> (consumer, its next offset, whether it has seen the partition's end)
        # (topic, partition, reader) -> (consumer, its next offset, whether it has seen the end)
        self._readers: dict[tuple[str, int, str | None], tuple[Consumer, int, bool]] = {}
        # What `readable` took from a reader's fetcher to see it, handed over by its next read
        self._peeked: dict[tuple[str, int, str | None], list[Message]] = {}
        self._wm: dict[tuple[str, int], Consumer] = {}  # a consumer fetching the partition, for watermarks
        # task -> the one consumer fetching every partition that task reads but the field-query
        # topics' (see `_shared`); what it fetched for a partition waits in `_peeked`
        self._fetchers: dict[str, Consumer] = {}
        self._paused: set[tuple[str, int, str | None]] = set()  # partitions whose waiting reads are full
        self._hotness: dict[str, bool] = {}  # topic -> read apart (`_shared`)
        self._rlocks: dict[Any, threading.Lock] = {}
        self._wlocks: dict[str | None, threading.Lock] = {}
        self._groups: dict[str, Consumer] = {}
        self._topics: dict[str, TopicSpec] = {}
        self._ends: dict[tuple[str, int], int] = {}
        self._ends_checked: dict[tuple[str, int], float] = {}
        self._produced: dict[tuple[str, int], int] = {}  # end of what this bus itself committed
        # Transaction markers occupy offsets, so a partition's high watermark overstates what is
        # readable. `_hw` is the last watermark seen; `_hw_drained` the watermark at which a read
        # found nothing more. Only a higher watermark than that means new records.
        self._hw: dict[tuple[str, int], int] = {}
        self._hw_drained: dict[tuple[str, int], int] = {}
        self._ensure(self._t("schemas"), 1, _STATE_CONFIG)
        self.registry = SchemaRegistry(q["registry"], self) if q.get("registry") else None

    # --- for the worker group (argus/runtime/worker.py) ---------------------------------------
    def kafka_topic(self, name: str) -> str:
        """The Kafka topic an Argus topic (or the group's coordination topic) is, with the prefix."""
        return self._t(name)

    def group_id(self, name: str) -> str:
        return self._group(name)

    def create_topic(self, kafka_topic: str, partitions: int) -> int:
        """Create it if missing; its partition count."""
        return self._ensure(kafka_topic, partitions)

    def describe_group(self, group: str, timeout: float = 10) -> Any:
        (desc,) = [
            f.result(timeout) for f in self._admin.describe_consumer_groups([group], request_timeout=timeout).values()
        ]
        return desc

    def _message(self, topic: str, partition: int, m: Any) -> Message:
        key = m.key().decode() if m.key() is not None else None
        value, unreadable = m.value(), None
        if self.registry is not None and value:
            try:
                value = self.registry.from_wire(value)
            except UnknownRegistrySchema as exc:  # a poison record: to the dead letters, not a stop
                unreadable = str(exc)
        return Message(topic, partition, m.offset(), key, value, m.timestamp()[1] * 1000, m.headers(), unreadable)

    # --- names --------------------------------------------------------------------------------
    def _t(self, topic: str) -> str:
        return f"{self.prefix}{topic}"

    @property
    def admin(self) -> AdminClient:
        """The cluster's admin API, as this process connects to it (credentials, ACLs)."""
        return self._admin

    def _topic_of(self, kafka_topic: str) -> str:
        """The Argus topic a Kafka topic is: `_t` undone."""
        return kafka_topic.removeprefix(self.prefix)

    def _state_topic(self, node: str) -> str:
        return self._t(f"state.{node}")

    def _group(self, group: str) -> str:
        return f"{self.prefix}{group}"

    # --- topics -------------------------------------------------------------------------------
    def _ensure(self, name: str, partitions: int, config: dict[str, str] | None = None) -> int:
        """An internal topic (changelog, schemas, the group's coordination): its partition count."""
        ready, _ = self._create({name: (partitions, config or {})})
        return len(ready[name].partitions)

    def _create(self, wanted: dict[str, tuple[int, dict[str, str]]]) -> tuple[dict[str, Any], list[str]]:
        """Create those of `wanted` (name -> partitions, config) that are missing, in one request,
        then wait until every one has leaders. Their metadata, and which were created here."""

        def listed() -> dict[str, Any]:
            only = next(iter(wanted)) if len(wanted) == 1 else None  # one topic: ask for it alone
            return self._admin.list_topics(only, timeout=_TIMEOUT).topics

        have = listed()
        missing = [n for n in wanted if not (n in have and have[n].error is None and have[n].partitions)]
        if missing:
            futures = self._admin.create_topics([NewTopic(n, wanted[n][0], 1, config=wanted[n][1]) for n in missing])
            for f in futures.values():
                try:
                    f.result(_TIMEOUT)
                except KafkaException as exc:
                    if "TOPIC_ALREADY_EXISTS" not in str(exc):
                        raise
        deadline = time.time() + _TIMEOUT
        while True:
            ready = {
                n: have[n]
                for n in wanted
                if n in have and have[n].partitions and all(p.leader >= 0 for p in have[n].partitions.values())
            }
            if len(ready) == len(wanted):
                return ready, missing
            if time.time() > deadline:
                raise TimeoutError(f"topics {sorted(set(wanted) - set(ready))} have no leaders after {_TIMEOUT}s")
            time.sleep(0.1)
            have = listed()

    def ensure_topic(self, spec: TopicSpec) -> None:
        self.ensure_topics([spec])

    def ensure_topics(self, specs: list[TopicSpec]) -> None:
        """One metadata request for all, one creation request for those missing, then one wait
        until all have leaders: one topic at a time, a topology's sixteen took a second."""
        names = {self._t(s.name): s for s in specs}
        ready, created = self._create({n: (s.partitions, _topic_config(s)) for n, s in names.items()})
        for n, spec in names.items():
            count = len(ready[n].partitions)
            if count != spec.partitions:
                raise ValueError(
                    f"topic {spec.name} exists with {count} partitions; topology asks for {spec.partitions} "
                    "(repartitioning needs a new topic)"
                )
            self._topics[spec.name] = spec
        self._settle_configs({n: s for n, s in names.items() if n not in created})

    def _settle_configs(self, specs: dict[str, TopicSpec]) -> None:
        """Topics that were there already get the cleanup policy and retention the topology
        says now: an operator shortening retention (how long a purged record can linger on a
        topic that is not compacted: docs/security.md) edits topology.yaml, not the broker. A
        retention the topology no longer sets goes back to the broker's default (and so does the
        segment roll set with it)."""
        changes = self._config_changes(specs)
        if not changes:
            return
        for res in changes:
            ops = res.incremental_configs
            log.info("topic %s: setting %s", res.name, ", ".join(f"{o.name}={o.value}" for o in ops))
        for fut in self._admin.incremental_alter_configs(changes, request_timeout=_TIMEOUT).values():
            fut.result(_TIMEOUT)
        # The controller has committed the change; the broker applies it from its metadata log a
        # moment later, and until then describes the old settings. Return once it says the new ones.
        deadline = time.monotonic() + _TIMEOUT
        while pending := self._config_changes({r.name: specs[r.name] for r in changes}):
            if time.monotonic() > deadline:
                raise TimeoutError(f"topic settings not in effect after {_TIMEOUT}s: {[r.name for r in pending]}")
            time.sleep(0.1)

    def _config_changes(self, specs: dict[str, TopicSpec]) -> list[ConfigResource]:
        """What each topic's settings on the broker lack of what its spec says."""
        if not specs:
            return []
        resources = [ConfigResource(ConfigResource.Type.TOPIC, n) for n in specs]
        changes = []
        for res, fut in self._admin.describe_configs(resources, request_timeout=_TIMEOUT).items():
            have = fut.result(_TIMEOUT)
            want = _topic_config(specs[res.name])
            ops = [
                ConfigEntry(k, v, incremental_operation=AlterConfigOpType.SET)
                for k, v in want.items()
                if k not in have or have[k].value != v
            ]
            for k in ("retention.ms", "segment.ms"):
                got = have.get(k)
                if k not in want and got is not None and got.source == ConfigSource.DYNAMIC_TOPIC_CONFIG.value:
                    ops.append(ConfigEntry(k, None, incremental_operation=AlterConfigOpType.DELETE))
            if ops:
                changes.append(ConfigResource(ConfigResource.Type.TOPIC, res.name, incremental_configs=ops))
        return changes

    def partitions(self, topic: str) -> int:
        spec = self._topics.get(topic)
        if spec is not None:
            return spec.partitions
        md = self._admin.list_topics(self._t(topic), timeout=_TIMEOUT).topics.get(self._t(topic))
        if md is None or not md.partitions:
            raise KeyError(f"unknown topic {topic!r}")
        return len(md.partitions)

    # --- reading ------------------------------------------------------------------------------
    def _lock_for(self, locks: dict[Any, threading.Lock], key: Any) -> threading.Lock:
        lock = locks.get(key)
        if lock is None:
            with self._lock:
                lock = locks.setdefault(key, threading.Lock())
        return lock

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
            return self._lock_for(self._rlocks, ("fetcher", reader))
        return self._lock_for(self._rlocks, (topic, partition, reader))

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
        with self._lock_for(self._rlocks, (topic, partition, WATERMARK)):
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
        with self._lock_for(self._rlocks, (topic, partition, WATERMARK)):
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
                _low, high = _watermark(consumer, tp)
            self._hw[key] = high
            self._ends_checked[key] = now
            if high > self._hw_drained.get(key, -1):
                self._ends[key] = max(self._ends.get(key, 0), high)
            return self._ends.get(key, 0)

    def committed(self, group: str, topic: str, partition: int) -> int:
        with self._lock:
            (tp,) = self._group_consumer(group).committed([TopicPartition(self._t(topic), partition)], _TIMEOUT)
            return tp.offset if tp.offset >= 0 else 0

    def claim(self, writer: str | None = None) -> None:
        with self._lock_for(self._wlocks, writer):
            self._txn_producer(writer)

    def release(self, writer: str) -> None:
        with self._lock_for(self._wlocks, writer):
            p = self._producers.pop(writer, None)
            if p is not None:
                p.flush(_TIMEOUT)

    def _group_consumer(self, group: str) -> Consumer:
        c = self._groups.get(group)
        if c is None:
            with self._lock:  # tasks' commits can run on several threads (argus/runtime/committer.py)
                c = self._groups.get(group)
                if c is None:
                    c = Consumer(
                        {
                            "bootstrap.servers": self.bootstrap,
                            "group.id": self._group(group),
                            "enable.auto.commit": False,
                            "isolation.level": "read_committed",
                        }
                    )
                    self._groups[group] = c
        return c

    # --- the atomic commit --------------------------------------------------------------------
    def _txn_producer(self, writer: str | None = None) -> Producer:
        p = self._producers.get(writer)
        if p is None:
            tid = f"{self.prefix}{self.client}" if writer is None else f"{self.prefix}task.{writer}"
            p = Producer(
                {
                    "bootstrap.servers": self.bootstrap,
                    "transactional.id": tid,
                    "enable.idempotence": True,
                    "linger.ms": 1,
                    "transaction.timeout.ms": 60000,
                }
            )
            p.init_transactions(_TIMEOUT)  # fences a dead predecessor with the same id
            self._producers[writer] = p
        return p

    def stuck_commits(self, older_than: float) -> list[tuple[str | None, float]]:
        """Writers whose commit has been in progress for more than `older_than` seconds. Every
        call a commit makes has a timeout, but librdkafka 2.x does not always keep it:
        `send_offsets_to_transaction` can wait for ever for a group coordinator that went away
        and came back (confluentinc/librdkafka#5456 and #5511; seen here when the broker restarts
        mid-transaction). A caller that finds one can only give the process up (worker.py)."""
        now = time.monotonic()
        return [(w, now - t) for w, t in list(self._committing.items()) if now - t > older_than]

    def commit(self, commit: Commit) -> list[tuple[str, int, int]]:
        if commit.empty():
            return []
        self._committing[commit.writer] = time.monotonic()
        try:
            return self._commit(commit)
        finally:
            self._committing.pop(commit.writer, None)

    def _commit(self, commit: Commit) -> list[tuple[str, int, int]]:
        # One writer's batches are one after another; different tasks' commits run side by side
        # (each has its own producer), so a sink's commit does not hold up a field query's.
        with self._lock_for(self._wlocks, commit.writer):
            p = self._txn_producer(commit.writer)
            placed: list[tuple[str, int, int]] = []

            def delivered(err: Any, msg: Any) -> None:
                if err is None:
                    placed.append((self._topic_of(msg.topic()), msg.partition(), msg.offset()))

            p.begin_transaction()
            try:
                for i, (topic, key, value) in enumerate(commit.appends):
                    part = commit.partition_of(i, key, self.partitions(topic))
                    if self.registry is not None and value:
                        value = self.registry.to_wire(self._t(topic), value)
                    p.produce(
                        self._t(topic),
                        value=value or None,  # a source-order mark is null, as a tombstone: consumers skip both
                        key=key.encode() if key is not None else None,
                        partition=part,
                        on_delivery=delivered,
                        headers=commit.headers.get(i),
                    )
                    p.poll(0)
                for node, changes in commit.state.items():
                    for k, v in changes.items():
                        p.produce(
                            self._state_topic(node),
                            key=k.encode(),
                            value=None if v is DELETED else orjson.dumps(v),
                            partition=commit.state_partition,
                        )
                        p.poll(0)
                by_group: dict[str, list[TopicPartition]] = {}
                for (group, topic, part), off in commit.offsets.items():
                    by_group.setdefault(group, []).append(TopicPartition(self._t(topic), part, off))
                for group, tps in by_group.items():
                    p.send_offsets_to_transaction(tps, self._group_consumer(group).consumer_group_metadata(), _TIMEOUT)
                p.commit_transaction(_TIMEOUT)
            except BaseException as exc:
                try:
                    p.abort_transaction(_TIMEOUT)
                except KafkaException:
                    self._producers.pop(commit.writer, None)  # fenced or fatal: a new one next time
                if _fenced(exc):
                    raise Fenced(commit.writer, str(exc.args[0])) from exc
                raise
            with self._lock:  # two tasks' commits can land at once and write one partition
                for topic, part, off in placed:
                    key2 = (topic, part)
                    self._produced[key2] = max(self._produced.get(key2, 0), off + 1)
                    self._ends[key2] = max(self._ends.get(key2, 0), off + 1)
            return placed

    # --- state and schemas ---------------------------------------------------------------------
    def _read_all(self, topic: str, only: int | None = None) -> Iterator[tuple[bytes, bytes | None]]:
        c = Consumer(
            {
                "bootstrap.servers": self.bootstrap,
                "group.id": f"{self.client}-restore",
                "enable.auto.commit": False,
                "isolation.level": "read_committed",
                "enable.partition.eof": True,
                "auto.offset.reset": "earliest",
            }
        )
        try:
            md = self._admin.list_topics(topic, timeout=_TIMEOUT).topics[topic]
            parts = list(md.partitions) if only is None else [only]
            c.assign([TopicPartition(topic, p, 0) for p in parts])
            remaining = set(parts)
            ends = {p: _watermark(c, TopicPartition(topic, p))[1] for p in parts}
            remaining = {p for p in parts if ends[p] > 0}
            while remaining:
                for m in c.consume(1000, timeout=1.0):
                    if m.error():
                        remaining.discard(m.partition())
                        continue
                    yield m.key(), m.value()
                    if m.offset() + 1 >= ends[m.partition()]:
                        remaining.discard(m.partition())
        finally:
            c.close()

    def load_state(self, node: str, partition: int = 0, partitions: int = 1) -> dict[str, Any]:
        topic = self._state_topic(node)
        have = self._ensure(topic, partitions, _STATE_CONFIG)
        if have != partitions:
            raise ValueError(
                f"state changelog {topic} has {have} partitions; node {node} now runs as {partitions} task(s). "
                "Changing a node's partitions needs its state rebuilt (a new prefix, or replay from the sources)"
            )
        state: dict[str, Any] = {}
        for k, v in self._read_all(topic, partition):
            if v is None:
                state.pop(k.decode(), None)
            else:
                state[k.decode()] = orjson.loads(v)
        return state

    def erase(self, at: list[tuple[str, int, int]]) -> int:
        """Kafka cannot rewrite a message: a tombstone (the same key, no value) is produced to the
        same partition, and log compaction then removes the earlier value. Topics that are not
        compacted keep it until retention deletes the segment (docs/operations.md, topics)."""
        if self._plain is None:
            self._plain = Producer({"bootstrap.servers": self.bootstrap, "enable.idempotence": True})
        n = 0
        for topic, part, off in at:
            msgs = self.read(topic, part, off, 1)
            if msgs and msgs[0].offset == off and msgs[0].value:
                key = msgs[0].key.encode() if msgs[0].key is not None else None
                self._plain.produce(self._t(topic), key=key, value=None, partition=part)
                n += 1
        self._plain.flush(_TIMEOUT)
        return n

    def register_schema(
        self, schema_id: int, subject: str, canonical: str, full: str | None = None, topic: str | None = None
    ) -> None:
        self.register_schemas([(schema_id, subject, canonical, full, topic)])

    def register_schemas(self, rows: list[SchemaRow]) -> None:
        """Written, then waited for once: every row is on the broker before this returns, so
        before any record framed with one of them is committed."""
        if self._plain is None:  # one connection for every schema written at start-up
            self._plain = Producer({"bootstrap.servers": self.bootstrap, "enable.idempotence": True})
        for schema_id, subject, canonical, full, topic in rows:
            if self.registry is not None and topic is not None:  # TopicNameStrategy: <topic>-value
                self.registry.register(self._t(topic), schema_id, full or canonical)
            value = orjson.dumps([subject, canonical, full] if full else [subject, canonical])
            self._plain.produce(self._t("schemas"), key=str(schema_id).encode(), value=value)
        if self._plain.flush(_TIMEOUT):
            raise TimeoutError(f"schemas not written to {self._t('schemas')} after {_TIMEOUT}s")

    def _schema_rows(self) -> Iterator[tuple[int, str, str, str | None]]:
        for sid, got in self._schemas().items():
            yield sid, got[0], got[1], got[2] if len(got) > 2 else None

    def _schemas(self) -> dict[int, list[str]]:
        seen: dict[int, list[str]] = {}
        for k, v in self._read_all(self._t("schemas")):
            if v is not None:
                got = orjson.loads(v)
                if len(got) < 3 and int(k) in seen:  # a later registration without the whole schema
                    continue
                seen[int(k)] = got
        return seen

    def known_schemas(self) -> Iterator[tuple[int, str]]:
        for sid, got in self._schemas().items():
            yield sid, got[1]

    def schema_history(self) -> Iterator[tuple[int, str, str]]:
        for sid, got in self._schemas().items():
            yield sid, got[0], got[2] if len(got) > 2 and got[2] else got[1]

    def size(self, topic: str) -> int:
        """Records in a topic, not source-order marks or tombstones (reads it: for tests and
        tools, not the hot path)."""
        n = 0
        for p in range(self.partitions(topic)):
            off = 0
            while True:
                got = self.read(topic, p, off, 5000)
                if not got:
                    break
                n += sum(1 for m in got if m.value)
                off = got[-1].offset + 1
        return n

    def close(self) -> None:
        with self._lock:
            for c in {id(c): c for c, _, _ in self._readers.values()}.values():
                c.close()
            self._fetchers.clear()
            self._paused.clear()
            for c in self._groups.values():
                c.close()
            for p in self._producers.values():
                p.flush(_TIMEOUT)
            self._producers.clear()
            self._readers.clear()
            self._peeked.clear()
            self._groups.clear()


_FRAME = struct.Struct(">bI")


class SchemaRegistryRefused(SchemaError):
    """The registry would not take a topic's schema (most often: incompatible under its rule
    with what another producer registered there): the bus does not start producing."""


class UnknownRegistrySchema(SchemaError):
    """A record's frame names a schema the registry does not hold (or one that is not Avro):
    that record can never be read, so it goes to the dead letters and its partition flows on."""


class SchemaRegistry:
    """Records on Kafka framed with the ids of a Confluent-compatible schema registry (subjects
    `<topic>-value`, TopicNameStrategy), so any Confluent deserializer reads Argus's topics; inside
    Argus they keep their fingerprint ids. The bus translates the 4-byte id as it produces and
    reads (one lookup each way, cached): the runtime, the CLI and the API stay as they are.

    Each subject gets Argus's compatibility rule in the registry before its first schema, so the
    registry holds every other producer (an upstream RMS writing to Argus's input topic, a
    consumer team's own tooling) to the rule Argus checks itself before it starts."""

    def __init__(self, url: str, bus: KafkaBus) -> None:
        from confluent_kafka.schema_registry import SchemaRegistryClient

        self.url = url
        self.client = SchemaRegistryClient({"url": url})
        # Weakly: a cycle would keep a closed bus, and its librdkafka clients, until a full
        # collection, and each client holds one of the process's 1,024 thread-local keys.
        self._bus = weakref.ref(bus)
        self._wire: dict[tuple[str, int], int] = {}  # (kafka topic, fingerprint id) -> registry id
        self._back: dict[int, int] = {}  # registry id -> fingerprint id
        self._lock = threading.Lock()

    def register(self, kafka_topic: str, fingerprint: int, schema_json: str) -> int:
        from confluent_kafka.schema_registry import Schema
        from confluent_kafka.schema_registry.error import SchemaRegistryError

        subject = f"{kafka_topic}-value"
        with self._lock:
            rid = self._wire.get((kafka_topic, fingerprint))
            if rid is None:
                schema = Schema(schema_json, "AVRO")
                try:
                    self._rule(subject)
                    rid = self._register(subject, schema)
                except SchemaRegistryError as exc:
                    if not 400 <= exc.http_status_code < 500:  # starting, overloaded, its storage away
                        raise self._unreachable(exc) from exc
                    raise SchemaRegistryRefused(
                        f"schema registry {self.url} refused the schema of {subject!r} "
                        f"(HTTP {exc.http_status_code}): {exc.error_message}"
                    ) from exc
                except Exception as exc:  # the HTTP client's own: refused connection, timeout, DNS
                    raise self._unreachable(exc) from exc
                self._wire[(kafka_topic, fingerprint)] = rid
                self._back[rid] = fingerprint
            return rid

    def _unreachable(self, exc: Exception) -> RegistryUnavailable:
        return RegistryUnavailable(f"schema registry {self.url} unreachable: {type(exc).__name__}: {exc}")

    # Workers of a group start together and register the same subjects at once; the registry
    # may refuse the second of two identical writes (Apicurio: "a rule named 'COMPATIBILITY'
    # already exists"). What matters is what the registry holds afterwards.
    def _rule(self, subject: str) -> None:
        from confluent_kafka.schema_registry.error import SchemaRegistryError

        from argus.schema_compat import RULE

        try:
            self.client.set_compatibility(subject_name=subject, level=RULE)
        except SchemaRegistryError:
            if self.client.get_compatibility(subject) != RULE:
                raise

    def _register(self, subject: str, schema: Any) -> int:
        from confluent_kafka.schema_registry.error import SchemaRegistryError

        try:
            return int(self.client.register_schema(subject, schema))
        except SchemaRegistryError as exc:
            try:  # registered meanwhile by another worker: the same id
                return int(self.client.lookup_schema(subject, schema).schema_id)
            except SchemaRegistryError:
                raise exc from None

    def to_wire(self, kafka_topic: str, value: bytes) -> bytes:
        magic, fp = _FRAME.unpack_from(value)
        rid = self._wire.get((kafka_topic, fp))
        if rid is None:  # written by a client that did not register it here (a CLI, the API)
            bus = self._bus()
            assert bus is not None, "the registry outlived its bus"
            known = {sid: (full or canonical) for sid, _, canonical, full in bus._schema_rows()}
            if fp not in known:
                raise KeyError(f"schema id {fp} is not among the bus's schemas: register it first")
            rid = self.register(kafka_topic, fp, known[fp])
        return _FRAME.pack(magic, rid) + value[5:]

    def from_wire(self, value: bytes) -> bytes:
        if len(value) < 5 or value[0] != 0:
            return value  # not Confluent-framed: the decoder says what is wrong with it
        rid = _FRAME.unpack_from(value)[1]
        fp = self._back.get(rid)
        if fp is None:
            fp = self._fingerprint(rid)
        return _FRAME.pack(0, fp) + value[5:]

    def _fingerprint(self, rid: int) -> int:
        from confluent_kafka.schema_registry.error import SchemaRegistryError
        from fastavro.schema import parse_schema, to_parsing_canonical_form

        from argus.schemas import schema_id_of

        try:
            found = self.client.get_schema(rid)
        except SchemaRegistryError as exc:
            if exc.http_status_code == 404:
                raise UnknownRegistrySchema(
                    f"schema id {rid} is not in schema registry {self.url}: written by a producer "
                    f"of another registry, or not framed by one (HTTP 404: {exc.error_message})"
                ) from None
            raise self._unreachable(exc) from exc  # starting, overloaded, its storage away
        except Exception as exc:  # the HTTP client's own: refused connection, timeout, DNS
            raise self._unreachable(exc) from exc
        schema = found.schema_str
        try:
            if (found.schema_type or "AVRO") != "AVRO":
                raise ValueError(f"a {found.schema_type} schema")
            fp = schema_id_of(to_parsing_canonical_form(parse_schema(orjson.loads(schema))))
        except Exception as exc:  # JSON Schema, Protobuf, or Avro fastavro will not parse
            raise UnknownRegistrySchema(
                f"schema id {rid} in schema registry {self.url} is not an Avro schema Argus can read: {str(exc)[:200]}"
            ) from None
        bus = self._bus()
        if bus is not None and bus.on_foreign_schema is not None:
            bus.on_foreign_schema(fp, schema)  # another producer's version: readable by resolution
        with self._lock:
            self._back[rid] = fp
        return fp
