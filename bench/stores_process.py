"""The bench's stores in a process of their own (`argus run --part stores`: the sinks and the
analyses feeding only them), as an operator runs it beside `argus run --part alerts`. The run is
timed until that process has caught up: each of its nodes' committed offsets at the end of its
inputs."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

from argus.runtime.assignment import part_of
from argus.runtime.core import Runtime
from bench.kafka_group import peak_rss_mb, run_argus


class StoresProcess:
    def __init__(self, topo_path: Path, log: Path) -> None:
        self.log = log
        args = ["run", "--part", "stores", "-t", str(topo_path), "--metrics-port", "0", "--log-level", "WARNING"]
        with log.open("wb") as err:
            self.proc = run_argus(*args, url=None, stdout=subprocess.DEVNULL, stderr=err)

    def lag(self, rt: Runtime) -> int:
        """What the stores' part has yet to commit, as the alerts' process sees the shared bus."""
        bus = rt.bus
        assert bus is not None
        bus.refresh()
        nodes = [(n, m) for n, m in rt.topo.nodes.items() if part_of(rt.topo, n) == "stores"]
        ends = [(n, t, p) for n, m in nodes for t in m.inputs for p in range(bus.partitions(t))]
        return sum(bus.end_offset(t, p) - bus.committed(n, t, p) for n, t, p in ends)

    def wait_caught_up(self, rt: Runtime, timeout: float = 3600) -> None:
        deadline = time.monotonic() + timeout
        while self.lag(rt) > 0:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"the stores' process ended ({self.proc.returncode}): {self.log.read_text()[-2000:]}"
                )
            if time.monotonic() > deadline:
                raise TimeoutError(f"the stores' process did not catch up in {timeout:.0f} s")
            time.sleep(0.05)

    def peak_rss_mb(self) -> float | None:
        return peak_rss_mb(self.proc.pid)

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
