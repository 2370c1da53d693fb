"""The bench's sinks in a process of their own (`argus run --part sinks`), as an operator runs
them beside `argus run --part pipeline`. The run is timed until the sinks have caught up: every
sink's committed offset at the end of its inputs."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

from argus.registry import node_class, role_of
from argus.runtime.core import Runtime


class SinkProcess:
    def __init__(self, topo_path: Path, log: Path) -> None:
        self.log = log
        cmd = [sys.executable, "-m", "argus", "run", "--part", "sinks", "-t", str(topo_path), "--metrics-port", "0"]
        with log.open("wb") as err:
            self.proc = subprocess.Popen([*cmd, "--log-level", "WARNING"], stdout=subprocess.DEVNULL, stderr=err)

    def lag(self, rt: Runtime) -> int:
        """What the sinks have yet to commit, as the pipeline's process sees the shared bus."""
        bus = rt.bus
        assert bus is not None
        bus.refresh()
        sinks = [(n, m) for n, m in rt.topo.nodes.items() if role_of(node_class(m.use)) == "sink"]
        return sum(
            bus.end_offset(t, p) - bus.committed(n, t, p)
            for n, m in sinks
            for t in m.inputs
            for p in range(bus.partitions(t))
        )

    def wait_caught_up(self, rt: Runtime, timeout: float = 3600) -> None:
        deadline = time.monotonic() + timeout
        while self.lag(rt) > 0:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the sinks' process ended ({self.proc.returncode}): {self.log.read_text()[-2000:]}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"the sinks did not catch up in {timeout:.0f} s")
            time.sleep(0.05)

    def peak_rss_mb(self) -> float | None:
        """The process's peak resident set (VmHWM), read while it runs."""
        try:
            for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
        except OSError:
            pass
        return None

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
