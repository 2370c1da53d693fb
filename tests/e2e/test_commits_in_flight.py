"""Commits in flight: a node's ingest commit runs beside the scheduler, and nothing is lost by it.

On Kafka every batch is a transaction (several round trips to the broker); done one after another
on a worker's scheduling thread they were half its time. On a bus with concurrent commits an
ingest commit goes to a committer thread: other nodes run meanwhile, the node itself runs again
only once its commit has landed, and a field query on that node is answered from the state in
flight and committed through the task's query writer (`<task>.q`) without waiting for it. Here
the embedded bus stands in for Kafka with the committer switched on, and one node's commits are
held at a gate, so "in flight" lasts as long as the test wants.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml

from argus.backends import read_topic
from argus.bus.base import Commit
from argus.runtime.core import Runtime
from argus.topology import load_topology
from tests.conftest import query_record
from tests.e2e.conftest import quiet_run, workdir_without_queries
from tests.e2e.test_crash import small_batches

NODE = "resolve_vehicles"


def _topology(tmp_path: Path) -> Path:
    topo = workdir_without_queries(tmp_path)
    small_batches(topo, linear=False)  # every batch its own commit: many of them in flight
    doc = yaml.safe_load(topo.read_text())
    doc["order_mark_every"] = 16  # many releases: the stages before the gated one have work meanwhile
    topo.write_text(yaml.safe_dump(doc))
    return topo


def test_an_ingest_commit_in_flight_holds_up_neither_other_nodes_nor_a_field_query(tmp_path: Path) -> None:
    topo = _topology(tmp_path)
    quiet_state, quiet_alerts, quiet_resolved = quiet_run(topo, tmp_path / "quiet", NODE)

    rt = Runtime(load_topology(topo, tmp_path / "flying")).open()
    gate = threading.Event()
    try:
        assert rt.bus is not None and rt._committer is None  # the embedded bus commits in place
        rt._committer = ThreadPoolExecutor(max_workers=2, thread_name_prefix="test-commit")
        real = rt.bus.commit
        writers: list[str | None] = []
        lock = threading.Lock()

        def commit(c: Commit) -> list:
            with lock:
                writers.append(c.writer)
            if c.writer == NODE:
                assert gate.wait(60), "the gate was never opened"
            return real(c)

        rt.bus.commit = commit  # type: ignore[method-assign]
        host = rt.hosts[NODE]
        for _ in range(20_000):
            rt.step()
            if host.inflight is not None and any(k.startswith("pl:") for k in host.state._flying or {}):
                break
        assert host.inflight is not None, f"{NODE} never had a commit in flight"
        assert not host.inflight[0].done()  # held at the gate
        at = dict(host.positions)
        seen = len(writers)
        for _ in range(200):
            rt.step()
        # Other nodes went on while the commit flew; this one did not run again.
        assert {w for w in writers[seen:] if w is not None} - {NODE}, "nothing else ran meanwhile"
        assert host.positions == at and host.inflight is not None

        # A plate filed by the batch in flight: the answer reads it there, and commits alone.
        key = next(k for k in host.state._flying or {} if k.startswith("pl:"))
        _, state, plate = key.split(":", 2)
        q = query_record(query_id="FLY-1", plate=plate, state=state)
        rt.publish("cad.queries", q.value, key=q.key)
        before = len(writers)
        rt._run_hot()
        assert f"{NODE}.q" in writers[before:], "the query waited for the ingest commit"
        assert host.inflight is not None and not host.inflight[0].done()
        answers = [r.body for r in rt.read_topic("queries.resolved") if r.envelope["id"] == q.envelope["id"]]
        assert len(answers) == 1 and answers[0]["matches"], answers

        gate.set()
        rt.run_until_idle()
        assert host.inflight is None
        # The same answer as committing in place: state, alerts and records, each once.
        assert rt.bus.load_state(NODE) == quiet_state
        alerts = read_topic(rt.bus, rt.schemas, "alerts")
        ids = [r.value["envelope"]["id"] for r in alerts if r.body["trigger_id"] != q.envelope["id"]]
        assert len(ids) == len(set(ids)) and set(ids) == quiet_alerts
        assert len(rt.read_topic("resolved")) == quiet_resolved
    finally:
        gate.set()
        rt.close()
