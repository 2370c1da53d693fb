"""The bulk STIX import path leaves the STIX, graph and search stores holding what the streaming
pipeline leaves for the same bundle (same objects and versions, nodes, edges, sources, documents);
rejects are reported, not dropped; a second import is all duplicates."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import orjson

from argus.backends import open_store
from argus.runtime.core import Runtime
from argus.testing import frozen_clock
from argus.topology import load_topology
from pipelines.stix_bulk import bulk_import, objects_of
from tests.e2e.conftest import make_workdir

BUNDLE = Path(__file__).parents[1] / "data" / "stix" / "all-types.json"
PARTNER = "USDHS0000"
VOLATILE = {"ingested_at", "trace_id", "updated", "updated_at", "added", "seq", "rid", "first_seen", "last_seen"}


def dump(stores: dict[str, Any], stix_ids: set[str]) -> dict[str, Any]:
    def rows(db: Any, sql: str) -> list[dict[str, Any]]:
        cur = db.execute(sql)
        names = [d[0] for d in cur.description]
        out = []
        for r in cur.fetchall():
            d = {k: v for k, v in zip(names, r, strict=True) if k not in VOLATILE}
            out.append(d)
        return sorted(out, key=lambda d: repr(sorted(d.items())))

    g, s, x = stores["graph"]._db, stores["search"]._db, stores["stix"]._db
    ids = ",".join(f"'{i}'" for i in stix_ids)
    return {
        "nodes": rows(g, f"SELECT * FROM nodes WHERE id IN ({ids})"),
        "edges": rows(g, f"SELECT * FROM edges WHERE src IN ({ids}) OR dst IN ({ids})"),
        "sources": rows(g, f"SELECT * FROM sources WHERE entity_id IN ({ids})"),
        "docs": rows(s, "SELECT * FROM docs WHERE kind = 'stix'"),
        "objects": rows(x, "SELECT * FROM objects"),
    }


def test_bulk_import_equals_the_streaming_pipeline(tmp_path: Path) -> None:
    topo_path = make_workdir(tmp_path / "stream", background=0)
    shutil.copy(BUNDLE, tmp_path / "stream" / "inbox" / "stix" / "partner.json")
    topo = load_topology(topo_path)
    with Runtime(topo, clock=frozen_clock()).open() as rt:
        rt.run_until_idle()
        for _ in range(200):
            if rt.sinks_idle():
                break
    streamed = {k: open_store(topo, k) for k in ("stix", "graph", "search")}

    bulk_topo = load_topology(topo_path, tmp_path / "bulk")
    bulk = {k: open_store(bulk_topo, k) for k in ("stix", "graph", "search")}
    objs = objects_of(BUNDLE.read_bytes())
    res = bulk_import(objs, bulk, agency=PARTNER, source="stix", clock=frozen_clock())
    assert res.rejected == [] and res.added + res.history == len(objs)
    ids = {o["id"] for o in objs}
    a, b = dump(streamed, ids), dump(bulk, ids)
    assert a["nodes"] and a["edges"] and a["docs"] and a["objects"]
    for k in a:
        assert a[k] == b[k], k

    again = bulk_import(objs, bulk, agency=PARTNER, source="stix")
    assert again.added == 0 and again.duplicates == len(objs) - res.history and again.history == res.history


def test_bad_objects_are_rejected_with_their_reason(tmp_path: Path) -> None:
    topo = load_topology(make_workdir(tmp_path, background=0))
    stores = {"stix": open_store(topo, "stix")}
    good = objects_of(BUNDLE.read_bytes())[:5]
    ind = next(o for o in objects_of(BUNDLE.read_bytes()) if o["type"] == "indicator")
    bad = [
        {**ind, "pattern": None},
        {**ind, "modified": "last tuesday"},
        {"type": "ipv4-addr", "spec_version": "2.1", "id": "ipv4-addr--11111111-1111-5111-8111-111111111111",
         "value": "10.0.0.1"},
        "not an object",
    ]  # fmt: skip
    res = bulk_import([*good, *bad], stores, agency=PARTNER)
    problems = [r["problem"] for r in res.rejected]
    assert len(problems) == 4 and res.added == 5
    assert "'pattern' is missing" in problems[0] and "not a STIX timestamp" in problems[1]
    assert "deterministic" in problems[2] and "JSON object" in problems[3]


def test_shared_among_processes_equals_one_process(tmp_path: Path) -> None:
    """`argus stix import --processes 3` (forked processes, each object's versions in one of
    them) leaves the stores as one process does, and TAXII's date_added still rises with the
    store's sequence, whoever wrote each row."""
    import subprocess
    import sys

    topo_path = make_workdir(tmp_path / "multi", background=0)
    r = subprocess.run(
        [sys.executable, "-m", "argus", "stix", "import", str(BUNDLE), "--agency", PARTNER, "--by", "t",
         "--processes", "3", "-t", str(topo_path)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "3 processes" in r.stdout, r.stdout
    multi = {k: open_store(load_topology(topo_path), k) for k in ("stix", "graph", "search")}

    one_topo = load_topology(topo_path, tmp_path / "one")
    one = {k: open_store(one_topo, k) for k in ("stix", "graph", "search")}
    objs = objects_of(BUNDLE.read_bytes())
    res = bulk_import(objs, one, agency=PARTNER, source="stix_import")
    assert res.processes == 1
    ids = {o["id"] for o in objs}
    a, b = dump(one, ids), dump(multi, ids)
    unmodified = {o["id"] for o in objs if "modified" not in o}  # SCOs, marking-definitions
    sco_docs = {d["id"] for d in a["docs"] if orjson.loads(d["fields"])["source_id"] in unmodified}
    assert 0 < len(sco_docs) < len(a["docs"])
    for k in a:
        for row in a[k] + b[k]:
            row.pop("occurred_at", None)  # without `modified`, this and the document's version are when it was ingested
            if k == "docs" and row["id"] in sco_docs:
                row.pop("version")
        key = lambda d: repr(sorted(d.items()))  # noqa: E731
        for x, y in zip(sorted(a[k], key=key), sorted(b[k], key=key), strict=True):
            assert x == y, (k, {f: (x[f], y.get(f)) for f in x if x[f] != y.get(f)})
    added = [r[0] for r in multi["stix"]._db.execute("SELECT added FROM objects ORDER BY seq")]
    assert added == sorted(added) and len(set(added)) == len(added)
    for s in [*multi.values(), *one.values()]:
        s.close()
