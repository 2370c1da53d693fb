from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from argus.backends import read_topic
from argus.demo import prepare, write_inbox
from argus.runtime.core import Runtime
from argus.topology import load_topology


def make_workdir(path: Path, background: int = 300, messiness: float = 1.0) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    write_inbox(path, datetime.now(UTC).replace(microsecond=0), background, messiness)
    return prepare(path)


def workdir_without_queries(tmp_path: Path, background: int = 200) -> Path:
    """A demo workdir whose field-query inbox is empty: the only query is the test's own."""
    topo = make_workdir(tmp_path / "work", background=background)
    for f in (tmp_path / "work" / "inbox" / "cad" / "queries").iterdir():
        f.unlink()
    return topo


def quiet_run(topo: Path, data_dir: Path, node: str) -> tuple[dict, set[str], int]:
    """A run without the test's query, to compare with: `node`'s state, the alert ids, and how
    many records reached `resolved`."""
    with Runtime(load_topology(topo, data_dir)) as rt:
        rt.run_until_idle()
        assert rt.bus is not None
        alerts = {r.value["envelope"]["id"] for r in rt.read_topic("alerts")}
        return rt.bus.load_state(node), alerts, len(rt.read_topic("resolved"))


FAULTY = Path(__file__).resolve().parent.parent / "faulty.py"


def argus(
    *args: str, env: dict[str, str] | None = None, timeout: float = 600, fault: str | None = None, **kw
) -> subprocess.CompletedProcess:
    """The `argus` command; with `fault` (NODE:PHASE:N), SIGKILLed there (tests/faulty.py)."""
    full_env = dict(os.environ, **(env or {}))
    cmd = [sys.executable, str(FAULTY), fault] if fault else [sys.executable, "-m", "argus"]
    return subprocess.run([*cmd, *args], capture_output=True, text=True, env=full_env, timeout=timeout, **kw)


def snapshot(topology: Path, data_dir: Path) -> dict:
    """Everything every store holds, in a form that does not depend on processing order:
    which records each store has (and how often), and how mentions cluster into entities."""
    topo = load_topology(topology, data_dir)
    with Runtime(topo) as rt:
        bus = rt.bus
        topics = {}
        for t in topo.topics:
            recs = read_topic(bus, rt.schemas, t, rt._topic_schema[t])
            ids = [
                r.value["envelope"]["id"]
                if "envelope" in r.value
                else r.value.get("id") or r.value.get("purge_id") or r.value["decision_id"]
                for r in recs
            ]
            topics[t] = sorted(ids)
        alerts = read_topic(bus, rt.schemas, "alerts")
        g = rt._store("graph")
        rows = g._db.execute("SELECT entity_id, record_id FROM sources").fetchall()
        clusters: dict[str, set[str]] = {}
        for eid, rid in rows:
            clusters.setdefault(eid, set()).add(rid)
        s = rt._store("search")
        return {
            "topics": topics,
            "alert_types": sorted((a.body["alert_type"], a.body["recipient_agency"]) for a in alerts),
            "graph_counts": g.counts(),
            "graph_clusters": sorted(sorted(c) for c in clusters.values()),
            "search_ids": sorted(r[0] for r in s._db.execute("SELECT id FROM docs")),
            "search_fts_rows": s._db.execute("SELECT COUNT(*) FROM fts").fetchone()[0],
        }
