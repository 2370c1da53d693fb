"""The shift store over SQL (argus/stores/sql.py): SQLite embedded, PostgreSQL as the server
backend; each shift a JSON body beside the columns its queries use."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson

from argus.stores.shifts import ShiftStore, StaleShift
from argus.stores.sql import PostgresConnection, SqliteConnection

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS shifts (id TEXT PRIMARY KEY, agency TEXT, start_at TEXT, version INTEGER, body TEXT)",
    "CREATE INDEX IF NOT EXISTS shifts_agency ON shifts (agency, start_at)",
    "CREATE TABLE IF NOT EXISTS shift_log (shift_id TEXT, n INTEGER, body TEXT, PRIMARY KEY (shift_id, n))",
)


class SqlShifts(ShiftStore):
    def _x(self, sql: str, args: Sequence[Any] = ()) -> Any:
        raise NotImplementedError

    def _setup(self) -> None:
        for ddl in SCHEMA:
            self._x(ddl)

    def put(self, shift: dict[str, Any], expected: int | None) -> dict[str, Any]:
        new = shift | {"version": (expected or 0) + 1}
        body = orjson.dumps(new).decode()
        if expected is None:
            sql = "INSERT INTO shifts (id, agency, start_at, version, body) VALUES (?, ?, ?, ?, ?) "
            sql += "ON CONFLICT DO NOTHING"
            done = self._x(sql, (new["id"], new["agency"], new["start"], new["version"], body)).rowcount
        else:
            sql = "UPDATE shifts SET version = ?, body = ? WHERE id = ? AND version = ?"
            done = self._x(sql, (new["version"], body, new["id"], expected)).rowcount
        if done != 1:
            raise StaleShift(new["id"])
        return new

    def get(self, shift_id: str) -> dict[str, Any] | None:
        row = self._x("SELECT body FROM shifts WHERE id = ?", (shift_id,)).fetchone()
        return orjson.loads(row[0]) if row else None

    def of_agency(self, agency: str, limit: int) -> list[dict[str, Any]]:
        rows = self._x("SELECT body FROM shifts WHERE agency = ? ORDER BY start_at DESC, id LIMIT ?", (agency, limit))
        return [orjson.loads(r[0]) for r in rows.fetchall()]

    def log(self, shift_id: str, entry: dict[str, Any]) -> None:
        n = self._x("SELECT count(*) FROM shift_log WHERE shift_id = ?", (shift_id,)).fetchone()[0]
        self._x(
            "INSERT INTO shift_log (shift_id, n, body) VALUES (?, ?, ?)",
            (shift_id, int(n), orjson.dumps(entry).decode()),
        )

    def entries(self, shift_id: str) -> list[dict[str, Any]]:
        rows = self._x("SELECT body FROM shift_log WHERE shift_id = ? ORDER BY n", (shift_id,)).fetchall()
        return [orjson.loads(r[0]) for r in rows]


class EmbeddedShifts(SqliteConnection, SqlShifts):
    def __init__(self, path: Path) -> None:
        self._open(path)
        self._setup()


class PostgresShifts(PostgresConnection, SqlShifts):
    def __init__(self, url: str) -> None:
        self._open(url)
        self._setup()
