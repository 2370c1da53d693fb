"""Real servers for integration tests, fetched from Maven Central and started on 127.0.0.1.

No Docker here: the jars come from Maven Central through `mvn dependency:copy-dependencies`
into a cache (ARGUS_TEST_CACHE, default ~/.cache/argus-test-servers), and the servers run as
plain Java processes on random free ports, started once per pytest session. Where Java or Maven
is missing the tests skip with what to install, except under CI=true, where they must run.
"""

from __future__ import annotations

import base64
import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
CACHE = Path(os.environ.get("ARGUS_TEST_CACHE", Path.home() / ".cache" / "argus-test-servers"))


def require(*tools: str) -> None:
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        msg = (
            f"{', '.join(missing)} not found: install a Java 17+ JDK and Apache Maven "
            "(e.g. apt-get install openjdk-17-jdk-headless maven) to run the real-server tests"
        )
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch_jars(name: str) -> Path:
    """The runtime classpath of tests/servers/<name>/pom.xml, fetched once into the cache."""
    require("java", "mvn")
    pom = HERE / name / "pom.xml"
    key = uuid.uuid5(uuid.NAMESPACE_URL, pom.read_text()).hex[:12]
    libs = CACHE / f"{name}-{key}"
    if (libs / ".complete").exists():
        return libs
    libs.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            "mvn",
            "-q",
            "-B",
            "-f",
            str(pom),
            "dependency:copy-dependencies",
            f"-DoutputDirectory={libs}",
            "-DincludeScope=runtime",
        ],
        check=True,
        timeout=900,
    )
    (libs / ".complete").touch()
    return libs


def wait_for_port(port: int, proc: subprocess.Popen, timeout: float, log: Path) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError(f"server did not listen on {port} within {timeout}s:\n{log.read_text()[-3000:]}")


def cluster_id() -> str:
    """Kafka's own form: a UUID as 22 characters of URL-safe base64."""
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()


LOG4J = """log4j.rootLogger=WARN, file
log4j.appender.file=org.apache.log4j.FileAppender
log4j.appender.file.File={log}
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
"""


@contextmanager
def kafka_broker(workdir: Path) -> Iterator[str]:
    """A single-node Apache Kafka broker in KRaft mode; yields its bootstrap address."""
    libs = fetch_jars("kafka")
    cp = f"{libs}/*"
    port, controller = free_port(), free_port()
    data = workdir / "data"
    log = workdir / "broker.log"
    (workdir / "log4j.properties").write_text(LOG4J.format(log=log))
    props = workdir / "server.properties"
    props.write_text(
        "\n".join(
            [
                "process.roles=broker,controller",
                "node.id=1",
                f"controller.quorum.voters=1@127.0.0.1:{controller}",
                f"listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller}",
                f"advertised.listeners=PLAINTEXT://127.0.0.1:{port}",
                "controller.listener.names=CONTROLLER",
                "inter.broker.listener.name=PLAINTEXT",
                "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                f"log.dirs={data}",
                "offsets.topic.replication.factor=1",
                "transaction.state.log.replication.factor=1",
                "transaction.state.log.min.isr=1",
                "group.initial.rebalance.delay.ms=0",
                "auto.create.topics.enable=false",
                "",
            ]
        )
    )
    java = ["java", "-Xms256m", "-Xmx512m", "-cp", cp, f"-Dlog4j.configuration=file:{workdir / 'log4j.properties'}"]
    subprocess.run(
        [*java, "kafka.tools.StorageTool", "format", "-t", cluster_id(), "-c", str(props)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    with log.open("ab") as out:
        proc = subprocess.Popen([*java, "kafka.Kafka", str(props)], stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, proc, 90, log)
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
