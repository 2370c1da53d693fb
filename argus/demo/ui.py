"""`argus demo --ui`: the demo's holdings left running behind the workbench, with one demo user
per role, so each can be tried in a browser.

The pipeline keeps running (`argus run` in a child process, as in production) so a plate run from
the officer's screen is resolved, correlated and alerted live; the API serves the workbench in
this process. The users' API keys are printed once: the login screen takes them.
"""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from argus.demo import OFFICER, OFFICER_AGENCY, OWNER, UNIT
from argus.security.identity import IdentityDirectory, open_directory
from argus.topology import Topology

FUSION_CENTRE = "CAFC00000"  # pipelines/fusion.yaml, sar_queue: the centre that vets SARs
AGENCIES = {
    FUSION_CENTRE: "Central California Intelligence Center",
    OWNER: "Fresno Police Department",
    OFFICER_AGENCY: "Clovis Police Department",
    "CA0100000": "Fresno County Sheriff's Office",
    "CA0200000": "Madera County Sheriff's Office",
    "CA0370000": "San Diego County Sheriff's Department",
    "CA0150000": "Kern County Sheriff's Office",
    "NV0020000": "Las Vegas Metropolitan Police Department",
}


@dataclass(frozen=True)
class DemoUser:
    id: str
    agency: str
    role: str
    name: str
    unit: str | None = None
    does: str = ""


USERS = (
    DemoUser(OFFICER, OFFICER_AGENCY, "patrol_officer", "Ofc. D. Park", UNIT, "runs plates; the live alert inbox"),
    DemoUser("an-clovis", OFFICER_AGENCY, "analyst", "A. Moreno", None, "search, entities, link analysis, map"),
    DemoUser("an-fresno", OWNER, "analyst", "J. Ortiz", None, "the owning agency's analyst: sees its records whole"),
    DemoUser("an-ccic", FUSION_CENTRE, "analyst", "K. Brennan", None, "the fusion centre's SAR reviewer"),
    DemoUser("wo-clovis", OFFICER_AGENCY, "supervisor", "Sgt. R. Diaz", None, "watch officer: the live board"),
    DemoUser("au-clovis", OFFICER_AGENCY, "auditor", "T. Nakamura", None, "the audit trail"),
    DemoUser("ad-clovis", OFFICER_AGENCY, "administrator", "P. Singh", None, "agencies, users, keys"),
)


def enrol(d: IdentityDirectory) -> dict[str, str]:
    """The demo's agencies and users in the directory; a fresh API key per user."""
    for ori, name in AGENCIES.items():
        d.add_agency(ori, name)
    keys = {}
    for u in USERS:
        d.add_subject(u.id, u.agency, [u.role], name=u.name, unit=u.unit)
        keys[u.id] = d.create_key(u.id)
    return keys


def _enrolled(topo: Topology) -> dict[str, str]:
    d = open_directory(topo)
    try:
        return enrol(d)
    finally:
        d.close()


def _argus(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """`argus <args>` in a child process, as production runs it (its output dropped)."""
    return subprocess.Popen([sys.executable, "-m", "argus", *args], stdout=subprocess.DEVNULL, env=env)


def serve(topo: Topology, topology_file: Path, say: Callable[[str], None], host: str, port: int) -> None:
    import uvicorn

    from argus.api.app import create_app

    keys = _enrolled(topo)
    pipeline = _argus("run", "-t", str(topology_file), "--log-level", "ERROR")
    url = f"http://{host}:{port}/"
    say("")
    say(f"The workbench: {url}  (the pipeline keeps running; Ctrl-C stops both)")
    say("Log in with one of these API keys:")
    for u in USERS:
        say(f"  {u.role:<15} {u.name:<14} {u.agency}  {u.does}")
        say(f"      {keys[u.id]}")
    say(f"Try: as the officer, run plate 8ABC123; as {USERS[1].name}, search 'civic' and open the graph.")
    try:
        uvicorn.run(create_app(topo), host=host, port=port, log_level="warning")
    finally:
        pipeline.terminate()
        pipeline.wait(timeout=30)


@dataclass
class Running:
    url: str
    keys: dict[str, str]

    def key_of(self, role: str, agency: str | None = None) -> str:
        u = next(u for u in USERS if u.role == role and (agency is None or u.agency == agency))
        return self.keys[u.id]


@contextmanager
def launched(
    workdir: Path,
    port: int,
    background: int = 300,
    api: dict[str, Any] | None = None,
    env: dict[str, str] | None = None,
) -> Iterator[Running]:
    """The demo's holdings with its users, the pipeline (`argus run`) and the API (`argus api`)
    each in a child process, as in production; for the browser tests and the workbench bench.
    `api`: settings for topology.yaml's `api:` (an identity provider, say); `env`: the API's."""
    import os

    import yaml

    from argus.demo import run_demo
    from argus.topology import load_topology

    run_demo(workdir, lambda _line: None, background)
    topo_file = workdir / "topology.yaml"
    if api:
        doc = yaml.safe_load(topo_file.read_text())
        doc["api"] = {**(doc.get("api") or {}), **api}
        topo_file.write_text(yaml.safe_dump(doc, sort_keys=False))
    keys = _enrolled(load_topology(topo_file))
    pipeline = _argus("run", "-t", str(topo_file), "--log-level", "ERROR")
    api_proc = _argus(
        "api", "-t", str(topo_file), "--port", str(port), "--log-level", "warning", env={**os.environ, **(env or {})}
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        _wait_up(url, api_proc)
        yield Running(url, keys)
    finally:
        for p in (api_proc, pipeline):
            p.terminate()
        for p in (api_proc, pipeline):
            p.wait(timeout=30)


def _wait_up(url: str, proc: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"argus api exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url + "healthz", timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("argus api did not answer within a minute")
