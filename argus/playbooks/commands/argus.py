"""Argus's own actions as a command type (`"type": "argus"`): `command` names the action and
`content` holds its arguments as JSON (variables substituted value by value). The host (the API
process) supplies the actions, each run as the person the execution acts for, through the same
workflow and policy a person's request goes through.

Documented actions: notify, open-case, add-to-case, bolo-draft, search."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import orjson

from argus.playbooks.commands import Call, CommandFailed

Action = Callable[[Call, dict[str, Any]], Awaitable[dict[str, Any]]]


def argus_actions(actions: dict[str, Action]) -> Any:
    async def run(call: Call) -> dict[str, Any]:
        name = str(call.command.get("command", ""))
        action = actions.get(name)
        if action is None:
            raise CommandFailed(f"no Argus action {name!r}; the actions are {', '.join(sorted(actions))}")
        try:
            args = call.scope.substitute_json(orjson.loads(call.command.get("content") or "{}"))
        except orjson.JSONDecodeError:
            raise CommandFailed(f"the {name} action's content is not a JSON object") from None
        if not isinstance(args, dict):
            raise CommandFailed(f"the {name} action's content is not a JSON object")
        return await action(call, args)

    return run
