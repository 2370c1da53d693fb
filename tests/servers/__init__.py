"""Real servers for integration tests, fetched from Maven Central and started on 127.0.0.1.

No Docker here: the jars and archives (Kafka, Neo4j, OpenSearch, Apicurio Registry) come from
Maven Central through `mvn dependency:copy-dependencies` (or `dependency:copy`) into a cache
(ARGUS_TEST_CACHE, default ~/.cache/argus-test-servers), and the servers run as plain Java
processes on random free ports, started once per pytest session. Where Java or Maven is missing
the tests skip with what to install, except under CI=true, where they must run.
"""

from __future__ import annotations

import base64
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Self

import pytest

HERE = Path(__file__).resolve().parent
ROOT = os.geteuid() == 0
# OpenSearch refuses to run as root, so under root it runs as `nobody`, which must be able to read
# the install: the cache then lives outside /root.
CACHE = Path(
    os.environ.get("ARGUS_TEST_CACHE")
    or ("/var/cache/argus-test-servers" if ROOT else Path.home() / ".cache" / "argus-test-servers")
)
JAVA_HOME = Path(
    os.environ.get("JAVA_HOME") or Path(os.path.realpath(shutil.which("java") or "/usr/bin/java")).parent.parent
)


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
    os.chmod(CACHE, 0o755)
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
    """Kafka's own form: a UUID as 22 characters of URL-safe base64. One that starts with '-'
    is read by kafka-storage's argument parser as an option (1 format in 64 failed), so the
    first character is kept out of that range."""
    while True:
        cid = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        if not cid.startswith("-"):
            return cid


LOG4J = """log4j.rootLogger=WARN, file
log4j.appender.file=org.apache.log4j.FileAppender
log4j.appender.file.File={log}
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
"""


class Server:
    """A server process a test starts, stops, and starts again on the same ports and data (as
    an operator restarts one), so its clients meet a server that went away and came back."""

    proc: subprocess.Popen | None = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        if self.proc is not None:
            stop(self.proc)
            self.proc = None

    def restart(self, down: float = 0.0) -> None:
        self.stop()
        time.sleep(down)
        self.start()


class KafkaBroker(Server):
    """A single-node Apache Kafka broker in KRaft mode on 127.0.0.1, formatted once; `restart()`
    is an operator's rolling restart (SIGTERM), on the same ports and log dir.

    With `integrators` (a directory ops/kafka/make-certs.sh wrote), the broker also has the
    integrator listener of docker-compose.yml: SASL_SSL with SCRAM-SHA-512 on `integrator_port`,
    the StandardAuthorizer, and no access without an ACL except on the internal listener."""

    def __init__(self, workdir: Path, integrators: Path | None = None) -> None:
        libs = fetch_jars("kafka")
        self.port, controller = free_port(), free_port()
        self.integrator_port = free_port()
        self.log = workdir / "broker.log"
        (workdir / "log4j.properties").write_text(LOG4J.format(log=self.log))
        self.props = workdir / "server.properties"
        listeners = [f"PLAINTEXT://127.0.0.1:{self.port}", f"CONTROLLER://127.0.0.1:{controller}"]
        advertised = [f"PLAINTEXT://127.0.0.1:{self.port}"]
        protocols = ["PLAINTEXT:PLAINTEXT", "CONTROLLER:PLAINTEXT"]
        secure: list[str] = []
        if integrators is not None:
            listeners.append(f"INTEGRATORS://127.0.0.1:{self.integrator_port}")
            advertised.append(f"INTEGRATORS://localhost:{self.integrator_port}")
            protocols.append("INTEGRATORS:SASL_SSL")
            secure = [  # what docker-compose.yml sets on the kafka service, as properties
                "sasl.enabled.mechanisms=SCRAM-SHA-512",
                "ssl.keystore.type=PKCS12",
                f"ssl.keystore.location={integrators / 'broker.p12'}",
                f"ssl.keystore.password={(integrators / 'keystore_creds').read_text()}",
                f"ssl.key.password={(integrators / 'key_creds').read_text()}",
                "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer",
                "super.users=User:ANONYMOUS",
                "allow.everyone.if.no.acl.found=false",
            ]
        self.props.write_text(
            "\n".join(
                [
                    "process.roles=broker,controller",
                    "node.id=1",
                    f"controller.quorum.voters=1@127.0.0.1:{controller}",
                    f"listeners={','.join(listeners)}",
                    f"advertised.listeners={','.join(advertised)}",
                    "controller.listener.names=CONTROLLER",
                    "inter.broker.listener.name=PLAINTEXT",
                    f"listener.security.protocol.map={','.join(protocols)}",
                    *secure,
                    f"log.dirs={workdir / 'data'}",
                    "offsets.topic.replication.factor=1",
                    "transaction.state.log.replication.factor=1",
                    "transaction.state.log.min.isr=1",
                    "group.initial.rebalance.delay.ms=0",
                    "auto.create.topics.enable=false",
                    "",
                ]
            )
        )
        log4j = f"-Dlog4j.configuration=file:{workdir / 'log4j.properties'}"
        jaas = [f"-Djava.security.auth.login.config={integrators / 'jaas.conf'}"] if integrators else []
        self.java = ["java", "-Xms256m", "-Xmx512m", *jaas, "-cp", f"{libs}/*", log4j]
        subprocess.run(
            [*self.java, "kafka.tools.StorageTool", "format", "-t", cluster_id(), "-c", str(self.props)],
            check=True,
            capture_output=True,
            timeout=120,
        )

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        """The running broker's process (to signal it, or to meter its CPU)."""
        assert self.proc is not None, "the broker is not running"
        return self.proc.pid

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [*self.java, "kafka.Kafka", str(self.props)], stdout=out, stderr=subprocess.STDOUT
            )
        wait_for_port(self.port, self.proc, 90, self.log)


@contextmanager
def kafka_broker(workdir: Path) -> Iterator[str]:
    """A single-node Apache Kafka broker in KRaft mode; yields its bootstrap address."""
    with KafkaBroker(workdir) as broker:
        yield broker.bootstrap


@contextmanager
def neo4j_server(workdir: Path) -> Iterator[str]:
    """Neo4j Community, embedded by a few lines of Java, Bolt on a free port; yields bolt://..."""
    libs = fetch_jars("neo4j")
    classes = libs / "classes"
    if not (classes / "ArgusNeo4j.class").exists():
        classes.mkdir(exist_ok=True)
        source = str(HERE / "neo4j" / "ArgusNeo4j.java")
        subprocess.run(["javac", "-cp", f"{libs}/*", "-d", str(classes), source], check=True, timeout=300)
    port = free_port()
    log = workdir / "neo4j.log"
    cmd = ["java", "-Xms256m", "-Xmx768m", "-cp", f"{classes}:{libs}/*", "ArgusNeo4j", str(workdir / "db"), str(port)]
    with log.open("ab") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, proc, 120, log)
        yield f"bolt://127.0.0.1:{port}"
    finally:
        stop(proc)


def fetch_archive(name: str, goal: str = "dependency:copy-dependencies") -> Path:
    """Where the archive tests/servers/<name>/pom.xml names is unpacked: fetched by `goal` once
    into the cache, readable by every user (OpenSearch runs as nobody under root)."""
    require("java", "mvn")
    pom = HERE / name / "pom.xml"
    key = uuid.uuid5(uuid.NAMESPACE_URL, pom.read_text()).hex[:12]
    root = CACHE / f"{name}-{key}"
    if not (root / ".complete").exists():
        root.mkdir(parents=True, exist_ok=True)
        os.chmod(CACHE, 0o755)
        subprocess.run(["mvn", "-q", "-B", "-f", str(pom), goal, f"-DoutputDirectory={root}"], check=True, timeout=900)
        (archive,) = [p for p in root.iterdir() if p.name.endswith((".zip", ".tar.gz"))]
        shutil.unpack_archive(archive, root)
        archive.unlink()
        for dirpath, _dirs, files in os.walk(root):
            os.chmod(dirpath, 0o755)
            executable = os.sep + "bin" in dirpath
            for f in files:
                os.chmod(os.path.join(dirpath, f), 0o755 if executable else 0o644)
        (root / ".complete").touch()
    return root


def opensearch_home() -> Path:
    """The OpenSearch integ-test zip, fetched and unpacked once into the cache."""
    (home,) = [p for p in fetch_archive("opensearch").iterdir() if p.is_dir() and p.name.startswith("opensearch-")]
    return home


@contextmanager
def opensearch_server() -> Iterator[str]:
    """A single-node OpenSearch (the integ-test build has no security plugin) on a free HTTP
    port; yields http://127.0.0.1:PORT. OpenSearch refuses root: under root it runs as nobody."""
    home = opensearch_home()
    work = Path(tempfile.mkdtemp(prefix="argus-opensearch-"))
    os.chmod(work, 0o755)
    conf = work / "config"
    shutil.copytree(home / "config", conf)
    opts = conf / "jvm.options"  # its relative log/dump paths would point into the read-only install
    opts.write_text(
        opts.read_text().replace("logs/", f"{work}/logs/").replace("HeapDumpPath=data", f"HeapDumpPath={work}/data")
    )
    for d in ("data", "logs"):
        (work / d).mkdir()
    port, transport = free_port(), free_port()
    env = dict(
        os.environ,
        OPENSEARCH_JAVA_HOME=str(JAVA_HOME),
        OPENSEARCH_PATH_CONF=str(conf),
        OPENSEARCH_JAVA_OPTS="-Xms512m -Xmx512m",
    )
    settings = {
        "http.port": port,
        "transport.port": transport,
        "network.host": "127.0.0.1",
        "discovery.type": "single-node",
        "path.data": work / "data",
        "path.logs": work / "logs",
        "cluster.routing.allocation.disk.threshold_enabled": "false",
    }
    cmd = [str(home / "bin" / "opensearch")]
    for k, v in settings.items():
        cmd += ["-E", f"{k}={v}"]
    if ROOT:
        subprocess.run(["chown", "-R", "nobody:nogroup", str(work)], check=True)
        cmd = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", *cmd]
    log = work / "stdout.log"
    with log.open("ab") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    try:
        wait_for_port(port, proc, 180, log)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(proc, group=True)
        shutil.rmtree(work, ignore_errors=True)


class SchemaRegistryServer(Server):
    """Apicurio Registry (the Maven Central `all` distribution) on a free port of 127.0.0.1, its
    schemas kept in the broker `kafka` (`kafkasql`, the compose stack's settings for it), so what
    it holds outlives it: `restart()` brings it back on the same port holding the same schemas,
    as a registry an operator restarts does. `url` is its Confluent-compatible API."""

    def __init__(self, workdir: Path, kafka: str) -> None:
        home = fetch_archive("apicurio", "dependency:copy")
        (runner,) = home.glob("*-runner.jar")
        self.workdir, self.port = workdir, free_port()
        self.log = workdir / "registry.log"
        props = {"quarkus.http.host": "127.0.0.1", "quarkus.http.port": self.port, "quarkus.log.level": "WARN"}
        self.cmd = ["java", "-Xms128m", "-Xmx384m", *(f"-D{k}={v}" for k, v in props.items()), "-jar", str(runner)]
        self.env = dict(os.environ, APICURIO_STORAGE_KIND="kafkasql", APICURIO_KAFKASQL_BOOTSTRAP_SERVERS=kafka)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/apis/ccompat/v7"

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = proc = subprocess.Popen(
                self.cmd, stdout=out, stderr=subprocess.STDOUT, cwd=self.workdir, env=self.env
            )
        try:
            wait_for_port(self.port, proc, 120, self.log)
            deadline = time.time() + 60
            while True:  # listening is not yet ready: its storage starts after the port opens
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health/ready", timeout=5) as r:
                        if r.status == 200:
                            return
                except OSError:
                    pass
                if time.time() > deadline or proc.poll() is not None:
                    raise RuntimeError(f"registry not ready on {self.port}:\n{self.log.read_text()[-3000:]}")
                time.sleep(0.2)
        except BaseException:
            self.stop()
            raise


@contextmanager
def schema_registry_server(workdir: Path, kafka: str) -> Iterator[str]:
    """A registry for the test session; yields its Confluent-compatible API's URL,
    http://127.0.0.1:PORT/apis/ccompat/v7."""
    with SchemaRegistryServer(workdir, kafka) as registry:
        yield registry.url


def stop(proc: subprocess.Popen, group: bool = False) -> None:
    """TERM, then KILL after 30 s; `group` for servers whose launcher script forks the JVM."""
    try:
        os.killpg(proc.pid, signal.SIGTERM) if group else proc.terminate()
        proc.wait(30)
    except (subprocess.TimeoutExpired, ProcessLookupError):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL) if group else proc.kill()
        proc.wait()
