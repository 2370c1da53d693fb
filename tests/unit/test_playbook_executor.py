"""The CACAO executor over a real SQLite store: every step type, typed variables and conditions,
timeouts, the exception workflow, sub-playbooks, refused command types, injection-proof
substitution, and a resumed execution that never runs a finished step twice."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from argus.playbooks.commands import Call, CommandSet
from argus.playbooks.commands.argus import argus_actions
from argus.playbooks.commands.http_api import body_of
from argus.playbooks.commands.manual import manual
from argus.playbooks.executor import Executor
from argus.playbooks.model import Playbook
from argus.playbooks.samples import Builder, every_step_type
from argus.playbooks.variables import Scope
from argus.records import utcnow
from argus.security.policy import Marking
from argus.stores.sql_playbooks import EmbeddedPlaybooks

AGENCY = "CA0190000"


class Rig:
    """A store, the test's Argus actions (wait, count, path, touch), and an executor over them."""

    def __init__(self, path: Path) -> None:
        self.store = EmbeddedPlaybooks(path)
        self.touched: list[str] = []
        self.books: dict[str, Playbook] = {}

    async def wait(self, call: Call, args: dict[str, Any]) -> dict[str, Any]:
        await asyncio.sleep(float(args.get("s", 1)))
        return {}

    async def count(self, call: Call, args: dict[str, Any]) -> dict[str, Any]:
        return {"n": call.scope.get("__n__") + 1}

    async def path(self, call: Call, args: dict[str, Any]) -> dict[str, Any]:
        return {"path": call.step["name"]}

    async def touch(self, call: Call, args: dict[str, Any]) -> dict[str, Any]:
        self.touched.append(call.step["name"])
        return {"level": args.get("level", "")}

    def executor(self, **kw: Any) -> Executor:
        actions = {"wait": self.wait, "count": self.count, "path": self.path, "touch": self.touch}
        cmds = CommandSet({"argus": argus_actions(actions), "manual": manual(self.store, utcnow, 0.02)})
        return Executor(self.store, cmds, lambda i, v: self.books.get(i), **kw)

    def start(self, doc: dict, ex_id: str = "EX-1", **inputs: str) -> str:
        pb = Playbook(doc)
        self.books[pb.id] = pb
        ex = {
            "id": ex_id,
            "playbook": pb.id,
            "modified": pb.modified,
            "state": "running",
            "agency": AGENCY,
            "started_at": utcnow().isoformat(),
            "inputs": inputs,
        }
        self.store.start(ex, Marking(AGENCY, "AMBER"))
        return ex_id

    def steps(self, ex_id: str = "EX-1") -> dict[str, dict]:
        return {s["name"]: s for s in self.store.steps(ex_id)}

    async def answer(self, values: dict[str, str]) -> None:
        while True:
            for t in self.store.tasks(AGENCY, "open", 10):
                self.store.close_task(t["id"], {"state": "answered", "answer": values, "answered_by": "sgt.ortiz"})
                return
            await asyncio.sleep(0.02)


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    r = Rig(tmp_path / "pb.db")
    yield r
    r.store.close()


def run(rig: Rig, ex_id: str = "EX-1", answer: dict[str, str] | None = None, **kw: Any) -> dict:
    async def go() -> dict:
        if answer is None:
            return await rig.executor(**kw).run(ex_id)
        done, _ = await asyncio.gather(rig.executor(**kw).run(ex_id), rig.answer(answer))
        return done

    return asyncio.run(go())


def test_every_step_type_with_branches_truly_in_parallel(rig: Rig) -> None:
    sub = Builder("sub").var("__level__", "string", "", external=True).var("__seen__", "string", "")
    a = sub.agent("group", "analyst")
    sub_end = sub.step("end", "end")
    touch = sub.step(
        "action",
        "sub touch",
        agent=a,
        in_args=["__level__"],
        on_completion=sub_end,
        commands=[{"type": "argus", "command": "touch", "content": '{"level": "__level__:value"}'}],
    )
    sub_doc = sub.build(sub.step("start", "start", on_completion=touch))
    rig.books[sub_doc["id"]] = Playbook(sub_doc)
    rig.start(every_step_type(sub_doc["id"]), __level__="high")
    done = run(rig, answer={"__approved__": "true"})
    assert done["state"] == "completed", done
    s = rig.steps()
    w1, w2 = s["wait 1"], s["wait 2"]
    assert w1["started_at"] < w2["ended_at"] and w2["started_at"] < w1["ended_at"], "the branches overlapped"
    assert s["two at once"]["ms"] < 1900  # one second each, together: not two
    assert "high path" in s and "low path" not in s  # the switch followed the data
    assert done["variables"]["__n__"] == "3" and s["count to the limit"]["detail"]["iterations"] == 3
    assert rig.touched == ["sub touch"] and done["variables"]["__approved__"] == "true"


def test_the_switch_default_and_a_loop_past_its_bound(rig: Rig) -> None:
    rig.start(every_step_type(), __level__="low", __limit__="50")
    done = run(rig, answer={}, max_iterations=5)
    s = rig.steps()
    assert "low path" in s and "high path" not in s
    assert done["state"] == "failed" and "its bound" in done["error"]
    assert s["note the failure"]["status"] == "completed"  # the playbook's exception workflow ran


def test_a_step_timeout_takes_on_failure(rig: Rig) -> None:
    b = Builder("timeouts")
    ag = b.agent("group", "analyst")
    end = b.step("end", "end")
    recover = b.step("action", "recover", agent=ag, on_completion=end, commands=[{"type": "argus", "command": "touch"}])
    slow = b.step(
        "action",
        "slow",
        agent=ag,
        timeout=100,
        on_success=end,
        on_failure=recover,
        commands=[{"type": "argus", "command": "wait", "content": '{"s": 5}'}],
    )
    rig.start(b.build(b.step("start", "start", on_completion=slow)))
    done = run(rig)
    assert done["state"] == "completed" and rig.touched == ["recover"]
    assert rig.steps()["slow"]["error"].startswith("ACTION_TIMEOUT")


def test_shell_and_unknown_commands_are_refused_with_the_reason(rig: Rig) -> None:
    b = Builder("shells")
    ag = b.agent("individual", "admin")
    end = b.step("end", "end")
    other = b.step("action", "yara", agent=ag, on_completion=end, commands=[{"type": "yara", "rule": "x"}])
    sh = b.step(
        "action", "bash", agent=ag, on_failure=other, on_success=end, commands=[{"type": "bash", "command": "rm -rf /"}]
    )
    rig.start(b.build(b.step("start", "start", on_completion=sh)))
    run(rig)
    s = rig.steps()
    assert "not executed" in s["bash"]["error"] and "'admin'" in s["bash"]["error"]
    assert "does not execute" in s["yara"]["error"]


def test_a_resumed_execution_never_runs_a_finished_step_again(rig: Rig) -> None:
    """The process dies while a manual step waits: a new executor (a restarted Argus) walks the
    workflow again; the finished steps give back their outputs without running."""
    rig.start(every_step_type(), __level__="high")

    async def until_the_task_then_die() -> None:
        task = asyncio.create_task(rig.executor().run("EX-1"))
        while not rig.store.tasks(AGENCY, "open", 1):
            await asyncio.sleep(0.02)
        task.cancel()

    asyncio.run(until_the_task_then_die())
    before = {k: v["attempt"] for k, v in rig.steps().items()}
    rig.store.update("EX-1", {"state": "running"})  # a SIGKILL leaves it running
    done = run(rig, answer={"__approved__": "true"})
    after = rig.steps()
    assert done["state"] == "completed"
    for name in ("wait 1", "wait 2", "high path"):
        assert after[name]["attempt"] == before[name] == 1, name
    assert after["supervisor approves"]["attempt"] == 2  # the step it was in ran again, once
    assert done["variables"]["__n__"] == "3"  # the loop's counts were given back, not counted twice


def test_substitution_cannot_inject(rig: Rig) -> None:
    scope = Scope(
        {
            "__ip__": {"type": "string", "value": '1.2.3.4"}, "action": "delete'},
            "__x__": {"type": "string", "value": "__ip__:value"},
        }
    )
    body = orjson.dumps({"action": "deny", "target": {"ipv4_net": "__ip__:value"}, "note": "__x__:value"})
    call = Call(
        {"type": "http-api", "command": "POST / HTTP/1.1", "content": body.decode()},
        {},
        "s",
        "k",
        {},
        Playbook({"id": "playbook--x"}),
        scope,
    )
    sent = orjson.loads(body_of(call) or b"")
    assert sent["action"] == "deny" and sent["target"]["ipv4_net"] == '1.2.3.4"}, "action": "delete'
    assert sent["note"] == "__ip__:value"  # a value is never expanded a second time


def test_a_constant_refuses_a_step_output(rig: Rig) -> None:
    b = Builder("constants").var("__n__", "integer", "1", constant=True)
    ag = b.agent("group", "analyst")
    end = b.step("end", "end")
    c = b.step(
        "action",
        "count",
        agent=ag,
        out_args=["__n__"],
        on_completion=end,
        commands=[{"type": "argus", "command": "count"}],
    )
    rig.start(b.build(b.step("start", "start", on_completion=c)))
    done = run(rig)
    assert done["state"] == "failed" and "constant" in rig.steps()["count"]["error"]


def test_typed_conditions_compare_as_their_types() -> None:
    from argus.playbooks.conditions import evaluate

    s = Scope(
        {
            "__n__": {"type": "integer", "value": "10"},
            "__ip__": {"type": "ipv4-addr", "value": "10.1.2.3"},
            "__tag__": {"type": "string", "value": "10"},
        }
    )
    assert evaluate("__n__:value > 9", s)  # as numbers: 10 > 9
    assert not evaluate("__tag__:value > '9'", s)  # as text: "10" < "9"
    assert evaluate("__ip__:value ISSUBSET '10.0.0.0/8' AND NOT __ip__:value = '10.1.2.4'", s)
    assert evaluate("__n__:value IN (5, 10) OR __tag__:value LIKE '1%'", s)
    assert isinstance(utcnow(), datetime)
