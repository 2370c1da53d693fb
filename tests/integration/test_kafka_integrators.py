"""A CAD integrator outside the deployment, on a real broker configured as docker-compose.yml
configures it (the TLS material from ops/kafka/make-certs.sh, SASL/SCRAM-SHA-512, the
StandardAuthorizer): `argus integrator add` gives it credentials that read the alert topic with
the reference consumer, and nothing else: no other topic, no other group, no writing, no
connection without TLS or with a wrong password, and nothing at all once removed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from argus.demo import run_demo
from tests.e2e.conftest import argus

ck = pytest.importorskip("confluent_kafka", reason="pip install 'argus-fusion[kafka]'")
pytestmark = [pytest.mark.integration, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def secure_kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int, Path]]:
    """(internal bootstrap, integrator listener port, the secrets directory)."""
    from tests.servers import KafkaBroker

    if shutil.which("openssl") is None:
        (pytest.fail if os.environ.get("CI") else pytest.skip)("openssl not found: apt-get install openssl")
    work = tmp_path_factory.mktemp("secure-kafka")
    secrets = work / "secrets"
    subprocess.run([str(ROOT / "ops" / "kafka" / "make-certs.sh"), "localhost", str(secrets)], check=True, timeout=120)
    with KafkaBroker(work, integrators=secrets) as broker:
        from confluent_kafka.admin import AdminClient

        admin = AdminClient({"bootstrap.servers": broker.bootstrap})
        deadline = time.time() + 60
        while not admin.list_topics(timeout=5).brokers:
            assert time.time() < deadline, "the broker never reported itself in metadata"
        yield broker.bootstrap, broker.integrator_port, secrets


def _first_error(conf: dict[str, str], topic: str, assign: bool) -> str:
    """The first error a consumer with `conf` meets reading `topic` (assigned, or subscribed in
    its group), or "" if it reads without one."""
    told: list[str] = []  # what the client reports beside the messages (refused logins, metadata)
    c = ck.Consumer(
        {
            **conf,
            "enable.partition.eof": True,
            "auto.offset.reset": "earliest",
            "error_cb": lambda e: told.append(e.name()),
        }
    )
    try:
        try:
            meta = c.list_topics(topic, timeout=20).topics[topic]
        except ck.KafkaException as exc:  # not even metadata: the login or the connection failed
            c.poll(0.5)  # the client tells why through error_cb, served by poll
            return told[0] if told else str(exc.args[0].name())
        if meta.error is not None:  # what the broker says of the topic to this principal
            return str(meta.error.name())
        if assign:
            c.assign([ck.TopicPartition(topic, 0, 0)])
        else:
            c.subscribe([topic])
        deadline = time.time() + 30
        while time.time() < deadline:
            m = c.poll(1)
            if told:
                return told[0]
            if m is not None and m.error():
                if m.error().code() == ck.KafkaError._PARTITION_EOF:
                    return ""
                return m.error().name()
        return "no answer"
    finally:
        c.close()


def test_an_integrator_reads_the_alert_topic_and_nothing_else(
    secure_kafka: tuple[str, int, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bootstrap, port, secrets = secure_kafka
    prefix = f"s{uuid.uuid4().hex[:8]}."
    url = f"kafka://{bootstrap}?prefix={prefix}"
    monkeypatch.setenv("ARGUS_BUS", url)
    alert = run_demo(tmp_path / "site", lambda _: None, background=30, alert_timeout=60)["alert"]
    t = ["-t", str(tmp_path / "site" / "topology.yaml")]
    env = {"ARGUS_BUS": url}

    added = argus(
        "integrator", "add", "cad-vendor", "--by", "admin1", "--external", f"localhost:{port}",
        "--ca-file", str(secrets / "ca.pem"), *t, env=env,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr[-2000:]
    props = tmp_path / "cad-vendor.properties"
    props.write_text(added.stdout)
    conf = dict(line.split("=", 1) for line in added.stdout.splitlines())
    assert conf["security.protocol"] == "SASL_SSL" and conf["sasl.username"] == "cad-vendor"
    schema = tmp_path / "alert.avsc"
    schema.write_text(argus("integrator", "schema").stdout)

    # what the integrator runs: the reference consumer, with nothing but those two files
    out = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "cad_alert_consumer.py"), "--config", str(props),
         "--schema", str(schema), "--prefix", prefix, "--agency", "CA0430000", "--unit", "2A31",
         "--from-beginning", "--idle-timeout", "5"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    got = [json.loads(line) for line in out.stdout.splitlines()]
    assert out.returncode == 0 and alert["alert_id"] in {a["alert_id"] for a in got}, out.stderr[-2000:]

    mine = {k: v for k, v in conf.items() if k != "group.id"} | {"group.id": "cad-vendor.ops"}
    assert _first_error(mine, f"{prefix}alerts", assign=False) == ""
    assert _first_error(mine, f"{prefix}reports", assign=True) == "TOPIC_AUTHORIZATION_FAILED"
    assert _first_error(mine, f"{prefix}deadletters", assign=True) == "TOPIC_AUTHORIZATION_FAILED"
    assert _first_error({**mine, "group.id": "someone-else"}, f"{prefix}alerts", assign=False) == (
        "GROUP_AUTHORIZATION_FAILED"
    )
    assert "AUTHENTICATION" in _first_error({**mine, "sasl.password": "guessed"}, f"{prefix}alerts", assign=True)
    plain = {"bootstrap.servers": f"localhost:{port}", "group.id": "cad-vendor.plain"}
    assert _first_error(plain, f"{prefix}alerts", assign=True) != ""  # no TLS, no SASL: nothing
    producer = ck.Producer({k: v for k, v in mine.items() if k not in ("group.id", "isolation.level")})
    failed: list[str] = []
    producer.produce(f"{prefix}alerts", b"forged", on_delivery=lambda err, _m: failed.append(err.name() if err else ""))
    producer.flush(30)
    assert failed == ["TOPIC_AUTHORIZATION_FAILED"]

    listed = json.loads(argus("integrator", "list", "--json", *t, env=env).stdout)
    assert listed["cad-vendor"] == sorted(
        [f"READ TOPIC {prefix}alerts", f"DESCRIBE TOPIC {prefix}alerts", "READ GROUP cad-vendor.*"]
    )
    removed = argus("integrator", "remove", "cad-vendor", "--by", "admin1", *t, env=env)
    assert removed.returncode == 0 and "3 ACLs" in removed.stdout, removed.stderr[-2000:]
    assert "AUTHENTICATION" in _first_error(mine, f"{prefix}alerts", assign=True)
    trail = argus("audit", "show", "--actor", "admin1", *t, env=env).stdout
    assert trail.count("integrator:cad-vendor") == 2


def test_make_certs_names_an_address_in_the_certificate(tmp_path: Path) -> None:
    if shutil.which("openssl") is None:
        pytest.skip("openssl not found")
    subprocess.run([str(ROOT / "ops" / "kafka" / "make-certs.sh"), "10.1.2.3", str(tmp_path)], check=True)
    text = subprocess.run(
        ["openssl", "pkcs12", "-in", str(tmp_path / "broker.p12"), "-nokeys", "-clcerts",
         "-passin", f"file:{tmp_path / 'keystore_creds'}"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    cert = subprocess.run(["openssl", "x509", "-noout", "-ext", "subjectAltName"], input=text, capture_output=True,
                          text=True, check=True).stdout  # fmt: skip
    assert "IP Address:10.1.2.3" in cert
    assert oct((tmp_path / "key_creds").stat().st_mode)[-3:] == "600"
