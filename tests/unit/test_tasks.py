"""How the production topology splits into tasks for a worker group (argus/runtime/tasks.py)."""

from __future__ import annotations

from pathlib import Path

from argus.runtime.tasks import Task, plan, plan_digest
from argus.topology import load_topology

ROOT = Path(__file__).resolve().parents[2]


def test_one_process_runs_one_task_per_node_and_a_group_splits_the_partitioned_ones() -> None:
    topo = load_topology(ROOT / "topology.yaml", ROOT / "var-test-unused")
    whole = plan(topo, split=False)
    assert sorted(t.id for t in whole) == sorted(topo.nodes)
    split = {t.id: t for t in plan(topo, split=True)}
    # keyed by the report id (dedup) or stateless and idempotent (sinks, TTP matching): per partition
    for node in ("dedup", "graph_sink", "search_sink", "stix_sink", "ttp_matching"):
        assert {f"{node}#{i}" for i in range(4)} <= set(split), node
    # one index per kind across every key of it, and one store of holdings per kind for
    # correlation: one task each, first in the plan so the assignor spreads them over the workers
    ordered = ["correlate_persons", "correlation", "resolve_persons", "resolve_places", "resolve_vehicles"]
    assert all(split[n].count == 1 for n in ordered)
    assert sorted(t.node for t in plan(topo, split=True)[:5]) == ordered
    assert all(split[c].count == 1 for c in ("rms", "cad_queries", "partner_feeds"))  # connectors


def test_a_task_owns_its_partitions_and_the_digest_follows_the_plan() -> None:
    t = Task("dedup", 1, 4)
    assert [p for p in range(8) if t.owns(p)] == [1, 5] and t.id == "dedup#1"
    assert Task("correlation", 0, 1).id == "correlation" and Task("purges", 0, 1).owns(0)
    a = [Task("dedup", i, 4) for i in range(4)]
    assert plan_digest(a) == plan_digest(list(a)) != plan_digest(a[:3])
