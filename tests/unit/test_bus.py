import pytest

from argus.bus.base import DELETED, Commit, TopicSpec, partition_for
from argus.bus.embedded import EmbeddedBus
from argus.state import NodeState


def test_commit_applies_appends_offsets_and_state_together(tmp_path) -> None:
    bus = EmbeddedBus(tmp_path / "bus.db")
    bus.ensure_topic(TopicSpec("t", 4, "x.v1"))
    placed = bus.commit(
        Commit(
            appends=[("t", "k", b"1"), ("t", "k", b"2")], offsets={("g", "in", 0): 7}, state={"n": {"a": [1], "b": 2}}
        )
    )
    p = partition_for("k", 4)
    assert placed == [("t", p, 0), ("t", p, 1)]
    assert [m.value for m in bus.read("t", p, 0, 10)] == [b"1", b"2"]
    assert bus.committed("g", "in", 0) == 7
    bus.commit(Commit(state={"n": {"b": DELETED}}))
    assert bus.load_state("n") == {"a": [1]}
    bus.close()
    again = EmbeddedBus(tmp_path / "bus.db")
    assert again.end_offset("t", p) == 2 and again.committed("g", "in", 0) == 7


def test_failed_commit_changes_nothing(tmp_path) -> None:
    bus = EmbeddedBus(tmp_path / "bus.db")
    bus.ensure_topic(TopicSpec("t", 1, "x.v1"))
    with pytest.raises(KeyError):  # refused before the transaction starts
        bus.commit(Commit(appends=[("t", None, b"1"), ("missing-topic", None, b"2")]))
    # fails inside the transaction, after the log rows went in: all of it is rolled back
    with pytest.raises(TypeError):
        bus.commit(Commit(appends=[("t", None, b"1")], offsets={("g", "t", 0): 1}, state={"n": {"k": object()}}))
    assert bus.end_offset("t", 0) == 0 and bus.committed("g", "t", 0) == 0 and bus.load_state("n") == {}
    assert bus.read("t", 0, 0, 10) == []
    assert bus.commit(Commit(appends=[("t", None, b"ok")])) == [("t", 0, 0)]


def test_same_key_same_partition() -> None:
    assert len({partition_for("8ABC123", 8) for _ in range(5)}) == 1


def test_node_state_layers() -> None:
    s = NodeState({"a": 1})
    s.begin_record()
    s.put("a", 2)
    s.end_record(False)  # a failed record leaves nothing
    assert s.get("a") == 1
    s.begin_record()
    s.put("b", 3)
    s.delete("a")
    s.end_record(True)
    assert s.get("a") is None and s.get("b") == 3
    s.rollback()  # a failed batch leaves nothing
    assert s.get("a") == 1 and s.get("b") is None
    s.put("c", 4)
    s.committed()
    assert s.get("c") == 4 and s.pending() == {}


def test_appends_by_another_process_are_seen_and_do_not_collide(tmp_path) -> None:
    a = EmbeddedBus(tmp_path / "bus.db")
    a.ensure_topic(TopicSpec("t", 1, "x.v1"))
    a.commit(Commit(appends=[("t", None, b"a1")]))
    assert a.end_offset("t", 0) == 1  # cached now
    b = EmbeddedBus(tmp_path / "bus.db")  # e.g. `argus dlq replay` in another process
    b.commit(Commit(appends=[("t", None, b"b1")]))
    assert a.refresh() and a.end_offset("t", 0) == 2
    b.commit(Commit(appends=[("t", None, b"b2")]))
    assert a.commit(Commit(appends=[("t", None, b"a2")])) == [("t", 0, 3)]  # placed after b2, no clash
    assert [m.value for m in a.read("t", 0, 0, 10)] == [b"a1", b"b1", b"b2", b"a2"]


def test_writers_besides_the_pipeline_get_their_own_kafka_transactional_id() -> None:
    from argus.backends import bus_url_for

    assert bus_url_for("kafka://h:9092?prefix=fc.", "api-x") == "kafka://h:9092?prefix=fc.&client=argus-api-x"
    assert bus_url_for("kafka://h:9092?client=w1", "cli") == "kafka://h:9092?client=w1-cli"
    assert bus_url_for("kafka://h:9092", None) == "kafka://h:9092"
    assert bus_url_for("embedded:///x/bus.db", "cli") == "embedded:///x/bus.db"


def _append(bus: EmbeddedBus, topic: str, rows: list[tuple[str | None, bytes]], at: float) -> None:
    """Rows committed as if at time `at` (the log's ts is the commit time, in microseconds)."""
    end = bus.end_offset(topic, 0)
    bus.commit(Commit(appends=[(topic, k, v) for k, v in rows]))
    bus._db.execute("UPDATE log SET ts=? WHERE topic=? AND off>=?", (int(at * 1_000_000), topic, end))


def test_retention_deletes_what_is_older_but_never_a_partition_s_end(tmp_path) -> None:
    """As on Kafka: records past the topic's retention go, offsets are never reused, and a
    reader's position stays valid (it reads on from the oldest record left)."""
    bus = EmbeddedBus(tmp_path / "bus.db")
    bus.ensure_topic(TopicSpec("raw", 1, "x.v1", retention_hours=24))
    bus.ensure_topic(TopicSpec("kept", 1, "x.v1"))
    now = 1_800_000_000.0
    _append(bus, "raw", [("a", b"1"), ("b", b"2")], now - 3 * 86400)
    _append(bus, "raw", [("c", b"3")], now - 3600)
    _append(bus, "kept", [("a", b"1")], now - 30 * 86400)
    assert bus.enforce_retention(now) == 2
    assert [(m.offset, m.value) for m in bus.read("raw", 0, 0, 10)] == [(2, b"3")]
    assert [m.value for m in bus.read("kept", 0, 0, 10)] == [b"1"]  # no retention set: kept
    assert bus.enforce_retention(now + 2 * 86400) == 0  # the last record stays: it holds the end
    assert bus.end_offset("raw", 0) == 3
    assert bus.commit(Commit(appends=[("raw", "d", b"4")])) == [("raw", 0, 3)]
    bus.close()
    again = EmbeddedBus(tmp_path / "bus.db")  # the settings are the topic's, kept in the file
    assert again.topics()["raw"].retention_hours == 24 and again.topics()["kept"].retention_hours is None
    again.ensure_topic(TopicSpec("raw", 1, "x.v1"))  # the topology no longer sets one
    assert again.topics()["raw"].retention_hours is None
    assert again.enforce_retention(now + 400 * 86400) == 0


def test_a_retention_pass_over_recent_records_does_not_walk_the_log(tmp_path) -> None:
    """The checkpoint thread runs it every minute over every retained topic: with nothing to
    delete it must cost a few seeks per partition, not a walk over every row of the log."""
    bus = EmbeddedBus(tmp_path / "bus.db")
    bus.ensure_topic(TopicSpec("raw", 4, "x.v1", retention_hours=24))
    now = 1_800_000_000.0
    for i in range(10):
        _append(bus, "raw", [(f"k{i}-{j}", b"x" * 100) for j in range(500)], now - 3600)
    steps = [0]

    def count() -> int:
        steps[0] += 1
        return 0

    bus._db.set_progress_handler(count, 100)  # called every 100 virtual-machine instructions
    assert bus.enforce_retention(now) == 0
    bus._db.set_progress_handler(None, 0)
    assert steps[0] < 20, f"{steps[0] * 100} instructions for 5,000 recent rows"


def test_compaction_keeps_each_key_s_latest_and_lets_tombstones_age_out(tmp_path) -> None:
    bus = EmbeddedBus(tmp_path / "bus.db")
    bus.ensure_topic(TopicSpec("latest", 1, "x.v1", compacted=True))
    now = 1_800_000_000.0
    _append(bus, "latest", [("a", b"1"), ("b", b"1"), ("a", b"2"), ("c", b"1"), ("c", b"")], now - 2 * 86400)
    _append(bus, "latest", [("b", b"")], now - 60)  # b deleted a minute ago: readers still get to see it
    _append(bus, "latest", [("d", b"1"), ("d", b"2")], now)
    bus.erase([("latest", 0, 3)])  # a purge: the row stays, without key or value
    deleted = bus.enforce_retention(now)
    left = [(m.key, m.value) for m in bus.read("latest", 0, 0, 100)]
    # a: its latest; b: only the fresh tombstone; c: the purged row and its old tombstone gone
    assert left == [("a", b"2"), ("b", b""), ("d", b"2")] and deleted == 5
    assert bus.enforce_retention(now + 2 * 86400) == 1  # b's tombstone, a day later
    assert bus.end_offset("latest", 0) == 8 and [m.offset for m in bus.read("latest", 0, 0, 100)] == [2, 7]


def test_the_bus_applies_retention_by_itself(tmp_path, monkeypatch) -> None:
    """Nobody has to call enforce_retention: the bus's own checkpoint thread does, every
    MAINTAIN_EVERY seconds, on its own connection."""
    import time

    from prometheus_client import REGISTRY

    from argus.bus import embedded

    def cleaned(topic: str) -> float:
        return REGISTRY.get_sample_value("argus_bus_records_cleaned_total", {"topic": topic}) or 0.0

    before = cleaned("raw")
    monkeypatch.setattr(embedded, "MAINTAIN_EVERY", 0.05)
    bus = EmbeddedBus(tmp_path / "bus.db")
    bus.ensure_topic(TopicSpec("raw", 1, "x.v1", retention_hours=1))
    _append(bus, "raw", [("a", b"1"), ("b", b"2")], time.time() - 7200)
    _append(bus, "raw", [("c", b"3")], time.time())
    deadline = time.monotonic() + 10
    while bus.size("raw") > 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [m.value for m in bus.read("raw", 0, 0, 10)] == [b"3"]
    bus.close()
    assert cleaned("raw") - before == 2  # counted for the operator (/metrics)


def test_a_bus_file_from_before_topic_settings_opens_read_only_and_gains_them_when_written(tmp_path) -> None:
    import sqlite3

    path = tmp_path / "bus.db"
    EmbeddedBus(path).close()
    db = sqlite3.connect(path)
    db.executescript(
        "DROP TABLE topics;"
        "CREATE TABLE topics(name TEXT PRIMARY KEY, partitions INTEGER NOT NULL, schema TEXT NOT NULL);"
        "INSERT INTO topics VALUES('old', 2, 'x.v1');"
    )
    db.close()
    ro = EmbeddedBus(path, read_only=True)
    assert ro.topics()["old"] == TopicSpec("old", 2, "x.v1")
    ro.close()
    rw = EmbeddedBus(path)
    rw.ensure_topic(TopicSpec("old", 2, "x.v1", retention_hours=5))
    again = EmbeddedBus(path, read_only=True)
    assert again.topics()["old"].retention_hours == 5
    again.close()
    rw.close()
