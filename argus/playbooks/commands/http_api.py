"""`http-api` and `openc2-http` commands: the command is an HTTP start line (`POST /path HTTP/1.1`)
sent to the step's http-api agent; variables are substituted into a JSON body value by value, so a
variable's text lands as data and never changes the request's structure."""

from __future__ import annotations

import base64
import binascii
import dataclasses
import uuid
from typing import Any
from urllib.parse import urljoin

import httpx
import orjson

from argus.playbooks.commands import Call, CommandFailed
from argus.playbooks.commands import openc2 as oc2


@dataclasses.dataclass(frozen=True)
class Transport:
    """The operator's settings for reaching agents: trust anchors, client certificate, token, and
    the OpenC2 language version consumers speak."""

    ca: str | None = None
    client_cert: tuple[str, str] | None = None
    bearer: str | None = None
    openc2_version: str = "1.1"
    timeout_s: float = 30.0


def target_url(call: Call, start_line: str) -> tuple[str, str]:
    """(method, absolute URL) from the command's start line and the agent's address."""
    parts = start_line.split()
    if len(parts) < 2 or not parts[1].startswith("/"):
        raise CommandFailed(f"command {start_line[:60]!r} is not an HTTP start line like 'POST /path HTTP/1.1'")
    urls = (call.agent.get("address") or {}).get("url") or []
    if not urls:
        raise CommandFailed(f"agent {call.step.get('agent')!r} has no address url")
    return parts[0].upper(), urljoin(str(urls[0]), call.scope.substitute(parts[1]))


def body_of(call: Call) -> bytes | None:
    cmd = call.command
    if "content_b64" in cmd:
        try:
            raw = base64.b64decode(cmd["content_b64"], validate=True)
        except binascii.Error:
            raise CommandFailed("content_b64 is not base64") from None
    elif "content" in cmd:
        raw = str(cmd["content"]).encode()
    else:
        return None
    try:
        return orjson.dumps(call.scope.substitute_json(orjson.loads(raw)))
    except orjson.JSONDecodeError:
        return call.scope.substitute(raw.decode(errors="replace")).encode()


def http_api(transport: Transport) -> Any:
    async def run(call: Call) -> dict[str, Any]:
        method, url = target_url(call, str(call.command.get("command", "")))
        headers = {k: ", ".join(map(call.scope.substitute, v)) for k, v in (call.command.get("headers") or {}).items()}
        verify = oc2.tls(transport.ca, transport.client_cert) if url.startswith("https:") else True
        async with httpx.AsyncClient(verify=verify, timeout=transport.timeout_s) as client:  # fmt: skip
            try:
                reply = await client.request(method, url, content=body_of(call), headers=headers)
            except httpx.HTTPError as e:
                raise CommandFailed(f"{method} {url}: {e}") from None
        try:
            body: Any = reply.json()
        except ValueError:
            body = reply.text[:65536]
        outputs = {"status": reply.status_code, "body": body}
        if reply.status_code >= 400:
            raise CommandFailed(f"{method} {url} answered {reply.status_code}", outputs)
        return outputs

    return run


def openc2_http(transport: Transport) -> Any:
    async def run(call: Call) -> dict[str, Any]:
        _, url = target_url(call, str(call.command.get("command", "")))
        command = orjson.loads(body_of(call) or b"{}")
        command.setdefault("command_id", str(uuid.uuid5(uuid.NAMESPACE_URL, call.execution["id"] + "/" + call.key)))
        problems = list(oc2.command_problems(command))
        if problems:
            raise CommandFailed("OpenC2: " + "; ".join(problems))
        consumer = oc2.Consumer(url, transport.ca, transport.client_cert, transport.bearer,
                                transport.openc2_version, "argus", transport.timeout_s)  # fmt: skip
        try:
            response = await oc2.send(command, consumer, request_id=command["command_id"])
        except (httpx.HTTPError, oc2.OpenC2Error) as e:
            raise CommandFailed(f"OpenC2 {command['action']} to {url}: {e}") from None
        outputs = {"status": response.status, "status_text": response.status_text, "results": response.results,
                   "openc2": {"command": command, "response": response.as_dict()}}  # fmt: skip
        if response.status >= 400:
            raise CommandFailed(f"OpenC2 {command['action']}: {response.status} {response.status_text}", outputs)
        return outputs

    return run
