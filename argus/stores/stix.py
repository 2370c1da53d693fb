"""The STIX 2.1 object store: every version of every object a partner sent, exactly as sent.

Exports and the TAXII server read from here, so it keeps what the graph and search cannot: the
object's own JSON (custom `x-` objects and properties, granular markings, extensions), every
version by (id, modified) with the newest current and older ones as history, and the order and
time Argus first added each version (TAXII's date_added, which pollers resume from). Each
version also carries its record's marking, so every read is decided by the same policy as the
rest of Argus.

The embedded backend is one SQLite file. Versions are compared as instants (microseconds), not
strings: partners write `2020-01-01T00:00:00Z` and `2020-01-01T00:00:00.000Z` for the same time.
"""

from __future__ import annotations

import functools
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import orjson

from argus.sqlite import connect
from argus.stores.graph import marks_json

# seq is the rowid: versions append in TAXII date_added order, and the large JSON rows stay out
# of the (id, version) index (a WITHOUT ROWID table of ~2 KB rows put bulk imports at half speed).
SCHEMA = """
CREATE TABLE IF NOT EXISTS objects(
  seq INTEGER PRIMARY KEY, id TEXT NOT NULL, version INTEGER NOT NULL, modified TEXT NOT NULL,
  type TEXT NOT NULL, spec_version TEXT NOT NULL, added TEXT NOT NULL,
  record_id TEXT NOT NULL, agency TEXT NOT NULL, tlp TEXT NOT NULL, marks BLOB NOT NULL,
  json BLOB NOT NULL, UNIQUE(id, version));
CREATE INDEX IF NOT EXISTS objects_type ON objects(type, id);
CREATE INDEX IF NOT EXISTS objects_record ON objects(record_id);
CREATE TABLE IF NOT EXISTS latest(id TEXT PRIMARY KEY, version INTEGER NOT NULL, first INTEGER NOT NULL) WITHOUT ROWID;
"""

Outcome = Literal["added", "duplicate", "history", "foreign"]  # foreign: owned by another agency, refused
Versions = Literal["last", "first", "all"] | list[str]


def instant(ts: str) -> int:
    """An RFC 3339 timestamp as microseconds since the epoch (STIX keeps up to millisecond
    precision or finer; two spellings of one instant are one version)."""
    d = datetime.fromisoformat(ts.replace("Z", "+00:00").replace("z", "+00:00"))
    if d.tzinfo is None:
        d = d.replace(tzinfo=UTC)
    return int(d.timestamp()) * 1_000_000 + d.microsecond


def version_of(obj: dict[str, Any]) -> tuple[int, str]:
    """(instant, text) of an object's version: `modified`, else `created`, else none (SCOs)."""
    ts = obj.get("modified") or obj.get("created")
    return (instant(ts), ts) if isinstance(ts, str) else (0, "")


def stamp(micros: int) -> str:
    """TAXII timestamps: RFC 3339 UTC with microseconds, so every added version is distinct."""
    secs, us = divmod(micros, 1_000_000)
    return f"{_second(secs)}.{us:06d}Z"


@functools.lru_cache(maxsize=64)
def _second(secs: int) -> str:
    return datetime.fromtimestamp(secs, UTC).strftime("%Y-%m-%dT%H:%M:%S")


@dataclass
class StixItem:
    obj: dict[str, Any]
    record_id: str
    agency: str
    tlp: str
    marks: dict[str, Any]  # ci, handling, cases, recipients (argus.security.policy.Marking)
    json: bytes | None = None  # the object as JSON, when the caller has it already


def decide(
    items: list[StixItem],
    held: set[tuple[str, int]],
    latest: dict[str, list[int]],
    owners: dict[str, str] | None = None,
) -> Iterator[tuple[StixItem, int, str, Outcome]]:
    """Each item's fate, in order (so versions within one batch see each other): (item, version,
    its `modified` text, outcome). `held` (id, version) pairs, `latest` ([current, first] per
    id) and `owners` (the agency that first gave each id) are what the store holds, brought up to
    date as the batch goes. An object belongs to its producer: another agency's version of it is
    `foreign`, never written (it could otherwise replace the owner's text and be purged by its
    sender). Every store's put() decides by this; a duplicate is yielded too, to be counted."""
    owners = {} if owners is None else owners
    for it in items:
        oid = it.obj["id"]
        version, text = version_of(it.obj)
        if owners.setdefault(oid, it.agency) != it.agency:
            yield it, version, text, "foreign"
            continue
        if (oid, version) in held:
            yield it, version, text, "duplicate"
            continue
        held.add((oid, version))
        cur = latest.get(oid)
        if cur is None:
            latest[oid] = [version, version]
            yield it, version, text, "added"
        elif version > cur[0]:
            cur[0] = version
            yield it, version, text, "added"
        else:
            cur[1] = min(cur[1], version)
            yield it, version, text, "history"


@dataclass
class StoredObject:
    id: str
    type: str
    modified: str
    spec_version: str
    seq: int
    added: str
    record_id: str
    agency: str
    tlp: str
    marks: dict[str, Any]
    raw: bytes

    @property
    def obj(self) -> dict[str, Any]:
        return orjson.loads(self.raw)

    @property
    def row(self) -> dict[str, Any]:
        """Its marking in the shape the policy reads (Marking.of)."""
        return {"agency": self.agency, "tlp": self.tlp, **self.marks}


_COLS = "id, type, modified, spec_version, seq, added, record_id, agency, tlp, marks, json"


def _row(r: Any) -> StoredObject:
    return StoredObject(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], orjson.loads(r[9]), bytes(r[10]))


class StixStore(ABC):
    """Every version of every STIX object as sent, for exports and TAXII. Versions by (id,
    modified): a newer one current, an equal one a duplicate, an older one history. `seq` orders
    versions as they were added and `added` (TAXII date_added) rises with it, whatever the number
    of writers: a TAXII client paging by `next` or `added_after` misses nothing."""

    @abstractmethod
    def put(self, items: list[StixItem], now_us: int | None = None) -> list[Outcome]:
        """Store each version once and say what each was ("added": the new current version,
        "duplicate", "history"); durable and visible at commit()."""

    @abstractmethod
    def commit(self) -> None: ...

    @abstractmethod
    def close(self) -> None: ...

    @abstractmethod
    def count(self) -> int:
        """Objects held (not versions)."""

    @abstractmethod
    def versions(self, stix_id: str) -> list[StoredObject]:
        """Every version of one object, oldest first."""

    @abstractmethod
    def scan(
        self,
        *,
        after_seq: int = 0,
        added_after: str | None = None,
        ids: list[str] | None = None,
        types: list[str] | None = None,
        versions: Versions = "last",
        spec_versions: list[str] | None = None,
        record_ids: list[str] | None = None,
        batch: int = 1000,
    ) -> Iterator[StoredObject]:
        """Matching versions in the order they were added (seq), from `after_seq` on. The caller
        filters by policy and stops when it has a page: pages stay full however much of the
        store a subject may not see."""

    @abstractmethod
    def delete_record(self, record_id: str) -> int:
        """Purge: every version the record brought (how many); what is current follows what remains."""


class EmbeddedStixStore(StixStore):
    def __init__(self, path: str | Path) -> None:
        self._db = connect(Path(path), autocommit=False, checkpoint_pages=10_000)
        self._db.executescript(SCHEMA)
        self._db.commit()
        self._last_added = 0

    def put(self, items: list[StixItem], now_us: int | None = None) -> list[Outcome]:
        """Store each version once: a newer `modified` becomes current, an equal one is a
        duplicate (ignored: replays and re-polls change nothing), an older one is kept as
        history. Not committed until commit()."""
        db = self._db
        out: list[Outcome] = []
        if not db.in_transaction:
            # The write lock from the first read: another writer (a bulk import's other process)
            # cannot take the same seq, or a date_added below one already given out.
            db.execute("BEGIN IMMEDIATE")
        last = db.execute("SELECT seq, added FROM objects ORDER BY seq DESC LIMIT 1").fetchone()
        seq = last[0] if last else 0
        if last:
            self._last_added = max(self._last_added, instant(last[1]))
        now = now_us if now_us is not None else int(datetime.now(UTC).timestamp() * 1_000_000)
        # Set-based: what is held for these ids is read once per batch, the outcomes decided in
        # memory (in order, so versions within one batch see each other), the rows written with
        # executemany. Per-object statements made bulk imports SQLite-bound.
        ids = list({it.obj["id"] for it in items})
        held: set[tuple[str, int]] = set()
        latest: dict[str, list[int]] = {}
        owners: dict[str, str] = {}
        for i in range(0, len(ids), 500):
            part = ids[i : i + 500]
            marks = ",".join("?" * len(part))
            for oid, version, agency in db.execute(
                f"SELECT id, version, agency FROM objects WHERE id IN ({marks}) ORDER BY seq", part
            ):
                held.add((oid, version))
                owners.setdefault(oid, agency)
            for lid, v, first in db.execute(f"SELECT id, version, first FROM latest WHERE id IN ({marks})", part):
                latest[lid] = [v, first]
        rows: list[tuple[Any, ...]] = []
        changed: set[str] = set()
        marked: dict[int, bytes] = {}  # items of one feed share their marks: encoded once
        for it, version, text, outcome in decide(items, held, latest, owners):
            out.append(outcome)
            if outcome in ("duplicate", "foreign"):
                continue
            o = it.obj
            seq += 1
            self._last_added = max(now, self._last_added + 1)  # date_added strictly increases
            rows.append(
                (
                    o["id"],
                    o["type"],
                    text,
                    o.get("spec_version", "2.1"),
                    seq,
                    stamp(self._last_added),
                    it.record_id,
                    it.agency,
                    it.tlp,
                    marked.get(id(it.marks)) or marked.setdefault(id(it.marks), marks_json(it.marks)),
                    it.json if it.json is not None else orjson.dumps(o),
                    version,
                )
            )
            changed.add(o["id"])
        db.executemany(f"INSERT INTO objects({_COLS}, version) VALUES(?,?,?,?,?,?,?,?,?,?,?,?)", rows)
        db.executemany(
            "INSERT OR REPLACE INTO latest(id, version, first) VALUES(?,?,?)",
            [(oid, *latest[oid]) for oid in changed],
        )
        return out

    def commit(self) -> None:
        self._db.commit()

    def close(self) -> None:
        self._db.close()

    def count(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM latest").fetchone()[0]

    def versions(self, stix_id: str) -> list[StoredObject]:
        rows = self._db.execute(f"SELECT {_COLS} FROM objects WHERE id=? ORDER BY version", (stix_id,))
        return [_row(r) for r in rows]

    def scan(
        self,
        *,
        after_seq: int = 0,
        added_after: str | None = None,
        ids: list[str] | None = None,
        types: list[str] | None = None,
        versions: Versions = "last",
        spec_versions: list[str] | None = None,
        record_ids: list[str] | None = None,
        batch: int = 1000,
    ) -> Iterator[StoredObject]:
        where, args = ["o.seq > ?"], []
        if added_after:
            where.append("o.added > ?")
            args.append(stamp(instant(added_after)))
        for col, vals in (
            ("o.id", ids),
            ("o.type", types),
            ("o.spec_version", spec_versions),
            ("o.record_id", record_ids),
        ):
            if vals:
                where.append(f"{col} IN ({','.join('?' * len(vals))})")
                args.extend(vals)
        join = ""
        if versions == "last":
            join = " JOIN latest l ON l.id = o.id AND l.version = o.version"
        elif versions == "first":
            join = " JOIN latest l ON l.id = o.id AND l.first = o.version"
        elif versions != "all":
            wanted = [instant(v) for v in versions]
            where.append(f"o.version IN ({','.join('?' * len(wanted))})")
            args.extend(wanted)
        cols = ", ".join(f"o.{c.strip()}" for c in _COLS.split(","))
        seq = after_seq
        while True:
            rows = self._db.execute(
                f"SELECT {cols} FROM objects o{join} WHERE {' AND '.join(where)} ORDER BY o.seq LIMIT ?",
                [seq, *args, batch],
            ).fetchall()
            for r in rows:
                yield _row(r)
            if len(rows) < batch:
                return
            seq = rows[-1][4]

    def delete_record(self, record_id: str) -> int:
        db = self._db
        ids = [r[0] for r in db.execute("SELECT DISTINCT id FROM objects WHERE record_id=?", (record_id,))]
        n = db.execute("DELETE FROM objects WHERE record_id=?", (record_id,)).rowcount
        for i in ids:
            left = db.execute("SELECT MAX(version), MIN(version) FROM objects WHERE id=?", (i,)).fetchone()
            if left[0] is None:
                db.execute("DELETE FROM latest WHERE id=?", (i,))
            else:
                db.execute("UPDATE latest SET version=?, first=? WHERE id=?", (left[0], left[1], i))
        return n
