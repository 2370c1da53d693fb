"""The bench's timing of the embedded bus's lock (bench/bus_lock.py): each hold is charged to the
bus method that took it, and a write kept waiting by another holder is charged to that write."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from argus.bus.base import Commit, TopicSpec
from argus.bus.embedded import EmbeddedBus
from bench.bus_lock import time_lock


def test_holds_and_waits_are_charged_to_who_took_the_lock(tmp_path: Path) -> None:
    bus = EmbeddedBus(tmp_path / "bus.db")
    try:
        bus.ensure_topic(TopicSpec("t", 1, "x.v1"))
        timed = time_lock(bus)
        assert timed is not None
        held, asking, done = threading.Event(), threading.Event(), threading.Event()

        def scan() -> None:  # a long holder, as a count over a topic is
            with bus._lock:
                held.set()
                asking.wait(5)
                time.sleep(0.1)  # from when the write asks, so it waits about this long
            done.set()

        threading.Thread(target=scan).start()
        assert held.wait(5)
        asking.set()
        bus.commit(Commit(appends=[("t", "k", b"v")]))  # waits for the scan
        assert done.wait(5)
        assert [m.value for m in bus.read("t", 0, 0, 10)] == [b"v"]
        got = timed.report()
    finally:
        bus.close()
    holds, waits = got["holds"], got["waits"]
    assert holds["scan"]["count"] == 1 and holds["scan"]["max_ms"] >= 100 and holds["scan"]["over_20_ms"] == 1
    assert holds["commit"]["count"] == 1 and holds["read"]["count"] == 1  # the nested end offset is the commit's
    wait = waits["commit from test_holds_and_waits_are_charged_to_who_took_the_lock"]
    assert wait["count"] == 1 and wait["max_ms"] >= 50


def test_only_the_embedded_bus_is_timed() -> None:
    assert time_lock(object()) is None
