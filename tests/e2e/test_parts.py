"""Two processes sharing the embedded bus: `argus run --part alerts` (sources, resolution,
correlation) and `argus run --part stores` (the sinks and the analyses feeding only them). Each
runs only its own tasks, and the stores end equal to one process's run, though the stores'
process is SIGKILLed mid-stream and started again."""

from __future__ import annotations

import fcntl
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.e2e.conftest import argus, make_workdir, snapshot
from tests.e2e.test_crash import assert_same_stores, prepared, rows_in

pytestmark = pytest.mark.slow


def part(topo: Path, data: Path, which: str, *extra: str) -> list[str]:
    return ["run", "--part", which, "-t", str(topo), "--data-dir", str(data), "--metrics-port", "0", *extra]


def graph_sources(data: Path) -> int:
    return rows_in(data / "graph.db", "sources")


def topic_sizes(data: Path) -> dict[str, int]:
    with sqlite3.connect(f"file:{data / 'bus.db'}?mode=ro", uri=True, timeout=5) as db:
        return dict(db.execute("SELECT topic, COUNT(*) FROM log GROUP BY topic").fetchall())


def test_alerts_and_stores_in_two_processes(tmp_path: Path) -> None:
    topo, clean = prepared(tmp_path / "work", linear=False)
    data = tmp_path / "data"

    alerts = argus(*part(topo, data, "alerts", "--until-idle"))
    assert alerts.returncode == 0, alerts.stderr[-2000:]
    assert graph_sources(data) == 0 and not (data / "search.db").exists()  # no sink ran
    written = topic_sizes(data)
    assert written["resolved"] > 500 and written["alerts"] > 50
    assert written.get("risk.scores", 0) == written.get("ttp.matches", 0) == 0  # nor what feeds only stores

    total = clean["graph_counts"]["sources"]
    stores = subprocess.Popen(
        [sys.executable, "-m", "argus", *part(topo, data, "stores")], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.time() + 120
    while stores.poll() is None and graph_sources(data) < total // 3 and time.time() < deadline:
        time.sleep(0.005)
    assert stores.poll() is None, stores.stderr.read().decode()[-2000:] if stores.stderr else ""
    stores.send_signal(signal.SIGKILL)
    stores.wait()
    assert 0 < graph_sources(data) < total  # killed mid-stream

    again = argus(*part(topo, data, "stores", "--until-idle"))
    assert again.returncode == 0, again.stderr[-2000:]
    assert_same_stores(snapshot(topo, data), clean, exact_alerts=True)


def test_a_part_that_is_not_one_and_a_metrics_port_in_use_are_refused(tmp_path: Path) -> None:
    topo = make_workdir(tmp_path / "site", background=20)
    r = argus(*part(topo, tmp_path / "data", "graph"))
    assert r.returncode == 2 and "--part 'graph': one of all, alerts, stores" in r.stderr, r.stderr[-2000:]
    with socket.socket() as taken:  # the other process's /metrics
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        cmd = ["run", "--part", "stores", "-t", str(topo), "--data-dir", str(tmp_path / "data")]
        r = argus(*cmd, "--metrics-port", str(port), "--until-idle")
    assert r.returncode == 2, r.stderr[-2000:]
    assert f"--metrics-port {port} on 127.0.0.1" in r.stderr and "a port of its own" in r.stderr


def held(lock: Path) -> bool:
    """Whether another process holds the lock file (a try for it fails)."""
    if not lock.exists():
        return False
    with lock.open("a+") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(f, fcntl.LOCK_UN)
        return False


def test_a_second_argus_run_of_the_same_part_is_refused(tmp_path: Path) -> None:
    """The embedded bus has no owner for a task: two processes running it would process its
    records twice. One `argus run` per part; the other part runs beside it."""
    topo = make_workdir(tmp_path / "site", background=20)
    data = tmp_path / "data"
    stores = subprocess.Popen(
        [sys.executable, "-m", "argus", *part(topo, data, "stores")], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.time() + 60
        while not held(data / "bus.db.run-stores.lock") and time.time() < deadline:
            time.sleep(0.05)
        whole = argus(*part(topo, data, "all", "--until-idle"))
        assert whole.returncode == 2, whole.stderr[-2000:]
        assert "another `argus run` is running the stores part" in whole.stderr
        again = argus(*part(topo, data, "stores", "--until-idle"))
        assert again.returncode == 2 and "running the stores part" in again.stderr
        beside = argus(*part(topo, data, "alerts", "--until-idle"))
        assert beside.returncode == 0, beside.stderr[-2000:]
    finally:
        stores.send_signal(signal.SIGKILL)
        stores.wait()
    after = argus(*part(topo, data, "all", "--until-idle"))  # a killed process holds nothing
    assert after.returncode == 0, after.stderr[-2000:]
