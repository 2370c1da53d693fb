"""Field queries written from a process of their own, as `argus api` writes an officer's query:
its own connection to the bus, so the pipeline sees the write only through the bus file and the
write waits on the pipeline's commits the way another process's does.
`python -m bench pipeline --queries-from process` uses it; run here as the child:
`python -m bench.field_process TOPOLOGY PLATES_JSON RATE START_AFTER SENT_FILE`."""

from __future__ import annotations

import itertools
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from argus.backends import open_bus, prepare_bus
from argus.bus.base import Commit
from argus.contracts import Context
from argus.schemas import default_schemas
from argus.state import NodeState
from argus.topology import load_topology
from connectors.cad import CadConfig, build_query


class ProcessTerminal:
    """The in-process terminal's interface (start, stop, join, sent) over a child process that
    publishes plate queries at `rate`/s; `sent` (record id -> arrival time) is read back at join."""

    def __init__(self, topology: Path, plates: list[tuple[str, str]], rate: float, start_after: float) -> None:
        self.args = [str(topology), orjson.dumps(plates).decode(), str(rate), str(start_after)]
        self.file = topology.parent / "field-process-sent.jsonl"
        self.stop = threading.Event()  # the in-process terminal's; join() stops the child
        self.sent: dict[str, float] = {}
        self.write_ms: list[float] = []  # each query's commit, from the child's side
        self.child: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.file.unlink(missing_ok=True)
        self.child = subprocess.Popen([sys.executable, "-m", "bench.field_process", *self.args, str(self.file)])

    def join(self) -> None:
        assert self.child is not None
        self.child.send_signal(signal.SIGTERM)
        if self.child.wait(30) != 0:
            raise RuntimeError(f"the field-query process exited with {self.child.returncode}")
        if not self.file.exists():
            return  # stopped before its first query (a run shorter than start_after)
        for line in self.file.read_bytes().splitlines():
            rid, at, wrote = orjson.loads(line)
            self.sent[rid] = at
            self.write_ms.append(wrote)


def publish_queries(topology: Path, plates: list[list[str]], rate: float, start_after: float, out: Path) -> None:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())  # first: a stop while the bus opens is a stop
    topo = load_topology(topology)
    bus = open_bus(topo, role="bench-field")
    schemas = default_schemas()
    schema = prepare_bus(topo, bus, schemas)["cad.queries"]
    cfg = CadConfig(path="-")
    ctx = Context("bench_terminal", NodeState())
    if stop.wait(start_after):
        bus.close()
        return
    with out.open("wb") as f:
        for i in itertools.count():
            if stop.is_set():
                break
            plate, state = plates[i % len(plates)]
            rec = build_query(query_fields(i, plate, state), ctx, "bench_terminal", cfg)
            data = schemas.encode(schema, rec.value)
            t0 = time.perf_counter()
            bus.commit(Commit(appends=[("cad.queries", rec.key, data)]))
            wrote = (time.perf_counter() - t0) * 1000
            f.write(orjson.dumps([rec.envelope["id"], rec.envelope["ingested_at"].timestamp(), wrote]) + b"\n")
            stop.wait(1 / rate)
    bus.close()


def query_fields(i: int, plate: str, state: str) -> dict[str, Any]:
    """A plate query from the bench's officer, as a CAD terminal sends it."""
    return {
        "query_id": f"BQ-{i}",
        "agency": "CA0430000",
        "officer_id": "4471",
        "unit_id": "2A31",
        "plate": plate,
        "state": state,
        "issued_at": datetime.now(UTC).isoformat(),
    }


if __name__ == "__main__":
    topology, plates, rate, start_after, out = sys.argv[1:6]
    publish_queries(Path(topology), orjson.loads(plates), float(rate), float(start_after), Path(out))
