"""Nodes that say they never change what they are handed (`changes_input = False`) share one
decoded value per record: held to it on the production topology, reports and field queries."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from argus.bus.base import Message
from argus.contracts import Context
from argus.demo import prepare
from argus.registry import node_class
from argus.runtime.core import Runtime
from argus.runtime.decoded import SharedDecoder
from argus.state import NodeState
from argus.topology import load_topology
from bench.pipeline import write_inputs
from connectors.cad import CadConfig, build_query


class Watching(SharedDecoder):
    """Keeps every value it hands out shared, with a decode of its own to compare at the end."""

    def __init__(self, rt: Runtime) -> None:
        super().__init__(rt._readers_of)
        self.handed: list[tuple[str, int, Any, Any]] = []

    def decode(self, msg: Message, decode: Any, shares: bool = False) -> dict[str, Any]:
        value = super().decode(msg, decode, shares)
        if shares and self.readers(msg.topic, msg.partition) > 1:
            self.handed.append((msg.topic, msg.offset, value, decode(msg)))
        return value


def _queries(rt: Runtime, plates: list[tuple[str, str]], names: list[str]) -> None:
    ctx = Context("test_terminal", NodeState())
    asks = [{"plate": p, "state": s} for p, s in plates] + [{"name": n} for n in names]
    for i, ask in enumerate(asks):
        raw = {"query_id": f"Q-{i}", "agency": "CA0430000", "officer_id": "4471", "unit_id": "2A31"}
        rec = build_query({**raw, **ask, "issued_at": datetime.now(UTC).isoformat()}, ctx, "t", CadConfig(path="-"))
        rt.publish("cad.queries", rec.value, rec.key)


def test_no_node_that_shares_its_input_changes_it(tmp_path: Path) -> None:
    gen, _ = write_inputs(tmp_path, 300, 11)
    topo = load_topology(prepare(tmp_path))
    sharing = {n for n, m in topo.nodes.items() if m.inputs and not node_class(m.use).changes_input}
    assert {"correlation", "graph_sink", "risk_scoring", "ttp_matching"} <= sharing
    with Runtime(topo) as rt:
        rt._decoded = watching = Watching(rt)
        rt.run_until_idle()
        persons = [f"{p['last']}, {p['first']}" for p in gen.persons[:5]]
        _queries(rt, [(v["plate"], v["state"]) for v in gen.vehicles[:5]], persons)
        rt.run_until_idle()
        assert len(rt.read_topic("alerts")) > 0
    topics = {t for t, *_ in watching.handed}
    assert {"resolved", "sar.triage", "queries.resolved"} <= topics
    changed = [(t, off) for t, off, value, fresh in watching.handed if value != fresh]
    assert not changed, f"changed after being handed shared: {changed[:5]}"
