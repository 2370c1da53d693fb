"""A SIGKILL of Argus mid-execution: the restarted API resumes the execution at the step it was
in, and the step that had finished (an HTTP call to a partner's API, counted by the server that
receives it) is not run again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import orjson

from argus.playbooks.samples import Builder
from argus.stores.sqlite_identity import Directory
from argus.topology import load_topology
from tests.e2e.conftest import make_workdir
from tests.servers import free_port

AGENCY = "CA0190000"


class Partner(BaseHTTPRequestHandler):
    """A partner's API that counts what it is asked to do."""

    calls: Counter[str] = Counter()

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        Partner.calls[self.path] += 1
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"ok": true}')

    def log_message(self, *args: object) -> None:
        pass


def api(topo: Path, port: int) -> subprocess.Popen:
    p = subprocess.Popen([sys.executable, "-m", "argus", "api", "-t", str(topo), "--port", str(port)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    for _ in range(300):
        try:
            httpx.get(f"http://127.0.0.1:{port}/healthz")
            return p
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("the API did not start")


def playbook(partner: str) -> dict:
    b = Builder("Tell the partner, approve, confirm")
    b.var("__approved__", "bool", "false")
    soc = b.agent("http-api", "partner SOC", address={"url": [partner]})
    sup = b.agent("group", "supervisor")
    end = b.step("end", "end")
    post = lambda name, path, then: b.step("action", name, agent=soc, on_completion=then,  # noqa: E731
                                           commands=[{"type": "http-api", "command": f"POST {path} HTTP/1.1",
                                                      "content": '{"case": "PB-1"}'}])  # fmt: skip
    confirm = post("confirm", "/confirm", end)
    approve = b.step("action", "approve", agent=sup, out_args=["__approved__"], on_completion=confirm,
                     commands=[{"type": "manual", "command": "Approve the partner's block"}])  # fmt: skip
    notify = post("notify", "/notify", approve)
    return b.build(b.step("start", "start", on_completion=notify))


def test_a_killed_api_resumes_without_running_a_finished_step_twice(tmp_path: Path) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Partner)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    topo = make_workdir(tmp_path, background=10)
    d = Directory.for_data_dir(load_topology(topo).data_dir)
    d.add_agency(AGENCY, "Fresno PD")
    d.add_subject("ana", AGENCY, ["analyst"])
    d.add_subject("sgt", AGENCY, ["supervisor"])
    keys = {"ana": d.create_key("ana"), "sgt": d.create_key("sgt")}
    d.close()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    hdr = lambda who: {"X-API-Key": keys[who]}  # noqa: E731
    doc = playbook(f"http://127.0.0.1:{server.server_port}/soc.api/")  # the schema wants a dotted name
    first = api(topo, port)
    try:
        assert httpx.post(base + "/api/v1/playbooks", content=orjson.dumps(doc), headers=hdr("ana")).status_code == 201
        ex = httpx.post(f"{base}/api/v1/playbooks/{doc['id']}/executions", json={}, headers=hdr("ana")).json()
        for _ in range(600):
            tasks = httpx.get(base + "/api/v1/playbook-tasks", headers=hdr("sgt")).json()["tasks"]
            if tasks:
                break
            time.sleep(0.05)
        assert tasks and Partner.calls["/notify"] == 1
    finally:
        os.kill(first.pid, signal.SIGKILL)  # mid-execution: the manual step is waiting
        first.wait(10)
    second = api(topo, port)
    try:
        r = httpx.post(f"{base}/api/v1/playbook-tasks/{tasks[0]['id']}/answer",
                       json={"values": {"__approved__": "true"}}, headers=hdr("sgt"))  # fmt: skip
        assert r.status_code == 200, r.text
        state = {}
        for _ in range(600):  # the dead process's lease lapses, then the new one resumes
            state = httpx.get(f"{base}/api/v1/executions/{ex['id']}", headers=hdr("ana")).json()
            if state["state"] in ("completed", "failed"):
                break
            time.sleep(0.1)
        assert state["state"] == "completed", state
        steps = {s["name"]: s for s in state["steps"]}
        assert steps["notify"]["attempt"] == 1 and steps["approve"]["attempt"] == 2
        assert Partner.calls == Counter({"/notify": 1, "/confirm": 1})
    finally:
        second.terminate()
        second.wait(10)
        server.shutdown()
