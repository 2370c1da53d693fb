"""Playbook execution: `python -m bench playbooks [--executions N] [--steps K] [--alerts M]`.

1. Step dispatch: N executions at once (default 100), each a chain of K action steps (default 10)
   whose command does nothing, on the embedded store: the time from one step's command returning
   to the next step's command being called is the executor's own cost per step (its records
   written before and after, the condition and variable work, the walk); each command yields to
   the event loop once, as one waiting on its consumer would, so the executions interleave.
   Baseline in the same run: the same N x K awaits with no executor between them. Target: p99
   under 20 ms.
2. Trigger starts: M alert events (default 1,000) matched against a playbook's alert trigger and
   turned into executions (the matching, the variable binding, the execution record and its audit
   entry), per second.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any


def _chain(steps: int) -> dict[str, Any]:
    from argus.playbooks.samples import Builder

    b = Builder(f"chain of {steps}").var("__alert__", "string", "", external=True)
    ag = b.agent("group", "analyst")
    nxt = b.step("end", "end")
    for i in reversed(range(steps)):
        nxt = b.step("action", f"s{i}", agent=ag, on_completion=nxt, commands=[{"type": "argus", "command": "noop"}])
    return b.build(b.step("start", "start", on_completion=nxt))


def dispatch(data: Path, executions: int, steps: int) -> dict[str, float]:
    from argus.playbooks.commands import CommandSet
    from argus.playbooks.commands.argus import argus_actions
    from argus.playbooks.executor import Executor
    from argus.playbooks.model import Playbook
    from argus.records import utcnow
    from argus.security.policy import Marking
    from argus.stores.sql_playbooks import EmbeddedPlaybooks

    store = EmbeddedPlaybooks(data / "bench-playbooks.db")
    pb = Playbook(_chain(steps))
    marks: dict[str, list[tuple[float, float]]] = {}

    async def noop(call: Any, args: dict[str, Any]) -> dict[str, Any]:
        t = time.perf_counter()
        await asyncio.sleep(0)  # as a command waiting on its consumer would: the others run meanwhile
        marks.setdefault(call.execution["id"], []).append((t, time.perf_counter()))
        return {}

    ex = Executor(store, CommandSet({"argus": argus_actions({"noop": noop})}), lambda i, v: pb)
    ids = [f"EX-{i}" for i in range(executions)]
    for i in ids:
        store.start({"id": i, "playbook": pb.id, "modified": pb.modified, "state": "running", "agency": "CA0190000",
                     "started_at": utcnow().isoformat(), "inputs": {}}, Marking("CA0190000", "AMBER"))  # fmt: skip

    async def all_at_once() -> float:
        t0 = time.perf_counter()
        await asyncio.gather(*(ex.run(i) for i in ids))
        return time.perf_counter() - t0

    took = asyncio.run(all_at_once())
    gaps = [(b[0] - a[1]) * 1000 for m in marks.values() for a, b in itertools.pairwise(m)]
    store.close()
    return {"took_s": took, "p50": statistics.median(gaps), "p99": _p99(gaps), "steps": len(gaps)}


def baseline(executions: int, steps: int) -> dict[str, float]:
    marks: dict[int, list[tuple[float, float]]] = {}

    async def noop(i: int) -> None:
        t = time.perf_counter()
        await asyncio.sleep(0)
        marks.setdefault(i, []).append((t, time.perf_counter()))

    async def chain(i: int) -> None:
        for _ in range(steps):
            await noop(i)

    async def run() -> None:
        await asyncio.gather(*(chain(i) for i in range(executions)))

    asyncio.run(run())
    gaps = [(b[0] - a[1]) * 1000 for m in marks.values() for a, b in itertools.pairwise(m)]
    return {"p50": statistics.median(gaps), "p99": _p99(gaps)}


def triggers(data: Path, alerts: int) -> dict[str, float]:
    import orjson

    from argus.api.playbook_host import Host
    from argus.api.services import Services
    from argus.playbooks.service import Playbooks
    from argus.security.identity import open_directory
    from argus.security.policy import Recipient
    from argus.topology import load_topology
    from argus.workflows.sar_review import Actor
    from tests.e2e.conftest import make_workdir

    topo = load_topology(make_workdir(data / "work", background=0))
    d = open_directory(topo)
    d.add_agency("CA0190000", "Fresno PD")
    d.add_subject("ana", "CA0190000", ["analyst"])
    d.close()
    svc = Services(topo)
    host = Host(svc)
    doc = _chain(3)
    who, actor = Recipient("CA0190000", "analyst"), Actor("ana", "CA0190000", "analyst", "bench")
    books = Playbooks(svc.playbooks(), svc.audit)
    books.import_(orjson.dumps(doc), actor, who)
    books.set_triggers(
        doc["id"], [{"kind": "alert", "min_level": "HIGH", "bind": {"__alert__": "alert_id"}}], actor, who
    )
    held = svc.playbooks().with_triggers()
    bodies = [{"alert_id": f"A-{i}", "alert_type": "QUERY_HIT", "level": "HIGH", "recipient_agency": "CA0190000"}
              for i in range(alerts)]  # fmt: skip
    t0 = time.perf_counter()
    started = sum(host._fire(held, "alert", f"alerts/0/{i}", b) for i, b in enumerate(bodies))
    took = time.perf_counter() - t0
    svc.close()
    return {"started": started, "per_s": started / took}


def _p99(xs: list[float]) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, int(len(s) * 0.99))]


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench playbooks")
    p.add_argument("--executions", type=int, default=100)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--alerts", type=int, default=1000)
    a = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        base = baseline(a.executions, a.steps)
        got = dispatch(Path(tmp), a.executions, a.steps)
        trig = triggers(Path(tmp), a.alerts)
    print(f"playbooks: {a.executions} executions at once x {a.steps} steps ({got['steps']} dispatches) "
          f"in {got['took_s']:.2f} s")  # fmt: skip
    print(f"  step dispatch: p50 {got['p50']:.2f} ms, p99 {got['p99']:.2f} ms (target p99 < 20 ms); "
          f"bare asyncio baseline p50 {base['p50']:.3f} ms, p99 {base['p99']:.3f} ms")  # fmt: skip
    print(f"  alert triggers: {trig['started']:.0f} executions started at {trig['per_s']:.0f}/s")


if __name__ == "__main__":
    main()
