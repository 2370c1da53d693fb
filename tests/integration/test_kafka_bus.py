"""The unchanged runtime and processors on a real Kafka broker (`bus: kafka://...`): the demo
scenario, and a worker killed mid-batch that, restarted, leaves every store and the alert topic
exactly as an uninterrupted run on the embedded bus would."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import orjson
import pytest
import yaml

from argus.demo import run_demo
from tests.e2e.conftest import argus, make_workdir, snapshot
from tests.e2e.test_crash import assert_same_stores, small_batches

pytestmark = [pytest.mark.integration, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]


def bus_url(kafka: str) -> str:
    return f"kafka://{kafka}?prefix=t{uuid.uuid4().hex[:8]}.&client=c{uuid.uuid4().hex[:6]}"


def test_demo_scenario_on_kafka(kafka: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARGUS_BUS", bus_url(kafka))
    result = run_demo(tmp_path, lambda _: None, background=60, alert_timeout=60)
    alert = result["alert"]
    assert alert["alert_type"] == "QUERY_HIT" and alert["recipient_unit"] == "2A31"
    top = alert["hits"][0]
    assert top["report_id"] == "RPT-2026-0412" and [s["kind"] for s in top["path"]] == [
        "QUERY",
        "VEHICLE",
        "RECORD",
        "SERIES",
    ]
    raw = orjson.dumps(alert, default=str)
    assert b"JONATHAN" not in raw and b"NTF-2026-0031" not in raw
    assert result["dead_letters"] == 3
    # what a CAD integrator copies: examples/cad_alert_consumer.py, which needs no Argus
    prefix = dict(p.split("=") for p in os.environ["ARGUS_BUS"].split("?")[1].split("&"))["prefix"]
    out = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "cad_alert_consumer.py"), "--bootstrap", kafka, "--prefix", prefix,
         "--agency", "CA0430000", "--unit", "2A31", "--from-beginning", "--idle-timeout", "5"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    got = [orjson.loads(line) for line in out.stdout.splitlines()]
    assert out.returncode == 0 and got, out.stderr[-2000:]
    assert {a["recipient_agency"] for a in got} == {"CA0430000"} and {a["recipient_unit"] for a in got} == {"2A31"}
    assert alert["alert_id"] in {a["alert_id"] for a in got}


@pytest.mark.parametrize(
    ("fault", "commit_threads"),
    [
        ("dedup:before_commit:2", 0),
        ("correlation:before_commit:2", 0),
        ("graph_sink:after_flush:2", 0),
        # killed with other tasks' commits in flight (commit_threads: argus/runtime/committer.py)
        ("resolve_places:before_commit:3", 4),
    ],
)
def test_sigkill_mid_batch_on_kafka_equals_the_embedded_run(
    kafka: str, tmp_path: Path, fault: str, commit_threads: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    topo = make_workdir(tmp_path, background=300)  # several batches at every node, however fast
    for sub in ("rms_csv", "cad/incidents", "sar"):  # one source: a fully ordered pipeline
        for f in (tmp_path / "inbox" / sub).iterdir():
            f.unlink()
    small_batches(topo, linear=True)
    doc = yaml.safe_load(topo.read_text())
    doc["commit_threads"] = commit_threads  # the embedded bus commits in place whatever this says
    topo.write_text(yaml.safe_dump(doc))
    embedded = tmp_path / "embedded"
    assert (
        argus(
            "run",
            "--until-idle",
            "-t",
            str(topo),
            "--data-dir",
            str(embedded),
            "--metrics-port",
            "0",
            env={"ARGUS_BUS": ""},
        ).returncode
        == 0
    )
    expected = snapshot(topo, embedded)

    url = bus_url(kafka)
    data = tmp_path / "kafka"
    env = {"ARGUS_BUS": url}
    crashed = argus(
        "run",
        "--until-idle",
        "-t",
        str(topo),
        "--data-dir",
        str(data),
        "--metrics-port",
        "0",
        env=env,
        fault=fault,
    )
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr[-2000:]
    done = argus(
        "run", "--until-idle", "-t", str(topo), "--data-dir", str(data), "--metrics-port", "0", env=env, timeout=600
    )
    assert done.returncode == 0, done.stderr[-2000:]
    monkeypatch.setenv("ARGUS_BUS", url)
    assert_same_stores(snapshot(topo, data), expected, exact_alerts=True)
    # the CLI a CAD integrator or an operator uses reads the Kafka bus the same way
    tail = argus(
        "tail", "alerts", "-t", str(topo), "--bus", url, "--from-start", "--no-follow", "--json",
        env={"ARGUS_BUS": ""}, timeout=300,
    )  # fmt: skip
    assert len(tail.stdout.splitlines()) == len(expected["topics"]["alerts"])
    assert "3 dead letter(s)" in argus("dlq", "list", "-t", str(topo), env=env, timeout=300).stdout


def test_a_topology_s_topics_and_schemas_are_set_up_in_one_go_and_a_changed_partition_count_refused(
    kafka: str,
) -> None:
    """Start-up creates every topic in one request and writes every schema with one wait
    (KafkaBus.ensure_topics, register_schemas). A topic that exists with another partition count
    is refused with both counts named, not silently used (records would land on other tasks)."""
    from argus.bus.base import TopicSpec
    from argus.bus.kafka import KafkaBus

    bus = KafkaBus(bus_url(kafka))
    try:
        bus.ensure_topics([TopicSpec("a", 3, "x.v1"), TopicSpec("b", 2, "x.v1")])
        assert (bus.partitions("a"), bus.partitions("b")) == (3, 2)
        bus.ensure_topics([TopicSpec("a", 3, "x.v1"), TopicSpec("c", 1, "x.v1")])  # one exists, one new
        assert bus.partitions("c") == 1
        with pytest.raises(ValueError, match=r"topic b exists with 2 partitions; topology asks for 5"):
            bus.ensure_topics([TopicSpec("b", 5, "x.v1")])
        bus.register_schemas([(101, "x.v1", '"string"', None, "a"), (102, "x.v2", '"long"', '"long"', "b")])
        assert {(101, '"string"'), (102, '"long"')} <= set(bus.known_schemas())
        assert (102, "x.v2", '"long"') in set(bus.schema_history())
    finally:
        bus.close()


def test_a_closed_bus_is_freed_at_once_without_the_collector(kafka: str) -> None:
    """Each librdkafka client holds one of the process's 1,024 thread-local keys until it is
    freed. A closed bus caught in a reference cycle (its readers pointing back at it, say) keeps
    its clients until a full collection, and a process that opens many (a worker taking tasks
    over, a test session) fails with "Failed to initialize thread local storage"."""
    import gc
    import weakref

    from argus.bus.base import Commit, TopicSpec, partition_for
    from argus.bus.kafka import KafkaBus

    bus = KafkaBus(bus_url(kafka))
    bus.ensure_topics([TopicSpec("t", 2, "x.v1")])
    bus.commit(Commit(appends=[("t", "k", b"v")], writer="w"))
    part = partition_for("k", 2)
    deadline = time.time() + 30
    while not bus.read("t", part, 0, 10, reader="task") and time.time() < deadline:
        time.sleep(0.05)
    assert bus.end_offset("t", part, "task") >= 1 and bus.read("t", part, 0, 10)  # a tool's read too
    bus.close()
    gc.disable()
    try:
        gone, reads_gone = weakref.ref(bus), weakref.ref(bus.reads)
        del bus
        assert gone() is None and reads_gone() is None
    finally:
        gc.enable()


def test_retention_and_compaction_in_the_topology_are_the_topics_settings_on_the_broker(kafka: str) -> None:
    """`retention_hours` and `compacted` in topology.yaml become the topic's retention.ms and
    cleanup.policy (and a segment.ms that lets them act within a day) when Argus creates it, and
    again when the topology changes them later; a retention taken out of the topology goes back to
    the broker's default."""
    from confluent_kafka.admin import AdminClient, ConfigResource

    from argus.bus.base import TopicSpec
    from argus.bus.kafka import KafkaBus

    bus = KafkaBus(bus_url(kafka))
    admin = AdminClient({"bootstrap.servers": kafka})

    def settings(name: str) -> tuple[str, str, bool]:
        res = ConfigResource(ConfigResource.Type.TOPIC, bus.kafka_topic(name))
        got = admin.describe_configs([res])[res].result(30)
        ret, seg = got["retention.ms"], got["segment.ms"]
        # the segment rolls daily (or sooner) wherever records must go on time
        assert seg.is_default == (ret.is_default and got["cleanup.policy"].value == "delete")
        if not seg.is_default:
            assert int(seg.value) == min(int(ret.value) if not ret.is_default else 86_400_000, 86_400_000)
        return got["cleanup.policy"].value, ret.value, bool(ret.is_default)

    try:
        bus.ensure_topics([TopicSpec("raw", 2, "x.v1", retention_hours=168), TopicSpec("latest", 1, "x.v1", True)])
        bus.ensure_topics([TopicSpec("plain", 1, "x.v1")])
        assert settings("plain") == ("delete", settings("plain")[1], True)
        assert settings("raw") == ("delete", str(168 * 3_600_000), False)
        assert settings("latest")[0] == "compact" and settings("latest")[2]  # retention: the broker's
        bus.ensure_topics([TopicSpec("raw", 2, "x.v1", retention_hours=12), TopicSpec("latest", 1, "x.v1", True, 48)])
        assert settings("raw") == ("delete", str(12 * 3_600_000), False)
        assert settings("latest") == ("compact,delete", str(48 * 3_600_000), False)
        bus.ensure_topics([TopicSpec("raw", 2, "x.v1")])
        policy, _, default = settings("raw")
        assert policy == "delete" and default
    finally:
        bus.close()


def test_a_reader_behind_what_retention_deleted_reads_on_from_what_is_left(kafka: str) -> None:
    """A task whose committed offset is older than the topic's log start (its records expired
    while it was down) reads on from the oldest record left, as on the embedded bus. Left to
    librdkafka's default (`auto.offset.reset=latest`) it jumped to the end, and every record
    still there, expired or not, was skipped."""
    from confluent_kafka import TopicPartition
    from confluent_kafka.admin import AdminClient

    from argus.bus.base import Commit, TopicSpec
    from argus.bus.kafka import KafkaBus

    bus = KafkaBus(bus_url(kafka))
    try:
        bus.ensure_topics([TopicSpec("raw", 1, "x.v1", retention_hours=1)])
        bus.commit(Commit(appends=[("raw", f"k{i}", f"v{i}".encode()) for i in range(10)], writer="w"))
        admin = AdminClient({"bootstrap.servers": kafka})
        for f in admin.delete_records([TopicPartition(bus.kafka_topic("raw"), 0, 6)]).values():
            f.result(30)  # as retention does: the log now starts at offset 6
        for reader in ("task", None):
            got: list = []
            deadline = time.time() + 20
            while len(got) < 4 and time.time() < deadline:
                got = bus.read("raw", 0, 2, 100, reader=reader)
                time.sleep(0.05)
            assert [m.value for m in got] == [b"v6", b"v7", b"v8", b"v9"], reader
    finally:
        bus.close()


def test_readable_says_what_a_read_committed_reader_can_read_now_and_the_read_gets_it(kafka: str) -> None:
    """`readable` is what the field-query lane asks between ingest records: past the watermark
    a record can still be in an open transaction, which a read_committed reader must not see.
    What `readable` took off the fetcher to look is what the next read returns, in order."""
    from confluent_kafka import Producer

    from argus.bus.base import Commit, TopicSpec
    from argus.bus.kafka import KafkaBus

    bus = KafkaBus(bus_url(kafka))
    open_txn = None
    try:
        bus.ensure_topics([TopicSpec("q", 1, "x.v1")])
        bus.commit(Commit(appends=[("q", "k0", b"v0")], writer="w"))
        got: list = []
        deadline = time.time() + 20
        while not got and time.time() < deadline:
            got = bus.read("q", 0, 0, 10, reader="task")
            time.sleep(0.02)
        assert [m.value for m in got] == [b"v0"]
        assert not bus.readable("q", 0, 1, "task")

        open_txn = Producer({"bootstrap.servers": kafka, "transactional.id": f"open-{uuid.uuid4().hex[:6]}"})
        open_txn.init_transactions(30)
        open_txn.begin_transaction()
        open_txn.produce(bus.kafka_topic("q"), key=b"k1", value=b"v1", partition=0)
        open_txn.flush(30)
        deadline = time.time() + 20
        while bus.end_offset("q", 0, "task") < 3 and time.time() < deadline:
            time.sleep(0.02)  # the reader's fetcher learns the watermark
        # v0 at 0, its transaction's marker at 1, v1 at 2
        assert bus.end_offset("q", 0, "task") >= 3, "the open transaction's record is past the watermark"
        assert not bus.readable("q", 0, 1, "task"), "a record of an open transaction is not readable"

        open_txn.commit_transaction(30)
        deadline = time.time() + 20
        while not bus.readable("q", 0, 1, "task") and time.time() < deadline:
            time.sleep(0.02)
        assert bus.readable("q", 0, 1, "task")
        assert bus.end_offset("q", 0, "task") >= 3  # what was looked at still counts as there
        got = bus.read("q", 0, 1, 10, reader="task")
        assert [(m.offset, m.value) for m in got] == [(2, b"v1")]
        assert not bus.readable("q", 0, 3, "task")  # the commit's marker: nothing to read
    finally:
        if open_txn is not None:
            open_txn.flush(5)
        bus.close()


def test_a_task_reads_all_its_partitions_through_one_consumer_each_in_order(
    kafka: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A task's partitions share one consumer (its field-query topics' keep one each): each read
    returns its own partition's records, in order, whatever the consumer fetched for the others
    meanwhile; a read from an earlier offset (a takeover's rollback) starts there again; and a
    partition whose unread records reach `FETCH_BUFFER` is paused and, once read, fetched again
    with nothing lost: a worker does not keep a consumer per task and partition, a hundred or so,
    each long-polling the broker."""
    from argus.bus import kafka_reads
    from argus.bus.base import Commit, TopicSpec, partition_for
    from argus.bus.kafka import KafkaBus

    monkeypatch.setattr(kafka_reads, "FETCH_BUFFER", 50)
    monkeypatch.setattr(kafka_reads, "FETCH_CHUNK", 20)
    bus = KafkaBus(bus_url(kafka))
    try:
        bus.ensure_topics([TopicSpec("in", 4, "x.v1"), TopicSpec("asks", 2, "x.v1", priority="high")])
        keys = [f"k{i}" for i in range(400)]
        bus.commit(Commit(appends=[("in", k, k.encode()) for k in keys], writer="w"))
        bus.commit(Commit(appends=[("asks", k, k.encode()) for k in keys[:10]], writer="w"))
        want = {p: [k.encode() for k in keys if partition_for(k, 4) == p] for p in range(4)}
        assert all(len(v) > 60 for v in want.values())  # more than FETCH_BUFFER each

        got: dict[int, list[bytes]] = {p: [] for p in range(4)}
        paused: set = set()
        deadline = time.time() + 30
        while any(len(got[p]) < len(want[p]) for p in range(4)) and time.time() < deadline:
            for p in (0, 0, 0, 1, 2, 3) if len(got[0]) < len(want[0]) else range(4):
                msgs = bus.read("in", p, len(got[p]), 7, reader="task")
                assert [m.offset for m in msgs] == list(range(len(got[p]), len(got[p]) + len(msgs)))
                got[p] += [m.value for m in msgs]
                paused |= bus.reads._paused
            time.sleep(0.01)
        assert got == want
        assert paused and not bus.reads._paused  # some were paused while partition 0 was read; none now
        asked: list[bytes] = []
        while len(asked) < 10 and time.time() < deadline:
            for p in range(2):
                start = sum(1 for k in keys[:10] if partition_for(k, 2) == p and k.encode() in asked)
                asked += [m.value for m in bus.read("asks", p, start, 10, reader="task")]
        assert sorted(asked) == sorted(k.encode() for k in keys[:10])
        assert set(bus.reads._fetchers) == {"task"}  # one consumer for the four partitions of "in"
        assert {k for k in bus.reads._readers if k[0] == "asks"} == {("asks", 0, "task"), ("asks", 1, "task")}

        again: list = []
        while len(again) < 5 and time.time() < deadline:
            again += bus.read("in", 1, len(again), 5, reader="task")  # back to the start
        assert [m.value for m in again] == want[1][:5]
        assert bus.end_offset("in", 2, "task") == len(want[2])  # read to its end: nothing more
    finally:
        bus.close()
