"""The pipeline bench's field queries from a process of their own (bench/field_process.py): they
reach the bus through the child's own connection, and every query it reports sent is there."""

from __future__ import annotations

import time
from pathlib import Path

from argus.backends import open_bus, read_topic
from argus.demo import prepare
from argus.schemas import default_schemas
from argus.topology import load_topology
from bench.field_process import ProcessTerminal


def test_the_child_writes_each_query_it_reports(tmp_path: Path) -> None:
    topology = prepare(tmp_path)
    term = ProcessTerminal(topology, [("7ABC123", "CA"), ("4XYZ987", "NV")], rate=100.0, start_after=0.0)
    term.start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(term.file.read_bytes().splitlines() if term.file.exists() else []) < 5:
        time.sleep(0.05)
    term.join()
    assert len(term.sent) >= 5 and len(term.write_ms) == len(term.sent)
    topo = load_topology(topology)
    bus = open_bus(topo)
    try:
        schemas = default_schemas()
        got = read_topic(bus, schemas, "cad.queries", schemas.get(topo.topics["cad.queries"].schema_))
    finally:
        bus.close()
    on_bus = {r.envelope["id"]: r.body["plate"] for r in got}
    assert set(term.sent) <= set(on_bus)
    assert set(on_bus.values()) <= {"7ABC123", "4XYZ987"}
