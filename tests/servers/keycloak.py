"""A real Keycloak (org.keycloak:keycloak-quarkus-dist from Maven Central) on 127.0.0.1, with a
realm, a confidential client for the workbench and users, configured through its admin REST API.

Keycloak needs Java 21 or later: the fixture uses ARGUS_JAVA21_HOME, else the newest JDK under
/usr/lib/jvm that is 21+. It runs in development mode on an in-memory database: nothing of it
outlives the test session.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.servers import fetch_archive, free_port, stop

REALM = "argus"
CLIENT = "argus-workbench"


def java21_home() -> Path:
    env = os.environ.get("ARGUS_JAVA21_HOME")
    if env:
        return Path(env)
    found = []
    for release in Path("/usr/lib/jvm").glob("*/release"):
        m = re.search(r'JAVA_VERSION="(\d+)', release.read_text())
        if m and int(m.group(1)) >= 21:
            found.append((int(m.group(1)), release.parent))
    if not found:
        msg = "Keycloak needs Java 21+: install a JDK 21 or later (or set ARGUS_JAVA21_HOME)"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    return max(found)[1]


@dataclass
class Keycloak:
    url: str
    client_secret: str
    passwords: dict[str, str]

    @property
    def issuer(self) -> str:
        return f"{self.url}/realms/{REALM}"


def _admin(url: str) -> httpx.Client:
    r = httpx.post(
        f"{url}/realms/master/protocol/openid-connect/token",
        data={"grant_type": "password", "client_id": "admin-cli", "username": "admin", "password": "admin-pass"},
        timeout=30,
    )
    r.raise_for_status()
    return httpx.Client(
        base_url=f"{url}/admin/realms", headers={"Authorization": f"Bearer {r.json()['access_token']}"}, timeout=30
    )


def _configure(url: str, redirect_uri: str, users: list[str]) -> Keycloak:
    secret = secrets.token_urlsafe(24)
    passwords = {u: secrets.token_urlsafe(12) for u in users}
    with _admin(url) as kc:
        kc.post("", json={"realm": REALM, "enabled": True}).raise_for_status()
        client = {
            "clientId": CLIENT, "enabled": True, "publicClient": False, "secret": secret, "protocol": "openid-connect",
            "standardFlowEnabled": True, "directAccessGrantsEnabled": False, "redirectUris": [redirect_uri],
            "attributes": {"pkce.code.challenge.method": "S256"},
        }  # fmt: skip
        kc.post(f"/{REALM}/clients", json=client).raise_for_status()
        for u in users:
            user = {
                "username": u, "enabled": True, "email": f"{u}@example.org", "emailVerified": True,
                "firstName": u, "lastName": "Test", "requiredActions": [],
                "credentials": [{"type": "password", "value": passwords[u], "temporary": False}],
            }  # fmt: skip
            kc.post(f"/{REALM}/users", json=user).raise_for_status()
    return Keycloak(url, secret, passwords)


@contextmanager
def keycloak_server(redirect_uri: str, users: list[str]) -> Iterator[Keycloak]:
    java = java21_home()
    (home,) = [p for p in fetch_archive("keycloak", "dependency:copy").iterdir() if p.is_dir()]
    work = Path(tempfile.mkdtemp(prefix="argus-keycloak-"))
    shutil.copytree(home, work / "kc", symlinks=True)  # start-dev writes its build into the install
    port, mgmt = free_port(), free_port()
    env = dict(
        os.environ, JAVA_HOME=str(java), PATH=f"{java / 'bin'}:{os.environ['PATH']}",
        KC_BOOTSTRAP_ADMIN_USERNAME="admin", KC_BOOTSTRAP_ADMIN_PASSWORD="admin-pass",
    )  # fmt: skip
    log = work / "keycloak.log"
    cmd = [
        str(work / "kc" / "bin" / "kc.sh"), "start-dev", "--db=dev-mem", f"--http-port={port}",
        f"--http-management-port={mgmt}", "--http-host=127.0.0.1", "--hostname=http://127.0.0.1:" + str(port),
    ]  # fmt: skip
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"Keycloak exited: {log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{url}/realms/master", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"Keycloak did not start: {log.read_text()[-2000:]}")
            time.sleep(1)
        yield _configure(url, redirect_uri, users)
    finally:
        stop(proc, group=True)
        shutil.rmtree(work, ignore_errors=True)
