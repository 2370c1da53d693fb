"""The embedded bus: durable, partitioned, append-only topic logs in one SQLite file.

Why SQLite rather than segment files: a node's output appends, its keyed state and its input
offsets must become durable together, and one SQLite transaction (WAL mode) gives exactly that
across all three with no recovery code of our own. A process killed with SIGKILL loses at most
the batch it was working on, which it then reprocesses from the last committed offsets.
Single writer process; other processes (`argus tail`, `argus dlq`) may read concurrently.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from argus.bus.base import DELETED, Bus, Commit, Message, TopicSpec
from argus.bus.cleaner import clean
from argus.sqlite import connect
from argus.state_view import StateView

# State lookups read pages the writer has just written (hot in the OS cache, memory-mapped):
# their own page cache need not be large.
STATE_CACHE_KIB = 16_384

log = logging.getLogger("argus.bus")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS topics(name TEXT PRIMARY KEY, partitions INTEGER NOT NULL, schema TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS log(
  topic TEXT NOT NULL, part INTEGER NOT NULL, off INTEGER NOT NULL,
  key TEXT, ts INTEGER NOT NULL, value BLOB NOT NULL, headers BLOB,
  PRIMARY KEY(topic, part, off)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS offsets(
  grp TEXT NOT NULL, topic TEXT NOT NULL, part INTEGER NOT NULL, off INTEGER NOT NULL,
  PRIMARY KEY(grp, topic, part)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS state(node TEXT NOT NULL, k TEXT NOT NULL, v BLOB NOT NULL,
  PRIMARY KEY(node, k)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS schemas(id INTEGER PRIMARY KEY, subject TEXT NOT NULL, canonical TEXT NOT NULL);
"""


MAINTAIN_EVERY = 60.0  # s between applying topics' retention and compaction


def _headers_out(headers: list[tuple[str, bytes]] | None) -> bytes | None:
    """Headers as Kafka carries them (name, bytes), kept in one column: JSON, values in hex."""
    return orjson.dumps([[k, v.hex()] for k, v in headers]) if headers else None


def _headers_in(raw: bytes | None) -> list[tuple[str, bytes]] | None:
    return [(k, bytes.fromhex(v)) for k, v in orjson.loads(raw)] if raw else None


class EmbeddedBus(Bus):
    def __init__(self, path: str | Path, *, read_only: bool = False, sync: str = "NORMAL") -> None:
        self.path = Path(path)
        self.read_only = read_only
        if read_only and not self.path.exists():
            raise FileNotFoundError(f"no embedded bus at {self.path} (has `argus run` started?)")
        self._db = connect(
            self.path, read_only=read_only, synchronous=sync, checkpoint_pages=0 if not read_only else 1000
        )
        self._checkpointer: threading.Thread | None = None
        self._closing = threading.Event()
        if not read_only:
            self._db.executescript(_SCHEMA)
            if "full" not in {r[1] for r in self._db.execute("PRAGMA table_info(schemas)")}:
                self._db.execute("ALTER TABLE schemas ADD COLUMN full TEXT")
            if "headers" not in {r[1] for r in self._db.execute("PRAGMA table_info(log)")}:
                self._db.execute("ALTER TABLE log ADD COLUMN headers BLOB")
            if "compacted" not in {r[1] for r in self._db.execute("PRAGMA table_info(topics)")}:
                self._db.execute("ALTER TABLE topics ADD COLUMN compacted INTEGER NOT NULL DEFAULT 0")
                self._db.execute("ALTER TABLE topics ADD COLUMN retention_hours INTEGER")
            # Checkpoints (the fsync of WAL mode) run here, off every committer's path: a field
            # query's commit never waits for one. PASSIVE: never blocks readers or writers.
            self._checkpointer = threading.Thread(
                target=self._checkpoint_loop, name="argus-bus-checkpoint", daemon=True
            )
            self._checkpointer.start()
        self._lock = threading.RLock()
        self._state_lock = threading.Lock()
        self._state_db: sqlite3.Connection | None = None
        self._topics: dict[str, TopicSpec] = {}
        self._ends: dict[tuple[str, int], int] = {}
        self._data_version = self._db.execute("PRAGMA data_version").fetchone()[0]
        self._load_topics()

    def refresh(self, block: bool = True) -> bool:
        """Notice commits by other processes (`argus api`, `argus dlq replay`, a producer): cached
        log ends are dropped when SQLite says another connection changed the file. Cheap; the
        runtime calls it once per scheduling step and between ingest records. Returns whether
        anything changed."""
        if not self._lock.acquire(blocking=block):
            return False
        try:
            version = self._db.execute("PRAGMA data_version").fetchone()[0]
            if version == self._data_version:
                return False
            self._data_version = version
            self._ends = {}
            return True
        finally:
            self._lock.release()

    def _load_topics(self) -> None:
        with self._lock:
            cols = {r[1] for r in self._db.execute("PRAGMA table_info(topics)")}
            if "compacted" in cols:
                rows = self._db.execute("SELECT name, partitions, schema, compacted, retention_hours FROM topics")
            else:  # a file from before those settings, opened read-only: no writer has added them yet
                rows = self._db.execute("SELECT name, partitions, schema, 0, NULL FROM topics")
            for name, parts, schema, compacted, hours in rows.fetchall():
                self._topics[name] = TopicSpec(name, parts, schema, bool(compacted), hours)

    def ensure_topic(self, spec: TopicSpec) -> None:
        with self._lock:
            have = self._topics.get(spec.name)
            if have is not None:
                if have.partitions != spec.partitions:
                    raise ValueError(
                        f"topic {spec.name} exists with {have.partitions} partitions; "
                        f"topology asks for {spec.partitions} (repartitioning needs a new topic)"
                    )
                if have != spec:  # the schema, the retention, compaction: the topology's now
                    self._db.execute(
                        "UPDATE topics SET schema=?, compacted=?, retention_hours=? WHERE name=?",
                        (spec.schema, int(spec.compacted), spec.retention_hours, spec.name),
                    )
            else:
                self._db.execute(
                    "INSERT INTO topics(name, partitions, schema, compacted, retention_hours) VALUES(?,?,?,?,?)",
                    (spec.name, spec.partitions, spec.schema, int(spec.compacted), spec.retention_hours),
                )
            self._topics[spec.name] = spec

    def enforce_retention(self, now: float | None = None) -> int:
        """Apply each topic's retention and compaction now (the checkpoint thread does it every
        MAINTAIN_EVERY seconds); the rows deleted."""
        if self.read_only:
            raise PermissionError("bus opened read-only")
        with self._lock:
            return clean(self._db, time.time() if now is None else now)

    def topics(self) -> dict[str, TopicSpec]:
        if not self._topics:
            self._load_topics()
        return dict(self._topics)

    def partitions(self, topic: str) -> int:
        spec = self._topics.get(topic)
        if spec is None:
            self._load_topics()
            spec = self._topics.get(topic)
        if spec is None:
            raise KeyError(f"unknown topic {topic!r}")
        return spec.partitions

    def read(self, topic: str, partition: int, offset: int, limit: int, reader: str | None = None) -> list[Message]:
        with self._lock:
            rows = self._db.execute(
                "SELECT off, key, value, ts, headers FROM log WHERE topic=? AND part=? AND off>=? ORDER BY off LIMIT ?",
                (topic, partition, offset, limit),
            ).fetchall()
        return [Message(topic, partition, o, k, v, ts, _headers_in(h)) for o, k, v, ts, h in rows]

    def end_offset(self, topic: str, partition: int, reader: str | None = None) -> int:
        key = (topic, partition)
        if not self.read_only:
            end = self._ends.get(key)  # lock-free fast path: commit() swaps in a new dict
            if end is not None:
                return end
        with self._lock:  # the slow path must not interleave with a commit placing rows
            if not self.read_only and key in self._ends:
                return self._ends[key]
            (mx,) = self._db.execute("SELECT MAX(off) FROM log WHERE topic=? AND part=?", (topic, partition)).fetchone()
            end = 0 if mx is None else mx + 1
            if not self.read_only:
                self._ends[key] = end
            return end

    def committed(self, group: str, topic: str, partition: int) -> int:
        with self._lock:
            row = self._db.execute(
                "SELECT off FROM offsets WHERE grp=? AND topic=? AND part=?", (group, topic, partition)
            ).fetchone()
        return row[0] if row else 0

    def commit(self, commit: Commit) -> list[tuple[str, int, int]]:
        if self.read_only:
            raise PermissionError("bus opened read-only")
        placed: list[tuple[str, int, int]] = []
        with self._lock:
            ends = dict(self._ends)
            rows = []
            now = time.time_ns() // 1000
            for i, (topic, key, value) in enumerate(commit.appends):
                part = commit.partition_of(i, key, self.partitions(topic))
                end = ends.get((topic, part))
                if end is None:
                    end = self.end_offset(topic, part)
                rows.append((topic, part, end, key, now, value, _headers_out(commit.headers.get(i))))
                placed.append((topic, part, end))
                ends[(topic, part)] = end + 1
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            if self._db.execute("PRAGMA data_version").fetchone()[0] != self._data_version and rows:
                # another process appended since our offsets were cached: place the rows again
                db.execute("ROLLBACK")
                self._data_version = self._db.execute("PRAGMA data_version").fetchone()[0]
                self._ends = {}
                return self.commit(commit)
            try:
                if rows:
                    db.executemany(
                        "INSERT INTO log(topic, part, off, key, ts, value, headers) VALUES(?,?,?,?,?,?,?)", rows
                    )
                if commit.offsets:
                    db.executemany(
                        "INSERT INTO offsets(grp, topic, part, off) VALUES(?,?,?,?) "
                        "ON CONFLICT(grp, topic, part) DO UPDATE SET off=excluded.off",
                        [(g, t, p, o) for (g, t, p), o in commit.offsets.items()],
                    )
                for node, changes in commit.state.items():
                    puts = [(node, k, orjson.dumps(v)) for k, v in changes.items() if v is not DELETED]
                    dels = [(node, k) for k, v in changes.items() if v is DELETED]
                    if puts:
                        db.executemany(
                            "INSERT INTO state(node, k, v) VALUES(?,?,?) "
                            "ON CONFLICT(node, k) DO UPDATE SET v=excluded.v",
                            puts,
                        )
                    if dels:
                        db.executemany("DELETE FROM state WHERE node=? AND k=?", dels)
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            self._ends = ends
        return placed

    def erase(self, at: list[tuple[str, int, int]]) -> int:
        """Rewrite in place: the row keeps its offset (consumers' positions stay valid) but loses
        its key and value. With secure_delete the old bytes are overwritten in the file too."""
        if self.read_only:
            raise PermissionError("bus opened read-only")
        with self._lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                n = sum(
                    db.execute(
                        "UPDATE log SET key=NULL, value=x'' WHERE topic=? AND part=? AND off=? AND value != x''", row
                    ).rowcount
                    for row in at
                )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            return n

    def state_view(self, node: str, partition: int = 0, partitions: int = 1) -> StateView | None:
        """The node's state read through key by key (one process holds every task: the whole
        node's), on a connection of its own: a lookup never waits on a commit in flight."""
        if self.read_only:
            return None

        def load(key: str) -> bytes | None:
            with self._state_lock:
                row = self._state_reader().execute("SELECT v FROM state WHERE node=? AND k=?", (node, key)).fetchone()
            return None if row is None else row[0]

        def load_many(keys: list[str]) -> dict[str, bytes]:
            out: dict[str, bytes] = {}
            with self._state_lock:
                db = self._state_reader()
                for i in range(0, len(keys), 500):  # within SQLite's bound on parameters
                    part = keys[i : i + 500]
                    sql = f"SELECT k, v FROM state WHERE node=? AND k IN ({','.join('?' * len(part))})"
                    out.update(db.execute(sql, (node, *part)).fetchall())
            return out

        def count() -> int:
            with self._lock:
                return self._db.execute("SELECT COUNT(*) FROM state WHERE node=?", (node,)).fetchone()[0]

        return StateView(load, count, load_many=load_many)

    def _state_reader(self) -> sqlite3.Connection:
        """The state lookups' own read connection (under _state_lock)."""
        if self._state_db is None:
            self._state_db = connect(self.path, read_only=True, cache_kib=STATE_CACHE_KIB)
        return self._state_db

    def load_state(self, node: str, partition: int = 0, partitions: int = 1) -> dict[str, Any]:
        """One process holds every task: the whole node's state."""
        with self._lock:
            return {k: orjson.loads(v) for k, v in self._db.execute("SELECT k, v FROM state WHERE node=?", (node,))}

    def register_schema(
        self, schema_id: int, subject: str, canonical: str, full: str | None = None, topic: str | None = None
    ) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO schemas(id, subject, canonical, full) VALUES(?,?,?,?) "
                "ON CONFLICT(id) DO UPDATE SET full=COALESCE(schemas.full, excluded.full)",
                (schema_id, subject, canonical, full),
            )

    def known_schemas(self) -> Iterator[tuple[int, str]]:
        with self._lock:
            rows = self._db.execute("SELECT id, canonical FROM schemas").fetchall()
        yield from rows

    def schema_history(self) -> Iterator[tuple[int, str, str]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT id, subject, COALESCE(full, canonical) FROM schemas ORDER BY rowid"
            ).fetchall()
        yield from rows

    def _checkpoint_loop(self, every: float = 0.25) -> None:
        db = connect(self.path, synchronous="NORMAL", checkpoint_pages=0)
        maintained = time.monotonic()
        try:
            while not self._closing.wait(every):
                if time.monotonic() - maintained >= MAINTAIN_EVERY:
                    maintained = time.monotonic()
                    try:
                        clean(db, time.time())
                    except sqlite3.OperationalError:  # busy past the timeout: next time
                        log.warning("retention and compaction skipped this time", exc_info=True)
                db.execute("PRAGMA wal_checkpoint(PASSIVE)")
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except Exception:  # a failed checkpoint loses nothing; the WAL just grows until the next
            log.warning("bus checkpoint failed", exc_info=True)
        finally:
            db.close()

    def size(self, topic: str) -> int:
        """Records in a topic: not source-order marks or what a purge erased (tests, tools)."""
        with self._lock:
            row = self._db.execute("SELECT COUNT(*) FROM log WHERE topic=? AND length(value) > 0", (topic,))
            return int(row.fetchone()[0])

    def close(self) -> None:
        self._closing.set()
        if self._checkpointer is not None:
            self._checkpointer.join()
        with self._lock:
            self._db.close()
        with self._state_lock:
            if self._state_db is not None:
                self._state_db.close()
                self._state_db = None
