"""A real OpenC2 consumer for the playbook tests: otupy's HTTPS transfer and SLPF actuator manager
(tests/servers/openc2/consumer.py), in a venv of its own in the test-server cache, on 127.0.0.1
with a certificate from a throwaway CA, requiring a client certificate (mutual TLS)."""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import orjson
import pytest

from tests.servers import CACHE, HERE, free_port, stop, wait_for_port

OTUPY = "otupy==1.1.46"


@dataclasses.dataclass(frozen=True)
class OpenC2Consumer:
    url: str
    ca: str
    client_cert: str
    client_key: str
    state: Path

    def rules(self) -> list[dict]:
        """The rules the consumer's actuator enforced, in order."""
        path = self.state / "rules.json"
        return orjson.loads(path.read_bytes()) if path.exists() else []


def _venv() -> Path:
    reqs = HERE / "openc2" / "requirements.txt"
    key = uuid.uuid5(uuid.NAMESPACE_URL, reqs.read_text() + OTUPY).hex[:12]
    venv = CACHE / f"otupy-{key}"
    python = venv / "bin" / "python"
    if (venv / ".complete").exists():
        return python
    shutil.rmtree(venv, ignore_errors=True)
    CACHE.mkdir(parents=True, exist_ok=True)
    try:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
        pip = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
        subprocess.run([*pip, "-r", str(reqs)], check=True, capture_output=True, timeout=900)
        subprocess.run([*pip, "--no-deps", OTUPY], check=True, capture_output=True, timeout=300)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as e:
        msg = f"could not install the OpenC2 consumer (otupy from PyPI): {getattr(e, 'stderr', b'')!r:.400}"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    (venv / ".complete").touch()
    return python


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def _certs(work: Path) -> None:
    """A CA, the consumer's certificate for 127.0.0.1, and Argus's client certificate."""
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(work / "ca.key"), "-out",
             str(work / "ca.pem"), "-days", "2", "-subj", "/CN=argus-test-ca")  # fmt: skip
    (work / "ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    for name, cn in (("server", "127.0.0.1"), ("client", "argus-producer")):
        _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(work / f"{name}.key"), "-out",
                 str(work / f"{name}.csr"), "-subj", f"/CN={cn}")  # fmt: skip
        _openssl("x509", "-req", "-in", str(work / f"{name}.csr"), "-CA", str(work / "ca.pem"), "-CAkey",
                 str(work / "ca.key"), "-CAcreateserial", "-out", str(work / f"{name}.pem"), "-days", "2",
                 "-extfile", str(work / "ext"))  # fmt: skip


@contextmanager
def openc2_consumer() -> Iterator[OpenC2Consumer]:
    python = _venv()
    work = Path(tempfile.mkdtemp(prefix="argus-openc2-"))
    _certs(work)
    port = free_port()
    log = work / "consumer.log"
    env = dict(os.environ, CLIENT_CA=str(work / "ca.pem"))
    with log.open("ab") as out:
        proc = subprocess.Popen([str(python), str(HERE / "openc2" / "consumer.py"), str(port), str(work)],
                                stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)  # fmt: skip
    try:
        wait_for_port(port, proc, 60, log)
        yield OpenC2Consumer(f"https://127.0.0.1:{port}/.well-known/openc2", str(work / "ca.pem"),
                             str(work / "client.pem"), str(work / "client.key"), work)  # fmt: skip
    finally:
        stop(proc)
        shutil.rmtree(work, ignore_errors=True)
