"""The leak harness's generators for the playbook routes (registered with the others in
tests/leak/routes.py): a seeded playbook answers to whom its marking shows it whole and is a 404
to anyone else; executions and manual tasks answer only to the agency that ran them."""

from __future__ import annotations

import httpx
import orjson

from argus.playbooks.samples import block_ip
from tests.leak.holdings_playbooks import ex_id, own_run, pb_id, playbook_seen, task_id
from tests.leak.routes import Ask, Call, Check, route

SOME = (0, 1, 2, 999)


def _echo(i: int) -> tuple[str, ...]:
    return (pb_id(i), ex_id(i), task_id(i))


def _seen(i: int, needs: str = "read") -> Check:
    def check(r: httpx.Response, a: Ask) -> None:
        if not a.who.may(needs):
            assert r.status_code == 403, (a.sid, r.status_code)
        elif playbook_seen(a.world, i, a.who):
            assert r.status_code != 404, (a.sid, r.request.url.path, r.text[:200])
        else:
            assert r.status_code == 404, (a.sid, r.request.url.path, r.status_code, r.text[:200])

    return check


def _own(i: int) -> Check:
    def check(r: httpx.Response, a: Ask) -> None:
        if not a.who.may("read"):
            assert r.status_code == 403
        elif own_run(a.world, i, a.who):
            assert r.status_code != 404, (a.sid, r.request.url.path, r.text[:200])
        else:
            assert r.status_code == 404, (a.sid, r.request.url.path, r.status_code)

    return check


@route("POST", "/api/v1/playbooks/validate")
def _validate(a: Ask) -> list[Call]:
    return [Call("POST", "/api/v1/playbooks/validate", json=block_ip("https://fw.example.org/.well-known/openc2"))]


@route("POST", "/api/v1/playbooks")
def _import(a: Ask) -> list[Call]:
    return [
        Call("POST", "/api/v1/playbooks", json=block_ip("https://fw.example.org/.well-known/openc2", name="harness"))
    ]


@route("GET", "/api/v1/playbooks")
def _list(a: Ask) -> list[Call]:
    def exactly_seen(r: httpx.Response, a: Ask) -> None:
        if r.status_code == 200:
            got = {p["id"] for p in r.json()["playbooks"] if p["name"] != "harness"}
            want = {pb_id(i) for i in range(len(a.world.reports)) if playbook_seen(a.world, i, a.who)}
            assert got == want, (a.sid, got ^ want)

    return [Call("GET", "/api/v1/playbooks", check=exactly_seen)]


@route("GET", "/api/v1/playbooks/{pb_id}")
def _one(a: Ask) -> list[Call]:
    return [Call("GET", f"/api/v1/playbooks/{pb_id(i)}", check=_seen(i), echoes=_echo(i)) for i in SOME]


@route("GET", "/api/v1/playbooks/{pb_id}/export")
def _export(a: Ask) -> list[Call]:
    return [Call("GET", f"/api/v1/playbooks/{pb_id(i)}/export", params={"stix": i % 2 == 0}, check=_seen(i),
                 echoes=_echo(i)) for i in SOME]  # fmt: skip


@route("PUT", "/api/v1/playbooks/{pb_id}/triggers")
def _triggers(a: Ask) -> list[Call]:
    return [Call("PUT", f"/api/v1/playbooks/{pb_id(i)}/triggers", json={"triggers": []}, check=_seen(i, "respond"),
                 echoes=_echo(i)) for i in SOME]  # fmt: skip


@route("POST", "/api/v1/playbooks/{pb_id}/executions")
def _start(a: Ask) -> list[Call]:
    return [Call("POST", f"/api/v1/playbooks/{pb_id(i)}/executions", json={"variables": {}},
                 check=_seen(i, "respond"), echoes=_echo(i)) for i in SOME]  # fmt: skip


@route("GET", "/api/v1/executions")
def _runs(a: Ask) -> list[Call]:
    def own_only(r: httpx.Response, a: Ask) -> None:
        if r.status_code == 200:
            got = {
                e["id"] for e in r.json()["executions"] if e["id"] in {ex_id(i) for i in range(len(a.world.reports))}
            }
            want = {ex_id(i) for i in range(len(a.world.reports)) if own_run(a.world, i, a.who)}
            want = {e for e in want if playbook_seen(a.world, int(e[5:], 16), a.who)}
            assert got == want, (a.sid, got ^ want)

    return [Call("GET", "/api/v1/executions", check=own_only)]


@route("GET", "/api/v1/executions/{ex_id}")
def _run(a: Ask) -> list[Call]:
    return [Call("GET", f"/api/v1/executions/{ex_id(i)}", check=_own(i), echoes=_echo(i)) for i in SOME]


@route("GET", "/api/v1/playbook-tasks")
def _tasks(a: Ask) -> list[Call]:
    def own_only(r: httpx.Response, a: Ask) -> None:
        if r.status_code == 200:
            seeded = {task_id(i) for i in range(len(a.world.reports))}
            got = {t["id"] for t in r.json()["tasks"]} & seeded  # (the harness's own runs raise tasks too)
            assert got <= {task_id(i) for i in range(len(a.world.reports)) if own_run(a.world, i, a.who)}, a.sid

    return [Call("GET", "/api/v1/playbook-tasks", params={"state": "open"}, check=own_only)]


@route("POST", "/api/v1/playbook-tasks/{task_id}/answer")
def _answer(a: Ask) -> list[Call]:
    return [Call("POST", f"/api/v1/playbook-tasks/{task_id(i)}/answer", json={"values": {"__ok__": "true"}},
                 check=_own(i), echoes=_echo(i)) for i in SOME]  # fmt: skip


__all__ = ["orjson"]
