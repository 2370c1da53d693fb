"""Validation of a CACAO v2.0 playbook: the official schemas first, then the rules they cannot
express. Every problem names the step (or the playbook) and the rule it breaks, so an author can
fix a partner's playbook without reading a schema dump."""

from __future__ import annotations

import base64
import binascii
import dataclasses
from typing import Any

import orjson

from argus.playbooks import limits
from argus.playbooks.conditions import ConditionError, parse, variables
from argus.playbooks.model import POINTERS, Playbook, successors
from argus.playbooks.schema import ROOT, schema_errors
from argus.playbooks.signatures import signature_problems
from argus.playbooks.variables import NAME, VariableError
from argus.playbooks.variables import parse as parse_value


@dataclasses.dataclass(frozen=True)
class Problem:
    step: str  # a step id, or "playbook"
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.step}: {self.rule}: {self.message}"


class InvalidPlaybook(ValueError):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(map(str, problems[:5])))
        self.problems = problems


def load(body: bytes) -> dict[str, Any]:
    """The document from bytes, refused before parsing when it is too large, and after when it
    nests too deeply or carries an oversized string."""
    if len(body) > limits.MAX_BYTES:
        raise InvalidPlaybook([Problem("playbook", "size", f"{len(body)} bytes; at most {limits.MAX_BYTES}")])
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as e:
        raise InvalidPlaybook([Problem("playbook", "json", str(e))]) from None
    if not isinstance(doc, dict):
        raise InvalidPlaybook([Problem("playbook", "json", "a playbook is a JSON object")])
    if limits.depth(doc) > limits.MAX_DEPTH:
        raise InvalidPlaybook([Problem("playbook", "depth", f"nested deeper than {limits.MAX_DEPTH}")])
    if limits.longest_string(doc) > limits.MAX_STRING:
        raise InvalidPlaybook([Problem("playbook", "size", f"a string longer than {limits.MAX_STRING}")])
    return doc


def validate(doc: dict[str, Any]) -> list[Problem]:
    """Every problem found; an empty list means the playbook may be stored and run."""
    if len(doc.get("workflow") or {}) > limits.MAX_STEPS:
        return [Problem("playbook", "size", f"more than {limits.MAX_STEPS} steps")]
    problems = [_schema_problem(path, msg) for path, msg in schema_errors(doc)]
    if problems:
        return problems
    pb = Playbook(doc)
    for check in (_pointers, _reachable, _cycles, _variables, _agents, _commands, _conditions):
        problems += check(pb)
    return problems + signature_problems(doc)


def _schema_problem(path: list[str | int], message: str) -> Problem:
    step = str(path[1]) if len(path) > 1 and path[0] == "workflow" else "playbook"
    where = "/".join(map(str, path[2:] if step != "playbook" else path))
    return Problem(step, "schema", f"{where}: {message}" if where else message)


def _pointers(pb: Playbook) -> list[Problem]:
    out = []
    if pb.start not in pb.workflow or pb.step(pb.start).get("type") != "start":
        out.append(Problem("playbook", "workflow_start", f"{pb.start!r} is not a start step of the workflow"))
    if pb.exception is not None and pb.exception not in pb.workflow:
        out.append(Problem("playbook", "workflow_exception", f"{pb.exception!r} is not a step of the workflow"))
    for sid, step in pb.workflow.items():
        if "on_completion" in step and ("on_success" in step or "on_failure" in step):
            out.append(Problem(sid, "on_completion", "on_completion beside on_success/on_failure"))
        for target in successors(step):
            if target not in pb.workflow:
                out.append(Problem(sid, "dangling", f"{target!r} is not a step of the workflow"))
    kinds = {s.get("type") for s in pb.workflow.values()}
    if not kinds & {"action", "playbook-action"} or "end" not in kinds:
        out.append(Problem("playbook", "workflow", "needs a start, an action or playbook-action, and an end"))
    return out


def _reachable(pb: Playbook) -> list[Problem]:
    seen, todo = set(), [s for s in (pb.start, pb.exception) if s in pb.workflow]
    while todo:
        sid = todo.pop()
        if sid not in seen:
            seen.add(sid)
            todo += [t for t in successors(pb.step(sid)) if t in pb.workflow]
    return [Problem(sid, "unreachable", "not reachable from workflow_start") for sid in pb.workflow if sid not in seen]


def _cycles(pb: Playbook) -> list[Problem]:
    """A loop is only a while-condition's: an edge back into a while step ends an iteration; any
    other cycle would run forever."""
    state: dict[str, int] = {}
    for root in pb.workflow:
        if root in state:
            continue
        stack = [(root, iter(_edges(pb, root)))]
        state[root] = 1
        while stack:
            sid, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                state[sid] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                return [Problem(sid, "cycle", f"leads back to {nxt!r} outside a while-condition")]
            elif nxt not in state:
                state[nxt] = 1
                stack.append((nxt, iter(_edges(pb, nxt))))
    return []


def _edges(pb: Playbook, sid: str) -> list[str]:
    return [t for t in successors(pb.step(sid)) if t in pb.workflow and pb.step(t).get("type") != "while-condition"]


def _variables(pb: Playbook) -> list[Problem]:
    out = _declared("playbook", pb.doc.get("playbook_variables") or {})
    for sid, step in pb.workflow.items():
        out += _declared(sid, step.get("step_variables") or {})
        known = set(pb.doc.get("playbook_variables") or {}) | set(step.get("step_variables") or {})
        used = list(step.get("in_args") or []) + list(step.get("out_args") or [])
        if step.get("type") == "switch-condition":
            used.append(str(step.get("switch", "")).removesuffix(":value"))
        for name in used:
            if name not in known:
                out.append(Problem(sid, "variable", f"{name!r} is not declared"))
    return out


def _declared(where: str, declared: dict[str, Any]) -> list[Problem]:
    out = []
    for name, spec in declared.items():
        if not NAME.match(name):
            out.append(Problem(where, "variable-name", f"{name!r} must look like __name__"))
            continue
        try:
            parse_value(str(spec.get("type", "string")), spec.get("value"))
        except VariableError as e:
            out.append(Problem(where, "variable-type", f"{name}: {e}"))
    return out


def _agents(pb: Playbook) -> list[Problem]:
    agents, targets = pb.doc.get("agent_definitions") or {}, pb.doc.get("target_definitions") or {}
    out = []
    for sid, step in pb.workflow.items():
        if step.get("type") == "action" and step.get("agent") not in agents:
            out.append(Problem(sid, "agent", f"{step.get('agent')!r} is not in agent_definitions"))
        for t in step.get("targets") or []:
            if t not in targets:
                out.append(Problem(sid, "target", f"{t!r} is not in target_definitions"))
    return out


def _commands(pb: Playbook) -> list[Problem]:
    """Each command against its own type's official schema (the action schema checks only the
    common properties), and an OpenC2 body against the language's rules."""
    from argus.playbooks.commands.openc2 import command_problems

    out = []
    for sid, step in pb.workflow.items():
        for i, cmd in enumerate(step.get("commands") or []):
            kind = str(cmd.get("type", ""))
            if (ROOT / "commands" / f"{kind}.json").exists():
                out += [
                    Problem(sid, "schema", f"commands/{i}: {m}") for _, m in schema_errors(cmd, f"commands/{kind}.json")
                ]
            if kind == "openc2-http" and "content_b64" in cmd:
                out += [
                    Problem(sid, "openc2", f"commands/{i}: {m}") for m in _openc2(cmd["content_b64"], command_problems)
                ]
    return out


def _openc2(b64: str, check: Any) -> list[str]:
    try:
        body = orjson.loads(base64.b64decode(b64, validate=True))
    except (binascii.Error, ValueError):
        return ["content_b64 is not base64 of a JSON OpenC2 command"]
    return list(check(body, templated=True))


def _conditions(pb: Playbook) -> list[Problem]:
    out = []
    for sid, step in pb.workflow.items():
        if "condition" not in step:
            continue
        known = set(pb.doc.get("playbook_variables") or {}) | set(step.get("step_variables") or {})
        try:
            used = variables(parse(str(step["condition"])))
        except ConditionError as e:
            out.append(Problem(sid, "condition", str(e)))
            continue
        out += [Problem(sid, "variable", f"{v!r} in the condition is not declared") for v in sorted(used - known)]
    return out


__all__ = ["POINTERS", "InvalidPlaybook", "Problem", "load", "validate"]
