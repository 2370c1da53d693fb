"""The leak harness's holdings for playbooks: for each report i, a CACAO playbook under the
report's agency and TLP (its name a token), an execution of it by that agency, and a manual task
of that execution for the agency's supervisors. A playbook is seen whole or not at all; an
execution and its tasks stay with the agency that ran it."""

from __future__ import annotations

import uuid
from typing import Any

import orjson

from argus.playbooks.samples import Builder
from argus.security.policy import FULL, Marking, Recipient, decide
from argus.stores.playbooks import StoredPlaybook
from argus.stores.sql_playbooks import EmbeddedPlaybooks

NS = uuid.UUID("6a0f3e2d-1c4b-4a59-8e7d-2b1c0d9e8f7a")
T0 = "2026-12-01T00:00:00.000Z"


def pb_id(i: int) -> str:
    return f"playbook--{uuid.uuid5(NS, str(i))}"


def ex_id(i: int) -> str:
    return f"EXEC-{i:020x}"


def task_id(i: int) -> str:
    return f"TASK-f{i:015x}"  # apart from the case tasks' ids


def pb_marking(r: dict[str, Any]) -> Marking:
    return Marking(r["agency"], r["tlp"], whole=True)


def document(i: int) -> dict[str, Any]:
    b = Builder(f"PBK{i:03d}Q", modified=T0)
    sup = b.agent("group", "supervisor")
    end = b.step("end", "end")
    ask = b.step("action", "ask", agent=sup, on_completion=end, commands=[{"type": "manual", "command": "ok?"}])
    doc = b.build(b.step("start", "start", on_completion=ask))
    return doc | {"id": pb_id(i)}


def seed(world: Any) -> None:
    store = EmbeddedPlaybooks(world.topo.data_dir / "playbooks.db")
    for i, r in enumerate(world.reports):
        m = pb_marking(r)
        text = orjson.dumps(document(i)).decode()
        store.put(StoredPlaybook(pb_id(i), T0, f"PBK{i:03d}Q", m, text, "s0", T0))
        ex = {
            "id": ex_id(i),
            "playbook": pb_id(i),
            "modified": T0,
            "name": f"PBX{i:03d}Q",
            "agency": r["agency"],
            "started_by": "s0",
            "role": "supervisor",
            "inputs": {},
            "state": "completed",
            "started_at": T0,
        }
        store.start(ex, Marking(r["agency"], r["tlp"]))
        store.put_task({"id": task_id(i), "execution": ex_id(i), "key": "k", "agency": r["agency"],
                        "assignee": {"kind": "group", "name": "supervisor"}, "instructions": f"PBTASK{i:03d}Q",
                        "fields": {"__ok__": "bool"}, "state": "open", "created_at": T0})  # fmt: skip
    store.close()


def playbook_seen(world: Any, i: int, who: Recipient) -> bool:
    if not who.may("read") or i >= len(world.reports):
        return False
    v = decide(pb_marking(world.reports[i]), who, world.directory.rules)
    return v is not None and v.level == FULL


def own_run(world: Any, i: int, who: Recipient) -> bool:
    return i < len(world.reports) and who.may("read") and who.agency == world.reports[i]["agency"]


def playbook_tokens(world: Any, sid: str, who: Recipient) -> set[bytes]:
    out: set[str] = set()
    for i, _ in enumerate(world.reports):
        if not playbook_seen(world, i, who):
            out |= {f"PBK{i:03d}Q", pb_id(i)}
        if not own_run(world, i, who):
            out |= {f"PBX{i:03d}Q", ex_id(i), f"PBTASK{i:03d}Q", task_id(i)}
    return {x.encode() for x in out}
