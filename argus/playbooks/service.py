"""Playbooks as a service the API and the CLI drive: import (validated, versioned by `modified`),
list and read through the one policy (a playbook is seen whole or not at all), export exactly as
imported, set triggers, start executions and answer manual tasks. Running a playbook is
authorised like any other action (the `respond` permission, the caller's agency) and audited."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable
from datetime import datetime
from typing import Any

import orjson

from argus.playbooks.commands.manual import assigned
from argus.playbooks.model import Playbook
from argus.playbooks.triggers import check_triggers
from argus.playbooks.validation import InvalidPlaybook, Problem, load, validate
from argus.playbooks.variables import Scope, VariableError
from argus.records import utcnow
from argus.security.audit import AuditTrail
from argus.security.policy import FULL, Recipient, Rules, decide
from argus.stores.playbooks import PlaybookStore, StoredPlaybook
from argus.workflows.refusal import Refused
from argus.workflows.sar_review import Actor


class PlaybookRefused(Refused):
    pass


def execution_id(*parts: str) -> str:
    """Deterministic for a trigger's event (so one delivered twice starts one execution)."""
    return "EXEC-" + hashlib.sha256("/".join(parts).encode()).hexdigest()[:20]


@dataclasses.dataclass
class Playbooks:
    store: PlaybookStore
    audit: AuditTrail
    rules: Rules | None = None
    clock: Callable[[], datetime] = utcnow

    # --- playbooks ------------------------------------------------------------------------------
    def check(self, body: bytes) -> tuple[dict[str, Any] | None, list[Problem]]:
        try:
            doc = load(body)
        except InvalidPlaybook as e:
            return None, e.problems
        return doc, validate(doc)

    def import_(self, body: bytes, actor: Actor, who: Recipient) -> tuple[StoredPlaybook, bool]:
        """(the stored version, whether it is new). The same version sent again is no change; a
        different document under a version already held is refused (bump `modified`)."""
        self._may(who, "respond")
        doc, problems = self.check(body)
        if problems or doc is None:
            raise InvalidPlaybook(problems)
        pb = Playbook(doc)
        text = body.decode()
        held = self.store.get(pb.id, pb.modified)
        if held is not None:
            if held.text == text or Playbook(orjson.loads(held.text)).doc == doc:
                return held, False
            raise PlaybookRefused(409, "modified", f"version {pb.modified} of {pb.id} is held with other content")
        stored = StoredPlaybook(pb.id, pb.modified, pb.name, pb.marking(who.agency), text, actor.subject,
                                self.clock().isoformat())  # fmt: skip
        self.store.put(stored)
        self._audit("write", actor, pb.id, f"playbook imported, version {pb.modified}")
        return stored, True

    def get(self, pb_id: str, who: Recipient, modified: str | None = None) -> StoredPlaybook:
        held = self.store.get(pb_id, modified)
        if held is None or not self._sees(held, who):
            raise PlaybookRefused(404, "playbook", f"no playbook {pb_id!r} you may see")
        return held

    def export(self, pb_id: str, actor: Actor, who: Recipient, modified: str | None = None) -> StoredPlaybook:
        held = self.get(pb_id, who, modified)
        self._audit("export", actor, pb_id, f"playbook exported, version {held.modified}")
        return held

    def set_triggers(self, pb_id: str, triggers: list[dict[str, Any]], actor: Actor, who: Recipient) -> StoredPlaybook:
        """Triggers start executions as the person who set them, so they act with that person's
        authority, which is checked here and recorded on every execution they start."""
        self._may(who, "respond")
        held = self.get(pb_id, who)
        if held.marking.agency != who.agency:
            raise PlaybookRefused(403, "playbook", "triggers are set by the agency that imported the playbook")
        problems = check_triggers(triggers, Playbook(orjson.loads(held.text)))
        if problems:
            raise PlaybookRefused(422, "triggers", "; ".join(problems))
        stamped = [t | {"set_by": actor.subject, "role": actor.role} for t in triggers]
        self.store.set_triggers(pb_id, held.modified, stamped)
        self._audit("write", actor, pb_id, f"{len(triggers)} trigger(s) set")
        return dataclasses.replace(held, triggers=tuple(stamped))

    # --- executions -----------------------------------------------------------------------------
    def start(
        self, pb_id: str, inputs: dict[str, Any], actor: Actor, who: Recipient, trigger: dict[str, Any] | None = None,
        ex_id: str | None = None,
    ) -> tuple[dict[str, Any], bool]:  # fmt: skip
        """(the execution, whether it is new); the runner picks it up."""
        self._may(who, "respond")
        held = self.get(pb_id, who)
        pb = Playbook(orjson.loads(held.text))
        try:
            Scope(pb.doc.get("playbook_variables")).bind_external(inputs)
        except VariableError as e:
            raise PlaybookRefused(422, "variables", str(e)) from None
        ex = {
            "id": ex_id or execution_id(pb.id, actor.subject, self.clock().isoformat()), "playbook": pb.id,
            "modified": pb.modified, "name": pb.name, "agency": who.agency, "started_by": actor.subject,
            "role": actor.role, "trigger": trigger, "inputs": {k: str(v) for k, v in inputs.items()},
            "state": "running", "started_at": self.clock().isoformat(), "ended_at": None, "error": None,
        }  # fmt: skip
        marking = dataclasses.replace(held.marking, agency=who.agency)
        new = self.store.start(ex, marking)
        if new:
            why = f"playbook {pb.name!r} started" + (f" by trigger {trigger.get('kind')}" if trigger else "")
            self._audit("execute", actor, ex["id"], why)
        return (ex if new else self.store.execution(ex["id"]) or ex), new

    def execution(self, ex_id: str, who: Recipient) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        ex = self.store.execution(ex_id)
        if ex is None or ex["agency"] != who.agency or not who.may("read"):
            raise PlaybookRefused(404, "execution", f"no execution {ex_id!r} of your agency")
        return ex, self.store.steps(ex_id)

    def answer(self, task_id: str, values: dict[str, str], actor: Actor, who: Recipient) -> dict[str, Any]:
        """A manual step's answer from the person (or a holder of the role) it was given to."""
        task = self.store.task(task_id)
        if task is None or task["agency"] != who.agency:
            raise PlaybookRefused(404, "task", f"no task {task_id!r} of your agency")
        if not assigned(task, actor.subject, actor.role):
            who = task["assignee"]
            raise PlaybookRefused(403, "task", f"the task is for {who['kind']} {who['name']!r}")
        unknown = set(values) - set(task["fields"])
        if unknown:
            raise PlaybookRefused(
                422, "values", f"{sorted(unknown)} are not asked for; the task asks {sorted(task['fields'])}"
            )
        scope = Scope({n: {"type": t} for n, t in task["fields"].items()})
        try:
            for name, value in values.items():
                scope.set(name, value)
        except VariableError as e:
            raise PlaybookRefused(422, "values", str(e)) from None
        changes = {"state": "answered", "answer": values, "answered_by": actor.subject,
                   "answered_at": self.clock().isoformat()}  # fmt: skip
        if not self.store.close_task(task_id, changes):
            raise PlaybookRefused(409, "task", f"the task is {task['state']}, not open")
        self._audit("write", actor, task_id, f"manual step answered for execution {task['execution']}")
        return task | changes

    # --- helpers --------------------------------------------------------------------------------
    def _sees(self, held: StoredPlaybook, who: Recipient) -> bool:
        v = decide(held.marking, who, self.rules)
        return v is not None and v.level == FULL

    @staticmethod
    def _may(who: Recipient, permission: str) -> None:
        if not who.may(permission):
            raise PlaybookRefused(403, "role", f"the {who.role} role may not run playbooks")

    def _audit(self, action: str, actor: Actor, obj: str, reason: str) -> None:
        self.audit.record(action, actor=actor.subject, agency=actor.agency, object=obj, source=actor.source,
                          reason=reason)  # fmt: skip
