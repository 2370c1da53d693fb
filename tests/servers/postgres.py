"""A real PostgreSQL server for the workflow-store tests: Debian's binaries (apt-get install
postgresql), a fresh cluster in a temporary directory, on a free port of 127.0.0.1, trust
authentication for the one local user. PostgreSQL refuses root: under root it runs as nobody."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.servers import ROOT, free_port, stop, wait_for_port


def postgres_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        msg = "PostgreSQL server binaries not found: apt-get install postgresql to run the workflow-store tests"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    return Path(found[-1]).parent


@contextmanager
def postgres_server() -> Iterator[str]:
    """Yields postgresql://argus@127.0.0.1:PORT/argus."""
    bindir = postgres_bin()
    work = Path(tempfile.mkdtemp(prefix="argus-postgres-"))
    os.chmod(work, 0o755)
    data, sock = work / "data", work / "sock"
    sock.mkdir()
    as_user: list[str] = []
    if ROOT:
        subprocess.run(["chown", "-R", "nobody:nogroup", str(work)], check=True)
        as_user = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
    log = work / "postgres.log"
    subprocess.run(
        [*as_user, str(bindir / "initdb"), "-D", str(data), "-U", "argus", "-A", "trust", "-E", "UTF8"],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
    )  # fmt: skip
    port = free_port()
    cmd = [
        *as_user, str(bindir / "postgres"), "-D", str(data), "-p", str(port), "-k", str(sock),
        "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "full_page_writes=off",
    ]  # fmt: skip
    with log.open("ab") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for_port(port, proc, 60, log)
        subprocess.run(
            [str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "argus", "argus"], check=True
        )
        yield f"postgresql://argus@127.0.0.1:{port}/argus"
    finally:
        stop(proc)
        shutil.rmtree(work, ignore_errors=True)
