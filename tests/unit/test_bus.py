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
    from argus.runtime.embedded import bus_url_for

    assert bus_url_for("kafka://h:9092?prefix=fc.", "api-x") == "kafka://h:9092?prefix=fc.&client=argus-api-x"
    assert bus_url_for("kafka://h:9092?client=w1", "cli") == "kafka://h:9092?client=w1-cli"
    assert bus_url_for("kafka://h:9092", None) == "kafka://h:9092"
    assert bus_url_for("embedded:///x/bus.db", "cli") == "embedded:///x/bus.db"
