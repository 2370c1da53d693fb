"""Kill the runtime with SIGKILL mid-stream, restart it, and find every record in every store
exactly once.

Two tiers. On a linear pipeline (one source, one partition per topic) processing order is fully
determined, so every store and every alert must equal an uninterrupted run's, exactly, whatever
the commit point the process died at. On the full topology a restart may interleave the sources
differently (correlation is order-sensitive by nature: an incident before or after the report
it touches), so there every store must still equal the uninterrupted run's and the alert topic
must hold no duplicates.
"""

from __future__ import annotations

import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from tests.e2e.conftest import argus, make_workdir, snapshot

pytestmark = pytest.mark.slow


def small_batches(topo: Path, linear: bool, commit_interval_ms: int | None = 0) -> None:
    """Many commits, so faults land mid-stream: every batch its own (unless an interval is
    given, or None for the bus's default: then a busy task gathers batches into one)."""
    doc = yaml.safe_load(topo.read_text())
    doc["commit_interval_ms"] = commit_interval_ms
    pipeline = yaml.safe_load(Path(doc.pop("include")[0]).read_text())
    doc["topics"] = pipeline["topics"]
    doc["nodes"].update(pipeline["nodes"])
    for node in doc["nodes"].values():
        node["batch_size"] = 64
    if linear:
        for t in doc["topics"].values():
            t["partitions"] = 1
    topo.write_text(yaml.safe_dump(doc))


def run(topo: Path, data: Path, fault: str | None = None) -> subprocess.CompletedProcess:
    return argus("run", "--until-idle", "-t", str(topo), "--data-dir", str(data), "--metrics-port", "0", fault=fault)


def prepared(root: Path, linear: bool) -> tuple[Path, dict]:
    topo = make_workdir(root, background=600, messiness=1.0 if linear else 0.0)
    if linear:
        for sub in ("rms_csv", "cad/incidents", "sar"):
            shutil.rmtree(root / "inbox" / sub)
            (root / "inbox" / sub).mkdir()
    small_batches(topo, linear)
    r = run(topo, root / "clean")
    assert r.returncode == 0, r.stderr[-2000:]
    clean = snapshot(topo, root / "clean")
    assert clean["graph_counts"]["sources"] > 1000 and len(clean["topics"]["alerts"]) > 50
    return topo, clean


@pytest.fixture(scope="module")
def linear(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    return prepared(tmp_path_factory.mktemp("linear"), linear=True)


@pytest.fixture(scope="module")
def full(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    return prepared(tmp_path_factory.mktemp("full"), linear=False)


def assert_same_stores(snap: dict, clean: dict, exact_alerts: bool) -> None:
    for topic, ids in snap["topics"].items():
        assert len(ids) == len(set(ids)), f"duplicates in {topic}"
        if topic != "alerts" or exact_alerts:
            assert ids == clean["topics"][topic], f"{topic} differs from the uninterrupted run"
    if exact_alerts:
        assert snap["alert_types"] == clean["alert_types"]
    assert snap["search_ids"] == clean["search_ids"]
    assert snap["search_fts_rows"] == len(clean["search_ids"])
    assert snap["graph_counts"] == clean["graph_counts"]
    assert snap["graph_clusters"] == clean["graph_clusters"]


FAULTS = [
    "rms:before_commit:2",  # a connector's records and its cursor
    "dedup:before_commit:3",  # outputs + dedup state + input offsets
    "resolve_persons:before_commit:4",  # each link of entity resolution's chain
    "resolve_vehicles:before_commit:3",
    "resolve_places:before_commit:4",
    "correlation:before_commit:3",  # alerts + correlation state
    "graph_sink:after_flush:2",  # graph writes durable, offsets not yet committed
    "search_sink:after_flush:3",
]


@pytest.mark.parametrize("fault", FAULTS)
def test_sigkill_at_each_commit_point_linear(linear, tmp_path: Path, fault: str) -> None:
    topo, clean = linear
    data = tmp_path / "data"
    crashed = run(topo, data, fault=fault)
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr[-2000:]
    done = run(topo, data)
    assert done.returncode == 0, done.stderr[-2000:]
    assert_same_stores(snapshot(topo, data), clean, exact_alerts=True)


@pytest.mark.parametrize("fault", ["dedup:before_commit:5", "correlation:before_commit:4", "graph_sink:after_flush:6"])
def test_sigkill_at_commit_points_full_topology(full, tmp_path: Path, fault: str) -> None:
    topo, clean = full
    data = tmp_path / "data"
    assert run(topo, data, fault=fault).returncode == -signal.SIGKILL
    assert run(topo, data).returncode == 0
    assert_same_stores(snapshot(topo, data), clean, exact_alerts=True)  # source order: one answer


def log_size(bus: Path) -> int:
    return rows_in(bus, "log")


def rows_in(db_file: Path, table: str) -> int:
    """Rows in a table of a SQLite file another process is writing (0 while it is not there yet)."""
    try:
        with sqlite3.connect(f"file:{db_file}?mode=ro", uri=True, timeout=1) as db:
            return db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
    except sqlite3.Error:
        return 0


@pytest.mark.parametrize("which", ["linear", "full"])
def test_sigkill_at_random_moments(request: pytest.FixtureRequest, tmp_path: Path, which: str) -> None:
    """SIGKILL from outside once the bus holds a random number of records (so always mid-stream),
    four times over, then let a run finish."""
    topo, clean = request.getfixturevalue(which)
    data = tmp_path / "data"
    total = sum(len(v) for v in clean["topics"].values())
    rng = random.Random(1234)
    cmd = [
        sys.executable,
        "-m",
        "argus",
        "run",
        "--until-idle",
        "-t",
        str(topo),
        "--data-dir",
        str(data),
        "--metrics-port",
        "0",
    ]
    kills = 0
    for round_ in range(4):
        target = int(total * (round_ + rng.random()) / 5)
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 60
        while p.poll() is None and log_size(data / "bus.db") < target and time.time() < deadline:
            time.sleep(0.005)
        if p.poll() is None:
            p.send_signal(signal.SIGKILL)
            kills += 1
        p.wait()
    assert kills >= 3
    assert run(topo, data).returncode == 0
    assert_same_stores(snapshot(topo, data), clean, exact_alerts=True)


def holding(topo: Path, interval_ms: int) -> Path:
    """The same topology, but a busy task gathers its batches into one commit for up to
    `interval_ms` (as on Kafka, where each commit is a transaction)."""
    doc = yaml.safe_load(topo.read_text())
    doc["commit_interval_ms"] = interval_ms
    held = topo.with_name(f"topology-held-{interval_ms}.yaml")
    held.write_text(yaml.safe_dump(doc))
    return held


def test_a_busy_task_gathers_batches_into_fewer_commits(linear, tmp_path: Path) -> None:
    from argus.runtime.core import Runtime
    from argus.topology import load_topology

    topo, clean = linear
    counts, batches = {}, {}
    for ms in (0, 60_000):
        commits: dict[str | None, int] = {}
        done: dict[str, int] = {}
        held = holding(topo, ms)
        doc = yaml.safe_load(held.read_text())
        for node in doc["nodes"].values():
            if not node.get("inputs"):
                node["batch_size"] = 5000  # the sources read all at once: the stages have a backlog
        for name in ("dedup", "resolve_persons", "resolve_vehicles", "resolve_places", "correlation"):
            # A source yields to field queries every 32 records: a stage reading 8 at a time has
            # input left after a batch whenever the source has written at all.
            doc["nodes"][name]["batch_size"] = 8
        held.write_text(yaml.safe_dump(doc))
        rt = Runtime(load_topology(held, tmp_path / str(ms))).open()
        assert rt.bus is not None
        real = rt.bus.commit

        def counted(c, real=real, commits=commits):  # type: ignore[no-untyped-def]
            node = next(iter(c.state), None)
            commits[node] = commits.get(node, 0) + 1
            return real(c)

        finish = rt._finish

        def batch(host, *a, finish=finish, done=done, **kw):  # type: ignore[no-untyped-def]
            done[host.name] = done.get(host.name, 0) + 1
            return finish(host, *a, **kw)

        rt.bus.commit = counted  # type: ignore[method-assign]
        rt._finish = batch  # type: ignore[method-assign]
        try:
            rt.run_until_idle()
        finally:
            rt.close()
        counts[ms], batches[ms] = commits, done
        assert_same_stores(snapshot(topo, tmp_path / str(ms)), clean, exact_alerts=True)
    # How often a stage catches up with its sources depends on scheduling, so the two runs'
    # commit counts are not comparable; within a run, batches against commits are.
    for node in ("dedup", "resolve_persons", "resolve_vehicles", "resolve_places", "correlation"):
        assert counts[0][node] >= batches[0][node] > 3, (node, counts, batches)  # each batch its own
        assert counts[60_000][node] < batches[60_000][node], (node, counts, batches)


@pytest.mark.parametrize(
    "fault", ["dedup:before_commit:1", "resolve_vehicles:before_commit:1", "correlation:before_commit:1"]
)
def test_sigkill_while_batches_are_held_redoes_them(linear, tmp_path: Path, fault: str) -> None:
    """Batches held for one commit die with the process; the restart redoes them from the
    committed offsets and the result is the uninterrupted run's, exactly."""
    topo, clean = linear
    held = holding(topo, 60_000)
    data = tmp_path / "data"
    crashed = run(held, data, fault=fault)
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr[-2000:]
    assert run(held, data).returncode == 0
    assert_same_stores(snapshot(topo, data), clean, exact_alerts=True)
