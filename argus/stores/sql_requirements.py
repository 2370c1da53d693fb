"""The requirement store over SQL (argus/stores/sql.py: SQLite embedded, PostgreSQL)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson

from argus.stores.requirements import Hit, Requirement, RequirementStore, Tasking
from argus.stores.search import Audience
from argus.stores.sql import MARKS as _MARKS
from argus.stores.sql import PostgresConnection, SqliteConnection, full_sight
from argus.stores.sql import marking_of as _marking
from argus.stores.sql import marks_of as _marks

SCHEMA = (
    f"CREATE TABLE IF NOT EXISTS requirements (id TEXT PRIMARY KEY, code TEXT, body TEXT, {_MARKS})",
    f"""CREATE TABLE IF NOT EXISTS requirement_hits (requirement_id TEXT, report_id TEXT, via TEXT, report_type TEXT,
        matched TEXT, occurred_at TEXT, {_MARKS}, PRIMARY KEY (requirement_id, report_id, via))""",
    "CREATE INDEX IF NOT EXISTS requirement_hits_when ON requirement_hits (requirement_id, occurred_at)",
    """CREATE TABLE IF NOT EXISTS taskings (id TEXT PRIMARY KEY, requirement_id TEXT, question TEXT, to_agency TEXT,
        to_subject TEXT, due TEXT, created_by TEXT, created_by_agency TEXT, created_at TEXT, status TEXT,
        answer TEXT, answered_by TEXT, answered_at TEXT)""",
    "CREATE INDEX IF NOT EXISTS taskings_to ON taskings (to_agency, created_at)",
)
_TASK = [f.name for f in dataclasses.fields(Tasking)]


class SqlRequirements(RequirementStore):
    contains: str

    def _x(self, sql: str, args: Sequence[Any] = ()) -> Any:
        raise NotImplementedError

    def _setup(self) -> None:
        for s in SCHEMA:
            self._x(s)

    def _sight(self, audience: Audience | None) -> tuple[str, tuple[Any, ...]]:
        return ("1=1", ()) if audience is None else full_sight(audience, self.contains)

    def put_requirement(self, r: Requirement) -> None:
        body = {k: v for k, v in dataclasses.asdict(r).items() if k != "marking"}
        self._x(
            "INSERT INTO requirements (id, code, body, agency, tlp, ci, nfd, handling, cases, recipients) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET code = excluded.code, "
            "body = excluded.body, agency = excluded.agency, tlp = excluded.tlp, ci = excluded.ci, nfd = excluded.nfd, "
            "handling = excluded.handling, cases = excluded.cases, recipients = excluded.recipients",
            (r.id, r.code, orjson.dumps(body).decode(), *_marks(r.marking)),
        )

    def _req(self, row: Sequence[Any]) -> Requirement:
        return Requirement(**orjson.loads(row[0]), marking=_marking(row[1:]))

    def requirement(self, rid: str) -> Requirement | None:
        row = self._x("SELECT body, agency, tlp, ci, nfd, handling, cases, recipients FROM requirements WHERE id = ?",
                      (rid,)).fetchone()  # fmt: skip
        return self._req(row) if row else None

    def requirements(self, audience: Audience | None, limit: int) -> list[Requirement]:
        where, args = self._sight(audience)
        rows = self._x(
            "SELECT body, agency, tlp, ci, nfd, handling, cases, recipients FROM requirements "
            f"WHERE {where} ORDER BY code, id LIMIT ?", (*args, limit),
        ).fetchall()  # fmt: skip
        return [self._req(r) for r in rows]

    def add_hits(self, hits: Sequence[Hit]) -> None:
        for h in hits:
            self._x(
                "INSERT INTO requirement_hits (requirement_id, report_id, via, report_type, matched, occurred_at, "
                "agency, tlp, ci, nfd, handling, cases, recipients) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (requirement_id, report_id, via) DO UPDATE SET matched = excluded.matched, "
                "occurred_at = excluded.occurred_at, tlp = excluded.tlp, ci = excluded.ci, nfd = excluded.nfd, "
                "handling = excluded.handling, cases = excluded.cases, recipients = excluded.recipients",
                (h.requirement_id, h.report_id, h.via, h.report_type, orjson.dumps(h.matched).decode(), h.occurred_at,
                 *_marks(h.marking)),
            )  # fmt: skip

    def answered(self, audience: Audience | None, ids: Sequence[str], since: str,
                 until: str) -> dict[str, tuple[int, str | None]]:  # fmt: skip
        if not ids:
            return {}
        where, args = self._sight(audience)
        rows = self._x(
            "SELECT requirement_id, count(DISTINCT report_id), max(occurred_at) FROM requirement_hits "
            f"WHERE requirement_id IN ({','.join('?' for _ in ids)}) AND occurred_at >= ? AND occurred_at <= ? "
            f"AND {where} GROUP BY requirement_id", (*ids, since, until, *args),
        ).fetchall()  # fmt: skip
        return {r[0]: (int(r[1]), r[2]) for r in rows}

    def reporting(self, audience: Audience | None, rid: str, limit: int) -> list[Hit]:
        where, args = self._sight(audience)
        rows = self._x(
            "SELECT requirement_id, report_id, report_type, matched, occurred_at, agency, tlp, ci, nfd, handling, "
            f"cases, recipients, via FROM requirement_hits WHERE requirement_id = ? AND {where} "
            "ORDER BY occurred_at DESC, report_id, via LIMIT ?", (rid, *args, limit),
        ).fetchall()  # fmt: skip
        return [Hit(r[0], r[1], r[2], orjson.loads(r[3]), r[4], _marking(r[5:12]), r[12]) for r in rows]

    def put_tasking(self, t: Tasking) -> None:
        sets = ", ".join(f"{c} = excluded.{c}" for c in _TASK[1:])
        self._x(f"INSERT INTO taskings ({', '.join(_TASK)}) VALUES ({', '.join('?' for _ in _TASK)}) "
                f"ON CONFLICT (id) DO UPDATE SET {sets}", dataclasses.astuple(t))  # fmt: skip

    def tasking(self, tid: str) -> Tasking | None:
        row = self._x(f"SELECT {', '.join(_TASK)} FROM taskings WHERE id = ?", (tid,)).fetchone()
        return Tasking(*row) if row else None

    def taskings(self, *, agency: str | None = None, subject: str | None = None, requirement: str | None = None,
                 limit: int = 200) -> list[Tasking]:  # fmt: skip
        if requirement is not None:
            where, args = "requirement_id = ?", (requirement,)
        else:
            where, args = "to_agency = ? AND (to_subject = '' OR to_subject = ?)", (agency or "", subject or "")
        rows = self._x(f"SELECT {', '.join(_TASK)} FROM taskings WHERE {where} ORDER BY created_at DESC, id LIMIT ?",
                       (*args, limit)).fetchall()  # fmt: skip
        return [Tasking(*r) for r in rows]


class EmbeddedRequirements(SqliteConnection, SqlRequirements):
    def __init__(self, path: Path) -> None:
        self._open(path)
        self._setup()


class PostgresRequirements(PostgresConnection, SqlRequirements):
    def __init__(self, url: str) -> None:
        self._open(url)
        self._setup()
