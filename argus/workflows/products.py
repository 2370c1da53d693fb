"""The product workflow, as a service the API drives: draft -> peer review -> supervisor approval
-> published -> (revised and superseded, or withdrawn).

Every transition is saved against the version read, published on the product events topic and
audited with who, when and why. Submission checks the template's required sections and that the
product (or the paragraph quoting it) is marked at least as restrictively as every source it
quotes, naming the source. Only an approved product is published; publishing resolves each
recipient through the one policy (argus/workflows/dissemination.py) and delivers each their own
copy (argus/workflows/product_render.py) on the channel that fits them.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from typing import Any

from argus.records import utcnow
from argus.security.audit import AuditTrail
from argus.security.policy import FULL, ROLE_PERMISSIONS, Marking, Recipient, Rules
from argus.stores.products import ProductStore
from argus.workflows.product_model import (
    TRANSITIONS,
    Product,
    Step,
    looser,
    portion_marking,
    product_view,
)
from argus.workflows.refusal import Refused
from argus.workflows.sar_review import Actor

SourceMarking = Callable[[str], Marking | None]
EVENT_OF = {"submit": "SUBMITTED", "peer_review": "REVIEWED", "approval": "APPROVED", "publish": "PUBLISHED",
            "withdraw": "WITHDRAWN", "supersede": "SUPERSEDED"}  # fmt: skip


class ProductRefused(Refused):
    """A step the rules do not allow: the status and the field it is about."""


@dataclasses.dataclass
class Desk:
    """What the workflow writes to and reads from: the store, the audit trail, the product events
    topic, and the source markings and reader views of the one policy."""

    store: ProductStore
    audit: AuditTrail
    event: Callable[[dict[str, Any]], None]
    source: SourceMarking
    reader: Callable[[str], Recipient]  # a subject's policy view (the author's, for the source check)
    rules: Rules | None = None


class ProductWorkflow:
    def __init__(self, desk: Desk) -> None:
        self.desk = desk

    # --- drafting -------------------------------------------------------------------------------
    def draft(self, p: Product, actor: Actor) -> Product:
        p = dataclasses.replace(p, id=p.id or "PRD-" + uuid.uuid4().hex[:16], author=actor.subject,
                                marking=named(p, actor.agency), state="DRAFT", created_at=utcnow(), version=0,
                                steps=())  # fmt: skip
        p = dataclasses.replace(p, series=p.series or p.id)
        self.desk.store.create(p)
        saved = self.desk.store.get(p.id)
        assert saved is not None
        self.told(saved, "DRAFTED", None, actor, "drafted")
        return saved

    def edit(self, p: Product, changed: Product, actor: Actor) -> Product:
        self.own(p, actor)
        if p.state != "DRAFT":
            raise ProductRefused(409, "state", f"product {p.id} is {p.state}: only a draft is edited")
        keep = {"id": p.id, "series": p.series, "revision": p.revision, "author": p.author, "state": p.state,
                "version": p.version, "created_at": p.created_at, "steps": p.steps, "supersedes": p.supersedes,
                "marking": named(changed, p.marking.agency)}  # fmt: skip
        return self.desk.store.save(dataclasses.replace(changed, **keep, updated_at=utcnow()))

    def revise(self, p: Product, actor: Actor) -> Product:
        """A new revision of a published product, as a draft that supersedes it when published."""
        self.own(p, actor)
        if p.state != "PUBLISHED":
            raise ProductRefused(409, "state", f"product {p.id} is {p.state}: only a published product is revised")
        nxt = dataclasses.replace(p, id="", revision=p.revision + 1, supersedes=p.id, superseded_by="",
                                  published_at=None, updated_at=None)  # fmt: skip
        return self.draft(nxt, actor)

    # --- the steps --------------------------------------------------------------------------------
    def submit(self, p: Product, actor: Actor, reason: str = "ready for peer review") -> Product:
        self.own(p, actor)
        written = {k for k, paras in p.sections.items() if any(x.text.strip() for x in paras)}
        missing = [s.key for s in p.template.sections if s.required and s.key not in written]
        if missing:
            title = next(s.title for s in p.template.sections if s.key == missing[0])
            raise ProductRefused(422, f"sections.{missing[0]}", f"the {p.template.title} needs its {title} section")
        self.check_sources(p, self.desk.reader(p.author))
        return self.step(p, "submit", "SUBMIT", actor, reason)

    def peer_review(self, p: Product, actor: Actor, outcome: str, reason: str) -> Product:
        self.own(p, actor)
        if actor.subject == p.author:
            raise ProductRefused(403, "reviewer", "a peer review is someone else's: the author cannot review it")
        return self.step(p, "peer_review", outcome, actor, reason)

    def approve(self, p: Product, actor: Actor, outcome: str, reason: str) -> Product:
        self.own(p, actor)
        if "review" not in ROLE_PERMISSIONS.get(actor.role, frozenset()):
            raise ProductRefused(403, "approver", "approval is a supervisor's")
        if actor.subject == p.author:
            raise ProductRefused(403, "approver", "the author cannot approve their own product")
        return self.step(p, "approval", outcome, actor, reason)

    def withdraw(self, p: Product, actor: Actor, reason: str) -> Product:
        self.own(p, actor)
        return self.step(p, "withdraw", "WITHDRAW", actor, reason)

    # --- checks ---------------------------------------------------------------------------------
    def check_sources(self, p: Product, author: Recipient) -> None:
        """Every quoted source exists, the author sees it in full, and the product (or the
        paragraph quoting it) is marked at least as restrictively; the refusal names it."""
        for ref, portion in p.quoted():
            m = self.desk.source(ref)
            v = product_view(m, author, self.desk.rules) if m is not None else None
            if m is None or v is None or v.level != FULL:
                raise ProductRefused(422, "sources", f"{ref}: not a record you may quote (none you see in full)")
            have = portion_marking(p.marking, portion)
            why = looser(have, m)
            if why:
                where = "the paragraph quoting it" if portion is not None else "the product"
                raise ProductRefused(
                    422, "sources", f"{ref} ({m.agency}): {why}; mark {where} at least as restrictively as its source"
                )

    def own(self, p: Product, actor: Actor) -> None:
        """Only the originating agency works on its product."""
        if actor.agency != p.marking.agency:
            raise ProductRefused(403, "product", f"product {p.id} is {p.marking.agency}'s to work on")

    # --- transitions ----------------------------------------------------------------------------
    def step(self, p: Product, action: str, outcome: str, actor: Actor, reason: str, **more: Any) -> Product:
        """One transition: allowed from the state read, saved against its version, then told."""
        edge = TRANSITIONS.get((action, outcome))
        if edge is None:
            outcomes = [o for (a, o) in TRANSITIONS if a == action]
            one_of = ", ".join(outcomes)
            raise ProductRefused(422, "outcome", f"{outcome!r} is not an outcome of {action}: one of {one_of}")
        if p.state != edge[0]:
            raise ProductRefused(409, "state", f"product {p.id} is {p.state}; {action} needs it {edge[0]}")
        now = utcnow()
        step = Step(action, outcome, actor.subject, actor.agency, now, reason[:2000])
        changed = dataclasses.replace(p, state=edge[1], steps=(*p.steps, step), updated_at=now, **more)
        saved = self.desk.store.save(changed)
        event = "RETURNED" if outcome == "RETURN" else EVENT_OF[action]
        self.told(saved, event, p.state, actor, reason)
        return saved

    def told(self, p: Product, event: str, before: str | None, actor: Actor, reason: str, **counts: int) -> None:
        """The event on the product events topic, and the audit entry."""
        self.desk.event(event_of(p, event, before, actor, reason, **counts))
        self.desk.audit.record(
            "review" if event in ("REVIEWED", "APPROVED", "RETURNED") else "write", actor=actor.subject,
            agency=actor.agency, object=p.id, source=actor.source, reason=reason[:500],
            detail={"product": p.id, "event": event, "state": p.state, "type": p.type, "revision": p.revision},
        )  # fmt: skip


def named(p: Product, agency: str) -> Marking:
    """The product's marking as its originator, naming whom its dissemination list names (the
    policy's named recipients: what TLP:RED and NO_FURTHER_DISSEMINATION release to)."""
    return dataclasses.replace(p.marking, agency=agency, recipients=p.dissemination.principals())


def event_of(p: Product, event: str, before: str | None, actor: Actor, reason: str, **counts: int) -> dict:
    """The product events topic's record (product_event.v1), under the product's own marking."""
    m, now = p.marking, utcnow()
    env = {
        "id": str(uuid.uuid4()), "type": "product_event", "source_agency": m.agency, "source_system": "products",
        "tlp": m.tlp, "reliability": "F", "validity": 6, "criminal_intelligence": m.ci, "criminal_predicate": None,
        "handling": list(m.handling), "cases": list(m.cases), "recipients": list(m.recipients),
        "source_law_enforcement": True, "review_by": None, "observed_at": now, "ingested_at": now, "trace_id": p.id,
    }  # fmt: skip
    body = {
        "event_id": env["id"], "product": p.id, "series": p.series, "revision": p.revision, "product_type": p.type,
        "event": event, "from_state": before, "to_state": p.state, "actor": actor.subject,
        "actor_agency": actor.agency, "reason": reason[:2000], "at": now, "urgency": p.urgency,
        "category": p.category, "delivered": counts.get("delivered", 0), "withheld": counts.get("withheld", 0),
    }  # fmt: skip
    return {"envelope": env, "body": body}
