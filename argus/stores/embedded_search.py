"""The embedded search store: SQLite FTS5 (BM25 ranking, snippets) over report documents."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import orjson

from argus.sqlite import connect
from argus.stores.search import Audience, SearchDoc, SearchStore, km_between, radius_bbox, recipients_column

_DDL = """
CREATE TABLE IF NOT EXISTS docs(rid INTEGER PRIMARY KEY, id TEXT UNIQUE NOT NULL, kind TEXT NOT NULL,
  agency TEXT NOT NULL, tlp TEXT NOT NULL, occurred_at TEXT NOT NULL, title TEXT NOT NULL,
  lat REAL, lon REAL, fields BLOB NOT NULL, version INTEGER NOT NULL DEFAULT 0, ci INTEGER NOT NULL DEFAULT 0,
  recipients TEXT NOT NULL DEFAULT '');
CREATE INDEX IF NOT EXISTS docs_agency ON docs(agency);
CREATE INDEX IF NOT EXISTS docs_time ON docs(occurred_at);
CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5(title, text, tokenize='unicode61');
"""


def _km(lat1: float | None, lon1: float | None, lat2: float, lon2: float) -> float | None:
    return None if lat1 is None or lon1 is None else km_between(lat1, lon1, lat2, lon2)


_TOKEN = re.compile(r"[\w-]+", re.UNICODE)


def fts_query(q: str) -> str:
    """User text to an FTS5 query: every word must match (prefix on the last); no syntax injection."""
    words = _TOKEN.findall(q)
    if not words:
        return ""
    quoted = ['"' + w.replace('"', "") + '"' for w in words]
    quoted[-1] += "*"
    return " AND ".join(quoted)


class EmbeddedSearchStore(SearchStore):
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._db = connect(self.path, autocommit=False, checkpoint_pages=10_000)
        self._db.executescript(_DDL)
        cols = {r[1] for r in self._db.execute("PRAGMA table_info(docs)")}
        for col in ("version", "ci"):  # a store written before documents carried these
            if col not in cols:
                self._db.execute(f"ALTER TABLE docs ADD COLUMN {col} INTEGER NOT NULL DEFAULT 0")
        if "recipients" not in cols:
            self._db.execute("ALTER TABLE docs ADD COLUMN recipients TEXT NOT NULL DEFAULT ''")
        self._db.create_function("km", 4, _km, deterministic=True)

    def upsert(self, docs: list[SearchDoc]) -> None:
        """Set-based: held versions read once per batch; new documents inserted with explicit
        row ids and their FTS rows in two executemany calls; replacements (never by an older
        version: a report is not rolled back) update in place."""
        db = self._db
        if not db.in_transaction:
            db.execute("BEGIN IMMEDIATE")  # held versions and the next row id read under the write lock
        latest: dict[str, SearchDoc] = {}
        for d in docs:
            latest[d["id"]] = d  # one batch may carry a document twice: the last one counts
        ids = list(latest)
        held: dict[str, tuple[int, int]] = {}
        for i in range(0, len(ids), 500):
            part = ids[i : i + 500]
            q = f"SELECT id, rid, version FROM docs WHERE id IN ({','.join('?' * len(part))})"
            for did, rid, version in db.execute(q, part):
                held[did] = (rid, version)
        next_rid = db.execute("SELECT COALESCE(MAX(rid), 0) FROM docs").fetchone()[0]
        new_rows, fts_rows, updates, stale = [], [], [], []
        for did, d in latest.items():
            values = (
                d["kind"],
                d["agency"],
                d["tlp"],
                d["occurred_at"],
                d["title"],
                d["lat"],
                d["lon"],
                orjson.dumps(d["fields"]),
                d["version"],
                1 if d["fields"].get("criminal_intelligence") else 0,
                recipients_column(d["fields"]),
            )
            if did in held:
                rid, version = held[did]
                if d["version"] < version:
                    continue
                updates.append((*values, did))
                stale.append((rid,))
            else:
                next_rid += 1
                rid = next_rid
                new_rows.append((rid, did, *values))
            fts_rows.append((rid, d["title"], d["text"]))
        db.executemany(
            "INSERT INTO docs(rid, id, kind, agency, tlp, occurred_at, title, lat, lon, fields, version, ci, "
            "recipients) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)",
            new_rows,
        )
        db.executemany(
            "UPDATE docs SET kind=?, agency=?, tlp=?, occurred_at=?, title=?, lat=?, lon=?, fields=?, version=?, "
            "ci=?, recipients=? WHERE id=?",
            updates,
        )
        db.executemany("DELETE FROM fts WHERE rowid=?", stale)
        db.executemany("INSERT INTO fts(rowid, title, text) VALUES(?,?,?)", fts_rows)

    def delete(self, ids: list[str]) -> None:
        for doc_id in ids:
            row = self._db.execute("DELETE FROM docs WHERE id=? RETURNING rid", (doc_id,)).fetchone()
            if row:
                self._db.execute("DELETE FROM fts WHERE rowid=?", (row[0],))

    def commit(self) -> None:
        self._db.commit()

    def search(
        self,
        query: str | None = None,
        *,
        kinds: list[str] | None = None,
        agencies: list[str] | None = None,
        tlps: list[str] | None = None,
        since: str | None = None,
        until: str | None = None,
        bbox: tuple[float, float, float, float] | None = None,
        near: tuple[float, float, float] | None = None,
        ids: list[str] | None = None,
        visible_to: Audience | None = None,
        limit: int = 20,
        offset: int = 0,
    ) -> dict[str, Any]:
        where: list[str] = []
        args: list[Any] = []
        match = fts_query(query) if query else ""
        if query and not match:
            return {"total": 0, "hits": []}
        for col, vals in (("kind", kinds), ("agency", agencies), ("tlp", tlps)):
            if vals:
                where.append(f"d.{col} IN ({','.join('?' * len(vals))})")
                args.extend(vals)
        if since:
            where.append("d.occurred_at >= ?")
            args.append(since)
        if until:
            where.append("d.occurred_at <= ?")
            args.append(until)
        if bbox:
            where.append("d.lat BETWEEN ? AND ? AND d.lon BETWEEN ? AND ?")
            args.extend([bbox[0], bbox[2], bbox[1], bbox[3]])
        if near:
            box = radius_bbox(*near)
            where.append("d.lat BETWEEN ? AND ? AND d.lon BETWEEN ? AND ? AND km(d.lat, d.lon, ?, ?) <= ?")
            args.extend([box[0], box[2], box[1], box[3], near[0], near[1], near[2]])
        if visible_to is not None:
            v = visible_to
            named = "".join(" OR instr(d.recipients, ?) > 0" for _ in v.principals)
            barred = f" AND (d.tlp = 'CLEAR' OR d.agency NOT IN ({','.join('?' * len(v.barred))}))" if v.barred else ""
            where.append(f"(d.agency = ? OR ((d.tlp != 'RED'{named}){barred}))")
            args.extend([v.agency, *(f" {p} " for p in v.principals), *v.barred])
            if not v.law_enforcement:
                where.append("d.ci = 0")
        if ids is not None:
            where.append(f"d.id IN ({','.join('?' * len(ids))})" if ids else "0")
            args.extend(ids)
        if match:
            base = "FROM fts JOIN docs d ON d.rid = fts.rowid WHERE fts MATCH ?"
            args = [match, *args]
            cols = (
                "d.id, d.kind, d.agency, d.tlp, d.occurred_at, d.title, d.lat, d.lon, d.fields, "
                "bm25(fts) AS score, snippet(fts, 1, '[', ']', '…', 12)"
            )
            order = "ORDER BY score"
        else:
            base = "FROM docs d WHERE 1=1"
            cols = "d.id, d.kind, d.agency, d.tlp, d.occurred_at, d.title, d.lat, d.lon, d.fields, 0, ''"
            order = "ORDER BY d.occurred_at DESC"
        cond = "".join(f" AND {w}" for w in where)
        total = self._db.execute(f"SELECT COUNT(*) {base}{cond}", args).fetchone()[0]
        rows = self._db.execute(
            f"SELECT {cols} {base}{cond} {order} LIMIT ? OFFSET ?", [*args, limit, offset]
        ).fetchall()
        hits = [
            {
                "id": r[0],
                "kind": r[1],
                "agency": r[2],
                "tlp": r[3],
                "occurred_at": r[4],
                "title": r[5],
                "lat": r[6],
                "lon": r[7],
                "fields": orjson.loads(r[8]),
                "score": -float(r[9]),
                "snippet": r[10],
            }
            for r in rows
        ]
        return {"total": total, "hits": hits}

    def get(self, doc_id: str) -> SearchDoc | None:
        r = self._db.execute(
            "SELECT d.id, d.kind, d.agency, d.tlp, d.occurred_at, d.title, fts.text, d.lat, d.lon, "
            "d.fields, d.version FROM docs d JOIN fts ON fts.rowid = d.rid WHERE d.id=?",
            (doc_id,),
        ).fetchone()
        if not r:
            return None
        return {
            "id": r[0],
            "kind": r[1],
            "agency": r[2],
            "tlp": r[3],
            "occurred_at": r[4],
            "title": r[5],
            "text": r[6],
            "lat": r[7],
            "lon": r[8],
            "fields": orjson.loads(r[9]),
            "version": r[10],
        }

    def count(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM docs").fetchone()[0]

    def close(self) -> None:
        self._db.commit()
        self._db.close()
