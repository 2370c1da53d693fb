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

import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlparse

import orjson

try:
    from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
    from confluent_kafka.admin import AdminClient
except ImportError as exc:  # pragma: no cover - the registry reports the pip extra
    raise ImportError("the Kafka bus needs confluent-kafka: pip install 'argus-fusion[kafka]'") from exc

from argus.bus.base import DELETED, Bus, Commit, Fenced, Message, SchemaRow, TopicSpec
from argus.bus.kafka_reads import KafkaReads, lock_in, watermark
from argus.bus.kafka_registry import SchemaRegistry
from argus.bus.kafka_topics import STATE_CONFIG, TIMEOUT, TopicAdmin, topic_config

_FENCING = {KafkaError._FENCED, KafkaError.PRODUCER_FENCED, KafkaError.INVALID_PRODUCER_EPOCH}


def _fenced(exc: BaseException) -> bool:
    """A newer producer took the transactional id over (librdkafka says _FENCED locally, the
    broker PRODUCER_FENCED or INVALID_PRODUCER_EPOCH)."""
    return isinstance(exc, KafkaException) and bool(exc.args) and exc.args[0].code() in _FENCING


class KafkaBus(Bus):
    partitioned_state = True
    commit_interval = 0.1
    concurrent_commits = True  # each writer (task) has its own producer
    hot_look_every = 0.001

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
        self._topic_admin = TopicAdmin(self._admin)
        self._producers: dict[str | None, Producer] = {}  # writer (task) -> its transactional producer
        self._committing: dict[str | None, float] = {}  # writer -> when its commit in progress began
        self._plain: Producer | None = None
        self._wlocks: dict[str | None, threading.Lock] = {}
        self._groups: dict[str, Consumer] = {}
        self._topics: dict[str, TopicSpec] = {}
        self.reads = KafkaReads(self.bootstrap, self.client, self.prefix, self._topics)
        self._topic_admin.ensure(self._t("schemas"), 1, STATE_CONFIG)
        self.registry = SchemaRegistry(q["registry"], self) if q.get("registry") else None
        self.reads.registry = self.registry

    # --- for the worker group (argus/runtime/worker.py) ---------------------------------------
    def kafka_topic(self, name: str) -> str:
        """The Kafka topic an Argus topic (or the group's coordination topic) is, with the prefix."""
        return self._t(name)

    def group_id(self, name: str) -> str:
        return self._group(name)

    def create_topic(self, kafka_topic: str, partitions: int) -> int:
        """Create it if missing; its partition count."""
        return self._topic_admin.ensure(kafka_topic, partitions)

    def describe_group(self, group: str, timeout: float = 10) -> Any:
        (desc,) = [
            f.result(timeout) for f in self._admin.describe_consumer_groups([group], request_timeout=timeout).values()
        ]
        return desc

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
    def ensure_topic(self, spec: TopicSpec) -> None:
        self.ensure_topics([spec])

    def ensure_topics(self, specs: list[TopicSpec]) -> None:
        """One metadata request for all, one creation request for those missing, then one wait
        until all have leaders: one topic at a time, a topology's sixteen took a second."""
        names = {self._t(s.name): s for s in specs}
        ready, created = self._topic_admin.create({n: (s.partitions, topic_config(s)) for n, s in names.items()})
        for n, spec in names.items():
            count = len(ready[n].partitions)
            if count != spec.partitions:
                raise ValueError(
                    f"topic {spec.name} exists with {count} partitions; topology asks for {spec.partitions} "
                    "(repartitioning needs a new topic)"
                )
            self._topics[spec.name] = spec
        self._topic_admin.settle({n: s for n, s in names.items() if n not in created})

    def partitions(self, topic: str) -> int:
        spec = self._topics.get(topic)
        if spec is not None:
            return spec.partitions
        count = self._topic_admin.partitions(self._t(topic))
        if count is None:
            raise KeyError(f"unknown topic {topic!r}")
        return count

    # --- reading (argus/bus/kafka_reads.py) ----------------------------------------------------
    def read(self, topic: str, partition: int, offset: int, limit: int, reader: str | None = None) -> list[Message]:
        return self.reads.read(topic, partition, offset, limit, reader)

    def readable(self, topic: str, partition: int, offset: int, reader: str) -> bool:
        return self.reads.readable(topic, partition, offset, reader)

    def end_offset(self, topic: str, partition: int, reader: str | None = None) -> int:
        return self.reads.end_offset(topic, partition, reader)

    def committed(self, group: str, topic: str, partition: int) -> int:
        with self._lock:
            (tp,) = self._group_consumer(group).committed([TopicPartition(self._t(topic), partition)], TIMEOUT)
            return tp.offset if tp.offset >= 0 else 0

    def claim(self, writer: str | None = None) -> None:
        with lock_in(self._wlocks, self._lock, writer):
            self._txn_producer(writer)

    def release(self, writer: str) -> None:
        with lock_in(self._wlocks, self._lock, writer):
            p = self._producers.pop(writer, None)
            if p is not None:
                p.flush(TIMEOUT)

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
            p.init_transactions(TIMEOUT)  # fences a dead predecessor with the same id
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
        with lock_in(self._wlocks, self._lock, commit.writer):
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
                    p.send_offsets_to_transaction(tps, self._group_consumer(group).consumer_group_metadata(), TIMEOUT)
                p.commit_transaction(TIMEOUT)
            except BaseException as exc:
                try:
                    p.abort_transaction(TIMEOUT)
                except KafkaException:
                    self._producers.pop(commit.writer, None)  # fenced or fatal: a new one next time
                if _fenced(exc):
                    raise Fenced(commit.writer, str(exc.args[0])) from exc
                raise
            self.reads.placed(placed)
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
            md = self._admin.list_topics(topic, timeout=TIMEOUT).topics[topic]
            parts = list(md.partitions) if only is None else [only]
            c.assign([TopicPartition(topic, p, 0) for p in parts])
            remaining = set(parts)
            ends = {p: watermark(c, TopicPartition(topic, p))[1] for p in parts}
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
        have = self._topic_admin.ensure(topic, partitions, STATE_CONFIG)
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
        self._plain.flush(TIMEOUT)
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
        if self._plain.flush(TIMEOUT):
            raise TimeoutError(f"schemas not written to {self._t('schemas')} after {TIMEOUT}s")

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
        self.reads.close()
        with self._lock:
            for c in self._groups.values():
                c.close()
            for p in self._producers.values():
                p.flush(TIMEOUT)
            self._producers.clear()
            self._groups.clear()
