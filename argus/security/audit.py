"""The audit trail: every read, write, dissemination, export, login and policy denial.

Append-only and tamper-evident against an insider holding the store: each entry's hash is an
HMAC-SHA256, under a key kept outside the audit store (`ARGUS_AUDIT_KEY` or
`ARGUS_AUDIT_KEY_FILE`; by default a 0600 file `audit.key` beside the embedded trail), over the
previous entry's hash and every column of the entry. Whoever edits, inserts, reorders or appends
an entry without the key cannot make the chain verify again, however many hashes they recompute.
Removing the newest entries leaves a shorter valid chain, so the head is exported: `argus audit
head` prints it (a checkpoint only the key could have produced), the trail logs it every
`CHECKPOINT_EVERY` entries, and `argus audit verify --expect-head SEQ:HASH` fails when the chain
no longer holds that entry. SQLite triggers refuse UPDATE and DELETE, so a mistake in code cannot
rewrite history either. Entries written before the chain was keyed (plain SHA-256) still verify,
but only before the first keyed entry.

Two backends behind one interface (`AuditTrail`): this module's SQLite file (`<data_dir>/audit.db`,
the default) and OpenSearch (argus/stores/opensearch_audit.py: `ARGUS_AUDIT=http://host:9200`), which
API processes on several hosts append to as one chain. `open_audit(topo)` opens the topology's.

A dissemination outside the originating agency records the recipient and the reason, as
28 CFR 23.20(f) asks. Disseminations written by the pipeline (alerts) carry a `dedup` key, so a
replay after a crash records each once. Entries name subjects, agencies and object ids, never
the personal data itself.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from prometheus_client import Histogram

from argus.records import utcnow
from argus.sqlite import connect

_DDL = """
CREATE TABLE IF NOT EXISTS audit(seq INTEGER PRIMARY KEY, at TEXT NOT NULL, actor TEXT NOT NULL,
  agency TEXT NOT NULL, action TEXT NOT NULL, object TEXT, outcome TEXT NOT NULL, source TEXT,
  recipient TEXT, reason TEXT, detail BLOB NOT NULL, dedup TEXT UNIQUE, prev TEXT NOT NULL, hash TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS audit_actor ON audit(actor);
CREATE INDEX IF NOT EXISTS audit_action ON audit(action);
CREATE INDEX IF NOT EXISTS audit_agency ON audit(agency);
CREATE INDEX IF NOT EXISTS audit_recipient ON audit(recipient);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"""
GENESIS = "0" * 64
MAC = "hmac-sha256:"  # the prefix of a keyed entry's hash
CHECKPOINT_EVERY = 100
log = logging.getLogger("argus.audit")
AUDIT_WRITE = Histogram(
    "argus_audit_write_seconds",
    "Time to append one audit entry (a dedup repeat included)",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1),
)
ACTIONS = (
    "read", "write", "disseminate", "export", "login", "logout", "deny", "submit", "review", "purge", "admin",
    "acknowledge", "execute",
)  # fmt: skip
FIELDS = ("seq", "at", "actor", "agency", "action", "object", "outcome", "source", "recipient", "reason", "detail")


def entry_hash(prev: str, entry: dict[str, Any], key: bytes | None = None, dedup: str | None = None) -> str:
    """The entry's link: keyed (every column, the dedup key included) when a key is given; the
    plain SHA-256 of unkeyed chains otherwise."""
    if key is None:
        body = orjson.dumps({k: entry[k] for k in FIELDS}, option=orjson.OPT_SORT_KEYS)
        return hashlib.sha256(prev.encode() + body).hexdigest()
    body = orjson.dumps({**{k: entry[k] for k in FIELDS}, "dedup": dedup}, option=orjson.OPT_SORT_KEYS)
    return MAC + hmac.new(key, prev.encode() + body, hashlib.sha256).hexdigest()


def audit_key(default_file: Path | None) -> bytes | None:
    """The audit key: `ARGUS_AUDIT_KEY` (hex), else the file `ARGUS_AUDIT_KEY_FILE` names, else
    `default_file` (made, readable by its owner only, the first time); None when none is set."""
    if os.environ.get("ARGUS_AUDIT_KEY"):
        return bytes.fromhex(os.environ["ARGUS_AUDIT_KEY"].strip())
    path = Path(os.environ["ARGUS_AUDIT_KEY_FILE"]) if os.environ.get("ARGUS_AUDIT_KEY_FILE") else default_file
    if path is None:
        return None
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return bytes.fromhex(path.read_text().strip())


@dataclass(frozen=True)
class Verdict:
    ok: bool
    entries: int
    first_bad: int | None = None
    problem: str | None = None
    head: str = GENESIS


def new_entry(seq: int, action: str, actor: str, agency: str, **rest: Any) -> dict[str, Any]:
    """The hashed fields of an entry (FIELDS), stamped now."""
    entry = {"seq": seq, "at": utcnow().isoformat(), "actor": actor, "agency": agency, "action": action}
    for k in FIELDS[5:]:
        entry[k] = rest.get(k)
    entry["outcome"] = entry["outcome"] or "ok"
    entry["detail"] = entry["detail"] or {}
    return entry


def verify_chain(
    entries: Iterable[dict[str, Any]], key: bytes | None = None, expect_head: tuple[int, str] | None = None
) -> Verdict:
    """Recompute the chain over entries in sequence order: any edit, insertion or removal shows;
    so does an entry appended without the key after keyed ones, and (with `expect_head`, a
    checkpoint kept elsewhere) the removal of the newest entries."""
    prev, n, expect, keyed = GENESIS, 0, 1, False
    for e in entries:
        if e["seq"] != expect:
            return Verdict(False, n, expect, f"entry {expect} is missing", prev)
        if e["prev"] != prev:
            return Verdict(False, n, e["seq"], "its link to the previous entry is broken", prev)
        mac = str(e["hash"]).startswith(MAC)
        if mac and key is None:
            return Verdict(False, n, e["seq"], "the chain is keyed: verify needs the audit key", prev)
        if keyed and not mac:
            return Verdict(False, n, e["seq"], "written without the audit key after keyed entries", prev)
        keyed = keyed or mac
        if entry_hash(prev, e, key if mac else None, e.get("dedup")) != e["hash"]:
            return Verdict(False, n, e["seq"], "its content does not match its hash", prev)
        if expect_head is not None and e["seq"] == expect_head[0] and e["hash"] != expect_head[1]:
            return Verdict(False, n, e["seq"], "it is not the entry of the expected head", prev)
        prev, n, expect = e["hash"], n + 1, expect + 1
    if expect_head is not None and n < expect_head[0]:
        return Verdict(
            False, n, n + 1, f"the chain ends at entry {n}: entries up to {expect_head[0]} were removed", prev
        )
    return Verdict(True, n, head=prev)


@dataclass(frozen=True)
class AuditQuery:
    """An auditor's selection: entries after `after`, in order, at most `limit`; None matches all."""

    actor: str | None = None
    action: str | None = None
    agency: str | None = None
    object: str | None = None
    since: str | None = None
    until: str | None = None
    visible_to_agency: str | None = None  # its own people's actions, and disseminations to it
    limit: int = 100
    after: int = 0

    def equal(self) -> list[tuple[str, str]]:
        """(column, value) pairs an entry must equal."""
        pairs = (("actor", self.actor), ("action", self.action), ("agency", self.agency), ("object", self.object))
        return [(c, v) for c, v in pairs if v is not None]


MakeEntry = Callable[[int], dict[str, Any]]  # sequence number -> the entry's hashed fields


class AuditTrail(ABC):
    """Where every audited action is appended: one linear, hash-chained sequence, whichever
    process (API worker, CLI, export) appends. A backend appends (`_append`) and selects
    (`_select`); what an entry holds is decided here, once."""

    def record(
        self,
        action: str,
        *,
        actor: str,
        agency: str,
        object: str | None = None,
        outcome: str = "ok",
        source: str | None = None,
        recipient: str | None = None,
        reason: str | None = None,
        detail: dict[str, Any] | None = None,
        dedup: str | None = None,
    ) -> int | None:
        """Append one entry; returns its sequence number (None: `dedup` was already recorded)."""
        if action not in ACTIONS:
            raise ValueError(f"audit action {action!r}; one of {', '.join(ACTIONS)}")
        fields = {"object": object, "outcome": outcome, "source": source, "recipient": recipient}
        fields |= {"reason": reason, "detail": detail}
        with AUDIT_WRITE.time():
            return self._append(lambda seq: new_entry(seq, action, actor, agency, **fields), dedup)

    def query(self, **selection: Any) -> list[dict[str, Any]]:
        """Entries in order, as `AuditQuery(**selection)` selects them."""
        return self._select(AuditQuery(**selection))

    @abstractmethod
    def _append(self, make: MakeEntry, dedup: str | None) -> int | None:
        """Append `make(n)` as entry n, linked to entry n-1, unless `dedup` is recorded (None)."""

    @abstractmethod
    def _select(self, q: AuditQuery) -> list[dict[str, Any]]: ...

    @abstractmethod
    def verify(self, expect_head: tuple[int, str] | None = None) -> Verdict:
        """Recompute the chain from the first entry (holding `expect_head`, if given)."""

    def checkpoint(self, seq: int | None, head: str) -> None:
        """Export the head every CHECKPOINT_EVERY entries, to the log: a copy outside the store."""
        if seq is not None and seq % CHECKPOINT_EVERY == 0:
            log.info("audit checkpoint %d:%s", seq, head)

    @abstractmethod
    def close(self) -> None: ...


def open_audit(topo: Any) -> AuditTrail:
    """The topology's audit trail (ARGUS_AUDIT / stores.audit; `<data_dir>/audit.db` by default)."""
    from argus.backends import open_store

    trail: AuditTrail = open_store(topo, "audit")
    return trail


def audit_once(topo: Any, action: str, **entry: Any) -> int | None:
    """One entry from a short-lived command (a CLI change, an import)."""
    trail = open_audit(topo)
    try:
        return trail.record(action, **entry)
    finally:
        trail.close()


class AuditLog(AuditTrail):
    """The embedded audit trail (SQLite)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.key = audit_key(self.path.with_name("audit.key"))
        self._db = connect(self.path, synchronous="FULL")
        self._db.executescript(_DDL)
        self._lock = threading.Lock()

    @classmethod
    def for_data_dir(cls, data_dir: Path) -> AuditLog:
        return cls(data_dir / "audit.db")

    def _append(self, make: MakeEntry, dedup: str | None) -> int | None:
        with self._lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")  # one appender at a time across processes: the chain is linear
            try:
                if dedup is not None and db.execute("SELECT 1 FROM audit WHERE dedup=?", (dedup,)).fetchone():
                    db.execute("ROLLBACK")
                    return None
                last = db.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
                seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
                entry = make(seq)
                h = entry_hash(prev, entry, self.key, dedup)
                db.execute(
                    "INSERT INTO audit(seq, at, actor, agency, action, object, outcome, source, recipient, reason, "
                    "detail, dedup, prev, hash) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        *(entry[k] for k in FIELDS[:-1]),
                        orjson.dumps(entry["detail"], option=orjson.OPT_SORT_KEYS),
                        dedup,
                        prev,
                        h,
                    ),
                )
                db.execute("COMMIT")
                self.checkpoint(seq, h)
                return seq
            except BaseException:
                db.execute("ROLLBACK")
                raise

    def _rows(self, sql: str, args: list[Any]) -> Iterator[dict[str, Any]]:
        cols = (*FIELDS, "prev", "hash", "dedup")
        for r in self._db.execute(sql, args):
            e = dict(zip(cols, r, strict=True))
            e["detail"] = orjson.loads(e["detail"])
            yield e

    def _select(self, q: AuditQuery) -> list[dict[str, Any]]:
        where, args = ["seq > ?"], [q.after]
        for col, val in q.equal():
            where.append(f"{col} = ?")
            args.append(val)
        if q.since:
            where.append("at >= ?")
            args.append(q.since)
        if q.until:
            where.append("at <= ?")
            args.append(q.until)
        if q.visible_to_agency:
            where.append("(agency = ? OR recipient = ?)")
            args.extend([q.visible_to_agency, q.visible_to_agency])
        cols = ", ".join((*FIELDS, "prev", "hash", "dedup"))
        sql = f"SELECT {cols} FROM audit WHERE {' AND '.join(where)} ORDER BY seq LIMIT ?"
        with self._lock:
            return list(self._rows(sql, [*args, q.limit]))

    def verify(self, expect_head: tuple[int, str] | None = None) -> Verdict:
        cols = ", ".join((*FIELDS, "prev", "hash", "dedup"))
        with self._lock:
            return verify_chain(self._rows(f"SELECT {cols} FROM audit ORDER BY seq", []), self.key, expect_head)

    def close(self) -> None:
        self._db.close()
