"""The risk store over SQL (argus/stores/sql.py): SQLite embedded, PostgreSQL as the server
backend."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from argus.stores.risk import RiskStore
from argus.stores.sql import PostgresConnection, SqliteConnection

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS risk_scores (subject TEXT, agency TEXT, kind TEXT, score REAL, category TEXT, "
    "computed_at TEXT, seq INTEGER, body TEXT, PRIMARY KEY (subject, agency))",
    "CREATE TABLE IF NOT EXISTS risk_notices (subject TEXT, agency TEXT, score REAL, category TEXT, at TEXT, "
    "body TEXT, PRIMARY KEY (subject, agency, at))",
    "CREATE INDEX IF NOT EXISTS risk_scores_top ON risk_scores (agency, score)",
    "CREATE INDEX IF NOT EXISTS risk_notices_agency ON risk_notices (agency, at)",
)


def _at(v: Any) -> str:
    return v.isoformat() if isinstance(v, datetime) else str(v)


class SqlRisk(RiskStore):
    contains: str

    def _x(self, sql: str, args: Sequence[Any] = ()) -> Any:
        raise NotImplementedError

    def _setup(self) -> None:
        for ddl in SCHEMA:
            self._x(ddl)

    def put(self, scores: Sequence[dict[str, Any]]) -> None:
        for s in scores:
            at, body = _at(s["computed_at"]), orjson.dumps(s, default=_at).decode()
            args = (s["subject"], s["recipient_agency"], s["subject_kind"], s["score"], s["category"], at,
                    int(s.get("seq") or 0), body)  # fmt: skip
            self._x(
                "INSERT INTO risk_scores (subject, agency, kind, score, category, computed_at, seq, body) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (subject, agency) DO UPDATE SET kind = excluded.kind, "
                "score = excluded.score, category = excluded.category, computed_at = excluded.computed_at, "
                "seq = excluded.seq, body = excluded.body WHERE risk_scores.seq <= excluded.seq",
                args,
            )
            if s["crossed"]:
                self._x(
                    "INSERT INTO risk_notices (subject, agency, score, category, at, body) VALUES (?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (subject, agency, at) DO NOTHING",
                    (s["subject"], s["recipient_agency"], s["score"], s["category"], at, body),
                )

    def forget(self, record_id: str) -> None:
        needle = f'"{record_id}"'
        for table in ("risk_scores", "risk_notices"):
            self._x(f"DELETE FROM {table} WHERE {self.contains.format(col='body')}", (needle,))

    def get(self, subject: str, agency: str) -> dict[str, Any] | None:
        row = self._x("SELECT body FROM risk_scores WHERE subject = ? AND agency = ?", (subject, agency)).fetchone()
        return orjson.loads(row[0]) if row else None

    def top(self, agency: str, category: str | None, kind: str | None, limit: int) -> list[dict[str, Any]]:
        where, args = "agency = ?", [agency]
        if kind:
            where += " AND kind = ?"
            args.append(kind)
        if category:  # ordered by that category's score: read the rows, sort in Python (bounded)
            rows = self._x(f"SELECT body FROM risk_scores WHERE {where} ORDER BY score DESC LIMIT 5000", args)
            got = [orjson.loads(r[0]) for r in rows.fetchall()]
            got = [g for g in got if g["categories"].get(category)]
            got.sort(key=lambda g: (-g["categories"][category], g["subject"]))
            return got[:limit]
        rows = self._x(f"SELECT body FROM risk_scores WHERE {where} ORDER BY score DESC, subject LIMIT ?",
                       (*args, limit)).fetchall()  # fmt: skip
        return [orjson.loads(r[0]) for r in rows]

    def notices(self, agency: str, limit: int) -> list[dict[str, Any]]:
        rows = self._x("SELECT body FROM risk_notices WHERE agency = ? ORDER BY at DESC, subject LIMIT ?",
                       (agency, limit)).fetchall()  # fmt: skip
        return [orjson.loads(r[0]) for r in rows]


class EmbeddedRisk(SqliteConnection, SqlRisk):
    def __init__(self, path: Path) -> None:
        self._open(path)
        self._setup()


class PostgresRisk(PostgresConnection, SqlRisk):
    def __init__(self, url: str) -> None:
        self._open(url)
        self._setup()
