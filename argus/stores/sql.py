"""One SQL text for SQLite (embedded) and PostgreSQL (the server backend) behind the workflow
stores: `?` placeholders, and each dialect's substring test for the policy's pushed-down filters."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from argus.security.policy import Marking
from argus.stores.search import Audience

# A marking as columns beside a row, as `full_sight` reads them (lists space-delimited, so a
# whole name matches as " name ").
MARKS = "agency TEXT, tlp TEXT, ci INTEGER, nfd INTEGER, handling TEXT, cases TEXT, recipients TEXT"


def marks_of(m: Marking) -> tuple[Any, ...]:
    spaced = lambda xs: f" {' '.join(xs)} " if xs else ""  # noqa: E731
    return (m.agency, m.tlp, int(m.ci), int("NO_FURTHER_DISSEMINATION" in m.handling), spaced(m.handling),
            spaced(m.cases), spaced(m.recipients))  # fmt: skip


def marking_of(row: Sequence[Any]) -> Marking:
    a, t, ci, _nfd, h, c, r = row
    return Marking(a, t, bool(ci), tuple(h.split()), tuple(c.split()), tuple(r.split()))


class SqliteConnection:
    contains = "instr({col}, ?) > 0"

    def _open(self, path: Path) -> None:
        from argus.sqlite import connect

        self.db = connect(Path(path))

    def _x(self, sql: str, args: Sequence[Any] = ()) -> Any:
        return self.db.execute(sql, tuple(args))

    def close(self) -> None:
        self.db.close()


class PostgresConnection:
    """`postgresql://user:password@host:port/db` (libpq's URL; pip install -e '.[postgres]')."""

    contains = "strpos({col}, ?) > 0"

    def _open(self, url: str) -> None:
        import psycopg

        self.db = psycopg.connect(url, autocommit=True)

    def _x(self, sql: str, args: Sequence[Any] = ()) -> Any:
        return self.db.execute(sql.replace("?", "%s"), tuple(args))  # type: ignore[arg-type]

    def close(self) -> None:
        self.db.close()


def full_sight(a: Audience, contains: str) -> tuple[str, tuple[Any, ...]]:
    """The one policy's FULL level as SQL over sar_reviews (argus.security.policy.decide): own
    agency, CLEAR, or allowed by the owner and named, GREEN or case-member AMBER without a
    NO_FURTHER_DISSEMINATION caveat; criminal intelligence for law enforcement only.
    `contains(col, ?)` is the dialect's substring test."""
    named = "(" + (" OR ".join(contains.format(col="recipients") for _ in a.principals) or "0=1") + ")"
    case = "(" + (" OR ".join(contains.format(col="cases") for _ in a.cases) or "0=1") + ")"
    allowed = f"(agency NOT IN ({','.join('?' * len(a.barred))}))" if a.barred else "1=1"
    ci = "1=1" if a.ci_ok else "ci = 0"
    sql = (
        f"({ci} AND (agency = ? OR tlp = 'CLEAR' OR ({allowed} AND ({named} OR "
        f"(nfd = 0 AND (tlp = 'GREEN' OR (tlp = 'AMBER' AND {case})))))))"
    )
    return sql, (a.agency, *a.barred, *(f" {p} " for p in a.principals), *(f" {c} " for c in a.cases))
