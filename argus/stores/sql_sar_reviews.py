"""The SAR review store over SQL: SQLite embedded, PostgreSQL as the server backend. Each write
is one statement (atomic on both); a save is conditional on the version read."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from argus.stores.sar_reviews import (
    COLUMNS,
    INDEXES,
    PATTERNS,
    SCHEMA,
    TLOS,
    SarCase,
    SarReviewStore,
    StaleVersion,
    Tlo,
    from_row,
    to_row,
)
from argus.stores.search import Audience
from argus.stores.sql import PostgresConnection, SqliteConnection, full_sight

_COLS = ", ".join(COLUMNS)
_TLO = "subject, agency, name, sector, area, trained_until, contact, registered_by"
_MARKS = ", ".join("?" for _ in COLUMNS)
_SAVED = [c for c in COLUMNS if c not in ("id", "version")]
# What a triage changes on a SAR already there: the score and reasons always; the priority, the
# place in the queue and the due time only where no reviewer overrode them.
_TRIAGE_SET = (
    "triage_score = excluded.triage_score, triage_reasons = excluded.triage_reasons, "
    "priority = CASE WHEN sar_reviews.override IS NULL THEN excluded.priority ELSE sar_reviews.priority END, "
    "rank = CASE WHEN sar_reviews.override IS NULL THEN excluded.rank ELSE sar_reviews.rank END, "
    "due_at = CASE WHEN sar_reviews.override IS NULL AND sar_reviews.state = 'SUBMITTED' "
    "THEN excluded.due_at ELSE sar_reviews.due_at END, version = sar_reviews.version + 1"
)


class SqlSarReviews(SarReviewStore):
    contains: str

    def _x(self, sql: str, args: Sequence[Any] = ()) -> Any:
        raise NotImplementedError

    def _setup(self) -> None:
        self._x(SCHEMA)
        self._x(PATTERNS)
        self._x(TLOS)
        for ix in INDEXES:
            self._x(ix)

    def create(self, case: SarCase) -> bool:
        cur = self._x(f"INSERT INTO sar_reviews ({_COLS}) VALUES ({_MARKS}) ON CONFLICT (id) DO NOTHING", to_row(case))
        return bool(cur.rowcount)

    def get(self, sar_id: str) -> SarCase | None:
        row = self._x(f"SELECT {_COLS} FROM sar_reviews WHERE id = ?", (sar_id,)).fetchone()
        return from_row(row) if row else None

    def save(self, case: SarCase) -> SarCase:
        values = dict(zip(COLUMNS, to_row(case), strict=True))
        sets = ", ".join(f"{c} = ?" for c in _SAVED)
        cur = self._x(
            f"UPDATE sar_reviews SET {sets}, version = version + 1 WHERE id = ? AND version = ?",
            (*(values[c] for c in _SAVED), case.id, case.version),
        )
        if not cur.rowcount:
            raise StaleVersion(f"SAR {case.sar_id} was changed by someone else since it was read (v{case.version})")
        saved = self.get(case.id)
        assert saved is not None
        return saved

    def triaged(self, case: SarCase) -> None:
        self._x(
            f"INSERT INTO sar_reviews ({_COLS}) VALUES ({_MARKS}) ON CONFLICT (id) DO UPDATE SET {_TRIAGE_SET}",
            to_row(case),
        )

    def queue(self, audience: Audience | None, states: Sequence[str], limit: int) -> tuple[int, list[SarCase]]:
        where, args = ("1=1", ()) if audience is None else full_sight(audience, self.contains)
        marks = ",".join("?" for _ in states)
        cond = f"state IN ({marks}) AND {where}"
        total = self._x(f"SELECT count(*) FROM sar_reviews WHERE {cond}", (*states, *args)).fetchone()[0]
        rows = self._x(
            f"SELECT {_COLS} FROM sar_reviews WHERE {cond} ORDER BY rank DESC, received_at, id LIMIT ?",
            (*states, *args, limit),
        ).fetchall()
        return int(total), [from_row(r) for r in rows]

    def by_submitter(self, subject: str, agency: str, limit: int) -> list[SarCase]:
        rows = self._x(
            f"SELECT {_COLS} FROM sar_reviews WHERE submitter = ? AND agency = ? ORDER BY received_at DESC, id LIMIT ?",
            (subject, agency, limit),
        ).fetchall()
        return [from_row(r) for r in rows]

    def overdue(self, now: datetime, limit: int) -> list[SarCase]:
        rows = self._x(
            f"SELECT {_COLS} FROM sar_reviews WHERE state IN ('SUBMITTED', 'ACCEPTED') AND breached = 0 "
            "AND due_at IS NOT NULL AND due_at < ? ORDER BY due_at, id LIMIT ?",
            (now.isoformat(), limit),
        ).fetchall()
        return [from_row(r) for r in rows]

    def since(self, start: datetime, limit: int) -> list[SarCase]:
        rows = self._x(
            f"SELECT {_COLS} FROM sar_reviews WHERE received_at >= ? ORDER BY received_at, id LIMIT ?",
            (start.isoformat(), limit),
        ).fetchall()
        return [from_row(r) for r in rows]

    def daily(self, audience: Audience | None, since: datetime) -> list[tuple[str, str, int]]:
        where, args = ("1=1", ()) if audience is None else full_sight(audience, self.contains)
        rows = self._x(
            f"SELECT behavior, substr(occurred_at, 1, 10) AS day, count(*) FROM sar_reviews "
            f"WHERE occurred_at >= ? AND {where} GROUP BY behavior, substr(occurred_at, 1, 10) ORDER BY 1, 2",
            (since.isoformat(), *args),
        ).fetchall()
        return [(str(b), str(d), int(n)) for b, d, n in rows]

    def add_patterns(self, patterns: Sequence[dict[str, Any]]) -> None:
        for p in patterns:
            at = p["detected_at"]
            self._x(
                "INSERT INTO sar_patterns (pattern_id, recipient_agency, kind, detected_at, body) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (pattern_id) DO UPDATE SET detected_at = excluded.detected_at, "
                "body = excluded.body",
                (p["pattern_id"], p["recipient_agency"], p["kind"], at.isoformat() if isinstance(at, datetime) else at,
                 orjson.dumps(p, default=str).decode()),
            )  # fmt: skip

    def patterns(self, agency: str, limit: int) -> list[dict[str, Any]]:
        rows = self._x(
            "SELECT body FROM sar_patterns WHERE recipient_agency = ? ORDER BY detected_at DESC, pattern_id LIMIT ?",
            (agency, limit),
        ).fetchall()
        return [orjson.loads(r[0]) for r in rows]

    def put_tlo(self, tlo: Tlo) -> None:
        cols = [f.name for f in dataclasses.fields(Tlo)]
        sets = ", ".join(f"{c} = excluded.{c}" for c in cols[1:])
        self._x(
            f"INSERT INTO tlos ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)}) "
            f"ON CONFLICT (subject) DO UPDATE SET {sets}",
            dataclasses.astuple(tlo),
        )

    def tlo(self, subject: str) -> Tlo | None:
        row = self._x(f"SELECT {_TLO} FROM tlos WHERE subject = ?", (subject,)).fetchone()
        return Tlo(*row) if row else None

    def tlos(self, agency: str | None, limit: int) -> list[Tlo]:
        where, args = ("agency = ?", (agency,)) if agency else ("1=1", ())
        rows = self._x(f"SELECT {_TLO} FROM tlos WHERE {where} ORDER BY agency, name, subject LIMIT ?",
                       (*args, limit)).fetchall()  # fmt: skip
        return [Tlo(*r) for r in rows]


class EmbeddedSarReviews(SqliteConnection, SqlSarReviews):
    def __init__(self, path: Path) -> None:
        self._open(path)
        self._setup()


class PostgresSarReviews(PostgresConnection, SqlSarReviews):
    def __init__(self, url: str) -> None:
        self._open(url)
        self._setup()
