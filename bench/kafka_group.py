"""The Kafka bench's group runs: `argus run` workers in one group on a real broker, timed until
every node has caught up, with where the tasks' CPU went and each worker's peak memory."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson

from argus.backends import bus_url_for
from argus.topology import load_topology
from bench import CpuMeter


def run_argus(*args: str, url: str | None, **kw: Any) -> subprocess.Popen:
    env = dict(os.environ, ARGUS_BUS=url or "")
    return subprocess.Popen([sys.executable, "-m", "argus", *args], env=env, **kw)


def bench_bus(url: str, role: str) -> Any:
    """A client of the bench's own on the group's bus (a transactional id of its own)."""
    from argus.bus.kafka import KafkaBus

    return KafkaBus(bus_url_for(url, role))


def ends(bus: Any, topic: str) -> int:
    """The sum of a topic's partition ends: at least its records (commit markers count too)."""
    try:
        return sum(bus.end_offset(topic, p) for p in range(bus.partitions(topic)))
    except KeyError:  # not created yet
        return 0


def count(bus: Any, topic: str) -> int:
    return int(bus.size(topic))


def peak_rss_mb(pid: int) -> float | None:
    """A live process's peak resident set so far (the kernel's high-water mark), in MB."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    kib = next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:")), None)
    return round(kib / 1024, 1) if kib is not None else None


def group_run(
    topo_path: Path, root: Path, url: str, workers: int, reports: int, logs: Path, broker_pid: int
) -> tuple[float, dict[str, Any], list[float | None]]:
    """Seconds until the group has caught up, where the CPU went meanwhile (CpuMeter), and each
    worker's peak resident set (read before it is stopped)."""
    from argus.runtime.worker import status

    topo = load_topology(topo_path, root / f"k{workers}")
    t0 = time.perf_counter()
    procs = [
        run_argus(
            "run",
            "-t",
            str(topo_path),
            "--data-dir",
            str(root / f"k{workers}"),
            "--metrics-port",
            "0",
            "--cpu-report",
            str(root / f"k{workers}-cpu-{i}.json"),
            url=url,
            stdout=(logs / f"w{workers}-{i}.log").open("w"),
            stderr=subprocess.STDOUT,
        )
        for i in range(workers)
    ]
    meter = CpuMeter()
    meter.watch("workers", *(p.pid for p in procs))
    meter.watch("broker", broker_pid)
    meter.watch("bench", os.getpid())
    meter.start()
    bus = bench_bus(url, "bench")
    try:
        # Partition ends only, until every report can have been resolved: status() reads every
        # node's committed offsets and a record of each input partition, ~0.1 CPU-s of the
        # bench's and more of the broker's each time; polled every 0.5 s from the start it took
        # 10-13 CPU-s of a 40-50 s run, on the two cores the group it measured was using.
        while ends(bus, "resolved") < reports:
            time.sleep(0.25)
        while True:
            st = status(bus, topo)  # type: ignore[arg-type]
            if sum(st["lag"].values()) == 0 and len(st["workers"]) == workers:
                elapsed = time.perf_counter() - t0
                if count(bus, "resolved") >= reports:
                    return elapsed, meter.stop(), [peak_rss_mb(p.pid) for p in procs]
            time.sleep(0.5)
    finally:
        bus.close()
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            p.wait(120)


def task_cpu(reports: list[Path], top: int = 8) -> dict[str, Any]:
    """Where the tasks' CPU went (`argus run --cpu-report`, summed over a group's workers), and
    what that bounds: a task runs in one process, so however many workers and cores a group has,
    it cannot go faster than its largest task alone: at most `ceiling` (all tasks' CPU over the
    largest's) times as fast as one core doing every task. Not counted: the Kafka client's
    threads, start-up."""
    used: dict[str, float] = {}
    for path in reports:
        for task, s in orjson.loads(path.read_bytes()).items():
            used[task] = used.get(task, 0.0) + s
    total = sum(used.values())
    ranked = sorted(used.items(), key=lambda kv: -kv[1])
    return {
        "total_s": round(total, 1),
        "largest": {t: {"s": round(s, 2), "share": round(s / total, 3)} for t, s in ranked[:top]},
        "ceiling": round(total / ranked[0][1], 2) if ranked and ranked[0][1] else None,
    }
