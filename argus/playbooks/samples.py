"""Playbooks built in code: a small builder (deterministic ids from names, so a sample is the same
document on every run) and the samples the demo, the benchmarks and the tests use: a partner's
SLPF block playbook and one that exercises every step type."""

from __future__ import annotations

import base64
import uuid
from typing import Any

import orjson

NS = uuid.UUID("8c5a1f0e-2b7d-4e3a-9c61-0d4f6a2b9e17")
IDENTITY = "identity--5b0d2c9e-3f1a-4e6b-8d7c-2a9e1f4b6c3d"
STAMP = "2026-11-30T09:00:00.000Z"


def sid(kind: str, name: str) -> str:
    return f"{kind}--{uuid.uuid5(NS, kind + ':' + name)}"


class Builder:
    """Steps and agents keyed by a short name; `build` gives the CACAO document."""

    def __init__(self, name: str, modified: str = STAMP, tlp: str | None = None) -> None:
        self.name, self.modified, self.tlp = name, modified, tlp
        self.workflow: dict[str, dict[str, Any]] = {}
        self.agents: dict[str, dict[str, Any]] = {}
        self.variables: dict[str, dict[str, Any]] = {}

    def var(self, name: str, kind: str, value: str | None = None, **flags: bool) -> Builder:
        self.variables[name] = {"type": kind, **({"value": value} if value is not None else {}), **flags}
        return self

    def agent(self, kind: str, name: str, **props: Any) -> str:
        ref = sid(kind, f"{self.name}/{name}")
        self.agents[ref] = {"type": kind, "name": name, **props}
        return ref

    def step(self, kind: str, name: str, **props: Any) -> str:
        ref = sid(kind, f"{self.name}/{name}")
        self.workflow[ref] = {"type": kind, "name": name, **props}
        return ref

    def build(self, start: str, exception: str | None = None) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "type": "playbook",
            "spec_version": "cacao-2.0",
            "id": sid("playbook", self.name),
            "name": self.name,
            "created_by": IDENTITY,
            "created": STAMP,
            "modified": self.modified,
            "workflow_start": start,
            "workflow": self.workflow,
        }
        if exception:
            doc["workflow_exception"] = exception
        if self.agents:
            doc["agent_definitions"] = self.agents
        if self.variables:
            doc["playbook_variables"] = self.variables
        if self.tlp:
            ref = sid("marking-tlp", self.tlp)
            doc["markings"] = [ref]
            doc["data_marking_definitions"] = {
                ref: {
                    "type": "marking-tlp",
                    "id": ref,
                    "created_by": IDENTITY,
                    "created": STAMP,
                    "tlpv2_level": f"TLP:{self.tlp}",
                }
            }
        return doc


def openc2(command: dict[str, Any]) -> dict[str, Any]:
    """An openc2-http command carrying `command` as its base64 body."""
    return {
        "type": "openc2-http",
        "command": "POST /.well-known/openc2 HTTP/1.1",
        "content_b64": base64.b64encode(orjson.dumps(command)).decode(),
    }


def block_ip(
    consumer_url: str, tlp: str = "GREEN", address: str | None = None, name: str = "Block a hostile address"
) -> dict[str, Any]:
    """A partner's playbook: deny traffic to an address at the perimeter (SLPF), then confirm with
    a features query; the address arrives from whatever starts it (an alert's field), `address`
    when nothing binds it."""
    b = Builder(name, tlp=tlp)
    b.var("__ip__", "ipv4-addr", address, external=True).var("__alert__", "string", "", external=True).var(
        "__status__", "integer"
    ).var("__results__", "dictionary")
    fw = b.agent("http-api", "perimeter firewall", address={"url": [consumer_url]})
    end = b.step("end", "end")
    query = b.step(
        "action",
        "confirm the firewall's features",
        agent=fw,
        on_completion=end,
        commands=[openc2({"action": "query", "target": {"features": ["versions", "profiles"]}, "profile": "slpf"})],
    )
    deny = b.step(
        "action",
        "deny the address",
        agent=fw,
        on_success=query,
        out_args=["__status__", "__results__"],
        commands=[
            openc2(
                {
                    "action": "deny",
                    "target": {"ipv4_connection": {"protocol": "tcp", "dst_addr": "__ip__:value"}},
                    "profile": "slpf",
                    "args": {"slpf": {"direction": "ingress"}, "response_requested": "complete"},
                }
            )
        ],
    )
    start = b.step("start", "start", on_completion=deny)
    return b.build(start)


def every_step_type(sub_id: str | None = None) -> dict[str, Any]:
    """Parallel (two 1 s branches), switch, while (counting to a bound), if, a manual step for a
    supervisor, a sub-playbook when `sub_id` is given, and an exception workflow."""
    b = Builder("Every step type")
    b.var("__level__", "string", "high", external=True).var("__n__", "integer", "0").var(
        "__limit__", "integer", "3", external=True
    ).var("__path__", "string", "").var("__approved__", "bool", "false")
    me = b.agent("group", "supervisor")
    end = b.step("end", "end")
    fail_end = b.step("end", "exception end")
    note = b.step(
        "action",
        "note the failure",
        agent=me,
        on_completion=fail_end,
        commands=[{"type": "manual", "command": "The playbook failed; check the trace"}],
    )
    approve = b.step(
        "action",
        "supervisor approves",
        agent=me,
        out_args=["__approved__"],
        on_completion=end,
        commands=[{"type": "manual", "command": "Approve the response for __level__:value"}],
    )
    nxt = approve
    if sub_id:
        nxt = b.step(
            "playbook-action", "run the sub-playbook", playbook_id=sub_id, in_args=["__level__"], on_completion=approve
        )
    after_if = nxt
    done_if = b.step(
        "if-condition",
        "counted enough?",
        condition="__n__:value >= __limit__:value AND __approved__:value = false",
        on_true=b.step("end", "if end"),
        on_completion=after_if,
    )
    body = b.step(
        "action",
        "count",
        agent=me,
        commands=[{"type": "argus", "command": "count"}],
        in_args=["__n__"],
        out_args=["__n__"],
    )
    loop = b.step(
        "while-condition",
        "count to the limit",
        condition="__n__:value < __limit__:value",
        on_true=body,
        on_completion=done_if,
    )
    hi = b.step("action", "high path", agent=me, commands=[{"type": "argus", "command": "path"}], out_args=["__path__"])
    lo = b.step("action", "low path", agent=me, commands=[{"type": "argus", "command": "path"}], out_args=["__path__"])
    switch = b.step(
        "switch-condition", "by level", switch="__level__", cases={"high": hi, "default": lo}, on_completion=loop
    )
    waits = [b.step("action", f"wait {i}", agent=me, commands=[{"type": "argus", "command": "wait"}]) for i in (1, 2)]
    par = b.step("parallel", "two at once", next_steps=waits, on_completion=switch)
    start = b.step("start", "start", on_completion=par)
    return b.build(start, exception=note)
