"""The scheduler keeps the cyclic GC's full collections off the field-query lane.

A full collection walks everything the process holds; with a node's state in memory that took
120-215 ms on the Kafka latency bench. The runtime freezes survivors every GC_FREEZE_EVERY
seconds, and only when idle (and at most every GC_FULL_EVERY) unfreezes and collects all.
"""

from __future__ import annotations

import gc
import weakref
from pathlib import Path

import pytest

from argus.runtime import scheduler
from argus.runtime.core import Runtime
from argus.topology import load_topology

ROOT = Path(__file__).resolve().parents[2]


class Cyclic:
    def __init__(self) -> None:
        self.me = self


@pytest.fixture
def rt(tmp_path: Path):  # type: ignore[no-untyped-def]
    gc.unfreeze()
    runtime = Runtime(load_topology(ROOT / "topology.yaml", tmp_path))
    yield runtime
    gc.unfreeze()


def test_the_first_turn_freezes_what_is_loaded_and_busy_turns_never_collect_it(rt: Runtime) -> None:
    held = Cyclic()
    rt._tend_gc(idle=False)
    assert gc.get_freeze_count() > 0
    gone = weakref.ref(held)
    del held
    gc.collect()  # what an automatic full collection does: frozen objects are not walked
    assert gone() is not None, "a frozen cycle was walked"
    rt._tend_gc(idle=False)  # busy: no full collection, however long since the last
    rt._gc_full -= 10 * scheduler.GC_FULL_EVERY
    rt._tend_gc(idle=False)
    assert gone() is not None


def test_an_idle_turn_collects_everything_once_in_a_while(rt: Runtime) -> None:
    rt._tend_gc(idle=False)
    garbage = Cyclic()
    gc.freeze()
    gone = weakref.ref(garbage)
    del garbage
    rt._tend_gc(idle=True)  # idle, but a full collection was taken less than GC_FULL_EVERY ago
    assert gone() is not None
    rt._gc_full -= scheduler.GC_FULL_EVERY
    rt._tend_gc(idle=True)
    assert gone() is None, "idle: the frozen cycle should have been collected"
    assert gc.get_freeze_count() > 0  # and the survivors frozen again


def test_closing_a_runtime_hands_its_objects_back_to_the_collector(rt: Runtime) -> None:
    rt._tend_gc(idle=False)
    assert gc.get_freeze_count() > 0
    rt.close()
    assert gc.get_freeze_count() == 0


def test_stop_takes_no_lock_so_a_signal_handler_may_call_it_anywhere(tmp_path: Path) -> None:
    """`argus run`'s SIGTERM handler calls stop() on the scheduling thread, between two bytecodes
    of whatever that thread was doing. Waiting idle, it was inside Event.wait, and a signal
    landing just after the wait re-took the Event's lock ran Event.set, which waited for that
    same lock for ever: a worker that never stopped (seen in a bench run, its stacks by SIGUSR1).
    Here the thread holds that lock, as it does there, and calls stop(); then run_forever,
    started after, returns at once and sets the event the worker's other threads wait on."""
    import threading

    from tests.e2e.conftest import make_workdir

    with Runtime(load_topology(make_workdir(tmp_path, background=0))) as rt:
        returned = threading.Event()

        def in_the_handler() -> None:
            with rt._stop._cond:  # what the scheduling thread holds there
                rt.stop()
            returned.set()

        threading.Thread(target=in_the_handler, daemon=True).start()
        assert returned.wait(5), "stop() waited for a lock its own thread held"
        rt.run_forever()
        assert rt._stop.is_set()


def test_a_busy_run_makes_no_full_collection_and_close_gives_the_thresholds_back(tmp_path: Path) -> None:
    """A batch's objects live for the whole batch; at Python's default thresholds they reached
    the old generation by the hundred thousand and a full collection followed about once a
    second (GC_THRESHOLDS). Here the production topology ingests a few hundred records."""
    from argus.demo import prepare
    from bench.pipeline import write_inputs

    write_inputs(tmp_path, 800, 5)
    before = gc.get_threshold()
    full: list[dict[str, int]] = []

    def count(phase: str, info: dict[str, int]) -> None:
        if phase == "stop" and info["generation"] == 2:
            full.append(info)

    with Runtime(load_topology(prepare(tmp_path))) as rt:
        assert gc.get_threshold() == scheduler.GC_THRESHOLDS
        gc.callbacks.append(count)
        try:
            handled = rt.run_until_idle()
        finally:
            gc.callbacks.remove(count)
    assert handled > 800
    assert not full, f"{len(full)} full collections while ingesting"
    assert gc.get_threshold() == before
