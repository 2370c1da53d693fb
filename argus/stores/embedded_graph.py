"""The embedded graph store: nodes and edges in SQLite, traversals by breadth-first search."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import orjson

from argus.sqlite import connect
from argus.stores.graph import GraphEdge, GraphNode, GraphStore, SourceRow, marks_json, settled, spellings
from argus.stores.spelling_tally import elected, held_tallies, tally_counter

_DDL = """
CREATE TABLE IF NOT EXISTS nodes(id TEXT PRIMARY KEY, kind TEXT NOT NULL, subtype TEXT NOT NULL,
  label TEXT NOT NULL, props BLOB NOT NULL, merged_into TEXT) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS edges(id TEXT PRIMARY KEY, src TEXT NOT NULL, dst TEXT NOT NULL,
  rel TEXT NOT NULL, props BLOB NOT NULL, src0 TEXT NOT NULL, dst0 TEXT NOT NULL, record_id TEXT) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS edges_src ON edges(src);
CREATE INDEX IF NOT EXISTS edges_dst ON edges(dst);
CREATE INDEX IF NOT EXISTS edges_record ON edges(record_id);
CREATE INDEX IF NOT EXISTS edges_rel ON edges(rel, id);
CREATE TABLE IF NOT EXISTS sources(entity0 TEXT NOT NULL, record_id TEXT NOT NULL, entity_id TEXT NOT NULL,
  agency TEXT NOT NULL, tlp TEXT NOT NULL, method TEXT NOT NULL, score REAL NOT NULL,
  reason TEXT NOT NULL, marks BLOB NOT NULL DEFAULT '{}', PRIMARY KEY(entity0, record_id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS sources_entity ON sources(entity_id);
CREATE INDEX IF NOT EXISTS sources_record ON sources(record_id);
CREATE TABLE IF NOT EXISTS merges(merged TEXT PRIMARY KEY, survivor TEXT NOT NULL,
  reason TEXT NOT NULL, score REAL NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS merges_survivor ON merges(survivor);
CREATE TABLE IF NOT EXISTS kept_apart(a TEXT NOT NULL, b TEXT NOT NULL, reason TEXT NOT NULL,
  PRIMARY KEY(a, b)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS spellings(entity0 TEXT PRIMARY KEY, counts BLOB NOT NULL) WITHOUT ROWID;
"""
# PRAGMA user_version: the table layout above. Layout 2 lacks the spelling tallies (argus.stores.graph.
# settled), which are counted from the sources when such a file is opened.
LAYOUT = 3


def _by(key: str, rows: list[Any]) -> list[Any]:
    return sorted(rows, key=lambda r: r[key])


class EmbeddedGraphStore(GraphStore):
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._db = connect(self.path, autocommit=False, checkpoint_pages=10_000)
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        has_tables = self._db.execute("SELECT COUNT(*) FROM sqlite_master WHERE name='nodes'").fetchone()[0]
        if has_tables and version not in (2, LAYOUT):
            raise RuntimeError(
                f"{self.path} was written by an older Argus (graph layout {version}, this one reads {LAYOUT}); "
                "the graph is derived data: delete the file and replay the resolved topic to rebuild it"
            )
        self._db.executescript(_DDL)
        if "marks" not in {r[1] for r in self._db.execute("PRAGMA table_info(sources)")}:
            self._db.execute("ALTER TABLE sources ADD COLUMN marks BLOB NOT NULL DEFAULT '{}'")
        self._seen_version = -1
        # Written since the last commit: each node as the sink wrote it, and those whose tally
        # shows they already hold what their sources say (the common case: a mention spelled
        # as before), which the commit need not settle.
        self._written: dict[str, GraphNode] = {}
        self._fresh: set[str] = set()
        self._dirty: set[str] = set()
        self._tallied: set[str] = set()  # entities whose tally changed since the last commit
        self.refresh()
        if has_tables and version == 2:
            rows = self._db.execute("SELECT entity0, marks FROM sources").fetchall()
            self._count([(e0, sp, 1) for e0, m in rows for sp in spellings(orjson.loads(m))])
        self._db.execute(f"PRAGMA user_version={LAYOUT}")
        self._db.commit()

    def refresh(self) -> None:
        """Another process (the sink) may have merged or split entities since we last looked."""
        version = self._db.execute("PRAGMA data_version").fetchone()[0]
        if version != self._seen_version:
            self._seen_version = version
            self._alias: dict[str, str] = dict(self._db.execute("SELECT merged, survivor FROM merges"))
            self._apart: set[tuple[str, str]] = set(self._db.execute("SELECT a, b FROM kept_apart"))

    def canonical(self, node_id: str) -> str:
        seen = 0
        while node_id in self._alias and seen < 64:
            node_id = self._alias[node_id]
            seen += 1
        return node_id

    def upsert_nodes(self, nodes: list[GraphNode]) -> None:
        # A node can arrive after its merge: the sink reads the resolved topic's partitions in
        # whatever order they come, and the report that merged an entity may be read before the
        # one that first named it. It is then born merged, as if it had been there first.
        alias = self._alias
        for n in nodes:
            i = n["id"]
            self._fresh.discard(i)
            if i not in self._written:
                self._written[i] = n  # what a new node holds, until its tally says otherwise
            elif i not in self._tallied:
                self._dirty.add(i)  # rewritten before any source spoke of it: settle it
                self._written[i] = n
        # An entity keeps the label and attributes its sources elect (settled at commit); an
        # EVENT, which is its record, and a node no source has spoken of are rewritten.
        self._db.executemany(
            "INSERT INTO nodes(id, kind, subtype, label, props, merged_into) VALUES(?,?,?,?,?,?) "
            "ON CONFLICT(id) DO UPDATE SET kind=excluded.kind, subtype=excluded.subtype, "
            "label=CASE WHEN excluded.kind='EVENT' OR NOT EXISTS(SELECT 1 FROM spellings WHERE entity0=excluded.id) "
            "THEN excluded.label ELSE nodes.label END, "
            "props=CASE WHEN excluded.kind='EVENT' OR NOT EXISTS(SELECT 1 FROM spellings WHERE entity0=excluded.id) "
            "THEN excluded.props ELSE nodes.props END",
            # In key order (a stable sort: of two writes to one id the later still wins): the
            # B-tree is walked once left to right instead of at random.
            [
                (n["id"], n["kind"], n["subtype"], n["label"], orjson.dumps(n["props"]), alias.get(n["id"]))
                for n in _by("id", nodes)
            ],
        )

    def upsert_edges(self, edges: list[GraphEdge]) -> None:
        self._db.executemany(
            "INSERT INTO edges(id, src, dst, rel, props, src0, dst0, record_id) VALUES(?,?,?,?,?,?,?,?) "
            "ON CONFLICT(id) DO UPDATE SET src=excluded.src, dst=excluded.dst, rel=excluded.rel, "
            "props=excluded.props, src0=excluded.src0, dst0=excluded.dst0, record_id=excluded.record_id",
            [
                (
                    e["id"],
                    self.canonical(e["src"]),
                    self.canonical(e["dst"]),
                    e["rel"],
                    orjson.dumps(e["props"]),
                    e["src"],
                    e["dst"],
                    e["props"].get("record_id"),
                )
                for e in _by("id", edges)
            ],
        )

    def add_sources(self, rows: list[SourceRow]) -> None:
        """Each (entity, record) once, the last written winning; the spelling tallies move from
        what a replaced row said to what the new one says, so a replay counts nothing twice."""
        latest = {(r["entity_id"], r["record_id"]): r for r in rows}
        keys = sorted(latest)
        # An EVENT is its record: its label is never elected, so its mentions are not counted.
        counted = [k for k in keys if self._written.get(k[0], {}).get("kind") != "EVENT"]  # type: ignore[call-overload]
        deltas = [(k[0], sp, 1) for k in counted for sp in spellings(latest[k])]
        for i in range(0, len(keys), 400):
            chunk = keys[i : i + 400]
            pairs = ",".join("(?,?)" for _ in chunk)
            for e0, marks in self._db.execute(  # a primary-key lookup per key (an IN over row values scans)
                f"WITH k(e, r) AS (VALUES {pairs}) SELECT s.entity0, s.marks FROM k "
                "JOIN sources s ON s.entity0 = k.e AND s.record_id = k.r",
                [x for k in chunk for x in k],
            ):
                deltas += [(e0, sp, -1) for sp in spellings(orjson.loads(marks))]
        self._db.executemany(
            "INSERT INTO sources(entity0, record_id, entity_id, agency, tlp, method, score, reason, marks) "
            "VALUES(?,?,?,?,?,?,?,?,?) ON CONFLICT(entity0, record_id) DO UPDATE SET entity_id=excluded.entity_id, "
            "agency=excluded.agency, tlp=excluded.tlp, method=excluded.method, "
            "score=excluded.score, reason=excluded.reason, marks=excluded.marks",
            [
                (
                    r["entity_id"],
                    r["record_id"],
                    self.canonical(r["entity_id"]),
                    r["agency"],
                    r["tlp"],
                    r["method"],
                    r["score"],
                    r["reason"],
                    marks_json(r),
                )
                for r in (latest[k] for k in keys)
            ],
        )
        self._count(deltas)

    def _count(self, deltas: list[tuple[str, tuple[str, str], int]]) -> None:
        """Apply spelling deltas to each entity's tally (one row per entity id as first written,
        so merges and splits move nothing). A spelling no source writes any more is dropped, not
        kept at 0: a purged record leaves no word behind."""
        by: dict[str, dict[str, int]] = {}
        for e0, (field, value), d in deltas:
            key = f"{field}\x1f{value}"
            counts = by.setdefault(e0, {})
            counts[key] = counts.get(key, 0) + d
        held = held_tallies(self._db, sorted(by))
        self._tallied.update(by)
        rows, gone = [], []
        joined = set(self._alias) | set(self._alias.values())
        for e0, change in sorted(by.items()):
            before = held.get(e0, {})
            counts = dict(before)
            for k, d in change.items():
                counts[k] = counts.get(k, 0) + d
            kept = {k: n for k, n in counts.items() if n > 0}
            if e0 not in joined and e0 not in self._dirty and self._holds(e0, before, kept):
                self._fresh.add(e0)  # it holds what its sources say: nothing to settle at commit
            else:
                self._fresh.discard(e0)
                self._dirty.add(e0)  # to be settled at commit, whatever comes before then
            if kept:
                rows.append((e0, orjson.dumps(kept, option=orjson.OPT_SORT_KEYS)))
            else:
                gone.append((e0,))
        self._db.executemany("INSERT OR REPLACE INTO spellings(entity0, counts) VALUES(?,?)", rows)
        self._db.executemany("DELETE FROM spellings WHERE entity0=?", gone)

    def _holds(self, e0: str, before: dict[str, int], after: dict[str, int]) -> bool:
        """Whether an entity standing alone (no merge) already holds what `after` elects: a node
        new since the last commit holds the one mention written; one settled before holds what
        `before` elected, so an unchanged election leaves it right."""
        if before:
            return elected(before) == elected(after)
        first = self._written.get(e0)
        return first is not None and settled(first, tally_counter(after)) is None

    def _tallies(self, ids: list[str]) -> dict[str, Counter[tuple[str, str]]]:
        """Each entity's spelling tally, over every id merged into it."""
        owner = {e0: i for i in ids for e0 in self._subtree(i)}
        out: dict[str, Counter[tuple[str, str]]] = {i: Counter() for i in ids}
        for e0, counts in held_tallies(self._db, sorted(owner)).items():
            out[owner[e0]].update(tally_counter(counts))
        return out

    def merge(self, survivor: str, merged: str, reason: str, score: float) -> None:
        survivor = self.canonical(survivor)
        if survivor == merged or self.kept_apart(survivor, merged):
            return
        self._dirty.update((survivor, merged))  # the survivor's tally now adds up over a subtree
        self._fresh.difference_update((survivor, merged))
        db = self._db
        db.execute(
            "INSERT OR REPLACE INTO merges(merged, survivor, reason, score) VALUES(?,?,?,?)",
            (merged, survivor, reason, score),
        )
        db.execute("UPDATE nodes SET merged_into=? WHERE id=?", (survivor, merged))
        db.execute("UPDATE edges SET src=? WHERE src=?", (survivor, merged))
        db.execute("UPDATE edges SET dst=? WHERE dst=?", (survivor, merged))
        db.execute("UPDATE sources SET entity_id=? WHERE entity_id=?", (survivor, merged))
        self._alias[merged] = survivor

    def unmerge(self, merged: str) -> bool:
        if merged not in self._alias:
            return False
        sides = (merged, self.canonical(merged))
        self._dirty.update(sides)
        self._fresh.difference_update(sides)
        self.settle(list(sides))  # each side now elected by its own sources
        moved = self._subtree(merged)
        del self._alias[merged]
        db = self._db
        db.execute("DELETE FROM merges WHERE merged=?", (merged,))
        db.execute("UPDATE nodes SET merged_into=NULL WHERE id=?", (merged,))
        for i in range(0, len(moved), 400):
            chunk = moved[i : i + 400]
            marks = ",".join("?" * len(chunk))
            db.execute(f"UPDATE edges SET src=? WHERE src0 IN ({marks})", [merged, *chunk])
            db.execute(f"UPDATE edges SET dst=? WHERE dst0 IN ({marks})", [merged, *chunk])
            db.execute(f"UPDATE sources SET entity_id=? WHERE entity0 IN ({marks})", [merged, *chunk])
        return True

    def keep_apart(self, a: str, b: str, reason: str) -> None:
        pair = (min(a, b), max(a, b))
        self._db.execute("INSERT OR IGNORE INTO kept_apart(a, b, reason) VALUES(?,?,?)", (*pair, reason))
        self._apart.add(pair)

    def kept_apart(self, a: str, b: str) -> bool:
        return (min(a, b), max(a, b)) in self._apart

    def delete_record(self, record_id: str) -> None:
        db = self._db
        db.execute("DELETE FROM edges WHERE record_id=?", (record_id,))
        gone = db.execute("DELETE FROM sources WHERE record_id=? RETURNING entity_id, entity0, marks", (record_id,))
        gone = gone.fetchall()
        self._count([(e0, sp, -1) for _, e0, m in gone for sp in spellings(orjson.loads(m))])
        touched = [r[0] for r in gone]
        for eid in dict.fromkeys(touched):
            if db.execute("SELECT 1 FROM sources WHERE entity_id=? LIMIT 1", (eid,)).fetchone():
                self.settle([eid])
                continue
            for n in self._subtree(eid):
                db.execute("DELETE FROM nodes WHERE id=?", (n,))
                db.execute("DELETE FROM merges WHERE merged=?", (n,))
                self._alias.pop(n, None)
            db.execute("DELETE FROM edges WHERE src=? OR dst=?", (eid, eid))

    def begin(self) -> None:
        if not self._db.in_transaction:
            self._db.execute("BEGIN IMMEDIATE")  # the write lock first, then what others merged
        self.refresh()

    def commit(self) -> None:
        # Each settled as the entity it is now part of: a merged id's tally counts in its survivor's
        ids = sorted({self.canonical(i) for i in self.take_unsettled() if i not in self._fresh})
        self._fresh, self._dirty, self._tallied, self._written = set(), set(), set(), {}
        if ids:
            counts, nodes = self._tallies(ids), self.nodes_of(ids)
            rows = [(i, settled(n, counts[i])) for i, n in nodes.items()]
            self._db.executemany(
                "UPDATE nodes SET label=?, props=? WHERE id=?",
                [(s[0], orjson.dumps(s[1]), i) for i, s in rows if s is not None],
            )
        self._db.commit()

    def _row(self, row: tuple[Any, ...]) -> GraphNode:
        return {"id": row[0], "kind": row[1], "subtype": row[2], "label": row[3], "props": orjson.loads(row[4])}

    def node(self, node_id: str) -> GraphNode | None:
        row = self._db.execute(
            "SELECT id, kind, subtype, label, props FROM nodes WHERE id=?", (self.canonical(node_id),)
        ).fetchone()
        return self._row(row) if row else None

    def nodes_of(self, ids: list[str]) -> dict[str, GraphNode]:
        out: dict[str, GraphNode] = {}
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            for row in self._db.execute(
                f"SELECT id, kind, subtype, label, props FROM nodes WHERE id IN ({','.join('?' * len(chunk))})", chunk
            ):
                out[row[0]] = self._row(row)
        return out

    def edges_of(self, ids: list[str], limit: int | None = None) -> list[GraphEdge]:
        # With a limit each chunk returns its first `limit` by id, so a dense node's links are
        # cut in SQL; the global first `limit` are among them.
        tail = "" if limit is None else f" ORDER BY id LIMIT {int(limit)}"
        out: dict[str, GraphEdge] = {}
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            marks = ",".join("?" * len(chunk))
            for eid, src, dst, rel, props in self._db.execute(
                f"SELECT id, src, dst, rel, props FROM edges WHERE src IN ({marks}) "
                f"UNION SELECT id, src, dst, rel, props FROM edges WHERE dst IN ({marks}){tail}",
                chunk + chunk,
            ):
                out[eid] = {"id": eid, "src": src, "dst": dst, "rel": rel, "props": orjson.loads(props)}
        if limit is None:
            return list(out.values())
        return [out[k] for k in sorted(out)[:limit]]

    def edges_by_rel(self, rel: str, limit: int) -> list[GraphEdge]:
        rows = self._db.execute(
            "SELECT id, src, dst, rel, props FROM edges WHERE rel=? ORDER BY id LIMIT ?", (rel, int(limit))
        )
        return [{"id": i, "src": a, "dst": b, "rel": r, "props": orjson.loads(x)} for i, a, b, r, x in rows]

    def sources(self, entity_id: str) -> list[SourceRow]:
        rows = self._db.execute(
            "SELECT entity_id, record_id, agency, tlp, method, score, reason, marks FROM sources "
            "WHERE entity_id=? ORDER BY record_id, entity0",
            (self.canonical(entity_id),),
        )
        return [_source(r) for r in rows]

    def sources_for(self, entity_ids: list[str]) -> dict[str, list[SourceRow]]:
        out: dict[str, list[SourceRow]] = {}
        for i in range(0, len(entity_ids), 500):
            chunk = entity_ids[i : i + 500]
            for r in self._db.execute(
                "SELECT entity_id, record_id, agency, tlp, method, score, reason, marks FROM sources "
                f"WHERE entity_id IN ({','.join('?' * len(chunk))}) ORDER BY record_id, entity0",
                chunk,
            ):
                out.setdefault(r[0], []).append(_source(r))
        return out

    def merges(self, entity_id: str) -> list[dict[str, Any]]:
        rows = self._db.execute(
            "SELECT merged, survivor, reason, score FROM merges WHERE survivor=?", (self.canonical(entity_id),)
        )
        return [{"merged": m, "survivor": s, "reason": r, "score": sc} for m, s, r, sc in rows]

    def counts(self) -> dict[str, int]:
        q = self._db.execute
        return {
            "nodes": q("SELECT COUNT(*) FROM nodes WHERE merged_into IS NULL").fetchone()[0],
            "merged_nodes": q("SELECT COUNT(*) FROM nodes WHERE merged_into IS NOT NULL").fetchone()[0],
            "edges": q("SELECT COUNT(*) FROM edges").fetchone()[0],
            "sources": q("SELECT COUNT(*) FROM sources").fetchone()[0],
        }

    def close(self) -> None:
        self._db.commit()
        self._db.close()


def _source(r: tuple[Any, ...]) -> SourceRow:
    return {
        "entity_id": r[0],
        "record_id": r[1],
        "agency": r[2],
        "tlp": r[3],
        "method": r[4],
        "score": r[5],
        "reason": r[6],
        **orjson.loads(r[7]),
    }
