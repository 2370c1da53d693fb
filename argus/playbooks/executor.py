"""The CACAO executor: runs a playbook's workflow with every step type, durably.

Each step instance has a key (its path through parallel branches, loop iterations and
sub-playbooks), and its record (begun, then finished with its outputs) is written before and after
it runs. A resumed execution walks the workflow again from the start: a finished step is not run
again, its recorded outputs are applied instead, so the variables, and with them every condition,
come out as they were, and control arrives at the step that was running when the process died.

Branches of a parallel step run concurrently (asyncio tasks) and join before its on_completion.
A branch of any control step (parallel, if, while, switch) runs until an end step, a step with no
successor, or the control step's own on_completion (where the branches meet)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from argus.playbooks import limits
from argus.playbooks.commands import Call, CommandFailed, CommandSet
from argus.playbooks.commands.manual import task_id
from argus.playbooks.conditions import ConditionError, evaluate
from argus.playbooks.model import Playbook
from argus.playbooks.variables import Scope, VariableError, parse, render
from argus.records import utcnow
from argus.stores.playbooks import PlaybookStore

CONTROL = ("parallel", "if-condition", "while-condition", "switch-condition", "playbook-action")


class StepFailed(Exception):
    def __init__(self, step: str, reason: str) -> None:
        super().__init__(f"{step}: {reason}")
        self.step, self.reason = step, reason


Resolve = Callable[[str, str | None], Playbook | None]


@dataclasses.dataclass
class Executor:
    store: PlaybookStore
    commands: CommandSet
    resolve: Resolve  # a sub-playbook by id and version (None: the latest)
    clock: Callable[[], datetime] = utcnow
    max_iterations: int = limits.MAX_ITERATIONS

    async def run(self, ex_id: str) -> dict[str, Any]:
        """Run (or resume) an execution to its end; its final record."""
        ex = self.store.execution(ex_id)
        if ex is None or ex["state"] not in ("running", "waiting"):
            return ex or {}
        pb = self.resolve(ex["playbook"], ex["modified"])
        if pb is None:
            return self._end(ex, "failed", f"playbook {ex['playbook']} {ex['modified']} is not held")
        scope = Scope(pb.doc.get("playbook_variables"))
        try:
            scope.bind_external(ex.get("inputs") or {})
            await self._chain(ex, pb, pb.start, scope, "", frozenset(), 0)
        except (StepFailed, VariableError, ConditionError) as e:
            return await self._exception(ex, pb, scope, str(e))
        return self._end(ex, "completed", None, scope)

    async def _exception(self, ex: dict[str, Any], pb: Playbook, scope: Scope, reason: str) -> dict[str, Any]:
        """The playbook's exception workflow, when it has one, then the execution ends failed."""
        if pb.exception:
            try:
                await self._chain(ex, pb, pb.exception, scope, "exception/", frozenset(), 0)
            except (StepFailed, VariableError, ConditionError) as e:
                reason += f"; the exception workflow failed too: {e}"
        return self._end(ex, "failed", reason, scope)

    def _end(self, ex: dict[str, Any], state: str, error: str | None, scope: Scope | None = None) -> dict[str, Any]:
        changes = {"state": state, "ended_at": self.clock().isoformat(), "error": error,
                   "variables": scope.snapshot() if scope else {}}  # fmt: skip
        self.store.update(ex["id"], changes)
        return ex | changes

    # --- walking ------------------------------------------------------------------------------
    async def _chain(
        self, ex: dict[str, Any], pb: Playbook, first: str | None, scope: Scope, prefix: str,
        stop: frozenset[str], depth: int,
    ) -> None:  # fmt: skip
        sid = first
        while sid and sid not in stop:
            step = pb.step(sid)
            if step["type"] == "end":
                self._mark(ex, prefix + sid, sid, step, "completed")
                return
            ok = await self._step(ex, pb, sid, step, scope, prefix, stop, depth)
            if ok:  # on_completion and on_success lead on; a failure without on_failure is the playbook's
                sid = step.get("on_completion") or step.get("on_success")
            elif step.get("on_failure"):
                sid = step["on_failure"]
            else:
                raise StepFailed(sid, (self.store.step(ex["id"], prefix + sid) or {}).get("error") or "failed")

    async def _step(
        self, ex: dict[str, Any], pb: Playbook, sid: str, step: dict[str, Any], scope: Scope, prefix: str,
        stop: frozenset[str], depth: int,
    ) -> bool:  # fmt: skip
        """Run one step instance once; True when it succeeded."""
        key = prefix + sid
        local = Scope(step.get("step_variables"), scope) if step.get("step_variables") else scope
        done = self.store.step(ex["id"], key)
        if done and done["status"] in ("completed", "failed"):
            if step["type"] in CONTROL:  # walk its branches again: their finished steps give back their outputs
                with contextlib.suppress(StepFailed, VariableError, ConditionError):
                    await self._body(ex, pb, sid, step, local, prefix, stop, depth)
            _apply(local, done.get("outputs") or {})
            return bool(done["status"] == "completed")
        record = {"key": key, "step": sid, "type": step["type"], "name": step.get("name", ""),
                  "status": "running", "started_at": self.clock().isoformat(),
                  "attempt": (done or {}).get("attempt", 0) + 1, "inputs": _inputs(step, local)}  # fmt: skip
        self.store.save_step(ex["id"], key, record)
        began, raw = time.perf_counter(), {}
        try:
            if step.get("delay"):
                await asyncio.sleep(int(step["delay"]) / 1000)
            timeout = min(int(step.get("timeout") or limits.MAX_STEP_MS), limits.MAX_STEP_MS) / 1000
            async with asyncio.timeout(timeout):  # inline, not a task of its own: no extra turn of the loop per step
                raw = await self._body(ex, pb, sid, step, local, prefix, stop, depth)
            outputs = _out(step, raw)
            _writable(local, outputs)
            status, error = "completed", None
        except TimeoutError:
            outputs, status, error = {}, "failed", f"ACTION_TIMEOUT after {step.get('timeout')} ms"
            for i, _ in enumerate(step.get("commands") or []):  # a person's task for it closes too
                self.store.close_task(
                    task_id(ex["id"], f"{key}#{i}"), {"state": "timed_out", "answered_at": record["started_at"]}
                )
        except CommandFailed as e:
            raw, outputs, status, error = e.outputs, _out(step, e.outputs), "failed", str(e)
        except (StepFailed, VariableError, ConditionError) as e:
            outputs, status, error = {}, "failed", str(e)
        self.store.save_step(ex["id"], key, record | {
            "status": status, "error": error, "outputs": {k: render(v) for k, v in outputs.items()},
            "detail": _detail(raw, outputs),
            "ended_at": self.clock().isoformat(), "ms": round((time.perf_counter() - began) * 1000, 3),
        })  # fmt: skip
        _apply(local, {k: render(v) for k, v in outputs.items()})
        return status == "completed"

    async def _body(
        self, ex: dict[str, Any], pb: Playbook, sid: str, step: dict[str, Any], scope: Scope, prefix: str,
        stop: frozenset[str], depth: int,
    ) -> dict[str, Any]:  # fmt: skip
        kind = step["type"]
        join = stop | ({step["on_completion"]} if step.get("on_completion") else set())
        if kind == "start":
            return {}
        if kind == "action":
            return await self._action(ex, pb, sid, step, scope, prefix)
        if kind == "playbook-action":
            return await self._sub(ex, sid, step, scope, prefix, depth)
        if kind == "parallel":
            return await self._parallel(ex, pb, sid, step, scope, prefix, frozenset(join), depth)
        if kind == "if-condition":
            arm = step["on_true"] if evaluate(step["condition"], scope) else step.get("on_false")
            await self._chain(ex, pb, arm, scope, f"{prefix}{sid}/", frozenset(join), depth)
            return {}
        if kind == "switch-condition":
            value = render(scope.get(str(step["switch"]).removesuffix(":value")))
            cases = step.get("cases") or {}
            await self._chain(
                ex, pb, cases.get(value, cases.get("default")), scope, f"{prefix}{sid}/", frozenset(join), depth
            )
            return {}
        if kind == "while-condition":
            return await self._while(ex, pb, sid, step, scope, prefix, frozenset(join), depth)
        raise StepFailed(sid, f"unknown step type {kind!r}")

    async def _action(
        self, ex: dict[str, Any], pb: Playbook, sid: str, step: dict[str, Any], scope: Scope, prefix: str
    ) -> dict[str, Any]:
        outputs: dict[str, Any] = {}
        for i, command in enumerate(step["commands"]):
            call = Call(command, step, sid, f"{prefix}{sid}#{i}", ex, pb, scope)
            outputs |= await self.commands.run(call)
        return outputs

    async def _parallel(
        self, ex: dict[str, Any], pb: Playbook, sid: str, step: dict[str, Any], scope: Scope, prefix: str,
        join: frozenset[str], depth: int,
    ) -> dict[str, Any]:  # fmt: skip
        branches = [self._chain(ex, pb, first, scope, f"{prefix}{sid}.{i}/", join, depth)
                    for i, first in enumerate(step["next_steps"])]  # fmt: skip
        results = await asyncio.gather(*branches, return_exceptions=True)
        failed = [r for r in results if isinstance(r, BaseException)]
        for r in failed:
            if not isinstance(r, StepFailed | VariableError | ConditionError):
                raise r
        if failed:
            raise StepFailed(sid, f"{len(failed)} of {len(results)} branches failed: {failed[0]}")
        return {}

    async def _while(
        self, ex: dict[str, Any], pb: Playbook, sid: str, step: dict[str, Any], scope: Scope, prefix: str,
        join: frozenset[str], depth: int,
    ) -> dict[str, Any]:  # fmt: skip
        n = 0
        while evaluate(step["condition"], scope):
            if n >= self.max_iterations:
                raise StepFailed(sid, f"the loop ran {n} times, its bound; the condition still holds")
            await self._chain(ex, pb, step["on_true"], scope, f"{prefix}{sid}#{n}/", join | {sid}, depth)
            n += 1
        return {"iterations": n}

    async def _sub(
        self, ex: dict[str, Any], sid: str, step: dict[str, Any], scope: Scope, prefix: str, depth: int
    ) -> dict[str, Any]:
        if depth >= limits.MAX_SUBPLAYBOOK_DEPTH:
            raise StepFailed(sid, f"sub-playbooks nested deeper than {limits.MAX_SUBPLAYBOOK_DEPTH}")
        sub = self.resolve(step["playbook_id"], step.get("playbook_version"))
        if sub is None:
            raise StepFailed(sid, f"sub-playbook {step['playbook_id']} is not held")
        inner = Scope(sub.doc.get("playbook_variables"))
        for name in step.get("in_args") or []:
            if inner.find(name) is None:
                raise StepFailed(sid, f"{name} is not a variable of the sub-playbook")
            inner.set(name, scope.get(name), initial=True)
        try:
            await self._chain(ex, sub, sub.start, inner, f"{prefix}{sid}/", frozenset(), depth + 1)
        except StepFailed as e:
            raise StepFailed(sid, f"the sub-playbook failed at {e}") from None
        return {name: inner.get(name) for name in step.get("out_args") or [] if inner.find(name) is not None}

    def _mark(self, ex: dict[str, Any], key: str, sid: str, step: dict[str, Any], status: str) -> None:
        if self.store.step(ex["id"], key) is None:
            now = self.clock().isoformat()
            record = {
                "key": key,
                "step": sid,
                "type": step["type"],
                "name": step.get("name", ""),
                "status": status,
                "started_at": now,
                "ended_at": now,
                "attempt": 1,
                "inputs": {},
                "outputs": {},
                "ms": 0,
            }
            self.store.save_step(ex["id"], key, record)


def _out(step: dict[str, Any], outputs: dict[str, Any]) -> dict[str, Any]:
    """The outputs a step's out_args take: `__x__` from the output `__x__` or `x`."""
    out = {}
    for name in step.get("out_args") or []:
        plain = name.strip("_")
        if name in outputs:
            out[name] = outputs[name]
        elif plain in outputs:
            out[name] = outputs[plain]
    return out


def _detail(raw: dict[str, Any], taken: dict[str, Any]) -> dict[str, Any]:
    """What a step's commands answered beyond the variables it set: who answered a manual step,
    the OpenC2 command sent and the consumer's response, an HTTP status, a loop's count."""
    plain = {name.strip("_") for name in taken}
    return {k: v if isinstance(v, str | int | float | bool | dict | list | None) else render(v)
            for k, v in raw.items() if k not in taken and k not in plain}  # fmt: skip


def _writable(scope: Scope, outputs: dict[str, Any]) -> None:
    """A step may not write a constant, nor a value its variable's type refuses."""
    for name, value in outputs.items():
        var = scope.find(name)
        if var is not None and var.constant:
            raise VariableError(f"{name} is constant")
        if var is not None:
            parse(var.type, render(value))


def _apply(scope: Scope, outputs: dict[str, str]) -> None:
    for name, value in outputs.items():
        if scope.find(name) is not None:
            scope.set(name, value, initial=True)


def _inputs(step: dict[str, Any], scope: Scope) -> dict[str, str]:
    names = list(step.get("in_args") or [])
    if step.get("type") == "switch-condition":
        names.append(str(step.get("switch", "")).removesuffix(":value"))
    return {n: render(scope.find(n).value) for n in names if scope.find(n) is not None}  # type: ignore[union-attr]
