"""A node's state read through from the bus, with a bounded part held in memory, answers exactly
as the whole of it loaded would: key by key, and for the production pipeline's every output."""

from __future__ import annotations

import re
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

import argus.state_view
from argus.bus.base import DELETED, Commit
from argus.bus.embedded import EmbeddedBus
from argus.demo import prepare
from argus.runtime.core import Runtime
from argus.state import NodeState
from argus.topology import load_topology
from bench.pipeline import write_inputs


def test_a_view_reads_committed_keys_holds_at_most_its_bound_and_follows_folds(tmp_path: Path) -> None:
    bus = EmbeddedBus(tmp_path / "bus.db")
    c = Commit()
    c.state["er"] = {f"k{i}": {"n": i} for i in range(10)}
    bus.commit(c)
    view = bus.state_view("er")
    assert view is not None
    view.keep = 3
    state = NodeState(view)
    assert [state.get(f"k{i}") for i in range(10)] == [{"n": i} for i in range(10)]
    assert view.held() == 3 and len(state) == 10
    assert state.get("nothing", "default") == "default" and state.get("nothing") is None
    state.put("k1", {"n": 100})
    state.delete("k2")
    assert bus.state_view("er").get("k1") == {"n": 1}  # not folded until the bus has it
    c = Commit()
    c.state["er"] = {"k1": {"n": 100}, "k2": DELETED}
    bus.commit(c)
    state.committed()
    for _ in range(2):  # held, then let go of and read back
        assert state.get("k1") == {"n": 100} and state.get("k2") is None
        for i in range(3, 10):
            state.get(f"k{i}")
    bus.close()


def test_keys_prefetched_are_looked_up_in_one_round_trip_and_held_present_or_absent(tmp_path: Path) -> None:
    bus = EmbeddedBus(tmp_path / "bus.db")
    c = Commit()
    c.state["er"] = {f"k{i}": i for i in range(1200)}
    c.state["other"] = {"k5": "not er's"}
    bus.commit(c)
    view = bus.state_view("er")
    assert view is not None
    singles: list[str] = []
    many: list[list[str]] = []
    load, load_many = view._load, view._load_many
    assert load_many is not None
    view._load = lambda k: singles.append(k) or load(k)  # type: ignore[method-assign]
    view._load_many = lambda ks: many.append(ks) or load_many(ks)  # type: ignore[assignment]
    state = NodeState(view)
    state.get("k0")
    wanted = [f"k{i}" for i in range(1100)] + ["gone", "k0", "k3"]
    state.prefetch(wanted)
    assert many == [[k for k in dict.fromkeys(wanted) if k != "k0"]]  # held keys are not asked again
    assert [state.get(k) for k in wanted] == [*range(1100), None, 0, 3] and singles == ["k0"]
    state.prefetch(["k1150"])  # one key: one lookup
    assert singles == ["k0", "k1150"] and len(many) == 1
    NodeState({"a": 1}).prefetch(["a", "b"])  # the whole state in memory: nothing to do
    bus.close()


def test_an_empty_view_is_kept_not_swapped_for_an_empty_dict(tmp_path: Path) -> None:
    bus = EmbeddedBus(tmp_path / "bus.db")
    view = bus.state_view("fresh")
    assert view is not None and len(view) == 0
    assert NodeState(view)._committed is view
    bus.close()


_TIME = re.compile(r"\d{4}-\d\d-\d\d([ T]\d\d:\d\d(:\d\d(\.\d+)?)?([+-]\d\d:\d\d|Z)?)?")


def _norm(x: Any, key: str | None = None) -> Any:
    """What two runs of one input share: not the clock's readings nor the trace ids."""
    if key == "trace_id" or isinstance(x, datetime):
        return "-"
    if isinstance(x, dict):
        return {k: _norm(v, k) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_norm(v) for v in x]
    return _TIME.sub("<t>", x) if isinstance(x, str) else x


def _run(root: Path) -> dict[str, list[Any]]:
    topo = load_topology(prepare(root))
    for model in topo.nodes.values():
        model.batch_size = 25  # small batches: later ones read what earlier ones committed
    with Runtime(topo) as rt:
        rt.run_until_idle()
        topics = {t: rt.read_topic(t) for t in topo.topics}
    return {t: [(r.partition, r.key, _norm(r.value)) for r in recs] for t, recs in topics.items()}


def test_the_pipeline_with_eight_keys_held_per_node_writes_what_it_writes_with_all_loaded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_inputs(tmp_path / "a", 400, 7)
    shutil.copytree(tmp_path / "a", tmp_path / "b")
    with monkeypatch.context() as m:
        m.setattr(EmbeddedBus, "state_view", lambda *a, **k: None)  # the whole state loaded
        whole = _run(tmp_path / "a")
    monkeypatch.setattr(argus.state_view, "KEEP", 8)
    held = _run(tmp_path / "b")
    assert sum(len(v) for v in whole.values()) > 2000 and len(whole["risk.scores"]) > 50
    for topic in whole:
        assert held[topic] == whole[topic], topic
