"""The field-query lane does not spin on input it cannot read yet.

On Kafka a partition's end can stand past what a read_committed reader gets back for a moment
(a transaction's marker not yet fetched, a transaction still open). The lane must hand the turn
back then, not loop on `pending` while the worker's one thread is needed elsewhere (and a
SIGTERM waits for the turn to end), and not have ingest keep stepping aside for it.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from argus.bus.base import Commit
from argus.bus.embedded import EmbeddedBus
from argus.runtime.core import Runtime
from argus.topology import load_topology

ROOT = Path(__file__).resolve().parents[2]


def test_a_query_partition_whose_end_is_not_yet_readable_does_not_hold_the_turn(tmp_path: Path) -> None:
    with Runtime(load_topology(ROOT / "topology.yaml", tmp_path)) as rt:
        assert rt._hot, "the topology has a field-query lane"
        bus = rt.bus
        assert bus is not None
        hot_topics = {t for _, t in rt._hot}
        real_end = bus.end_offset

        def end_offset(topic: str, partition: int, reader: str | None = None) -> int:
            n = real_end(topic, partition, reader)
            return n + 1 if topic in hot_topics else n  # a marker's offset, never read

        bus.end_offset = end_offset  # type: ignore[method-assign]
        assert any(rt._pending(h, t) for h, t in rt._hot)
        done: list[int] = []
        turn = threading.Thread(target=lambda: done.append(rt._run_hot()), daemon=True)
        turn.start()
        turn.join(5)
        assert not turn.is_alive(), "the query lane spun on input it cannot read"
        assert done == [0]
        quiet_sources(rt)
        assert not rt._hot_waiting()  # nor do held commits and ingest step aside for it
        waits: list[float] = []
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(time, "sleep", waits.append)
            assert rt._run_hot() == 0
        assert waits == []  # known stalled: tried once, not waited for
        bus.end_offset = real_end  # type: ignore[method-assign]
        rt._run_hot()
        bus.end_offset = end_offset  # type: ignore[method-assign]
        quiet_sources(rt)
        assert rt._hot_waiting()  # until a lane run finds it readable again: then it is a query


def quiet_sources(rt: Runtime) -> None:
    """The field-query connector is due every 10 ms: out of the way of what is looked at here."""
    for host in rt._hot_sources:
        host.next_poll = float("inf")


def test_a_stalled_query_unit_counts_as_waiting_again_as_soon_as_its_reader_can_read(tmp_path: Path) -> None:
    """A unit the lane gave up waiting for is looked at between the records of an ingest batch:
    once a read there would return something, ingest steps aside for it (waiting for the next
    step would put it behind a whole batch: up to 0.4 s on a loaded machine)."""
    with Runtime(load_topology(ROOT / "topology.yaml", tmp_path)) as rt:
        bus = rt.bus
        assert bus is not None
        hot_topics = {t for _, t in rt._hot}
        real_end = bus.end_offset
        behind: dict[tuple[str, int], int] = {}  # partitions whose next record is not readable yet

        def end_offset(topic: str, partition: int, reader: str | None = None) -> int:
            n = real_end(topic, partition, reader)
            return n + 1 if topic in hot_topics and (topic, partition) not in behind else n

        bus.end_offset = end_offset  # type: ignore[method-assign]
        quiet_sources(rt)
        assert rt._run_hot() == 0
        assert rt._hot_stalled and not rt._hot_waiting()
        host, topic = next((h, t) for h, t in rt._hot if (h.name, t) in rt._hot_stalled)
        (_t, part), pos = next(((t, p), pos) for (t, p), pos in host.positions.items() if t == topic)
        assert not bus.readable(topic, part, pos, host.reader)
        commit = Commit()
        commit.append(topic, "k", b"a query's bytes", partition=part)
        bus.commit(commit)  # now there is something to read where the unit stands
        behind[(topic, part)] = 1
        assert bus.readable(topic, part, pos, host.reader)
        assert rt._hot_waiting(), "a readable query on a stalled unit did not cut the ingest batch"


def test_a_query_another_process_wrote_cuts_the_ingest_batch(tmp_path: Path) -> None:
    """`argus api` writes an officer's query on its own connection to the embedded bus. The
    runtime must see it between the records of an ingest batch, not only at its next step (a
    batch runs up to half a second), and looking must never wait on the bus's lock, which the
    sink thread holds while it reads."""
    with Runtime(load_topology(ROOT / "topology.yaml", tmp_path)) as rt:
        bus = rt.bus
        assert isinstance(bus, EmbeddedBus)
        quiet_sources(rt)
        rt._run_hot()
        assert not rt._hot_waiting()
        host, topic = rt._hot[0]
        (_t, part), _pos = next(((t, p), pos) for (t, p), pos in host.positions.items() if t == topic)
        api = EmbeddedBus(bus.path)  # the API process's connection
        try:
            commit = Commit()
            commit.append(topic, "k", b"a query's bytes", partition=part)
            api.commit(commit)
        finally:
            api.close()
        held = threading.Event()
        release = threading.Event()

        def hold() -> None:
            with bus._lock:
                held.set()
                release.wait(10)

        holder = threading.Thread(target=hold, daemon=True)
        holder.start()
        held.wait(5)
        rt._next_foreign_look = 0.0
        looked: list[bool] = []
        looker = threading.Thread(target=lambda: looked.append(rt._hot_waiting()), daemon=True)
        looker.start()
        looker.join(2)
        release.set()
        holder.join(5)
        assert looked == [False], "looking for other writers waited for the bus's lock"
        rt._next_foreign_look = 0.0
        assert rt._hot_waiting(), "a query written by another process did not cut the ingest batch"


def test_a_waiting_query_cuts_an_ingest_batch_after_the_record_in_hand(tmp_path: Path) -> None:
    """A query that arrives while a batch is under way waits for the record being processed,
    not for a run of further records of the slowest stage."""
    with Runtime(load_topology(ROOT / "topology.yaml", tmp_path)) as rt:
        bus = rt.bus
        assert bus is not None
        quiet_sources(rt)
        host = rt.hosts["compose_alerts"]
        ingest = Commit()
        for i in range(20):  # unreadable: each is dead-lettered, one record of work all the same
            ingest.append("report.hits", f"r{i}", b"not avro", partition=0)
        bus.commit(ingest)
        query = Commit()
        query.append(rt._hot[0][1], "q", b"a query's bytes", partition=0)
        bus.commit(query)
        assert rt._hot_waiting()
        assert rt._run_batch(host, "report.hits") == 1


def test_on_a_bus_whose_look_is_dear_an_ingest_batch_looks_at_most_every_hot_look_every(tmp_path: Path) -> None:
    """Kafka: a look asks the client about every partition of the lane, so an ingest batch looks at
    most every `hot_look_every`, not before every record; the embedded bus looks every time."""
    with Runtime(load_topology(ROOT / "topology.yaml", tmp_path)) as rt:
        bus = rt.bus
        assert bus is not None and bus.hot_look_every == 0.0
        quiet_sources(rt)
        looks: list[str] = []
        real_end = bus.end_offset

        def end_offset(topic: str, partition: int, reader: str | None = None) -> int:
            looks.append(topic)
            return real_end(topic, partition, reader)

        bus.end_offset = end_offset  # type: ignore[method-assign]
        for _ in range(5):
            rt._hot_waiting()
        every_time = len(looks)
        assert every_time >= 5
        looks.clear()
        bus.hot_look_every = 3600.0  # type: ignore[misc]
        for _ in range(5):
            rt._hot_waiting()
        assert 0 < len(looks) == every_time // 5  # the first call looks; the next four within the interval do not
