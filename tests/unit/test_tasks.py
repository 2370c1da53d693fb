"""How the production topology splits into tasks for a worker group (argus/runtime/tasks.py)."""

from __future__ import annotations

from pathlib import Path

from argus.runtime.tasks import Task, plan, plan_digest, units
from argus.topology import load_topology

ROOT = Path(__file__).resolve().parents[2]


def test_one_process_runs_one_task_per_node_and_a_group_splits_the_partitioned_ones() -> None:
    topo = load_topology(ROOT / "topology.yaml", ROOT / "var-test-unused")
    whole = plan(topo, split=False)
    assert sorted(t.id for t in whole) == sorted(topo.nodes)
    split = {t.id: t for t in plan(topo, split=True)}
    # keyed by the report id (dedup, the alert composer) or stateless and idempotent (sinks, TTP
    # matching): per partition
    for node in ("dedup", "compose_alerts", "graph_sink", "search_sink", "stix_sink", "ttp_matching"):
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
    a = [(Task("dedup", i, 4),) for i in range(4)]
    assert plan_digest(a) == plan_digest(list(a)) != plan_digest(a[:3])
    assert plan_digest([(a[0][0], a[1][0]), *a[2:]]) != plan_digest(a)  # joined units: another group


def test_correlation_nodes_are_assigned_with_the_nodes_resolving_their_queries() -> None:
    """colocate_with: a group assigns each correlation node and the entity-resolution node that
    answers its kind's field queries as one unit, so the answer is always handed over in process."""
    topo = load_topology(ROOT / "topology.yaml", ROOT / "var-test-unused")
    tasks = plan(topo, split=True)
    grouped = units(topo, tasks)
    assert sorted(t.id for u in grouped for t in u) == sorted(t.id for t in tasks)  # every task, once
    joined = {tuple(sorted(t.id for t in u)) for u in grouped if len(u) > 1}
    assert joined == {("correlate_persons", "resolve_persons"), ("correlation", "resolve_vehicles")}
    assert [u[0] for u in grouped] == [t for t in tasks if t.id not in ("correlate_persons", "correlation")]
    for n in topo.nodes.values():  # without the setting, each task is a unit of its own
        n.colocate_with = None
    assert units(topo, tasks) == [(t,) for t in tasks]
