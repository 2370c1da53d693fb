"""A real S3-compatible server for the evidence-store tests: S3Proxy (org.gaul:s3proxy from Maven
Central) on 127.0.0.1, storing objects on a temporary filesystem, with AWS signature v4
authentication for one identity."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.servers import JAVA_HOME, fetch_jars, free_port, stop, wait_for_port

IDENTITY, CREDENTIAL = "argus-test", "argus-test-secret"


@contextmanager
def s3proxy_server() -> Iterator[str]:
    """Yields the endpoint URL, http://127.0.0.1:PORT."""
    libs = fetch_jars("s3proxy")
    work = Path(tempfile.mkdtemp(prefix="argus-s3proxy-"))
    port = free_port()
    (work / "data").mkdir()
    conf = work / "s3proxy.conf"
    conf.write_text(
        f"s3proxy.endpoint=http://127.0.0.1:{port}\ns3proxy.authorization=aws-v2-or-v4\n"
        f"s3proxy.identity={IDENTITY}\ns3proxy.credential={CREDENTIAL}\njclouds.provider=filesystem\n"
        f"jclouds.filesystem.basedir={work / 'data'}\n"
    )
    log = work / "s3proxy.log"
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [str(JAVA_HOME / "bin" / "java"), "-cp", f"{libs}/*", "org.gaul.s3proxy.Main", "--properties", str(conf)],
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        wait_for_port(port, proc, 90, log)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(proc)
        shutil.rmtree(work, ignore_errors=True)
