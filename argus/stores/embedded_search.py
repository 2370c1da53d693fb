"""The embedded search store: SQLite FTS5 (BM25 ranking, snippets) over report documents."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import orjson

from argus.sqlite import connect
from argus.stores.search import (
    WHOLE_KINDS,
    Audience,
    SearchDoc,
    SearchStore,
    km_between,
    no_further,
    radius_bbox,
    recipients_column,
)

_DDL = """
CREATE TABLE IF NOT EXISTS docs(rid INTEGER PRIMARY KEY, id TEXT UNIQUE NOT NULL, kind TEXT NOT NULL,
  agency TEXT NOT NULL, tlp TEXT NOT NULL, occurred_at TEXT NOT NULL, title TEXT NOT NULL,
  lat REAL, lon REAL, fields BLOB NOT NULL, version INTEGER NOT NULL DEFAULT 0, ci INTEGER NOT NULL DEFAULT 0,
  recipients TEXT NOT NULL DEFAULT '');
CREATE INDEX IF NOT EXISTS docs_agency ON docs(agency);
CREATE INDEX IF NOT EXISTS docs_time ON docs(occurred_at);
CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5(title, text, tokenize='unicode61');
CREATE VIRTUAL TABLE IF NOT EXISTS fts_amber USING fts5(title, amber, tokenize='unicode61');
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


_COLS = "d.id, d.kind, d.agency, d.tlp, d.occurred_at, d.title, d.lat, d.lon, d.fields"


def _hit(r: tuple[Any, ...]) -> dict[str, Any]:
    return {
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


Cond = tuple[str, tuple[Any, ...]]  # an SQL condition over `docs d` and its arguments


class Views:
    """The one policy as SQL over `docs d` for one audience (argus.stores.search.Audience): what
    the reader may see at all (`visible`), in full (`full`) and redacted by the AMBER view
    (`amber`); existence-only documents are the visible rest."""

    def __init__(self, audience: Audience | None) -> None:
        self.audience = audience
        if audience is None:
            self.visible: Cond = ("1", ())
            self.full: Cond = ("1", ())
            self.amber: Cond = ("0", ())
            return
        a = audience
        named = "(" + (" OR ".join("instr(d.recipients, ?) > 0" for _ in a.principals) or "0") + ")"
        case = "(" + (" OR ".join("instr(d.cases, ?) > 0" for _ in a.cases) or "0") + ")"
        allowed = f"(d.agency NOT IN ({','.join('?' * len(a.barred))}))" if a.barred else "1"
        ci = "1" if a.ci_ok else "d.ci = 0"
        whole = ",".join(f"'{k}'" for k in WHOLE_KINDS)
        p = tuple(f" {x} " for x in a.principals)
        c = tuple(f" {x} " for x in a.cases)
        self.full = (
            f"({ci} AND (d.agency = ? OR d.tlp = 'CLEAR' OR ({allowed} AND ({named} OR "
            f"(d.nfd = 0 AND (d.tlp = 'GREEN' OR (d.tlp = 'AMBER' AND {case})))))))",
            (a.agency, *a.barred, *p, *c),
        )
        partial = (
            f"{ci} AND d.kind NOT IN ({whole}) AND d.agency != ? AND d.tlp NOT IN ('CLEAR', 'RED') "
            f"AND {allowed} AND NOT {named}"
        )
        partial_args = (a.agency, *a.barred, *p)
        self.amber = (f"({partial} AND d.nfd = 0 AND d.tlp = 'AMBER' AND NOT {case})", (*partial_args, *c))
        existence = (f"({partial} AND (d.nfd = 1 OR d.tlp = 'AMBER_STRICT'))", partial_args)
        self.visible = either(self.full, self.amber, existence)


def either(*conds: Cond) -> Cond:
    return "(" + " OR ".join(c[0] for c in conds) + ")", tuple(x for c in conds for x in c[1])


def _conditions(
    v: Views,
    kinds: list[str] | None,
    agencies: list[str] | None,
    tlps: list[str] | None,
    offenses: list[str] | None,
    behaviors: list[str] | None,
    since: str | None,
    until: str | None,
    bbox: tuple[float, float, float, float] | None,
    near: tuple[float, float, float] | None,
    ids: list[str] | None,
) -> list[Cond]:
    """A search's filters as SQL, each on what the reader may see of a document (`v`)."""
    conds: list[Cond] = [v.visible]
    for col, vals in (("kind", kinds), ("agency", agencies), ("tlp", tlps)):
        if vals:
            conds.append((f"d.{col} IN ({','.join('?' * len(vals))})", tuple(vals)))
    if since or until or offenses or behaviors:  # dates, offenses, behaviour: the full and AMBER views
        conds.append(either(v.full, v.amber))
    if offenses:
        marks = ",".join("?" * len(offenses))
        conds.append((f"EXISTS (SELECT 1 FROM json_each(d.fields, '$.offenses') WHERE value IN ({marks}))",
                      tuple(offenses)))  # fmt: skip
    if behaviors:
        conds.append((f"json_extract(d.fields, '$.behavior') IN ({','.join('?' * len(behaviors))})", tuple(behaviors)))
    if since:
        conds.append(("d.occurred_at >= ?", (since,)))
    if until:
        conds.append(("d.occurred_at <= ?", (until,)))
    if bbox or near:  # places: only what the reader sees in full
        conds.append(v.full)
    if bbox:
        conds.append(("d.lat BETWEEN ? AND ? AND d.lon BETWEEN ? AND ?", (bbox[0], bbox[2], bbox[1], bbox[3])))
    if near:
        box = radius_bbox(*near)
        conds.append(
            (
                "d.lat BETWEEN ? AND ? AND d.lon BETWEEN ? AND ? AND km(d.lat, d.lon, ?, ?) <= ?",
                (box[0], box[2], box[1], box[3], near[0], near[1], near[2]),
            )
        )
    if ids is not None:
        conds.append((f"d.id IN ({','.join('?' * len(ids))})" if ids else "0", tuple(ids)))
    return conds


class EmbeddedSearchStore(SearchStore):
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._db = connect(self.path, autocommit=False, checkpoint_pages=10_000)
        self._db.executescript(_DDL)
        cols = {r[1] for r in self._db.execute("PRAGMA table_info(docs)")}
        for col in ("version", "ci"):  # a store written before documents carried these
            if col not in cols:
                self._db.execute(f"ALTER TABLE docs ADD COLUMN {col} INTEGER NOT NULL DEFAULT 0")
        for col in ("recipients", "cases"):
            if col not in cols:
                self._db.execute(f"ALTER TABLE docs ADD COLUMN {col} TEXT NOT NULL DEFAULT ''")
        if "nfd" not in cols:  # documents written before: taken as caveated until rewritten
            self._db.execute("ALTER TABLE docs ADD COLUMN nfd INTEGER NOT NULL DEFAULT 1")
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
        new_rows, fts_rows, amber_rows, updates, stale = [], [], [], [], []
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
                recipients_column(d["fields"], "cases"),
                1 if no_further(d["fields"]) else 0,
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
            amber_rows.append((rid, d["title"], d.get("amber_text", "")))
        db.executemany(
            "INSERT INTO docs(rid, id, kind, agency, tlp, occurred_at, title, lat, lon, fields, version, ci, "
            "recipients, cases, nfd) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            new_rows,
        )
        db.executemany(
            "UPDATE docs SET kind=?, agency=?, tlp=?, occurred_at=?, title=?, lat=?, lon=?, fields=?, version=?, "
            "ci=?, recipients=?, cases=?, nfd=? WHERE id=?",
            updates,
        )
        db.executemany("DELETE FROM fts WHERE rowid=?", stale)
        db.executemany("DELETE FROM fts_amber WHERE rowid=?", stale)
        db.executemany("INSERT INTO fts(rowid, title, text) VALUES(?,?,?)", fts_rows)
        db.executemany("INSERT INTO fts_amber(rowid, title, amber) VALUES(?,?,?)", amber_rows)

    def delete(self, ids: list[str]) -> None:
        for doc_id in ids:
            row = self._db.execute("DELETE FROM docs WHERE id=? RETURNING rid", (doc_id,)).fetchone()
            if row:
                self._db.execute("DELETE FROM fts WHERE rowid=?", (row[0],))
                self._db.execute("DELETE FROM fts_amber WHERE rowid=?", (row[0],))

    def commit(self) -> None:
        self._db.commit()

    def search(
        self,
        query: str | None = None,
        *,
        kinds: list[str] | None = None,
        agencies: list[str] | None = None,
        tlps: list[str] | None = None,
        offenses: list[str] | None = None,
        behaviors: list[str] | None = None,
        since: str | None = None,
        until: str | None = None,
        bbox: tuple[float, float, float, float] | None = None,
        near: tuple[float, float, float] | None = None,
        ids: list[str] | None = None,
        visible_to: Audience | None = None,
        limit: int = 20,
        offset: int = 0,
    ) -> dict[str, Any]:
        match = fts_query(query) if query else ""
        if query and not match:
            return {"total": 0, "hits": []}
        v = Views(visible_to)
        conds = _conditions(v, kinds, agencies, tlps, offenses, behaviors, since, until, bbox, near, ids)
        cond = " AND ".join(c[0] for c in conds), tuple(x for c in conds for x in c[1])
        if match:
            return self._matching(match, v, cond, limit, offset)
        total = self._db.execute(f"SELECT COUNT(*) FROM docs d WHERE {cond[0]}", cond[1]).fetchone()[0]
        # the date orders only what the reader may see it of; the rest follows by id
        dated = either(v.full, v.amber)
        rows = self._db.execute(
            f"SELECT {_COLS}, 0, '' FROM docs d WHERE {cond[0]} "
            f"ORDER BY CASE WHEN {dated[0]} THEN d.occurred_at ELSE '' END DESC, d.id LIMIT ? OFFSET ?",
            [*cond[1], *dated[1], limit, offset],
        ).fetchall()
        return {"total": total, "hits": [_hit(r) for r in rows]}

    def _matching(self, match: str, v: Views, cond: Cond, limit: int, offset: int) -> dict[str, Any]:
        """Words match the whole text of what the reader sees in full and only the AMBER text
        of what they see redacted; existence-only documents match no words at all."""
        full = (
            f"SELECT {_COLS}, bm25(fts) AS score, snippet(fts, 1, '[', ']', '…', 12) FROM fts "
            f"JOIN docs d ON d.rid = fts.rowid WHERE fts MATCH ? AND {v.full[0]} AND {cond[0]}"
        )
        args: list[Any] = [match, *v.full[1], *cond[1]]
        if v.audience is not None:
            full += (
                f" UNION ALL SELECT {_COLS}, bm25(fts_amber) AS score, '' FROM fts_amber "
                f"JOIN docs d ON d.rid = fts_amber.rowid WHERE fts_amber MATCH ? AND {v.amber[0]} AND {cond[0]}"
            )
            args += [match, *v.amber[1], *cond[1]]
        total = self._db.execute(f"SELECT COUNT(*) FROM ({full})", args).fetchone()[0]
        rows = self._db.execute(f"SELECT * FROM ({full}) ORDER BY score, 1 LIMIT ? OFFSET ?", [*args, limit, offset])
        return {"total": total, "hits": [_hit(r) for r in rows.fetchall()]}

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
