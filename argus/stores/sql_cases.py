"""The casework store over SQL (argus/stores/sql.py): SQLite embedded, PostgreSQL as the server
backend. Rows keep their body as JSON beside the columns queries filter and order on; messages
and files keep their marking as columns, so `full_sight` pushes the policy into the query."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson

from argus.stores.cases import CaseStore, StaleRow
from argus.stores.search import Audience
from argus.stores.sql import MARKS, PostgresConnection, SqliteConnection, full_sight, marking_of, marks_of
from argus.workflows.case_model import Case, Custody, Entry, EvidenceFile, Member, Message, Task

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS cases (id TEXT PRIMARY KEY, created_at TEXT, version INTEGER, body TEXT)",
    "CREATE TABLE IF NOT EXISTS case_members (subject TEXT, case_id TEXT, PRIMARY KEY (subject, case_id))",
    "CREATE TABLE IF NOT EXISTS case_tasks (id TEXT PRIMARY KEY, case_id TEXT, due TEXT, version INTEGER, body TEXT)",
    "CREATE INDEX IF NOT EXISTS case_tasks_case ON case_tasks (case_id, due)",
    "CREATE TABLE IF NOT EXISTS case_entries (id TEXT PRIMARY KEY, case_id TEXT, at TEXT, body TEXT)",
    "CREATE INDEX IF NOT EXISTS case_entries_case ON case_entries (case_id, at)",
    f"CREATE TABLE IF NOT EXISTS case_files (id TEXT PRIMARY KEY, case_id TEXT, added_at TEXT, body TEXT, {MARKS})",
    "CREATE INDEX IF NOT EXISTS case_files_case ON case_files (case_id, added_at)",
    "CREATE TABLE IF NOT EXISTS custody (file_id TEXT, at TEXT, n INTEGER, body TEXT, PRIMARY KEY (file_id, at, n))",
    "CREATE TABLE IF NOT EXISTS message_threads (subject TEXT, thread TEXT, PRIMARY KEY (subject, thread))",
    "CREATE TABLE IF NOT EXISTS message_receipts (message_id TEXT, subject TEXT, at TEXT, "
    "PRIMARY KEY (message_id, subject))",
    "CREATE TABLE IF NOT EXISTS rfis (id TEXT PRIMARY KEY, requester_agency TEXT, addressees TEXT, status TEXT, "
    "due TEXT, version INTEGER, body TEXT)",
    "CREATE INDEX IF NOT EXISTS rfis_due ON rfis (status, due)",
    "CREATE TABLE IF NOT EXISTS training (subject TEXT, course TEXT, completed TEXT, expires TEXT, "
    "PRIMARY KEY (subject, course))",
    "CREATE INDEX IF NOT EXISTS training_expires ON training (expires)",
    "CREATE TABLE IF NOT EXISTS partners (id TEXT PRIMARY KEY, owner TEXT, name TEXT, version INTEGER, body TEXT)",
    "CREATE INDEX IF NOT EXISTS partners_owner ON partners (owner, name)",
    "CREATE TABLE IF NOT EXISTS engagements (partner_id TEXT, at TEXT, n INTEGER, body TEXT, "
    "PRIMARY KEY (partner_id, at, n))",
)
_MESSAGES = (
    "CREATE TABLE IF NOT EXISTS messages (seq {seq}, id TEXT UNIQUE, thread TEXT, at TEXT, text TEXT, body TEXT, {m})"
)


def _json(x: Any) -> str:
    return orjson.dumps(x, default=lambda v: dataclasses.asdict(v)).decode()


def _case(body: str) -> Case:
    d = orjson.loads(body)
    return Case(**(d | {"handling": tuple(d["handling"]), "members": tuple(Member(**m) for m in d["members"])}))


def _file(row: Sequence[Any]) -> EvidenceFile:
    d = orjson.loads(row[0])
    return EvidenceFile(**(d | {"marking": marking_of(row[1:8])}))


def _message(row: Sequence[Any]) -> tuple[int, Message]:
    d = orjson.loads(row[1])
    m = Message(
        **(
            d
            | {
                "marking": marking_of(row[2:9]),
                "mentions": tuple(d["mentions"]),
                "attachments": tuple(d["attachments"]),
            }
        )
    )
    return int(row[0]), m


class SqlCases(CaseStore):
    contains: str

    def _x(self, sql: str, args: Sequence[Any] = ()) -> Any:
        raise NotImplementedError

    def _setup(self, seq: str) -> None:
        for ddl in (
            *SCHEMA,
            _MESSAGES.format(seq=seq, m=MARKS),
            "CREATE INDEX IF NOT EXISTS messages_thread ON messages (thread, seq)",
        ):
            self._x(ddl)

    def _versioned(self, table: str, cols: dict[str, Any], expected: int | None) -> None:
        if expected is None:
            names = ", ".join(cols)
            sql = f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' for _ in cols)}) ON CONFLICT (id) DO NOTHING"
            done = self._x(sql, tuple(cols.values())).rowcount
        else:
            sets = ", ".join(f"{k} = ?" for k in cols if k != "id")
            args = (*(v for k, v in cols.items() if k != "id"), cols["id"], expected)
            done = self._x(f"UPDATE {table} SET {sets} WHERE id = ? AND version = ?", args).rowcount
        if done != 1:
            raise StaleRow(cols["id"])

    def put_case(self, case: Case, expected: int | None) -> Case:
        new = dataclasses.replace(case, version=(expected or 0) + 1)
        self._versioned(
            "cases",
            {
                "id": new.id,
                "created_at": new.created_at,
                "version": new.version,
                "body": _json(dataclasses.asdict(new)),
            },
            expected,
        )
        self._x("DELETE FROM case_members WHERE case_id = ?", (new.id,))
        for m in new.members:
            self._x("INSERT INTO case_members (subject, case_id) VALUES (?, ?)", (m.subject, new.id))
        return new

    def case(self, case_id: str) -> Case | None:
        row = self._x("SELECT body FROM cases WHERE id = ?", (case_id,)).fetchone()
        return _case(row[0]) if row else None

    def cases_of(self, subject: str, limit: int) -> list[Case]:
        rows = self._x(
            "SELECT c.body FROM cases c JOIN case_members m ON m.case_id = c.id WHERE m.subject = ? "
            "ORDER BY c.created_at DESC, c.id LIMIT ?",
            (subject, limit),
        ).fetchall()
        return [_case(r[0]) for r in rows]

    def put_task(self, task: Task, expected: int | None) -> Task:
        new = dataclasses.replace(task, version=(expected or 0) + 1)
        self._versioned(
            "case_tasks",
            {
                "id": new.id,
                "case_id": new.case_id,
                "due": new.due,
                "version": new.version,
                "body": _json(dataclasses.asdict(new)),
            },
            expected,
        )
        return new

    def tasks(self, case_id: str) -> list[Task]:
        rows = self._x("SELECT body FROM case_tasks WHERE case_id = ? ORDER BY due, id", (case_id,)).fetchall()
        return [Task(**orjson.loads(r[0])) for r in rows]

    def add_entry(self, entry: Entry) -> None:
        self._x(
            "INSERT INTO case_entries (id, case_id, at, body) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
            (entry.id, entry.case_id, entry.at, _json(dataclasses.asdict(entry))),
        )

    def entries(self, case_id: str, limit: int) -> list[Entry]:
        rows = self._x(
            "SELECT body FROM case_entries WHERE case_id = ? ORDER BY at, id LIMIT ?", (case_id, limit)
        ).fetchall()
        return [Entry(**orjson.loads(r[0])) for r in rows]

    def add_file(self, f: EvidenceFile) -> None:
        body = {k: v for k, v in dataclasses.asdict(f).items() if k != "marking"}
        self._x(
            "INSERT INTO case_files (id, case_id, added_at, body, agency, tlp, ci, nfd, handling, cases, recipients) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (f.id, f.case_id, f.added_at, _json(body), *marks_of(f.marking)),
        )

    _FILE = "SELECT body, agency, tlp, ci, nfd, handling, cases, recipients FROM case_files"

    def file(self, file_id: str) -> EvidenceFile | None:
        row = self._x(self._FILE + " WHERE id = ?", (file_id,)).fetchone()
        return _file(row) if row else None

    def files(self, case_id: str, audience: Audience) -> list[EvidenceFile]:
        where, args = full_sight(audience, self.contains)
        rows = self._x(self._FILE + f" WHERE case_id = ? AND {where} ORDER BY added_at, id", (case_id, *args))
        return [_file(r) for r in rows.fetchall()]

    def add_custody(self, c: Custody) -> None:
        n = self._x("SELECT count(*) FROM custody WHERE file_id = ?", (c.file_id,)).fetchone()[0]
        self._x(
            "INSERT INTO custody (file_id, at, n, body) VALUES (?, ?, ?, ?)",
            (c.file_id, c.at, int(n), _json(dataclasses.asdict(c))),
        )

    def custody(self, file_id: str) -> list[Custody]:
        rows = self._x("SELECT body FROM custody WHERE file_id = ? ORDER BY n", (file_id,)).fetchall()
        return [Custody(**orjson.loads(r[0])) for r in rows]

    def add_message(self, m: Message) -> int:
        body = {k: v for k, v in dataclasses.asdict(m).items() if k != "marking"}
        cols = "id, thread, at, text, body, agency, tlp, ci, nfd, handling, cases, recipients"
        self._x(
            f"INSERT INTO messages ({cols}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (m.id, m.thread, m.at, m.text.casefold(), _json(body), *marks_of(m.marking)),
        )
        if m.thread.startswith("dm:"):
            for s in m.thread[3:].split("|"):
                self._x(
                    "INSERT INTO message_threads (subject, thread) VALUES (?, ?) ON CONFLICT DO NOTHING", (s, m.thread)
                )
        return int(self._x("SELECT seq FROM messages WHERE id = ?", (m.id,)).fetchone()[0])

    def messages(
        self, thread: str, audience: Audience, after: int, limit: int, words: str | None = None
    ) -> list[tuple[int, Message]]:
        where, args = full_sight(audience, self.contains)
        match = (" AND " + self.contains.format(col="text")) if words else ""
        rows = self._x(
            "SELECT seq, body, agency, tlp, ci, nfd, handling, cases, recipients FROM messages "
            f"WHERE thread = ? AND seq > ? AND {where}{match} ORDER BY seq LIMIT ?",
            (thread, after, *args, *((words.casefold(),) if words else ()), limit),
        ).fetchall()
        return [_message(r) for r in rows]

    def threads_of(self, subject: str, limit: int) -> list[str]:
        rows = self._x("SELECT thread FROM message_threads WHERE subject = ? ORDER BY thread LIMIT ?", (subject, limit))
        return [r[0] for r in rows.fetchall()]

    def mark_read(self, message_id: str, subject: str, at: str) -> None:
        self._x(
            "INSERT INTO message_receipts (message_id, subject, at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            (message_id, subject, at),
        )

    def receipts(self, message_ids: Sequence[str]) -> dict[str, list[tuple[str, str]]]:
        out: dict[str, list[tuple[str, str]]] = {m: [] for m in message_ids}
        if message_ids:
            marks = ",".join("?" for _ in message_ids)
            for mid, s, at in self._x(
                f"SELECT message_id, subject, at FROM message_receipts WHERE message_id IN "
                f"({marks}) ORDER BY at, subject",
                tuple(message_ids),
            ).fetchall():
                out[mid].append((s, at))
        return out

    def put_rfi(self, rfi: dict[str, Any], expected: int | None) -> dict[str, Any]:
        new = rfi | {"version": (expected or 0) + 1}
        self._versioned(
            "rfis",
            {
                "id": new["id"],
                "requester_agency": new["requester_agency"],
                "addressees": f" {' '.join(new['addressees'])} ",
                "status": new["status"],
                "due": new["due"],
                "version": new["version"],
                "body": _json(new),
            },
            expected,
        )
        return new

    def rfi(self, rfi_id: str) -> dict[str, Any] | None:
        row = self._x("SELECT body FROM rfis WHERE id = ?", (rfi_id,)).fetchone()
        return orjson.loads(row[0]) if row else None

    def rfis(self, agency: str | None, status: Sequence[str], limit: int) -> list[dict[str, Any]]:
        where, args = "1 = 1", ()
        if agency:
            where, args = f"(requester_agency = ? OR {self.contains.format(col='addressees')})", (agency, f" {agency} ")
        states = ",".join("?" for _ in status) or "''"
        rows = self._x(
            f"SELECT body FROM rfis WHERE {where} AND status IN ({states}) ORDER BY due, id LIMIT ?",
            (*args, *status, limit),
        ).fetchall()
        return [orjson.loads(r[0]) for r in rows]

    def put_training(self, subject: str, course: str, completed: str, expires: str) -> None:
        self._x(
            "INSERT INTO training (subject, course, completed, expires) VALUES (?, ?, ?, ?) ON CONFLICT "
            "(subject, course) DO UPDATE SET completed = excluded.completed, expires = excluded.expires",
            (subject, course, completed, expires),
        )

    def training(self, subject: str) -> list[dict[str, str]]:
        rows = self._x("SELECT course, completed, expires FROM training WHERE subject = ? ORDER BY course", (subject,))
        return [{"course": r[0], "completed": r[1], "expires": r[2]} for r in rows.fetchall()]

    def training_due(self, before: str, limit: int) -> list[dict[str, str]]:
        rows = self._x(
            "SELECT subject, course, completed, expires FROM training WHERE expires < ? "
            "ORDER BY expires, subject LIMIT ?",
            (before, limit),
        ).fetchall()
        return [{"subject": r[0], "course": r[1], "completed": r[2], "expires": r[3]} for r in rows]

    def put_partner(self, partner: dict[str, Any], expected: int | None) -> dict[str, Any]:
        new = partner | {"version": (expected or 0) + 1}
        cols = {
            "id": new["id"],
            "owner": new["owner"],
            "name": new["name"],
            "version": new["version"],
            "body": _json(new),
        }
        self._versioned("partners", cols, expected)
        return new

    def partner(self, partner_id: str) -> dict[str, Any] | None:
        row = self._x("SELECT body FROM partners WHERE id = ?", (partner_id,)).fetchone()
        return orjson.loads(row[0]) if row else None

    def partners(self, owner: str, limit: int) -> list[dict[str, Any]]:
        rows = self._x("SELECT body FROM partners WHERE owner = ? ORDER BY name, id LIMIT ?", (owner, limit))
        return [orjson.loads(r[0]) for r in rows.fetchall()]

    def add_engagement(self, partner_id: str, engagement: dict[str, Any]) -> None:
        n = self._x("SELECT count(*) FROM engagements WHERE partner_id = ?", (partner_id,)).fetchone()[0]
        self._x(
            "INSERT INTO engagements (partner_id, at, n, body) VALUES (?, ?, ?, ?)",
            (partner_id, engagement["at"], int(n), _json(engagement)),
        )

    def engagements(self, partner_id: str, since: str, until: str) -> list[dict[str, Any]]:
        rows = self._x(
            "SELECT body FROM engagements WHERE partner_id = ? AND at >= ? AND at < ? ORDER BY at, n",
            (partner_id, since, until),
        )
        return [orjson.loads(r[0]) for r in rows.fetchall()]


class EmbeddedCases(SqliteConnection, SqlCases):
    def __init__(self, path: Path) -> None:
        self._open(path)
        self._setup("INTEGER PRIMARY KEY")


class PostgresCases(PostgresConnection, SqlCases):
    def __init__(self, url: str) -> None:
        self._open(url)
        self._setup("BIGSERIAL PRIMARY KEY")
