"""/metrics says which tasks this process runs (ops/alerts.rules.yml sums it over a group):
a task reported held as it starts, and gone from /metrics as it is given up or the process
closes, so a worker never looks like the owner of a task another worker took."""

from __future__ import annotations

import time
from pathlib import Path

from prometheus_client import REGISTRY

from argus.runtime.core import Runtime
from argus.topology import load_topology

ROOT = Path(__file__).resolve().parents[2]


def held() -> dict[str, float]:
    return {
        s.labels["task"]: s.value for fam in REGISTRY.collect() if fam.name == "argus_tasks_owned" for s in fam.samples
    }


def test_tasks_are_reported_while_run_and_not_after(tmp_path: Path) -> None:
    topo = load_topology(ROOT / "topology.yaml", tmp_path)
    rt = Runtime(topo).open()
    try:
        assert held() == {name: 1.0 for name in topo.nodes}  # one process: every node, one task each
        assert REGISTRY.get_sample_value("argus_tasks_planned") == len(topo.nodes)
        rt._stop_task("correlation")  # what a worker does when the group moves a task away
        assert "correlation" not in held() and len(held()) == len(topo.nodes) - 1
    finally:
        rt.close()
    assert held() == {}


def test_each_task_is_charged_the_cpu_of_its_turns_once(tmp_path: Path) -> None:
    """The per-task CPU that bench/kafka.py turns into a group's speed-up ceiling: every node
    that handled records is charged, /metrics says the same, and the charges add up to no more
    than the CPU the process used while they ran (charging a commit both on its own and inside
    the batch that made it would push the sum past it: the slack is a few percent)."""
    from argus.demo import prepare
    from bench.pipeline import write_inputs

    write_inputs(tmp_path, 600, 7)
    topo = load_topology(prepare(tmp_path), tmp_path / "data")
    rt = Runtime(topo).open()
    try:
        before = time.process_time()
        rt.run_until_idle()
        used = time.process_time() - before
        # every processor and sink that read records (no SAR pattern in this input: its store reads none)
        busy = {n for n, m in topo.nodes.items() if any(rt.read_topic(t) for t in m.inputs)}
    finally:
        rt.close()
    assert busy <= {t for t, s in rt.task_cpu.items() if s > 0}
    assert set(rt.task_cpu) <= set(topo.nodes)
    for task, s in rt.task_cpu.items():
        assert REGISTRY.get_sample_value("argus_task_cpu_seconds_total", {"task": task}) >= s
    assert sum(rt.task_cpu.values()) <= used
    # The ordered chain's nodes do the most per record: more than any connector.
    assert rt.task_cpu["correlation"] > max(rt.task_cpu.get(n, 0.0) for n, m in topo.nodes.items() if not m.inputs)
