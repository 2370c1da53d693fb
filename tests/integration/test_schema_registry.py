"""Argus on Kafka with a real schema registry (`kafka://...?registry=URL`): records on the wire
carry the registry's ids under TopicNameStrategy subjects, so Confluent's own AvroDeserializer
reads every topic, in this process and in another one (the reference CAD consumer); each subject
carries Argus's compatibility rule in the registry, which then refuses a breaking schema from any
producer, and Argus refuses to start where the registry holds one it cannot follow.

The registry is Apicurio Registry 3.0.9 from Maven Central (tests/servers/apicurio), served on
its Confluent-compatible API (/apis/ccompat/v7), as the compose stack serves it."""

from __future__ import annotations

import os
import signal
import struct
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import orjson
import pytest

from argus.runtime.core import Runtime
from argus.schemas import default_schemas
from argus.topology import load_topology
from tests.e2e.conftest import argus, make_workdir

pytestmark = [pytest.mark.integration]
ROOT = Path(__file__).resolve().parents[2]


def avro(doc: dict) -> str:
    return orjson.dumps(doc).decode()


def test_confluent_deserializer_reads_what_argus_wrote(
    kafka: str, schema_registry: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from confluent_kafka import Consumer, TopicPartition
    from confluent_kafka.schema_registry import SchemaRegistryClient
    from confluent_kafka.schema_registry.avro import AvroDeserializer
    from confluent_kafka.serialization import MessageField, SerializationContext

    prefix = f"r{uuid.uuid4().hex[:8]}."
    monkeypatch.setenv("ARGUS_BUS", f"kafka://{kafka}?prefix={prefix}&registry={schema_registry}")
    topo = load_topology(make_workdir(tmp_path, background=20))
    with Runtime(topo).open() as rt:
        rt.run_until_idle()
        ours = {t: rt.read_topic(t) for t in ("rms.records", "resolved", "alerts")}
    client = SchemaRegistryClient({"url": schema_registry})
    for topic, records in ours.items():
        assert records, topic
        subject = f"{prefix}{topic}-value"
        assert client.get_compatibility(subject) == "FULL_TRANSITIVE"
        rid = client.get_latest_version(subject).schema_id
        c = Consumer({"bootstrap.servers": kafka, "group.id": f"g{uuid.uuid4().hex[:6]}",
                      "isolation.level": "read_committed", "enable.partition.eof": True})  # fmt: skip
        c.assign([TopicPartition(prefix + topic, p, 0) for p in range(topo.topics[topic].partitions)])
        avro = AvroDeserializer(client)
        got, ids, eof = [], set(), 0
        while eof < topo.topics[topic].partitions:
            m = c.poll(10)
            assert m is not None, "timed out reading back"
            if m.error():
                eof += 1
                continue
            if m.value() is None:
                continue  # a source-order mark (argus/runtime/order.py): null, like a tombstone
            ids.add(struct.unpack(">bI", m.value()[:5])[1])
            got.append(avro(m.value(), SerializationContext(prefix + topic, MessageField.VALUE)))
        c.close()
        assert ids == {rid}  # every record framed with the registry's id of its subject
        assert sorted(g["envelope"]["id"] for g in got) == sorted(r.value["envelope"]["id"] for r in records)
        mine = {r.value["envelope"]["id"]: r.value for r in records}
        assert all(mine[g["envelope"]["id"]] == g for g in got)  # the same datum, field for field

    # Another process, knowing nothing of Argus, reads the alerts through the registry: the
    # reference consumer a CAD integrator copies (examples/cad_alert_consumer.py --registry).
    agency = ours["alerts"][0].body["recipient_agency"]
    want = {r.body["alert_id"] for r in ours["alerts"] if r.body["recipient_agency"] == agency}
    out = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "cad_alert_consumer.py"), "--bootstrap", kafka, "--prefix", prefix,
         "--agency", agency, "--registry", schema_registry, "--from-beginning", "--idle-timeout", "5"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    assert want and {orjson.loads(line)["alert_id"] for line in out.stdout.splitlines()} == want


def test_the_registry_holds_every_producer_to_argus_rule(
    kafka: str, schema_registry: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
    from confluent_kafka.schema_registry.error import SchemaRegistryError

    from argus.bus.kafka_registry import SchemaRegistryRefused

    client = SchemaRegistryClient({"url": schema_registry})
    prefix = f"c{uuid.uuid4().hex[:8]}."
    monkeypatch.setenv("ARGUS_BUS", f"kafka://{kafka}?prefix={prefix}&registry={schema_registry}")
    with Runtime(load_topology(make_workdir(tmp_path / "a", background=0))).open() as rt:
        rt.run_until_idle()
    subject = f"{prefix}rms.records-value"
    ours = orjson.loads(client.get_latest_version(subject).schema.schema_str)
    # An upstream RMS's producer changing a field's type is refused by the registry itself ...
    broken = dict(ours, fields=[f if f["name"] != "body" else dict(f, type="string") for f in ours["fields"]])
    with pytest.raises(SchemaRegistryError) as refused:
        client.register_schema(subject, Schema(avro(broken), "AVRO"))
    assert refused.value.http_status_code == 409
    # ... one adding a field with a default is taken, as the rule allows.
    extra = {"name": "upstream_batch", "type": ["null", "string"], "default": None}
    assert client.register_schema(subject, Schema(avro(dict(ours, fields=[*ours["fields"], extra])), "AVRO")) > 0

    # A registry holding, under an Argus subject, a schema Argus's cannot follow: Argus does not
    # start producing, and says which subject and why.
    other = f"d{uuid.uuid4().hex[:8]}."
    theirs = f"{other}alerts-value"
    client.set_compatibility(subject_name=theirs, level="FULL_TRANSITIVE")
    alien = {"type": "record", "name": "argus.topic.AlertEvent", "fields": [{"name": "id", "type": "long"}]}
    client.register_schema(theirs, Schema(avro(alien), "AVRO"))
    monkeypatch.setenv("ARGUS_BUS", f"kafka://{kafka}?prefix={other}&registry={schema_registry}")
    topo = make_workdir(tmp_path / "b", background=0)
    with pytest.raises(SchemaRegistryRefused, match=rf"{theirs}.*HTTP 409"):
        Runtime(load_topology(topo)).open()
    run = argus("run", "--until-idle", "-t", str(topo), "--metrics-port", "0")  # what an operator sees
    assert run.returncode == 2 and f"not starting: schema registry {schema_registry} refused" in run.stderr
    assert theirs in run.stderr and "Traceback" not in run.stderr


def test_workers_starting_together_register_the_same_subjects_at_once(schema_registry: str) -> None:
    """A group's workers start together and each sets the rule on, and registers, every subject:
    the registry may refuse the second of two identical writes (Apicurio answers a concurrent
    rule with 409, seen when three workers started at once). Each worker must end with the
    registry's one id and the rule in place, not refuse to start."""
    from confluent_kafka.schema_registry import SchemaRegistryClient

    from argus.bus.kafka_registry import SchemaRegistry

    class Bus:  # what SchemaRegistry keeps of its bus: a weak reference, unused here
        pass

    bus = Bus()
    doc = {"type": "record", "name": "argus.topic.T", "fields": [{"name": "x", "type": "int"}]}

    def worker(topic: str, start: threading.Barrier, got: list[int], errors: list[Exception]) -> None:
        reg = SchemaRegistry(schema_registry, bus)  # type: ignore[arg-type]
        start.wait()
        try:
            got.append(reg.register(topic, 42, avro(doc)))
        except Exception as exc:
            errors.append(exc)

    for _ in range(5):
        topic = f"w{uuid.uuid4().hex[:8]}.alerts"
        start, got, errors = threading.Barrier(6), [], []
        threads = [threading.Thread(target=worker, args=(topic, start, got, errors)) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert not errors and len(set(got)) == 1 and len(got) == 6, (errors, got)
        assert SchemaRegistryClient({"url": schema_registry}).get_compatibility(f"{topic}-value") == "FULL_TRANSITIVE"


def test_a_worker_whose_registry_is_down_exits_for_its_supervisor_to_retry(kafka: str, tmp_path: Path) -> None:
    """Registry down at start-up (not yet started, restarting): `argus run` says so in one line
    and exits 75, as for a hung commit, for its supervisor to start it again; a refusal exits 2."""
    from tests.servers import free_port

    topo = make_workdir(tmp_path, background=0)
    url = f"http://127.0.0.1:{free_port()}/apis/ccompat/v7"  # nothing listens there
    bus = f"kafka://{kafka}?prefix=u{uuid.uuid4().hex[:8]}.&registry={url}"
    run = argus("run", "--until-idle", "-t", str(topo), "--metrics-port", "0", env={"ARGUS_BUS": bus})
    assert run.returncode == 75, run.stderr[-2000:]
    assert f"not starting: schema registry {url} unreachable: ConnectError" in run.stderr
    assert "Traceback" not in run.stderr


def test_an_upstream_producers_compatible_version_is_read_through_the_registry(
    kafka: str, schema_registry: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An upstream system publishing RMS records itself, with Confluent's AvroSerializer and a
    version of the subject's schema the rule allows (a field added with a default): Argus reads
    it by the registry's schema (Avro resolution to its own), and the report goes through the
    pipeline like any other, not to the dead letters as an unknown schema."""
    from confluent_kafka.schema_registry import SchemaRegistryClient

    prefix = f"v{uuid.uuid4().hex[:8]}."
    monkeypatch.setenv("ARGUS_BUS", f"kafka://{kafka}?prefix={prefix}&registry={schema_registry}")
    topo = load_topology(make_workdir(tmp_path, background=0))
    with Runtime(topo).open() as rt:
        rt.run_until_idle()
        first = rt.read_topic("rms.records")[0].value

    client = SchemaRegistryClient({"url": schema_registry})
    topic = f"{prefix}rms.records"
    record, value = upstream_rms_record(client, topic, first, "UPSTREAM-0001")
    produce(kafka, topic, (b"UPSTREAM-0001", value))
    assert len(client.get_versions(f"{topic}-value")) == 2  # theirs, registered beside Argus's

    with Runtime(topo).open() as rt:
        rt.run_until_idle()
        got = {r.value["envelope"]["id"]: r.value for r in rt.read_topic("rms.records")}
        resolved = {r.value["body"]["report"].get("report_id") for r in rt.read_topic("resolved")}
        dead = [r.value["reason"] for r in rt.read_topic("deadletters")]
    mine = got[record["envelope"]["id"]]
    assert "upstream_batch" not in mine and mine["body"]["report_id"] == "UPSTREAM-0001"  # read as Argus's v1
    assert "UPSTREAM-0001" in resolved
    assert not [d for d in dead if "schema" in d], dead


def upstream_rms_record(client: Any, topic: str, first: dict, report_id: str) -> tuple[dict, bytes]:
    """An RMS record as an upstream system writes it: Confluent's AvroSerializer, with a version
    of the subject's schema the rule allows (a field added with a default), registered by it.
    Returns the record and its bytes on the wire."""
    import copy

    from confluent_kafka.schema_registry.avro import AvroSerializer
    from confluent_kafka.serialization import MessageField, SerializationContext

    ours = orjson.loads(client.get_latest_version(f"{topic}-value").schema.schema_str)
    extra = {"name": "upstream_batch", "type": ["null", "string"], "default": None}
    theirs = AvroSerializer(client, avro(dict(ours, fields=[*ours["fields"], extra])))
    record = copy.deepcopy(first)
    record["envelope"]["id"] = str(uuid.uuid4())
    record["body"]["report_id"] = report_id
    record["upstream_batch"] = "nightly-7"
    return record, theirs(record, SerializationContext(topic, MessageField.VALUE))


def produce(bootstrap: str, topic: str, *values: tuple[bytes, bytes]) -> None:
    from confluent_kafka import Producer

    producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True})
    for key, value in values:
        producer.produce(topic, key=key, value=value, partition=0)
    assert producer.flush(30) == 0


def test_a_record_framed_with_an_id_the_registry_does_not_hold_goes_to_the_dead_letters(
    kafka: str, schema_registry: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A poison record on a registry-framed topic: magic byte 0 and a schema id the registry
    has never issued (a producer pointed at another registry, or not framed by one at all).
    It can never be read, so it goes to the dead letters with the reason and its original
    bytes, and the record behind it in the same partition is processed. Before, the registry's
    404 stopped the process, and every restart stopped again on the same record."""
    from confluent_kafka.schema_registry import SchemaRegistryClient

    prefix = f"p{uuid.uuid4().hex[:8]}."
    monkeypatch.setenv("ARGUS_BUS", f"kafka://{kafka}?prefix={prefix}&registry={schema_registry}")
    topo_path = make_workdir(tmp_path, background=0)
    topo = load_topology(topo_path)
    with Runtime(topo).open() as rt:
        rt.run_until_idle()
        first = rt.read_topic("rms.records")[0].value
    topic = f"{prefix}rms.records"
    poison = b"\x00" + struct.pack(">I", 987_654) + b"\x06garbage"
    _, behind = upstream_rms_record(SchemaRegistryClient({"url": schema_registry}), topic, first, "BEHIND-0001")
    produce(kafka, topic, (b"POISON", poison), (b"BEHIND-0001", behind))
    with Runtime(topo).open() as rt:
        rt.run_until_idle()
        resolved = {r.value["body"]["report"].get("report_id") for r in rt.read_topic("resolved")}
        dead = [r.value for r in rt.read_topic("deadletters") if r.value["error_type"] == "SchemaError"]
    assert len(dead) == 1, dead
    assert dead[0]["reason"].startswith(f"schema id 987654 is not in schema registry {schema_registry}")
    assert dead[0]["node"] == "dedup" and dead[0]["original"] == poison
    assert "BEHIND-0001" in resolved
    # Replaying every dead letter leaves that one where it is, and says why, instead of stopping
    # on a frame the bus cannot translate back (the others go back to their topics).
    replay = argus("dlq", "replay", "-t", str(topo_path), env={"ARGUS_BUS": os.environ["ARGUS_BUS"]})
    assert replay.returncode == 0, replay.stderr[-2000:]
    assert "1 dead letter(s) not replayed: their records still cannot be read (e.g. schema id 987654" in replay.stderr


def test_a_registry_outage_mid_stream_stops_no_running_worker_and_loses_nothing(
    kafka: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The registry goes away mid-stream (15 s) under a group of two. The running workers need
    it for nothing: each registered every subject as it started and reads and writes by the ids
    it holds. A worker killed then and started again cannot start (it registers first): it exits
    75 each time, as its supervisor restarts it, until the registry is back. Then every topic,
    store and alert is exactly the embedded run's."""
    from tests.integration.test_kafka_workers import (
        every_source_run_embedded,
        start_worker,
        stop_all,
        supervise_to_the_embedded_answer,
        wait_under_way,
    )
    from tests.servers import SchemaRegistryServer

    topo, expected = every_source_run_embedded(tmp_path)
    (tmp_path / "registry").mkdir()
    registry = SchemaRegistryServer(tmp_path / "registry", kafka)
    registry.start()
    url = f"kafka://{kafka}?prefix=o{uuid.uuid4().hex[:8]}.&registry={registry.url}"
    data = tmp_path / "group"
    logs = [tmp_path / f"w{i}.log" for i in range(2)]
    workers: list[subprocess.Popen | None] = [start_worker(topo, data, url, log) for log in logs]
    back = threading.Timer(15, registry.start)
    try:
        wait_under_way(topo, data, url, logs)
        assert workers[1].poll() is None, logs[1].read_text()[-3000:]  # type: ignore[union-attr]
        workers[1].kill()  # type: ignore[union-attr]
        workers[1].wait()  # type: ignore[union-attr]
        registry.stop()
        back.start()
        exits = supervise_to_the_embedded_answer(topo, data, url, workers, logs, expected, monkeypatch)
        assert all(log.name.startswith("w1") for _, log in exits), exits  # worker 0 ran through
        assert exits[0][0] == -signal.SIGKILL and exits[1:], (exits, exits[0][1].read_text()[-3000:])
        for code, log in exits[1:]:  # restarted while the registry was away
            text = log.read_text()
            assert code == 75 and "not starting: schema registry" in text, text[-2000:]
        print(f"\nregistry away 15 s: {len(exits) - 1} restart(s) of the killed worker exited 75", flush=True)
    finally:
        back.cancel()
        back.join()
        stop_all(workers, logs)
        registry.stop()


def test_a_new_upstream_version_met_while_the_registry_is_down_stops_its_worker_until_it_is_back(
    kafka: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An upstream producer registered a new version and wrote a record with it; the registry
    then went away before Argus read it. The worker cannot read that record (only the registry
    says which schema wrote it) and must not pass over it: it says so in one line and exits 75,
    committing nothing more. Started again once the registry is back, it reads the record by
    Avro resolution, and the report is resolved exactly once."""
    from confluent_kafka.schema_registry import SchemaRegistryClient

    from argus.backends import read_topic
    from tests.integration.test_kafka_workers import group_bus, start_worker, stop_all
    from tests.servers import SchemaRegistryServer

    (tmp_path / "registry").mkdir()
    registry = SchemaRegistryServer(tmp_path / "registry", kafka)
    registry.start()
    prefix = f"n{uuid.uuid4().hex[:8]}."
    url = f"kafka://{kafka}?prefix={prefix}&registry={registry.url}"
    monkeypatch.setenv("ARGUS_BUS", url)
    topo_path = make_workdir(tmp_path / "work", background=0)
    topo = load_topology(topo_path)
    with Runtime(topo).open() as rt:
        rt.run_until_idle()
        first = rt.read_topic("rms.records")[0].value
    topic = f"{prefix}rms.records"
    _, new = upstream_rms_record(SchemaRegistryClient({"url": registry.url}), topic, first, "UPSTREAM-0002")
    data, logs = tmp_path / "group", [tmp_path / "w0.log", tmp_path / "w0.1.log"]
    workers: list[subprocess.Popen | None] = [start_worker(topo_path, data, url, logs[0])]

    def resolved() -> list[str]:
        bus = group_bus(url)
        try:
            recs = read_topic(bus, default_schemas(), "resolved")
        finally:
            bus.close()
        return [r.value["body"]["report"].get("report_id") for r in recs]

    try:
        deadline = time.time() + 120
        while "took" not in logs[0].read_text():
            assert time.time() < deadline and workers[0].poll() is None, logs[0].read_text()[-2000:]  # type: ignore[union-attr]
            time.sleep(0.2)
        registry.stop()
        produce(kafka, topic, (b"UPSTREAM-0002", new))
        code = workers[0].wait(90)  # type: ignore[union-attr]
        text = logs[0].read_text()
        assert code == 75, text[-3000:]
        assert f"stopping: schema registry {registry.url} unreachable" in text, text[-3000:]
        assert "exiting 75 for the supervisor" in text and "Traceback" not in text, text[-3000:]
        registry.start()
        workers[0] = start_worker(topo_path, data, url, logs[1])
        deadline = time.time() + 120
        while "UPSTREAM-0002" not in resolved():
            assert time.time() < deadline and workers[0].poll() is None, logs[1].read_text()[-3000:]
            time.sleep(1)
        time.sleep(3)  # anything doubled would be committed by now
        assert resolved().count("UPSTREAM-0002") == 1
    finally:
        stop_all(workers, logs[1:])
        registry.stop()


def test_the_api_answers_503_with_retry_after_while_the_registry_is_down(
    kafka: str, schema_registry: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The API (re)started while the registry is away: a field query cannot be published (its
    record must carry the registry's id), and the terminal is told so, 503 with Retry-After, not
    a 500."""
    from fastapi.testclient import TestClient

    from argus.api.app import create_app
    from argus.stores.sqlite_identity import Directory
    from tests.servers import free_port

    prefix = f"a{uuid.uuid4().hex[:8]}."
    data = tmp_path / "data"
    topo_path = make_workdir(tmp_path / "work", background=0)
    monkeypatch.setenv("ARGUS_BUS", f"kafka://{kafka}?prefix={prefix}&registry={schema_registry}")
    with Runtime(load_topology(topo_path, data)).open() as rt:  # the pipeline has run
        rt.run_until_idle()
    registry = f"http://127.0.0.1:{free_port()}/apis/ccompat/v7"  # nothing listens there now
    monkeypatch.setenv("ARGUS_BUS", f"kafka://{kafka}?prefix={prefix}&registry={registry}")
    topo = load_topology(topo_path, data)
    # The registry client retries a refused connection for a few seconds before giving up: more
    # than the API's default 5 s allows a query on a loaded machine (the 503, not a 504, is tested).
    monkeypatch.setenv("ARGUS_API_TIMEOUT", "30")
    d = Directory.for_data_dir(data)
    d.add_agency("CA0430000", "Fresno County SO")
    d.add_subject("u1", "CA0430000", ["patrol_officer"], unit="2A31")
    key = d.create_key("u1")
    query = {"query_id": "Q-9", "plate": "8ABC123", "state": "CA"}
    with TestClient(create_app(topo)) as client:
        r = client.post("/api/v1/field/query?wait=1", json=query, headers={"X-API-Key": key})
    assert r.status_code == 503, r.text
    assert r.headers["Retry-After"] == "5"
    assert r.json()["title"] == "Schema registry unavailable"
    assert r.json()["detail"].startswith(f"schema registry {registry} unreachable")
    # and an operator's command reading registry-framed records says so in one line, exit 75
    listed = argus(
        "dlq", "list", "-t", str(topo_path), "--data-dir", str(data), env={"ARGUS_BUS": os.environ["ARGUS_BUS"]}
    )
    assert listed.returncode == 75, listed.stderr[-2000:]
    assert f"argus: schema registry {registry} unreachable" in listed.stderr and "Traceback" not in listed.stderr
