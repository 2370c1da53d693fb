"""The product store over SQL (argus/stores/sql.py): SQLite embedded, PostgreSQL as the server
backend. Each write is one statement; a save is conditional on the version read."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from argus.stores.product_rows import (
    COLUMNS,
    DELIVERIES,
    DELIVERY_COLUMNS,
    FEEDBACK,
    INDEXES,
    SCHEMA,
    from_row,
    to_row,
)
from argus.stores.products import Delivery, Feedback, LibraryQuery, ProductStore, StaleProduct
from argus.stores.search import Audience
from argus.stores.sql import PostgresConnection, SqliteConnection, full_sight
from argus.workflows.product_model import RELEASED, Product

_COLS = ", ".join(COLUMNS)
_MARKS = ", ".join("?" for _ in COLUMNS)
_SAVED = [c for c in COLUMNS if c not in ("id", "version")]
_DCOLS = ", ".join(DELIVERY_COLUMNS)
_WHEN = "COALESCE(published_at, created_at)"


def _t(d: datetime | None) -> str | None:
    return d.isoformat() if d is not None else None


def _delivery(r: Sequence[Any]) -> Delivery:
    d = dict(zip(DELIVERY_COLUMNS, r, strict=True))
    for k in ("at", "received_at", "read_at"):
        d[k] = datetime.fromisoformat(d[k]) if d[k] else None
    d["removed"] = int(d["removed"] or 0)
    return Delivery(**d)


class SqlProducts(ProductStore):
    contains: str

    def _x(self, sql: str, args: Sequence[Any] = ()) -> Any:
        raise NotImplementedError

    def _setup(self) -> None:
        for ddl in (SCHEMA, DELIVERIES, FEEDBACK, *INDEXES):
            self._x(ddl)

    def create(self, p: Product) -> bool:
        cur = self._x(f"INSERT INTO products ({_COLS}) VALUES ({_MARKS}) ON CONFLICT (id) DO NOTHING", to_row(p))
        return bool(cur.rowcount)

    def get(self, product_id: str) -> Product | None:
        row = self._x(f"SELECT {_COLS} FROM products WHERE id = ?", (product_id,)).fetchone()
        return from_row(row) if row else None

    def save(self, p: Product) -> Product:
        values = dict(zip(COLUMNS, to_row(p), strict=True))
        sets = ", ".join(f"{c} = ?" for c in _SAVED)
        cur = self._x(
            f"UPDATE products SET {sets}, version = version + 1 WHERE id = ? AND version = ?",
            (*(values[c] for c in _SAVED), p.id, p.version),
        )
        if not cur.rowcount:
            raise StaleProduct(f"product {p.id} was changed by someone else since it was read (v{p.version})")
        saved = self.get(p.id)
        assert saved is not None
        return saved

    def _sight(self, a: Audience | None) -> tuple[str, tuple[Any, ...]]:
        """Released and seen in full (LES, and what is not marked for private-sector partners, for
        law enforcement only), or the reader's own agency's."""
        if a is None:
            return "1=1", ()
        full, args = full_sight(a, self.contains)
        les = "1=1" if a.law_enforcement else "les = 0 AND psp = 1"
        released = ",".join(f"'{s}'" for s in RELEASED)
        return f"(agency = ? OR (state IN ({released}) AND {les} AND {full}))", (a.agency, *args)

    def library(self, audience: Audience | None, q: LibraryQuery) -> tuple[int, list[Product]]:
        where, args = self._sight(audience)
        conds, more = [where], list(args)
        for col, value in (("type", q.type), ("category", q.category), ("agency", q.agency)):
            if value:
                conds.append(f"{col} = ?")
                more.append(value)
        for col, value in (("text", q.text.lower()), ("lower(topic)", q.topic.lower())):
            if value:
                conds.append(self.contains.format(col=col))
                more.append(value)
        if q.since:
            conds.append(f"{_WHEN} >= ?")
            more.append(q.since)
        if q.until:
            conds.append(f"{_WHEN} < ?")
            more.append(q.until)
        if q.states:
            conds.append(f"state IN ({','.join('?' for _ in q.states)})")
            more += list(q.states)
        cond = " AND ".join(conds)
        total = self._x(f"SELECT count(*) FROM products WHERE {cond}", more).fetchone()[0]
        rows = self._x(
            f"SELECT {_COLS} FROM products WHERE {cond} ORDER BY {_WHEN} DESC, id LIMIT ?", (*more, q.limit)
        ).fetchall()
        return int(total), [from_row(r) for r in rows]

    def revisions(self, series: str) -> list[Product]:
        rows = self._x(f"SELECT {_COLS} FROM products WHERE series = ? ORDER BY revision", (series,)).fetchall()
        return [from_row(r) for r in rows]

    def deliver(self, rows: Sequence[Delivery]) -> None:
        marks = ", ".join("?" for _ in DELIVERY_COLUMNS)
        for d in rows:
            v = [getattr(d, c) for c in DELIVERY_COLUMNS]
            v = [_t(x) if isinstance(x, datetime) else x for x in v]
            self._x(
                f"INSERT INTO product_deliveries ({_DCOLS}) VALUES ({marks}) "
                "ON CONFLICT (product, recipient, channel) DO NOTHING",
                v,
            )

    def deliveries(self, product_id: str) -> list[Delivery]:
        rows = self._x(
            f"SELECT {_DCOLS} FROM product_deliveries WHERE product = ? ORDER BY status, agency, recipient, channel",
            (product_id,),
        ).fetchall()
        return [_delivery(r) for r in rows]

    def inbox(self, subject: str, limit: int) -> list[Delivery]:
        rows = self._x(
            f"SELECT {_DCOLS} FROM product_deliveries WHERE recipient = ? AND status = 'DELIVERED' "
            "ORDER BY at DESC, product LIMIT ?",
            (subject, limit),
        ).fetchall()
        return [_delivery(r) for r in rows]

    def mark(self, product_id: str, subject: str, what: str, at: datetime) -> bool:
        sets = "received_at = COALESCE(received_at, ?)"
        args: tuple[Any, ...] = (at.isoformat(),)
        if what == "read":
            sets += ", read_at = COALESCE(read_at, ?)"
            args += (at.isoformat(),)
        cur = self._x(
            f"UPDATE product_deliveries SET {sets} WHERE product = ? AND recipient = ? AND status = 'DELIVERED'",
            (*args, product_id, subject),
        )
        return bool(cur.rowcount)

    def put_feedback(self, f: Feedback) -> None:
        self._x(
            "INSERT INTO product_feedback (product, subject, agency, useful, actionable, outcome, comment, at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (product, subject) DO UPDATE SET useful = excluded.useful, "
            "actionable = excluded.actionable, outcome = excluded.outcome, comment = excluded.comment, "
            "at = excluded.at",
            (f.product, f.subject, f.agency, f.useful, int(f.actionable), f.outcome, f.comment, f.at.isoformat()),
        )

    def feedback(self, product_id: str) -> list[Feedback]:
        rows = self._x(
            "SELECT product, subject, agency, useful, actionable, outcome, comment, at FROM product_feedback "
            "WHERE product = ? ORDER BY at, subject",
            (product_id,),
        ).fetchall()
        return [
            Feedback(r[0], r[1], r[2], int(r[3]), bool(r[4]), r[5], r[6], datetime.fromisoformat(r[7])) for r in rows
        ]

    def production(self, since: datetime, agency: str | None = None) -> dict[str, Any]:
        s = since.isoformat()
        mine, of = ("agency = ?", (agency,)) if agency else ("1=1", ())
        theirs = f"product IN (SELECT id FROM products WHERE {mine})"
        made = self._x(
            f"SELECT type, agency, state, count(*) FROM products WHERE created_at >= ? AND {mine} "
            "GROUP BY type, agency, state ORDER BY 1, 2, 3",
            (s, *of),
        ).fetchall()
        times = self._x(
            f"SELECT COALESCE(requested_at, created_at), published_at FROM products WHERE published_at >= ? AND {mine}",
            (s, *of),
        ).fetchall()
        hours = [(datetime.fromisoformat(b) - datetime.fromisoformat(a)).total_seconds() / 3600 for a, b in times]
        sent = self._x(
            "SELECT channel, status, count(*), count(received_at), count(read_at) FROM product_deliveries "
            f"WHERE at >= ? AND {theirs} GROUP BY channel, status ORDER BY 1, 2",
            (s, *of),
        ).fetchall()
        fb = self._x(
            "SELECT outcome, count(*), sum(useful), sum(actionable) FROM product_feedback "
            f"WHERE at >= ? AND {theirs} GROUP BY outcome ORDER BY 1",
            (s, *of),
        ).fetchall()
        return {
            "products": [{"type": t, "agency": a, "state": st, "count": int(n)} for t, a, st, n in made],
            "publication_hours": {
                "count": len(hours),
                "sum": sum(hours),
                "median": statistics.median(hours) if hours else None,
            },
            "deliveries": [
                {"channel": c, "status": st, "count": int(n), "received": int(r), "read": int(rd)}
                for c, st, n, r, rd in sent
            ],
            "feedback": [
                {"outcome": o, "count": int(n), "useful_sum": int(u or 0), "actionable": int(a or 0)}
                for o, n, u, a in fb
            ],
        }


class EmbeddedProducts(SqliteConnection, SqlProducts):
    def __init__(self, path: Path) -> None:
        self._open(path)
        self._setup()


class PostgresProducts(PostgresConnection, SqlProducts):
    def __init__(self, url: str) -> None:
        self._open(url)
        self._setup()
