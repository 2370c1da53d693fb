"""The playbook store over SQL (argus/stores/sql.py): SQLite embedded, PostgreSQL as the server
backend. Playbooks and executions keep their marking as columns, so `full_sight` puts the policy
in the query; step records are keyed by execution and step instance, which is what makes a
resumed execution run each step once."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson

from argus.stores.playbooks import PlaybookStore, StoredPlaybook
from argus.stores.search import Audience
from argus.stores.sql import MARKS, PostgresConnection, SqliteConnection, full_sight, marking_of, marks_of

MARK_COLS = "agency, tlp, ci, nfd, handling, cases, recipients"
SCHEMA = (
    f"CREATE TABLE IF NOT EXISTS playbooks (id TEXT, modified TEXT, name TEXT, {MARKS}, text TEXT, "
    "imported_by TEXT, imported_at TEXT, triggers TEXT, PRIMARY KEY (id, modified))",
    f"CREATE TABLE IF NOT EXISTS pb_executions (id TEXT PRIMARY KEY, playbook TEXT, state TEXT, started_at TEXT, "
    f"{MARKS}, owner TEXT, lease REAL, body TEXT)",
    "CREATE INDEX IF NOT EXISTS pb_executions_state ON pb_executions (state)",
    "CREATE INDEX IF NOT EXISTS pb_executions_started ON pb_executions (started_at)",
    "CREATE TABLE IF NOT EXISTS pb_steps (execution TEXT, key TEXT, n INTEGER, body TEXT, "
    "PRIMARY KEY (execution, key))",
    "CREATE TABLE IF NOT EXISTS pb_tasks (id TEXT PRIMARY KEY, agency TEXT, state TEXT, created_at TEXT, body TEXT)",
    "CREATE INDEX IF NOT EXISTS pb_tasks_agency ON pb_tasks (agency, state)",
    "CREATE TABLE IF NOT EXISTS pb_cursors (name TEXT PRIMARY KEY, value TEXT)",
)
PB_COLS = f"id, modified, name, {MARK_COLS}, text, imported_by, imported_at, triggers"


def _pb(row: Sequence[Any]) -> StoredPlaybook:
    return StoredPlaybook(row[0], row[1], row[2], marking_of(row[3:10]), row[10],
                          row[11], row[12], tuple(orjson.loads(row[13] or "[]")))  # fmt: skip


class SqlPlaybooks(PlaybookStore):
    contains: str

    def _x(self, sql: str, args: Sequence[Any] = ()) -> Any:
        raise NotImplementedError

    def _setup(self) -> None:
        for ddl in SCHEMA:
            self._x(ddl)

    def put(self, pb: StoredPlaybook) -> bool:
        sql = f"INSERT INTO playbooks ({PB_COLS}) VALUES ({', '.join('?' * 14)}) ON CONFLICT DO NOTHING"
        args = (pb.id, pb.modified, pb.name, *marks_of(pb.marking), pb.text, pb.imported_by, pb.imported_at,
                orjson.dumps(list(pb.triggers)).decode())  # fmt: skip
        return bool(self._x(sql, args).rowcount == 1)

    def get(self, pb_id: str, modified: str | None = None) -> StoredPlaybook | None:
        if modified is None:
            row = self._x(f"SELECT {PB_COLS} FROM playbooks WHERE id = ? ORDER BY modified DESC LIMIT 1", (pb_id,))
        else:
            row = self._x(f"SELECT {PB_COLS} FROM playbooks WHERE id = ? AND modified = ?", (pb_id, modified))
        found = row.fetchone()
        return _pb(found) if found else None

    def versions(self, pb_id: str) -> list[str]:
        rows = self._x("SELECT modified FROM playbooks WHERE id = ? ORDER BY modified DESC", (pb_id,)).fetchall()
        return [r[0] for r in rows]

    def listing(self, audience: Audience, limit: int) -> list[StoredPlaybook]:
        where, args = full_sight(audience, self.contains)
        sql = (
            f"SELECT {PB_COLS} FROM playbooks p WHERE {where} AND modified = "
            "(SELECT max(modified) FROM playbooks q WHERE q.id = p.id) ORDER BY name, id LIMIT ?"
        )
        return [_pb(r) for r in self._x(sql, (*args, limit)).fetchall()]

    def set_triggers(self, pb_id: str, modified: str, triggers: list[dict[str, Any]]) -> None:
        body = orjson.dumps(triggers).decode()
        self._x("UPDATE playbooks SET triggers = ? WHERE id = ? AND modified = ?", (body, pb_id, modified))

    def with_triggers(self) -> list[StoredPlaybook]:
        sql = (
            f"SELECT {PB_COLS} FROM playbooks p WHERE triggers <> '[]' AND modified = "
            "(SELECT max(modified) FROM playbooks q WHERE q.id = p.id) ORDER BY id"
        )
        return [_pb(r) for r in self._x(sql).fetchall()]

    def start(self, execution: dict[str, Any], marking: Any) -> bool:
        sql = (
            f"INSERT INTO pb_executions (id, playbook, state, started_at, {MARK_COLS}, body) "
            f"VALUES ({', '.join('?' * 12)}) ON CONFLICT DO NOTHING"
        )
        e = execution
        args = (e["id"], e["playbook"], e["state"], e["started_at"], *marks_of(marking), orjson.dumps(e).decode())
        return bool(self._x(sql, args).rowcount == 1)

    def execution(self, ex_id: str) -> dict[str, Any] | None:
        row = self._x("SELECT body FROM pb_executions WHERE id = ?", (ex_id,)).fetchone()
        return orjson.loads(row[0]) if row else None

    def executions(self, audience: Audience, limit: int, playbook: str | None = None) -> list[dict[str, Any]]:
        where, args = full_sight(audience, self.contains)
        where, args = f"agency = ? AND {where}", (audience.agency, *args)  # an agency's own runs
        if playbook is not None:
            where, args = f"{where} AND playbook = ?", (*args, playbook)
        sql = f"SELECT body FROM pb_executions WHERE {where} ORDER BY started_at DESC, id LIMIT ?"
        return [orjson.loads(r[0]) for r in self._x(sql, (*args, limit)).fetchall()]

    def update(self, ex_id: str, changes: dict[str, Any]) -> None:
        current = self.execution(ex_id)
        if current is None:
            return
        new = current | changes
        self._x(
            "UPDATE pb_executions SET state = ?, body = ? WHERE id = ?",
            (new["state"], orjson.dumps(new).decode(), ex_id),
        )

    def unfinished(self) -> list[dict[str, Any]]:
        rows = self._x("SELECT body FROM pb_executions WHERE state IN ('running', 'waiting') ORDER BY started_at")
        return [orjson.loads(r[0]) for r in rows.fetchall()]

    def claim(self, ex_id: str, owner: str, now: float, lease_s: float) -> bool:
        sql = (
            "UPDATE pb_executions SET owner = ?, lease = ? WHERE id = ? AND state IN ('running', 'waiting') "
            "AND (owner IS NULL OR owner = ? OR lease < ?)"
        )
        return bool(self._x(sql, (owner, now + lease_s, ex_id, owner, now)).rowcount == 1)

    def step(self, ex_id: str, key: str) -> dict[str, Any] | None:
        row = self._x("SELECT body FROM pb_steps WHERE execution = ? AND key = ?", (ex_id, key)).fetchone()
        return orjson.loads(row[0]) if row else None

    def steps(self, ex_id: str) -> list[dict[str, Any]]:
        rows = self._x("SELECT body FROM pb_steps WHERE execution = ? ORDER BY n", (ex_id,)).fetchall()
        return [orjson.loads(r[0]) for r in rows]

    def save_step(self, ex_id: str, key: str, record: dict[str, Any]) -> None:
        body = orjson.dumps(record).decode()
        done = self._x("UPDATE pb_steps SET body = ? WHERE execution = ? AND key = ?", (body, ex_id, key)).rowcount
        if done == 0:
            n = self._x("SELECT count(*) FROM pb_steps WHERE execution = ?", (ex_id,)).fetchone()[0]
            sql = "INSERT INTO pb_steps (execution, key, n, body) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING"
            self._x(sql, (ex_id, key, int(n), body))

    def put_task(self, task: dict[str, Any]) -> None:
        sql = "INSERT INTO pb_tasks (id, agency, state, created_at, body) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
        self._x(sql, (task["id"], task["agency"], task["state"], task["created_at"], orjson.dumps(task).decode()))

    def task(self, task_id: str) -> dict[str, Any] | None:
        row = self._x("SELECT body FROM pb_tasks WHERE id = ?", (task_id,)).fetchone()
        return orjson.loads(row[0]) if row else None

    def tasks(self, agency: str, state: str | None, limit: int) -> list[dict[str, Any]]:
        sql, args = "SELECT body FROM pb_tasks WHERE agency = ?", [agency]
        if state is not None:
            sql, args = sql + " AND state = ?", [*args, state]
        rows = self._x(sql + " ORDER BY created_at DESC, id LIMIT ?", (*args, limit)).fetchall()
        return [orjson.loads(r[0]) for r in rows]

    def close_task(self, task_id: str, changes: dict[str, Any]) -> bool:
        current = self.task(task_id)
        if current is None or current["state"] != "open":
            return False
        new = orjson.dumps(current | changes).decode()
        sql = "UPDATE pb_tasks SET state = ?, body = ? WHERE id = ? AND state = 'open'"
        return bool(self._x(sql, (changes["state"], new, task_id)).rowcount == 1)

    def cursor(self, name: str) -> str | None:
        row = self._x("SELECT value FROM pb_cursors WHERE name = ?", (name,)).fetchone()
        return row[0] if row else None

    def set_cursor(self, name: str, value: str) -> None:
        sql = (
            "INSERT INTO pb_cursors (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value"
        )
        self._x(sql, (name, value))


class EmbeddedPlaybooks(SqliteConnection, SqlPlaybooks):
    def __init__(self, path: Path) -> None:
        self._open(path)
        self._setup()


class PostgresPlaybooks(PostgresConnection, SqlPlaybooks):
    def __init__(self, url: str) -> None:
        self._open(url)
        self._setup()


__all__ = ["Audience", "EmbeddedPlaybooks", "PostgresPlaybooks", "SqlPlaybooks"]
