"""Messaging fan-out: `python -m bench messaging [--members N] [--messages M]`.

An API (uvicorn, in this process) over an embedded casework store; one case with N members of
three agencies, each connected to the case's live thread (server-sent events, all N at once on
one asyncio client). M messages are posted one after another; for each, the time from the post
to its arrival at every member is measured. Baseline in the same run: the same with one member
connected. Target: every member within 1 s (p99 of the last member's arrival).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import threading
import time
from pathlib import Path

import httpx
import orjson


def _setup(data: Path, members: int) -> tuple[str, str, list[str], object]:
    import uvicorn

    from argus.api.app import create_app
    from argus.security.identity import open_directory
    from argus.topology import load_topology
    from tests.e2e.conftest import make_workdir
    from tests.servers import free_port

    topo = load_topology(make_workdir(data, background=0))
    d = open_directory(topo)
    agencies = ("CA0190000", "CA0100000", "CAFC00000")
    for a in agencies:
        d.add_agency(a, a)
    keys = []
    for i in range(members + 1):
        d.add_subject(f"m{i}", agencies[i % 3], ["analyst"])
        keys.append(d.create_key(f"m{i}"))
    d.close()
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(topo), port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            httpx.get(url + "/healthz")
            break
        except httpx.TransportError:
            time.sleep(0.05)
    lead = httpx.Client(base_url=url, headers={"X-API-Key": keys[0]}, timeout=60)
    case = lead.post("/api/v1/cases", json={"title": "fan-out"}).json()
    version = case["version"]
    for i in range(1, members + 1):
        version = lead.post(
            f"/api/v1/cases/{case['id']}/members", json={"subject": f"m{i}", "role": "analyst", "version": version}
        ).json()["version"]
    return url, case["id"], keys[1:], server


async def _run(url: str, cid: str, keys: list[str], messages: int) -> list[float]:
    arrivals: dict[str, list[float]] = {}
    ready = asyncio.Event()
    connected = 0

    async def listen(key: str) -> None:
        nonlocal connected
        async with httpx.AsyncClient(base_url=url, headers={"X-API-Key": key}, timeout=None) as c:
            async with c.stream("GET", f"/api/v1/cases/{cid}/messages/stream") as r:
                async for line in r.aiter_lines():
                    if line.startswith(": caught up"):
                        connected += 1
                        if connected == len(keys):
                            ready.set()
                    elif line.startswith("data: "):
                        arrivals.setdefault(orjson.loads(line[6:])["id"], []).append(time.perf_counter())

    tasks = [asyncio.create_task(listen(k)) for k in keys]
    await asyncio.wait_for(ready.wait(), 120)
    spans = []
    async with httpx.AsyncClient(base_url=url, headers={"X-API-Key": keys[0]}, timeout=60) as poster:
        for n in range(messages):
            t0 = time.perf_counter()
            mid = (await poster.post(f"/api/v1/cases/{cid}/messages", json={"text": f"message {n}"})).json()["id"]
            while len(arrivals.get(mid, ())) < len(keys):
                await asyncio.sleep(0.001)
            spans.append((max(arrivals[mid]) - t0) * 1000)
    for t in tasks:
        t.cancel()
    return spans


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench messaging")
    ap.add_argument("--members", type=int, default=100)
    ap.add_argument("--messages", type=int, default=50)
    a = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as d:
        url, cid, keys, server = _setup(Path(d), a.members)
        one = asyncio.run(_run(url, cid, keys[:1], a.messages))
        many = asyncio.run(_run(url, cid, keys, a.messages))
        server.should_exit = True  # type: ignore[attr-defined]
    q = lambda xs, p: sorted(xs)[min(len(xs) - 1, int(len(xs) * p))]  # noqa: E731
    print(f"one member: post to arrival p50 {statistics.median(one):.1f} ms, p99 {q(one, 0.99):.1f} ms")
    print(
        f"{a.members} members: post to the last arrival p50 {statistics.median(many):.1f} ms, "
        f"p99 {q(many, 0.99):.1f} ms; {statistics.median(many) / statistics.median(one):.1f}x one member"
    )
    print(f"target (every member within 1 s, p99): {'met' if q(many, 0.99) < 1000 else 'MISSED'}")
