"""/metrics says which tasks this process runs (ops/alerts.rules.yml sums it over a group):
a task reported held as it starts, and gone from /metrics as it is given up or the process
closes, so a worker never looks like the owner of a task another worker took."""

from __future__ import annotations

from pathlib import Path

from prometheus_client import REGISTRY

from argus.runtime.embedded import EmbeddedRuntime
from argus.topology import load_topology

ROOT = Path(__file__).resolve().parents[2]


def held() -> dict[str, float]:
    return {
        s.labels["task"]: s.value for fam in REGISTRY.collect() if fam.name == "argus_tasks_owned" for s in fam.samples
    }


def test_tasks_are_reported_while_run_and_not_after(tmp_path: Path) -> None:
    topo = load_topology(ROOT / "topology.yaml", tmp_path)
    rt = EmbeddedRuntime(topo).open()
    try:
        assert held() == {name: 1.0 for name in topo.nodes}  # one process: every node, one task each
        assert REGISTRY.get_sample_value("argus_tasks_planned") == len(topo.nodes)
        rt._stop_task("correlation")  # what a worker does when the group moves a task away
        assert "correlation" not in held() and len(held()) == len(topo.nodes) - 1
    finally:
        rt.close()
    assert held() == {}
