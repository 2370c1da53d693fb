"""A field query's answer does not wait for the ingest its nodes hold, nor for commits that show nothing.

On Kafka a busy ingest task gathers its batches into one transaction for up to
`commit_interval_ms`. A field query answered by the same node must not wait for that transaction
and all the held ingest in it: a query batch that wrote no state commits by itself and the ingest
stays held; a query batch with no output (a query the node does not
answer, an answer without hits) commits nothing on the query lane: its offsets go with the
node's next commit. The embedded bus holds batches the same way when
`commit_interval_ms` is set, which is how this runs without a broker.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from prometheus_client import REGISTRY

from argus.backends import read_topic
from argus.bus.base import Commit
from argus.runtime.core import Runtime
from argus.topology import load_topology
from tests.conftest import query_record
from tests.e2e.conftest import quiet_run, workdir_without_queries
from tests.e2e.test_crash import small_batches

SLOW = ("resolve_persons", "resolve_vehicles", "resolve_places", "correlation")


def _topology(tmp_path: Path, here: bool = True) -> Path:
    topo = workdir_without_queries(tmp_path)
    small_batches(topo, linear=False, commit_interval_ms=60_000)  # one file, held commits
    doc = yaml.safe_load(topo.read_text())
    doc["answer_in_process"] = here
    for name in SLOW:
        doc["nodes"][name]["batch_size"] = 8  # input left after each batch: the node holds
    topo.write_text(yaml.safe_dump(doc))
    return topo


@pytest.mark.parametrize(
    ("node", "ingest", "here"),
    [
        ("resolve_vehicles", "resolved.persons", True),
        ("correlation", "resolved", False),
        ("correlation", "resolved", True),
    ],
)
def test_a_field_query_commits_alone_while_its_node_holds_ingest(
    tmp_path: Path, node: str, ingest: str, here: bool
) -> None:
    """`here`: correlation answers in the process that resolved the query (answer_in_process),
    its alert in resolve_vehicles' transaction; else it reads the answer from the bus."""
    topo = _topology(tmp_path, here)
    quiet_state, quiet_alerts, _ = quiet_run(topo, tmp_path / "quiet", node)

    rt = Runtime(load_topology(topo, tmp_path / "queried")).open()
    try:
        assert rt.bus is not None
        host, vehicles, corr = rt.hosts[node], rt.hosts["resolve_vehicles"].state, rt.hosts["correlation"].state
        plates: list[str] = []
        for _ in range(20_000):
            rt.step()
            if host.held is not None:
                # a plate correlation holds records of, so the query raises an alert; for
                # resolve_vehicles, one filed by its batch still held, if there is one
                filed = rt.bus.load_state("resolve_vehicles")  # what the bus holds of it
                known = [k for k, v in sorted(filed.items()) if k.startswith("pl:") and corr.get(f"ent:{v}")]
                held = [k for k in vehicles.pending() if k.startswith("pl:")]
                plates = held + known if node == "resolve_vehicles" else known
                if plates:
                    break
        assert plates, f"{node} never held a batch once a plate was filed"
        _, state, plate = plates[0].split(":", 2)

        def offsets(group: str, topic: str) -> list[int]:
            assert rt.bus is not None
            return [rt.bus.committed(group, topic, p) for p in range(4)]

        before = offsets(node, ingest)
        q = query_record(query_id="HELD-1", plate=plate, state=state)
        rt.publish("cad.queries", q.value, key=q.key)
        commits: list[set[str]] = []
        wrote: list[set[str]] = []
        real = rt.bus.commit

        def spy(c: Commit) -> list[tuple[str, int, int]]:
            commits.append({g for g, _t, _p in c.offsets})
            wrote.append({t for t, _k, _v in c.appends})
            return real(c)

        rt.bus.commit = spy  # type: ignore[method-assign]
        rt._run_hot()
        rt.bus.commit = real  # type: ignore[method-assign]
        # Only what has an answer to show costs a commit: resolve_persons, which does not answer
        # plate queries, keeps the query's offset for its next commit.
        assert {"resolve_vehicles"} in commits and not any("resolve_persons" in c for c in commits)
        answered = commits.index({"resolve_vehicles"})
        if node == "correlation":  # the plate is on file there: an alert, committed alone ...
            assert [r for r in rt.read_topic("alerts") if r.body["trigger_id"] == q.envelope["id"]]
            if here:  # ... with the answer, in one transaction; correlation skips it, no commit
                assert wrote[answered] == {"queries.resolved", "alerts"}
                assert not any("correlation" in c for c in commits)
            else:
                assert wrote[answered] == {"queries.resolved"} and {"correlation"} in commits
        assert sum(offsets("resolve_persons", "cad.queries")) == 0
        # the query went through: answered with the plate's vehicle, and taken by correlation ...
        answers = [r.body for r in rt.read_topic("queries.resolved") if r.envelope["id"] == q.envelope["id"]]
        assert len(answers) == 1 and answers[0]["matches"], answers
        assert not rt._pending(rt.hosts["correlation"], "queries.resolved")
        # ... while the node's ingest is still held, its offsets not moved
        assert host.held is not None
        assert offsets(node, ingest) == before
        rt.run_until_idle()
        assert sum(offsets("resolve_persons", "cad.queries")) == 1
        # the held ingest then commits as it would have: the same state, the same alerts
        assert rt.bus.load_state(node) == quiet_state
        alerts = read_topic(rt.bus, rt.schemas, "alerts")
        assert {r.value["envelope"]["id"] for r in alerts if r.body["trigger_id"] != q.envelope["id"]} == quiet_alerts
    finally:
        rt.close()


def test_an_empty_query_inbox_due_a_poll_does_not_cut_ingest_into_small_batches(tmp_path: Path) -> None:
    """The field-query inbox is polled often (every 10 ms; here every 0.1 ms, so it is due at
    every look). Stopping the batch in hand at every due poll would cut a connector's at 32
    records, an ordered node's at 8, and on Kafka each stop would cost a transaction: a poll that
    would find nothing lets the batch go on, and the RMS export is read in whole batches."""
    topo = workdir_without_queries(tmp_path, background=800)
    doc = yaml.safe_load(topo.read_text())
    doc["nodes"]["cad_queries"]["config"]["poll_interval"] = 0.0001
    topo.write_text(yaml.safe_dump(doc))
    rms = len((tmp_path / "work" / "inbox" / "rms" / "export-2026-11.jsonl").read_bytes().splitlines())
    batch = load_topology(topo).nodes["rms"].batch_size
    assert rms > 8 * 32 and rms <= batch, rms  # cut at 32, it would take 9 batches or more

    def batches() -> float:
        return REGISTRY.get_sample_value("argus_batch_seconds_count", {"node": "rms"}) or 0.0

    before = batches()
    with Runtime(load_topology(topo, tmp_path / "data")) as rt:
        rt.run_until_idle()
        assert len(rt.read_topic("rms.records")) > 8 * 32  # read, bar the export's dead letters
    # the export file and the CSV file, each one batch, and a last look that found nothing new
    assert batches() - before <= 3
