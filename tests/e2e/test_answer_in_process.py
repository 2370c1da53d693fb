"""A field query's answer handed to correlation in the process that resolved it (answer_in_process).

The query lane was three hops on the bus: cad.queries -> entity resolution -> queries.resolved
-> correlation -> alerts, each a read and a transaction. Correlation answers a query from its
state without changing it, so where it runs in the process that resolved the query, the runtime
hands the answer over at once and commits the alert in the same transaction as the answer,
marking the answer (header `argus-answered-by: correlation`) so correlation skips it on the bus.
Same alerts as going through the bus; a correlation that fails or writes state on that path is
left to read the answer from the bus, where its error policy applies.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
import yaml

from argus.contracts import Context
from argus.records import Record
from argus.registry import node_class
from argus.runtime.core import Runtime
from argus.runtime.host import ANSWERED_BY
from argus.testing import frozen_clock
from argus.topology import load_topology
from processors.correlation import CorrelationProcessor
from tests.conftest import query_record
from tests.e2e.conftest import workdir_without_queries


def _variant(topo: Path, name: str, here: bool) -> Path:
    out = topo.with_name(f"topology-{name}.yaml")
    shutil.copy(topo, out)
    doc = yaml.safe_load(out.read_text())
    doc["answer_in_process"] = here
    out.write_text(yaml.safe_dump(doc))
    return out


def _ask(topo: Path, data_dir: Path) -> tuple[list[Record], dict[tuple[int, int], list[bytes]], dict[str, Any]]:
    """Ingest everything, then ask about plates correlation holds records of (and one it does
    not): the queries' alerts, the answers' headers, correlation's state afterwards."""
    with Runtime(load_topology(topo, data_dir), clock=frozen_clock()) as rt:
        rt.run_until_idle()
        assert rt.bus is not None
        vehicles, corr = rt.bus.load_state("resolve_vehicles"), rt.hosts["correlation"].state
        plates = sorted(k for k, v in vehicles.items() if k.startswith("pl:") and corr.get(f"ent:{v}"))[:12]
        assert len(plates) == 12
        qs = [
            query_record(query_id=f"Q-{i}", plate=plate, state=state)
            for i, (_, state, plate) in enumerate(p.split(":", 2) for p in plates)
        ]
        qs.append(query_record(query_id="Q-none", plate="ZZZ9999", state="CA"))
        for q in qs:
            rt.publish("cad.queries", q.value, key=q.key)
        rt.run_until_idle()
        assert rt.bus is not None
        asked = {q.envelope["id"] for q in qs}
        alerts = [r for r in rt.read_topic("alerts") if r.body["trigger_id"] in asked]
        parts = range(rt.bus.partitions("queries.resolved"))
        headers = {
            (m.offset, p): m.header(ANSWERED_BY) for p in parts for m in rt.bus.read("queries.resolved", p, 0, 10_000)
        }
        offsets = [rt.bus.committed("correlation", "queries.resolved", p) for p in parts]
        ends = [rt.bus.end_offset("queries.resolved", p) for p in parts]
        assert offsets == ends  # every answer consumed, whoever answered it
        return alerts, headers, rt.bus.load_state("correlation")


def _same(alerts: list[Record]) -> dict[str, Any]:
    return {a.envelope["id"]: a.value for a in alerts}


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return workdir_without_queries(tmp_path_factory.mktemp("answer"), background=120)


def test_the_alert_commits_with_the_answer_and_equals_the_bus_path(work: Path, tmp_path: Path) -> None:
    on, head_on, state_on = _ask(_variant(work, "on", True), tmp_path / "on")
    off, head_off, state_off = _ask(_variant(work, "off", False), tmp_path / "off")
    assert len(on) >= 12 and len({a.envelope["id"] for a in on}) == len(on)  # each alert once
    assert _same(on) == _same(off)
    assert state_on == state_off
    # every answer was taken in process, none through the bus, by both correlation nodes (the
    # persons' node takes a plate query's answer too, to pass it by); and off, none
    assert head_on and all(h == [b"correlate_persons", b"correlation"] for h in head_on.values())
    assert all(h == [] for h in head_off.values())


class _Flaky(CorrelationProcessor):
    """Fails (or writes state) the first time it sees each query: the in-process attempt."""

    how = "raise"
    seen: set[str] = set()

    def process(self, record: Record, ctx: Context) -> Iterable[Record]:
        qid = record.envelope["id"] if record.envelope["type"] == "cad.query" else None
        if self.name == "correlation" and qid is not None and qid not in self.seen:  # the plates' node
            self.seen.add(qid)
            if self.how == "raise":
                raise RuntimeError("correlation store unreachable")
            ctx.state.put(f"probe:{qid}", 1)
        return super().process(record, ctx)


@pytest.mark.parametrize("how", ["raise", "write"])
def test_a_node_that_fails_or_writes_in_process_reads_the_answer_from_the_bus(
    work: Path, tmp_path: Path, how: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    base, _, state_base = _ask(_variant(work, "base", True), tmp_path / "base")
    monkeypatch.setattr(_Flaky, "how", how)
    monkeypatch.setattr(_Flaky, "seen", set())
    real = node_class
    monkeypatch.setattr("argus.runtime.recovery.node_class", lambda use: _Flaky if use == "correlation" else real(use))
    alerts, headers, state = _ask(_variant(work, "flaky", True), tmp_path / "flaky")
    assert _Flaky.seen, "the flaky correlation never ran"
    assert _same(alerts) == _same(base) and len(alerts) == len(base)  # each alert once, all there
    # the flaky node took none in process, all from the bus (the persons' node took them all)
    assert all(h == [b"correlate_persons"] for h in headers.values())
    assert not [k for k in state if k.startswith("probe:")]  # the write on that path was dropped
    assert state == state_base
