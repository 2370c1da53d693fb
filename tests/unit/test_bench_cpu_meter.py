"""The bench's CpuMeter: it says where a run's CPU went, so it must put a process's CPU on that
process's group and not on another's."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bench import CpuMeter

pytestmark = pytest.mark.skipif(not Path("/proc/stat").exists(), reason="CpuMeter reads Linux's /proc")

SPIN = "import time\nt = time.process_time()\nwhile time.process_time() - t < {secs}: pass\nprint('done', flush=True)\n"


def test_each_group_is_charged_its_own_processes_cpu() -> None:
    busy = subprocess.Popen([sys.executable, "-c", SPIN.format(secs=0.8)], stdout=subprocess.PIPE)
    idle = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    try:
        meter = CpuMeter()
        meter.watch("busy", busy.pid)
        meter.watch("idle", idle.pid)
        meter.start()
        assert busy.stdout is not None
        assert busy.stdout.readline() == b"done\n"  # it has spun 0.8 CPU-s and not yet exited
        got = meter.stop()
    finally:
        busy.wait(10)
        idle.communicate(b"", timeout=10)
    assert 0.5 <= got["cpu_s"]["busy"] <= 1.2, got  # start-up is before start(); clock ticks are 10 ms
    assert got["cpu_s"]["idle"] <= 0.1, got
    assert got["cores"] >= 1 and 0 < got["machine_busy_pct"] <= 100, got
    assert got["wall_s"] >= 0.4, got


def test_a_process_that_is_gone_counts_nothing_more() -> None:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    meter = CpuMeter()
    meter.watch("gone", p.pid)
    meter.start()
    p.wait(10)
    got = meter.stop(reaped=0.5)  # a group measured otherwise (a reaped child's rusage)
    assert got["cpu_s"]["gone"] == 0.0, got  # its /proc entry went with it: nothing, never less
    assert got["cpu_s"]["reaped"] == 0.5, got


def test_task_cpu_sums_a_groups_workers_and_bounds_it_by_its_largest_task(tmp_path: Path) -> None:
    """bench/kafka.py's ceiling: a task moved between workers is one task (its CPU summed), and
    the group can go no faster than its largest task alone."""
    from bench.kafka_group import task_cpu

    (tmp_path / "w0.json").write_text('{"correlation": 3.0, "dedup#0": 1.0}')
    (tmp_path / "w1.json").write_text('{"correlation": 1.0, "dedup#1": 1.0, "graph_sink#0": 2.0}')
    got = task_cpu([tmp_path / "w0.json", tmp_path / "w1.json"], top=2)
    assert got["total_s"] == 8.0 and got["ceiling"] == 2.0
    assert got["largest"] == {"correlation": {"s": 4.0, "share": 0.5}, "graph_sink#0": {"s": 2.0, "share": 0.25}}
