"""`manual` commands: a task for a named person (an `individual` agent, by user name) or role (a
`group` agent, by role name) of the executing agency, shown in the workbench with the step's
instructions and the variables it asks for; the answer comes back as those variables. The task's
id is the step instance's, so an executor resumed after a restart waits on the same task."""

from __future__ import annotations

import asyncio
import base64
import hashlib
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from argus.playbooks.commands import Call, CommandFailed
from argus.stores.playbooks import PlaybookStore


def task_id(execution: str, key: str) -> str:
    return "TASK-" + hashlib.sha256(f"{execution}/{key}".encode()).hexdigest()[:16]


def assigned(task: dict[str, Any], subject: str, role: str) -> bool:
    """Whether the task is this person's to answer: named to them, or to their role."""
    who = task["assignee"]
    return bool(who["name"] == (subject if who["kind"] == "individual" else role))


def instructions(call: Call) -> str:
    cmd = call.command
    text = cmd.get("command") or ""
    if not text and cmd.get("command_b64"):
        text = base64.b64decode(cmd["command_b64"]).decode(errors="replace")
    return call.scope.substitute(str(text or call.step.get("description") or call.step.get("name") or ""))


def manual(store: PlaybookStore, clock: Callable[[], datetime], poll_s: float = 0.2) -> Any:
    async def run(call: Call) -> dict[str, Any]:
        agent = call.agent
        if agent.get("type") not in ("individual", "group"):
            raise CommandFailed("a manual command's agent is an individual (a user) or a group (a role)")
        tid, now = task_id(call.execution["id"], call.key), clock()
        fields = {
            n: (call.scope.find(n).type if call.scope.find(n) else "string") for n in call.step.get("out_args") or []
        }
        timeout = call.step.get("timeout")
        store.put_task({
            "id": tid, "execution": call.execution["id"], "key": call.key, "playbook": call.playbook.id,
            "playbook_name": call.playbook.name, "step": call.step_id, "step_name": call.step.get("name", ""),
            "agency": call.execution["agency"], "assignee": {"kind": agent["type"], "name": agent.get("name", "")},
            "instructions": instructions(call), "fields": fields, "state": "open", "created_at": now.isoformat(),
            "due": (now + timedelta(milliseconds=int(timeout))).isoformat() if timeout else None,
            "answer": None, "answered_by": None, "answered_at": None,
        })  # fmt: skip
        while True:
            task = store.task(tid) or {}
            if task.get("state") == "answered":
                return dict(task.get("answer") or {}) | {"answered_by": task.get("answered_by")}
            if task.get("state") != "open":
                raise CommandFailed(f"manual task {tid} was {task.get('state')}")
            await asyncio.sleep(poll_s)

    return run
