"""The playbook store's contract, on SQLite and on a real PostgreSQL: versions by `modified`, the
policy in the listing query, executions started once per id, leases that keep two executors off
one execution, step records, manual tasks closed once, trigger cursors."""

from __future__ import annotations

from argus.security.policy import Marking
from argus.stores.playbooks import StoredPlaybook
from argus.stores.search import Audience

FRESNO, CLOVIS = "CA0190000", "CA0100000"


def pb(pid: str, modified: str, tlp: str = "GREEN", agency: str = FRESNO, text: str = "{}") -> StoredPlaybook:
    return StoredPlaybook(pid, modified, f"book {pid}", Marking(agency, tlp, whole=True), text, "ana", "now")


def audience(agency: str) -> Audience:
    return Audience(agency, True, (agency,), (), (), True)


def test_versions_listing_and_triggers(playbook_store) -> None:  # type: ignore[no-untyped-def]
    s = playbook_store
    assert s.put(pb("playbook--a", "2026-01-01T00:00:00.000Z", text='{"v": 1}'))
    assert not s.put(pb("playbook--a", "2026-01-01T00:00:00.000Z", text="changed"))
    assert s.put(pb("playbook--a", "2026-02-01T00:00:00.000Z", text='{"v": 2}'))
    assert s.put(pb("playbook--red", "2026-01-01T00:00:00.000Z", tlp="RED"))
    assert s.get("playbook--a").text == '{"v": 2}'
    assert s.get("playbook--a", "2026-01-01T00:00:00.000Z").text == '{"v": 1}'
    assert s.versions("playbook--a") == ["2026-02-01T00:00:00.000Z", "2026-01-01T00:00:00.000Z"]
    assert [p.id for p in s.listing(audience(FRESNO), 10)] == ["playbook--a", "playbook--red"]
    assert [p.id for p in s.listing(audience(CLOVIS), 10)] == ["playbook--a"]  # RED stays with its agency
    assert s.with_triggers() == []
    s.set_triggers("playbook--a", "2026-02-01T00:00:00.000Z", [{"kind": "schedule", "every_s": 60}])
    assert [p.triggers for p in s.with_triggers()] == [({"kind": "schedule", "every_s": 60},)]


def test_executions_leases_steps_tasks_and_cursors(playbook_store) -> None:  # type: ignore[no-untyped-def]
    s = playbook_store
    ex = {"id": "EXEC-1", "playbook": "playbook--a", "state": "running", "started_at": "2026-12-06T10:00:00+00:00",
          "agency": FRESNO}  # fmt: skip
    assert s.start(ex, Marking(FRESNO, "RED")) and not s.start(ex, Marking(FRESNO, "RED"))
    assert [e["id"] for e in s.executions(audience(FRESNO), 10)] == ["EXEC-1"]
    assert s.executions(audience(CLOVIS), 10) == []
    assert s.claim("EXEC-1", "one", 100.0, 5) and not s.claim("EXEC-1", "two", 101.0, 5)
    assert s.claim("EXEC-1", "one", 102.0, 5)  # renewed by its owner
    assert s.claim("EXEC-1", "two", 108.0, 5)  # the first owner's lease lapsed: it died
    s.save_step("EXEC-1", "start--1", {"status": "running"})
    s.save_step("EXEC-1", "action--1", {"status": "running"})
    s.save_step("EXEC-1", "start--1", {"status": "completed"})
    assert [x["status"] for x in s.steps("EXEC-1")] == ["completed", "running"]
    s.update("EXEC-1", {"state": "completed"})
    assert s.unfinished() == [] and not s.claim("EXEC-1", "three", 200.0, 5)
    task = {"id": "TASK-1", "agency": FRESNO, "state": "open", "created_at": "2026-12-06T10:00:00+00:00"}
    s.put_task(task)
    s.put_task(task | {"instructions": "again"})  # raised again after a restart: the first is kept
    assert s.close_task("TASK-1", {"state": "answered", "answer": {"__ok__": "true"}})
    assert not s.close_task("TASK-1", {"state": "timed_out"})
    assert s.task("TASK-1")["answer"] == {"__ok__": "true"} and s.tasks(FRESNO, "open", 10) == []
    assert s.cursor("alerts") is None
    s.set_cursor("alerts", '{"0": 4}')
    s.set_cursor("alerts", '{"0": 9}')
    assert s.cursor("alerts") == '{"0": 9}'
