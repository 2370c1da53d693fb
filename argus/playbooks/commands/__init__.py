"""The commands an action step dispatches, by CACAO command type. Each handler gets the command
with the step's variables at hand and returns its outputs by name (status, results, body, answer
fields), which the step's `out_args` take. A type Argus does not execute is refused with the
reason, so the step fails visibly rather than passing as if it had run."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from typing import Any

from argus.playbooks.model import Playbook
from argus.playbooks.variables import Scope

SHELLS = ("bash", "ssh", "powershell")


class CommandFailed(Exception):
    """The command ran (or was refused) and did not succeed; the step fails with this reason."""

    def __init__(self, reason: str, outputs: dict[str, Any] | None = None) -> None:
        super().__init__(reason)
        self.outputs = outputs or {}


@dataclasses.dataclass
class Call:
    """One command to run, with everything a handler may need."""

    command: dict[str, Any]
    step: dict[str, Any]
    step_id: str
    key: str  # the step instance: stable across a restart, so a handler can make its work idempotent
    execution: dict[str, Any]
    playbook: Playbook
    scope: Scope

    @property
    def agent(self) -> dict[str, Any]:
        return self.playbook.agent(self.step.get("agent")) or {}


Handler = Callable[[Call], Awaitable[dict[str, Any]]]


@dataclasses.dataclass
class CommandSet:
    handlers: dict[str, Handler]
    sandboxed: frozenset[str] = frozenset()  # agent names an operator has enabled for shell commands

    async def run(self, call: Call) -> dict[str, Any]:
        kind = str(call.command.get("type", ""))
        if kind in SHELLS:
            raise CommandFailed(
                f"{kind} commands are not executed: no sandboxed agent is enabled for "
                f"{call.agent.get('name', call.step.get('agent'))!r}"
            )
        handler = self.handlers.get(kind)
        if handler is None:
            raise CommandFailed(f"Argus stores and exports {kind!r} commands but does not execute them")
        return await handler(call)
