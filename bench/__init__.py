"""Speed targets, measured against baselines in the same run (`python -m bench`)."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from argus.synthetic import Generator


def generator(n: int, seed: int) -> Generator:
    """The synthetic holdings every bench draws from, sized for `n` records."""
    return Generator(
        seed=seed,
        persons=max(50, n // 5),
        vehicles=max(40, n // 7),
        places=max(20, n // 12),
        anchor=datetime.now(UTC).replace(microsecond=0),
    )


def cpu_calibration() -> float:
    """Seconds for a fixed pure-Python loop. This machine's speed changes by half from one hour
    to the next (one embedded run: 23-25 s, then 37 s, same code); printed beside a benchmark's
    figures so runs taken on different days or hours can be told apart. Ratios within one run
    are what compare."""
    t = time.perf_counter()
    s = 0
    for i in range(5_000_000):
        s += i
    return round(time.perf_counter() - t, 3)


def quantile(ordered: list[float], f: float) -> float:
    """The value at fraction `f` of `ordered` (sorted, not empty): p99 of 100 values is the last."""
    return ordered[min(len(ordered) - 1, int(len(ordered) * f))]


def report(checks: list[tuple[str, float, float, str]], digits: int = 1) -> None:
    """One line per target: MET or MISS, what was measured, what was asked."""
    for name, got, want, op in checks:
        ok: Any = got >= want if op == ">=" else got <= want
        print(f"{'MET ' if ok else 'MISS'} {name}: {got:,.{digits}f} (target {op} {want:,})")


_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _proc_cpu(pid: int) -> float:
    """CPU seconds (user + system) a live process has used; 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK


def _machine() -> tuple[float, float, float]:
    """(busy, idle, stolen) CPU seconds of the whole machine since boot, every core summed."""
    t = [int(x) / _TICK for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle, steal = t[3] + t[4], t[7] if len(t) > 7 else 0.0
    return sum(t[:8]) - idle - steal, idle, steal


class CpuMeter:
    """Where a run's CPU went: seconds used by each named group of processes and by the whole
    machine between `start()` and `stop()`. A throughput ratio alone cannot say what bounds a run;
    when the machine's cores are busy for the whole run (with the broker's JVM among them), the
    bound is the machine, and a faster worker would only take CPU from the broker. Linux /proc
    only (elsewhere the figures are empty). `everything_else` (the machine's busy time less the
    groups') can come out a little below zero on a virtual machine: time the hypervisor stole
    while a process ran is charged to that process but counted as stolen, not busy, machine-wide."""

    def __init__(self) -> None:
        self.pids: dict[str, list[int]] = {}
        self._t0 = 0.0
        self._m0 = (0.0, 0.0, 0.0)
        self._p0: dict[int, float] = {}
        self.result: dict[str, Any] = {}

    def watch(self, name: str, *pids: int) -> None:
        """Charge these processes' CPU to `name` (call before start())."""
        self.pids.setdefault(name, []).extend(pids)

    def start(self) -> None:
        self._t0, self._m0 = time.perf_counter(), _machine() if Path("/proc/stat").exists() else (0.0, 0.0, 0.0)
        self._p0 = {pid: _proc_cpu(pid) for pids in self.pids.values() for pid in pids}

    def stop(self, **reaped: float) -> dict[str, Any]:
        """Read the counters (before the watched processes are stopped) and return the figures;
        `reaped` adds groups measured otherwise (a child already waited for: its rusage)."""
        if not Path("/proc/stat").exists():
            return {}
        wall = time.perf_counter() - self._t0
        busy, idle, steal = (a - b for a, b in zip(_machine(), self._m0, strict=True))
        cores = os.cpu_count() or 1
        groups = {
            # a process gone before stop() adds nothing (its counters went with it), never less
            name: round(sum(max(0.0, _proc_cpu(p) - self._p0.get(p, 0.0)) for p in pids), 1)
            for name, pids in self.pids.items()
        } | {name: round(v, 1) for name, v in reaped.items()}
        self.result = {
            "wall_s": round(wall, 1),
            "cores": cores,
            "cpu_s": {**groups, "everything_else": round(busy - sum(groups.values()), 1)},
            "machine_busy_pct": round(100 * busy / max(1e-9, busy + idle + steal), 1),
            "stolen_pct": round(100 * steal / max(1e-9, busy + idle + steal), 1),
        }
        return self.result
