"""Where playbooks meet the running API: the service for a request, the executor with its
commands (OpenC2 and HTTP agents reached with the operator's TLS settings, manual tasks, and
Argus's own actions run as the person the execution acts for), the trigger pump over the
pipeline's topics, and the runner that hosts executions beside the API."""

from __future__ import annotations

import dataclasses
import os
from typing import Any

import anyio
import orjson

from argus.api.access import Gate
from argus.api.deps import trained_in
from argus.api.product_service import desk_of
from argus.api.services import Services, topic_or_none
from argus.playbooks.commands import Call, CommandFailed, CommandSet
from argus.playbooks.commands.argus import argus_actions
from argus.playbooks.commands.http_api import Transport, http_api, openc2_http
from argus.playbooks.commands.manual import manual
from argus.playbooks.executor import Executor
from argus.playbooks.model import Playbook
from argus.playbooks.runner import Runner
from argus.playbooks.service import PlaybookRefused, Playbooks, execution_id
from argus.playbooks.triggers import SCHEMAS, bind, matches
from argus.records import utcnow
from argus.security.policy import Marking, Recipient
from argus.workflows.case_model import CASE_TYPES, Case
from argus.workflows.cases import Casework
from argus.workflows.messaging import Draft, Messaging
from argus.workflows.product_model import Paragraph, Product
from argus.workflows.products import ProductWorkflow
from argus.workflows.refusal import Refused
from argus.workflows.sar_review import Actor


def transport() -> Transport:
    """The operator's settings for agents, from the environment (secrets stay out of playbooks)."""
    cert, key = os.environ.get("ARGUS_OPENC2_CLIENT_CERT"), os.environ.get("ARGUS_OPENC2_CLIENT_KEY")
    return Transport(
        ca=os.environ.get("ARGUS_OPENC2_CA") or None,
        client_cert=(cert, key) if cert and key else None,
        bearer=os.environ.get("ARGUS_OPENC2_TOKEN") or None,
        openc2_version=os.environ.get("ARGUS_OPENC2_VERSION", "1.1"),
    )


def service(svc: Services, rules: Any = None) -> Playbooks:
    return Playbooks(svc.playbooks(), svc.audit, rules)


@dataclasses.dataclass
class Host:
    svc: Services
    runner: Runner | None = None
    pumping: bool = True  # whether the last round had triggers to match

    def start(self) -> None:
        """One runner per app, however often its lifespan starts (a second one left running would
        outlive the stores it reads once the app closes them)."""
        if self.runner is not None:
            return
        self.runner = Runner(self.svc.playbooks, self.executor, self.pump)
        self.runner.start()

    def stop(self) -> None:
        runner, self.runner = self.runner, None
        if runner is not None:
            runner.stop()

    def wake(self) -> None:
        if self.runner is not None:
            self.runner.wake()

    # --- the executor ---------------------------------------------------------------------------
    def executor(self) -> Executor:
        store, t = self.svc.playbooks(), transport()
        actions = {
            "notify": self._notify,
            "open-case": self._open_case,
            "add-to-case": self._add_to_case,
            "search": self._search,
            "bolo-draft": self._bolo_draft,
        }
        commands = CommandSet(
            {
                "openc2-http": openc2_http(t),
                "http-api": http_api(t),
                "manual": manual(store, utcnow),
                "argus": argus_actions(actions),
            }
        )
        return Executor(store, commands, self.resolve)

    def resolve(self, pb_id: str, modified: str | None) -> Playbook | None:
        held = self.svc.playbooks().get(pb_id, modified)
        return Playbook(orjson.loads(held.text)) if held else None

    def acting(self, ex: dict[str, Any]) -> tuple[Actor, Recipient]:
        """The person an execution acts for, as the policy sees them today (a lapsed course or a
        changed role counts), never more than they could do themselves."""
        subject, role = ex["started_by"], ex.get("role")
        who = self.svc.directory().recipient(subject, role)
        return Actor(subject, who.agency, who.role, f"playbook:{ex['id']}"), trained_in(self.svc, subject, who)

    async def _in_thread(self, fn: Any) -> Any:
        try:
            return await anyio.to_thread.run_sync(fn)
        except Refused as e:
            raise CommandFailed(f"{e.field}: {e.problem}") from None

    async def _notify(self, call: Call, args: dict[str, Any]) -> dict[str, Any]:
        actor, _ = self.acting(call.execution)
        text, to = str(args.get("text", ""))[:4000], str(args.get("to", ""))
        m = Messaging(self.svc.cases(), self.svc.directory(), self.svc.audit)
        seq, _msg = await self._in_thread(
            lambda: m.post_direct(actor, to, Draft(text, tlp=str(args.get("tlp", "AMBER"))))
        )
        return {"message": seq}

    async def _open_case(self, call: Call, args: dict[str, Any]) -> dict[str, Any]:
        actor, who = self.acting(call.execution)
        kind = str(args.get("type", "investigation"))
        if kind not in CASE_TYPES:
            raise CommandFailed(f"type: one of {', '.join(CASE_TYPES)}")
        draft = Case(
            "",
            str(args.get("title", call.playbook.name))[:200],
            kind,
            who.agency,
            str(args.get("tlp", "AMBER")),
            summary=str(args.get("summary", ""))[:4000],
        )
        case = await self._in_thread(lambda: self._casework().open(draft, actor))
        return {"case": case.id}

    async def _add_to_case(self, call: Call, args: dict[str, Any]) -> dict[str, Any]:
        actor, who = self.acting(call.execution)
        case_id, text = str(args.get("case", "")), str(args.get("note", ""))[:4000]
        entry = await self._in_thread(lambda: self._casework().note(case_id, actor, who, text))
        return {"entry": getattr(entry, "id", "")}

    async def _search(self, call: Call, args: dict[str, Any]) -> dict[str, Any]:
        _, who = self.acting(call.execution)
        gate = Gate(who, None, self.svc.directory().rules, self.svc.directory().barring(who))
        q, limit = str(args.get("q", ""))[:500], max(1, min(int(args.get("limit", 10)), 100))
        found = await anyio.to_thread.run_sync(
            lambda: self.svc.search().search(q, visible_to=gate.audience, limit=limit)
        )
        return {"total": found["total"], "ids": [h["id"] for h in found["hits"]]}

    async def _bolo_draft(self, call: Call, args: dict[str, Any]) -> dict[str, Any]:
        """A BOLO draft for a person to review and publish: a playbook never disseminates by itself."""
        actor, who = self.acting(call.execution)
        text = {k: str(args.get(k, ""))[:4000] for k in ("subject", "officer_safety", "on_contact", "details")}
        if not text["subject"]:
            raise CommandFailed("subject: what or whom to look for")
        sections = {k: (Paragraph(v),) for k, v in text.items() if v}
        draft = Product(
            id="",
            series="",
            revision=1,
            type="bolo",
            title=str(args.get("title", "BOLO"))[:200],
            marking=Marking(who.agency, str(args.get("tlp", "AMBER"))),
            author=actor.subject,
            created_at=utcnow(),
            sections=sections,
            fields={k: str(args[k])[:200] for k in ("plate", "vehicle") if args.get(k)},
        )
        flow = ProductWorkflow(desk_of(self.svc, self.svc.directory().rules))
        product = await self._in_thread(lambda: flow.draft(draft, actor))
        return {"product": product.id}

    def _casework(self) -> Casework:
        return Casework(self.svc.cases(), self.svc.directory(), self.svc.audit, rules=self.svc.directory().rules)

    # --- triggers -------------------------------------------------------------------------------
    def pump(self) -> int:
        """New events on the trigger topics since the stored cursor, each matched against every
        playbook's triggers of the event's agency; a match starts an execution whose id is the
        event's (topic, partition, offset), so an event read twice starts one."""
        store, started = self.svc.playbooks(), 0
        held = store.with_triggers()
        if not held:  # nothing to match: the topics are not read, and a trigger set later starts from then
            if self.pumping:
                for schema in SCHEMAS.values():
                    topic = topic_or_none(self.svc.topo, schema)
                    if topic is not None:
                        store.set_cursor(topic, "")
            self.pumping = False
            return 0
        self.pumping = True
        for kind, schema in SCHEMAS.items():
            topic = topic_or_none(self.svc.topo, schema)
            if topic is None:
                continue
            pos = self._cursor(store, topic)
            records = self.svc.read_from(topic, pos)
            for r in records:
                pos[r.partition] = r.offset + 1
                started += self._fire(held, kind, f"{topic}/{r.partition}/{r.offset}", r.body)
            if records:
                store.set_cursor(topic, orjson.dumps(pos, option=orjson.OPT_NON_STR_KEYS).decode())
        return started + self._schedules(held)

    def arm(self) -> None:
        """Triggers were just set: each trigger topic's cursor starts here, if it has none, so the
        events after this moment are matched and none before it."""
        store = self.svc.playbooks()
        for schema in SCHEMAS.values():
            topic = topic_or_none(self.svc.topo, schema)
            if topic is not None:
                self._cursor(store, topic)
        self.pumping = True

    def _cursor(self, store: Any, topic: str) -> dict[int, int]:
        saved = store.cursor(topic)
        if not saved:  # triggers fire on what arrives from now on, not on the topic's history
            ends = self.svc.end_offsets(topic)
            store.set_cursor(topic, orjson.dumps(ends, option=orjson.OPT_NON_STR_KEYS).decode())
            return dict(ends)
        return {int(p): int(o) for p, o in orjson.loads(saved).items()}

    def _fire(self, held: list[Any], kind: str, event: str, body: dict[str, Any]) -> int:
        n = 0
        for pb in held:
            for i, t in enumerate(pb.triggers):
                if t["kind"] == kind and pb.marking.agency == body.get("recipient_agency") and matches(t, body):
                    n += self._start(pb.id, t, bind(t, body), execution_id(pb.id, str(i), event), event)
        return n

    def _schedules(self, held: list[Any]) -> int:
        n, now = 0, utcnow().timestamp()
        for pb in held:
            for i, t in enumerate(pb.triggers):
                if t["kind"] == "schedule":
                    slot = str(int(now // t["every_s"]))
                    n += self._start(pb.id, t, {}, execution_id(pb.id, str(i), "schedule", slot), f"schedule/{slot}")
        return n

    def _start(self, pb_id: str, t: dict[str, Any], inputs: dict[str, Any], ex_id: str, event: str) -> int:
        if self.svc.playbooks().execution(ex_id) is not None:
            return 0
        who = self.svc.directory().recipient(t["set_by"], t.get("role"))
        actor = Actor(t["set_by"], who.agency, who.role, "trigger")
        try:
            _, new = service(self.svc, self.svc.directory().rules).start(
                pb_id, inputs, actor, who, {"kind": t["kind"], "event": event}, ex_id
            )
        except PlaybookRefused:
            return 0
        return int(new)
