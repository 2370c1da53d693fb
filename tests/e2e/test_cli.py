from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import orjson

from argus.topology import load_topology
from tests.e2e.conftest import argus, make_workdir


def test_check_accepts_the_repository_topology(repo: Path) -> None:
    r = argus("check", "-t", str(repo / "topology.yaml"))
    assert r.returncode == 0 and "OK (" in r.stdout


def test_check_rejects_with_a_clear_message(tmp_path: Path, repo: Path) -> None:
    bad = tmp_path / "topology.yaml"
    bad.write_text(
        (repo / "topology.yaml")
        .read_text()
        .replace("include: [pipelines/fusion.yaml]", f"include: [{repo}/pipelines/fusion.yaml]")
        .replace("use: rms\n", "use: rms\n    colour: red\n", 1)
    )
    r = argus("check", "-t", str(bad))
    assert r.returncode == 2 and "nodes.rms.colour: unknown key" in r.stderr


def test_run_tail_and_dlq(tmp_path: Path) -> None:
    topo = make_workdir(tmp_path, background=40)
    cpu = tmp_path / "cpu.json"
    assert (
        argus("run", "--until-idle", "-t", str(topo), "--metrics-port", "0", "--cpu-report", str(cpu)).returncode == 0
    )
    used = orjson.loads(cpu.read_bytes())  # what each task cost (bench/kafka.py's ceiling)
    assert used["correlation"] > 0 and set(used) <= set(load_topology(topo, tmp_path / "data").nodes)
    (tmp_path / "inbox" / "cad" / "queries" / "q.jsonl").write_bytes(
        orjson.dumps(
            {
                "query_id": "Q-9",
                "agency": "CA0430000",
                "officer_id": "4471",
                "unit_id": "2A31",
                "plate": "8ABC123",
                "state": "CA",
                "issued_at": "2026-11-25T10:00:00Z",
            }
        )
        + b"\n"
    )
    r = argus("run", "--until-idle", "-t", str(topo), "--metrics-port", "0")
    assert r.returncode == 0, r.stderr
    t = argus("tail", "alerts", "-t", str(topo), "--from-start", "--no-follow", "--unit", "2A31")
    assert t.returncode == 0 and "QUERY_HIT" in t.stdout and "path:" in t.stdout
    j = argus("tail", "alerts", "-t", str(topo), "--from-start", "--no-follow", "--json", "--agency", "CA0430000")
    assert all(orjson.loads(line)["recipient_agency"] == "CA0430000" for line in j.stdout.splitlines())
    d = argus("dlq", "list", "-t", str(topo))
    assert "3 dead letter(s)" in d.stdout and "reason" in d.stdout  # a table, with its header
    listed = [orjson.loads(line) for line in argus("dlq", "list", "--json", "-t", str(topo)).stdout.splitlines()]
    assert len(listed) == 3 and any("unknown TLP marking" in x["reason"] for x in listed)
    out = tmp_path / "fix-me.jsonl"
    rp = argus("dlq", "replay", "-t", str(topo), "--out", str(out))
    assert rp.returncode == 0 and len(out.read_bytes().splitlines()) == 3


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


READY = (
    'argus_records_in_total{node="graph_sink",topic="resolved"}',
    "argus_batch_seconds_bucket",
    "argus_record_latency_seconds_bucket",
    'argus_commit_seconds_count{node="resolve_persons"}',
    'argus_consumer_lag_records{node="correlate_persons",topic="resolved"}',
)


def test_run_serves_prometheus_metrics(tmp_path: Path) -> None:
    topo = make_workdir(tmp_path, background=30)
    port = free_port()
    err = tmp_path / "stderr.log"
    p = subprocess.Popen(
        [sys.executable, "-m", "argus", "run", "-t", str(topo), "--metrics-port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=err.open("w"),
    )
    try:
        body = ""
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2).read().decode()
                # every series below, not just the first: histograms appear at a batch's end
                if all(m in body for m in READY):
                    break
            except OSError:
                pass
            time.sleep(0.2)
        assert 'argus_records_in_total{node="dedup",topic="rms.records"}' in body
        assert 'argus_records_out_total{node="resolve_places",topic="resolved"}' in body
        assert 'argus_dead_letters_total{node="rms"} 3.0' in body
        assert "argus_batch_seconds_bucket" in body and "argus_record_latency_seconds_bucket" in body
        assert 'argus_commit_seconds_count{node="resolve_persons"}' in body
        assert 'argus_consumer_lag_records{node="correlate_persons",topic="resolved"}' in body
        # one process runs every node as one task: each reported held, as many as planned
        planned = len(load_topology(topo).nodes)
        assert f"argus_tasks_planned {float(planned)}" in body
        assert body.count("argus_tasks_owned{") == planned and 'argus_tasks_owned{task="correlation"} 1.0' in body
        assert "SMITH" not in body and "8ABC123" not in body  # no personal data in metrics
        # The operator's look inside a running worker (ops/runbooks/crash-recovery.md).
        p.send_signal(signal.SIGUSR1)
        deadline = time.time() + 10
        while "in run_forever" not in err.read_text() and time.time() < deadline:
            time.sleep(0.1)
        assert 'File "' in err.read_text() and "in run_forever" in err.read_text()
        assert p.poll() is None  # and it runs on
        p.terminate()
        assert p.wait(10) == 0  # SIGTERM: a clean stop
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
