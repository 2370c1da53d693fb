"""An OpenC2 v1.1 producer: commands built and checked against the Language Specification (and the
SLPF profile's action/target pairs), sent over HTTPS as the OASIS transfer specification frames
them (a message with headers and body, `application/openc2+json;version=1.0`, TLS verified, mutual
TLS or a bearer token), responses correlated to their commands by request id.

Only idempotent commands are retried: sending `deny` twice leaves one rule, sending `delete` twice
may remove two."""

from __future__ import annotations

import dataclasses
import ssl
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_exponential

ACTIONS = (
    "scan", "locate", "query", "deny", "contain", "allow", "start", "stop", "restart", "cancel", "set",
    "update", "redirect", "create", "delete", "detonate", "restore", "copy", "investigate", "remediate",
)  # fmt: skip
TARGETS = (
    "artifact", "command", "device", "domain_name", "email_addr", "features", "file", "idn_domain_name",
    "idn_email_addr", "ipv4_net", "ipv6_net", "ipv4_connection", "ipv6_connection", "iri", "mac_addr",
    "process", "properties", "uri",
)  # fmt: skip
ARGS = ("start_time", "stop_time", "duration", "response_requested")
RESPONSE_REQUESTED = ("none", "ack", "status", "complete")
STATUS = (102, 200, 400, 401, 403, 404, 500, 501, 503)
IDEMPOTENT = frozenset({"query", "deny", "allow", "locate", "scan", "investigate", "set", "contain"})
SLPF_PAIRS = {
    "deny": ("ipv4_connection", "ipv6_connection", "ipv4_net", "ipv6_net"),
    "allow": ("ipv4_connection", "ipv6_connection", "ipv4_net", "ipv6_net"),
    "delete": ("slpf:rule_number",),
    "update": ("file",),
    "query": ("features",),
}
MEDIA_TYPE = "application/openc2+json;version=1.0"
FEATURES = ("versions", "profiles", "pairs", "rate_limit")


class OpenC2Error(ValueError):
    """A command that breaks the language, or a consumer's answer that cannot be correlated."""


def command_problems(body: Any, templated: bool = False) -> Iterator[str]:
    """What makes `body` not an OpenC2 v1.1 command; `templated`: a value may still be a variable
    reference, checked once substituted."""
    if not isinstance(body, dict):
        yield "an OpenC2 command is a JSON object"
        return
    unknown = set(body) - {"action", "target", "args", "profile", "command_id", "actuator"}
    if unknown:
        yield f"unknown properties {sorted(unknown)}"
    action = body.get("action")
    if action not in ACTIONS:
        yield f"action {action!r} is not an OpenC2 action"
    target = body.get("target")
    if not isinstance(target, dict) or len(target) != 1:
        yield "target must hold exactly one target type"
        return
    (kind,) = target
    if kind not in TARGETS and ":" not in kind:
        yield f"target type {kind!r} is neither in the language nor namespaced by a profile"
    if kind == "features" and (not isinstance(target[kind], list) or set(target[kind]) - set(FEATURES)):
        yield f"features must be a list of {', '.join(FEATURES)}"
    yield from _args(body.get("args"), templated)
    if body.get("profile", "slpf") == "slpf" and action in SLPF_PAIRS and kind not in SLPF_PAIRS[action]:
        if body.get("profile") == "slpf":
            yield f"the SLPF profile has no {action} on {kind}"
    for name in ("profile", "command_id"):
        if name in body and not isinstance(body[name], str):
            yield f"{name} must be a string"


def _args(args: Any, templated: bool) -> Iterator[str]:
    if args is None:
        return
    if not isinstance(args, dict):
        yield "args must be an object"
        return
    for name, value in args.items():
        if name not in ARGS and not isinstance(value, dict):
            yield f"argument {name!r} is neither in the language nor a profile's (an object)"
    rr = args.get("response_requested")
    if rr is not None and rr not in RESPONSE_REQUESTED and not (templated and "__" in str(rr)):
        yield f"response_requested must be one of {', '.join(RESPONSE_REQUESTED)}"
    for name in ("start_time", "stop_time", "duration"):
        if name in args and not isinstance(args[name], int) and not (templated and "__" in str(args[name])):
            yield f"{name} must be an integer (milliseconds)"


@dataclasses.dataclass(frozen=True)
class Consumer:
    """Where and how to reach one OpenC2 consumer (from the playbook's http-api agent plus the
    operator's settings for that address: trust anchors, client certificate, token)."""

    url: str
    ca: str | None = None  # a CA bundle to verify the consumer with; None: the system's
    client_cert: tuple[str, str] | None = None  # (certificate, key) for mutual TLS
    bearer: str | None = None
    version: str = "1.1"  # "1.0": a consumer that still takes `actuator` rather than `profile`
    producer: str = "argus"
    timeout_s: float = 30.0


@dataclasses.dataclass(frozen=True)
class Response:
    request_id: str
    status: int
    status_text: str
    results: dict[str, Any]
    http_status: int
    elapsed_ms: float
    attempts: int

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def to_wire(command: dict[str, Any], version: str) -> dict[str, Any]:
    """v1.1 names the profile; a v1.0 consumer takes it as the actuator (with no specifiers)."""
    if version == "1.0" and "profile" in command:
        rest = {k: v for k, v in command.items() if k not in ("profile", "command_id")}
        return rest | {"actuator": {command["profile"]: {}}}
    return command


def envelope(command: dict[str, Any], consumer: Consumer, request_id: str) -> bytes:
    return orjson.dumps({
        "headers": {"request_id": request_id, "created": int(time.time() * 1000), "from": consumer.producer,
                    "to": [consumer.url]},
        "body": {"openc2": {"request": to_wire(command, consumer.version)}},
    })  # fmt: skip


async def send(command: dict[str, Any], consumer: Consumer, request_id: str | None = None) -> Response:
    """One command to one consumer, retried (transport errors, 503) only when idempotent."""
    problems = list(command_problems(command))
    if problems:
        raise OpenC2Error("; ".join(problems))
    rid = request_id or str(uuid.uuid4())
    attempts = 3 if command["action"] in IDEMPOTENT else 1
    headers = {"Content-Type": MEDIA_TYPE, "Accept": MEDIA_TYPE}
    if consumer.bearer:
        headers["Authorization"] = f"Bearer {consumer.bearer}"
    async with httpx.AsyncClient(verify=tls(consumer.ca, consumer.client_cert), timeout=consumer.timeout_s) as client:
        retrying = AsyncRetrying(
            stop=stop_after_attempt(attempts), wait=wait_exponential(multiplier=0.2, max=2), reraise=True,
            retry=retry_if_exception(lambda e: isinstance(e, httpx.TransportError | _Unavailable)),
        )  # fmt: skip
        started, tries = time.perf_counter(), 0
        async for attempt in retrying:
            with attempt:
                tries += 1
                reply = await client.post(consumer.url, content=envelope(command, consumer, rid), headers=headers)
                if reply.status_code == 503 and attempts > 1:
                    raise _Unavailable()
    return _correlate(reply, rid, command, (time.perf_counter() - started) * 1000, tries)


def tls(ca: str | None, client_cert: tuple[str, str] | None) -> ssl.SSLContext:
    """Verify the server (against `ca`, or the system's trust store); present `client_cert` for
    mutual TLS."""
    context = ssl.create_default_context(cafile=ca)
    if client_cert:
        context.load_cert_chain(*client_cert)
    return context


class _Unavailable(Exception):
    pass


def _correlate(reply: httpx.Response, rid: str, command: dict[str, Any], ms: float, tries: int) -> Response:
    wanted = (command.get("args") or {}).get("response_requested", "complete")
    if not reply.content:
        if wanted == "none" and reply.status_code < 300:
            return Response(rid, reply.status_code, "no response requested", {}, reply.status_code, ms, tries)
        raise OpenC2Error(f"the consumer answered HTTP {reply.status_code} without an OpenC2 response")
    if not reply.headers.get("content-type", "").startswith("application/openc2"):
        raise OpenC2Error(f"the consumer answered {reply.headers.get('content-type')!r}, not {MEDIA_TYPE}")
    try:
        msg = orjson.loads(reply.content)
        answer = msg["body"]["openc2"]["response"]
        got = msg.get("headers", {}).get("request_id")
    except (orjson.JSONDecodeError, KeyError, TypeError):
        raise OpenC2Error("the consumer's answer is not an OpenC2 response message") from None
    if got != rid:
        raise OpenC2Error(f"the response is for request {got!r}, not {rid!r}")
    status = int(answer.get("status", 0))
    if status not in STATUS:
        raise OpenC2Error(f"status {status} is not an OpenC2 status code")
    return Response(rid, status, str(answer.get("status_text", "")), answer.get("results") or {},
                    reply.status_code, ms, tries)  # fmt: skip
