"""The operations store over SQL (argus/stores/sql.py): SQLite embedded, with an R*Tree over
latitude, longitude and time; PostgreSQL as the server backend, with a GiST index over a box and
a range of epoch seconds. Both narrow a conflict check to the operations near in place and time."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from argus.stores.operations import OperationStore, StaleOperation, conflict_json, conflict_of, op_json, op_of
from argus.stores.sql import PostgresConnection, SqliteConnection
from argus.workflows.operation_model import PLANNED, Conflict, Operation

_COMMON = (
    "CREATE TABLE IF NOT EXISTS operation_entities (entity TEXT, op_id TEXT, PRIMARY KEY (entity, op_id))",
    "CREATE INDEX IF NOT EXISTS operation_entities_op ON operation_entities (op_id)",
    "CREATE TABLE IF NOT EXISTS operation_conflicts (id TEXT PRIMARY KEY, a_agency TEXT, b_agency TEXT, "
    "found_at TEXT, body TEXT)",
    "CREATE INDEX IF NOT EXISTS operation_conflicts_a ON operation_conflicts (a_agency, found_at)",
    "CREATE INDEX IF NOT EXISTS operation_conflicts_b ON operation_conflicts (b_agency, found_at)",
    "CREATE INDEX IF NOT EXISTS operation_conflicts_at ON operation_conflicts (found_at)",
    "CREATE TABLE IF NOT EXISTS operation_notices (id TEXT PRIMARY KEY, agency TEXT, found_at TEXT, body TEXT)",
    "CREATE INDEX IF NOT EXISTS operation_notices_to ON operation_notices (agency, found_at)",
)
_OPS = "operations (rid {rid}, id TEXT UNIQUE, agency TEXT, state TEXT, start_at TEXT, version INTEGER, body TEXT{x})"


def _secs(t: datetime) -> float:
    return t.timestamp()


class SqlOperations(OperationStore):
    def _x(self, sql: str, args: Sequence[Any] = ()) -> Any:
        raise NotImplementedError

    def _setup(self) -> None:
        for ddl in self._ddl() + _COMMON:
            self._x(ddl)

    def _ddl(self) -> tuple[str, ...]:
        raise NotImplementedError

    def _index(self, rid: int, op: Operation) -> None:
        raise NotImplementedError

    def _near_sql(self) -> str:
        raise NotImplementedError

    def put(self, op: Operation, expected: int | None) -> Operation:
        new = op.with_(version=(expected or 0) + 1)
        body = orjson.dumps(op_json(new)).decode()
        args = (new.agency, new.state, new.start.isoformat(), new.version, body)
        if expected is None:
            done = self._x(
                "INSERT INTO operations (id, agency, state, start_at, version, body) VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (id) DO NOTHING",
                (new.id, *args),
            ).rowcount
        else:
            done = self._x(
                "UPDATE operations SET agency = ?, state = ?, start_at = ?, version = ?, body = ? "
                "WHERE id = ? AND version = ?",
                (*args, new.id, expected),
            ).rowcount
        if done != 1:
            raise StaleOperation(new.id)
        rid = int(self._x("SELECT rid FROM operations WHERE id = ?", (new.id,)).fetchone()[0])
        self._index(rid, new)
        self._x("DELETE FROM operation_entities WHERE op_id = ?", (new.id,))
        for e in sorted(set(new.subjects) | set(new.vehicles)) if new.state == PLANNED else ():
            self._x("INSERT INTO operation_entities (entity, op_id) VALUES (?, ?) ON CONFLICT DO NOTHING", (e, new.id))
        return new

    def get(self, op_id: str) -> Operation | None:
        row = self._x("SELECT body FROM operations WHERE id = ?", (op_id,)).fetchone()
        return op_of(orjson.loads(row[0])) if row else None

    def near(self, box: tuple[float, float, float, float], start: datetime, end: datetime) -> list[Operation]:
        rows = self._x(self._near_sql(), (*box, _secs(start), _secs(end))).fetchall()
        return [op_of(orjson.loads(r[0])) for r in rows]

    def naming(self, entities: Sequence[str]) -> list[Operation]:
        if not entities:
            return []
        marks = ",".join("?" for _ in entities)
        rows = self._x(
            f"SELECT body FROM operations WHERE state = 'PLANNED' AND id IN (SELECT op_id FROM "
            f"operation_entities WHERE entity IN ({marks})) ORDER BY id",
            tuple(entities),
        ).fetchall()
        return [op_of(orjson.loads(r[0])) for r in rows]

    def of_agency(self, agency: str | None, limit: int) -> list[Operation]:
        where, args = ("agency = ?", (agency,)) if agency else ("1 = 1", ())
        rows = self._x(
            f"SELECT body FROM operations WHERE {where} ORDER BY start_at DESC, id LIMIT ?", (*args, limit)
        ).fetchall()
        return [op_of(orjson.loads(r[0])) for r in rows]

    def add_conflicts(self, conflicts: Sequence[Conflict]) -> list[Conflict]:
        new = []
        for c in conflicts:
            done = self._x(
                "INSERT INTO operation_conflicts (id, a_agency, b_agency, found_at, body) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (id) DO NOTHING",
                (c.id, c.a_agency, c.b_agency, c.found_at.isoformat(), orjson.dumps(conflict_json(c)).decode()),
            ).rowcount
            if done == 1:
                new.append(c)
        return new

    def conflicts(self, agency: str | None, limit: int) -> list[Conflict]:
        where, args = ("(a_agency = ? OR b_agency = ?)", (agency, agency)) if agency else ("1 = 1", ())
        rows = self._x(
            f"SELECT body FROM operation_conflicts WHERE {where} ORDER BY found_at DESC, id LIMIT ?", (*args, limit)
        ).fetchall()
        return [conflict_of(orjson.loads(r[0])) for r in rows]

    def add_notices(self, notices: Sequence[dict[str, Any]]) -> None:
        for n in notices:
            at = n["found_at"]
            self._x(
                "INSERT INTO operation_notices (id, agency, found_at, body) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (id) DO NOTHING",
                (
                    n["notice_id"],
                    n["recipient_agency"],
                    at.isoformat() if isinstance(at, datetime) else str(at),
                    orjson.dumps(n).decode(),
                ),
            )

    def notices(self, agency: str, limit: int) -> list[dict[str, Any]]:
        rows = self._x(
            "SELECT body FROM operation_notices WHERE agency = ? ORDER BY found_at DESC, id LIMIT ?", (agency, limit)
        ).fetchall()
        return [orjson.loads(r[0]) for r in rows]

    def count(self) -> int:
        return int(self._x("SELECT count(*) FROM operations").fetchone()[0])


class EmbeddedOperations(SqliteConnection, SqlOperations):
    def __init__(self, path: Path) -> None:
        self._open(path)
        self._setup()

    def _ddl(self) -> tuple[str, ...]:
        return (
            "CREATE TABLE IF NOT EXISTS " + _OPS.format(rid="INTEGER PRIMARY KEY", x=""),
            "CREATE VIRTUAL TABLE IF NOT EXISTS operation_index USING rtree(rid, min_lat, max_lat, min_lon, "
            "max_lon, t0, t1)",
        )

    def _index(self, rid: int, op: Operation) -> None:
        self._x("DELETE FROM operation_index WHERE rid = ?", (rid,))
        if op.state == PLANNED:  # R*Tree keeps 32-bit floats, rounded outwards: a box never shrinks
            self._x(
                "INSERT INTO operation_index VALUES (?, ?, ?, ?, ?, ?, ?)",
                (rid, *op.box(), _secs(op.start), _secs(op.end)),
            )

    def _near_sql(self) -> str:
        return (
            "SELECT o.body FROM operation_index i JOIN operations o ON o.rid = i.rid WHERE i.max_lat >= ?1 "
            "AND i.min_lat <= ?2 AND i.max_lon >= ?3 AND i.min_lon <= ?4 AND i.t1 >= ?5 AND i.t0 <= ?6 "
            "AND o.state = 'PLANNED'"
        )


class PostgresOperations(PostgresConnection, SqlOperations):
    def __init__(self, url: str) -> None:
        self._open(url)
        self._setup()

    def _ddl(self) -> tuple[str, ...]:
        return (
            "CREATE TABLE IF NOT EXISTS " + _OPS.format(rid="BIGSERIAL PRIMARY KEY", x=", area box, span numrange"),
            "CREATE INDEX IF NOT EXISTS operations_where_when ON operations USING gist (area, span)",
        )

    def _index(self, rid: int, op: Operation) -> None:
        lo_lat, hi_lat, lo_lon, hi_lon = op.box()
        if op.state == PLANNED:
            self._x(
                "UPDATE operations SET area = box(point(?, ?), point(?, ?)), "
                "span = numrange(?::numeric, ?::numeric, '[]') WHERE rid = ?",
                (lo_lat, lo_lon, hi_lat, hi_lon, _secs(op.start), _secs(op.end), rid),
            )
        else:
            self._x("UPDATE operations SET area = NULL, span = NULL WHERE rid = ?", (rid,))

    def _near_sql(self) -> str:
        return (
            "SELECT body FROM operations WHERE area && box(point(%(a)s, %(c)s), point(%(b)s, %(d)s)) "
            "AND span && numrange(%(e)s::numeric, %(f)s::numeric, '[]') AND state = 'PLANNED'"
        )

    def near(self, box: tuple[float, float, float, float], start: datetime, end: datetime) -> list[Operation]:
        a, b, c, d = box
        args = {"a": a, "b": b, "c": c, "d": d, "e": _secs(start), "f": _secs(end)}
        rows = self.db.execute(self._near_sql(), args).fetchall()  # type: ignore[arg-type]
        return [op_of(orjson.loads(r[0])) for r in rows]
