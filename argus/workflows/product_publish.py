"""Publishing an approved product: each recipient the list selects is decided by the one policy,
gets their own copy on their channel (a patrol terminal's alert stream, the workbench inbox) or
is withheld with the reason; partner centres get the whole-releasable copy as a STIX report in
the TAXII collection. Every delivery and every withholding is a dissemination entry in the audit
(recipient and reason, 28 CFR 23.20(f)) and a row with receipt and read times."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable
from datetime import datetime
from typing import Any

from argus.records import utcnow
from argus.stores.products import Delivery
from argus.workflows.dissemination import Target, channel, targets, taxii_refusal, withheld_because
from argus.workflows.product_model import Product
from argus.workflows.product_render import copy_for, plain
from argus.workflows.product_stix import report_bundle
from argus.workflows.products import ProductRefused, ProductWorkflow
from argus.workflows.sar_review import Actor

TAXII = "taxii:shared"


@dataclasses.dataclass
class Channels:
    people: Callable[[], tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]]  # subjects, agencies by ORI
    recipient: Callable[[str, str | None], Any]  # the directory's Recipient of a subject acting in a role
    field: Callable[[dict[str, Any], str], None]  # a product_delivery.v1 record and its key
    taxii: Callable[[dict[str, Any], str], list[Any]]  # a bundle shared as an agency: what was rejected


class Publisher:
    def __init__(self, flow: ProductWorkflow, channels: Channels) -> None:
        self.flow, self.ch = flow, channels

    def publish(self, p: Product, actor: Actor, reason: str = "approved for dissemination") -> Product:
        self.flow.own(p, actor)
        d = p.dissemination
        if not (d.agencies or d.units or d.roles or d.regions or d.sectors or d.named or d.taxii):
            raise ProductRefused(422, "dissemination", "a product is published to someone: name a list")
        now = utcnow()
        saved = self.flow.step(p, "publish", "PUBLISH", actor, reason, published_at=now)
        subjects, agencies = self.ch.people()
        rows = [self._deliver(saved, t, actor, now) for t in targets(d, subjects, agencies, self.ch.recipient)]
        if d.taxii:
            rows.append(self._share(saved, actor, now))
        self.flow.desk.store.deliver(rows)
        sent = sum(r.status == "DELIVERED" for r in rows)
        self.flow.told(saved, "DISSEMINATED", saved.state, actor, f"{sent} delivered, {len(rows) - sent} withheld",
                        delivered=sent, withheld=len(rows) - sent)  # fmt: skip
        if saved.supersedes:
            old = self.flow.desk.store.get(saved.supersedes)
            if old is not None and old.state == "PUBLISHED":
                self.flow.step(old, "supersede", "SUPERSEDE", actor, f"superseded by revision {saved.revision}",
                                superseded_by=saved.id)  # fmt: skip
        return saved

    def withdraw(self, p: Product, actor: Actor, reason: str) -> Product:
        """Withdrawn: terminals that hold it are told to drop it, and the TAXII report is revoked."""
        out = self.flow.withdraw(p, actor, reason)
        for row in self.flow.desk.store.deliveries(p.id):
            if row.status == "DELIVERED" and row.channel == "field":
                t = Target(row.recipient, self.ch.recipient(row.recipient, row.role or None), "withdrawal")
                c = copy_for(out, t.who, self.flow.desk.rules, self.flow.desk.source)
                if c is not None:
                    self.ch.field(field_record(out, t, plain(c), c.removed, utcnow(), "WITHDRAWN"), key_of(t))
            if row.status == "DELIVERED" and row.channel == "taxii":
                c = copy_for(out, None, None, self.flow.desk.source)
                assert c is not None
                first = self.flow.desk.store.revisions(out.series)[0].created_at
                bundle = report_bundle(c, utcnow(), first)
                report = bundle["objects"][-1]
                report["revoked"] = True
                self.ch.taxii(bundle, out.marking.agency)
        return out

    def _deliver(self, p: Product, t: Target, actor: Actor, now: datetime) -> Delivery:
        who = t.who
        why = withheld_because(p, t, self.flow.desk.rules)
        copy = None if why else copy_for(p, who, self.flow.desk.rules, self.flow.desk.source)
        if copy is None:
            reason = why or "the policy gives them no full copy"
            self._audit(p, actor, t.subject, who.agency, reason, "withheld")
            return Delivery(p.id, t.subject, who.agency, channel(p, who), "WITHHELD", reason, 0, now,
                            unit=who.unit or "", role=who.role)  # fmt: skip
        ch = channel(p, who)
        if ch == "field":
            self.ch.field(field_record(p, t, plain(copy), copy.removed, now, "PUBLISHED"), key_of(t))
        reason = f"{t.matched} on the dissemination list"
        self._audit(p, actor, t.subject, who.agency, f"{p.type} {p.id} via {ch}: {reason}", "ok")
        return Delivery(p.id, t.subject, who.agency, ch, "DELIVERED", reason, copy.removed, now,
                        unit=who.unit or "", role=who.role)  # fmt: skip

    def _share(self, p: Product, actor: Actor, now: datetime) -> Delivery:
        why = taxii_refusal(p)
        if why is None:
            c = copy_for(p, None, None, self.flow.desk.source)
            assert c is not None
            first = self.flow.desk.store.revisions(p.series)[0].created_at
            rejected = self.ch.taxii(report_bundle(c, now, first), p.marking.agency)
            why = f"the STIX intake refused it: {rejected[0]}" if rejected else None
            removed = c.removed
        else:
            removed = 0
        status = "WITHHELD" if why else "DELIVERED"
        self._audit(p, actor, TAXII, "TAXII", why or "partner centres over TAXII", "withheld" if why else "ok")
        return Delivery(p.id, TAXII, "TAXII", "taxii", status, why or "partner centres over TAXII", removed, now)

    def _audit(self, p: Product, actor: Actor, subject: str, agency: str, reason: str, outcome: str) -> None:
        self.flow.desk.audit.record(
            "disseminate", actor=actor.subject, agency=p.marking.agency, object=p.id, outcome=outcome,
            source=actor.source, recipient=agency, reason=f"{reason} (28 CFR 23.20(f))"[:500],
            detail={"subject": subject, "product": p.id, "type": p.type, "tlp": p.marking.tlp},
            dedup=f"product|{p.id}|{subject}",
        )  # fmt: skip


def key_of(t: Target) -> str:
    return f"{t.who.agency}:{t.who.unit or '-'}"


def field_record(p: Product, t: Target, text: str, removed: int, now: datetime, status: str) -> dict[str, Any]:
    """A product_delivery.v1 record for one officer's terminal, under the product's marking."""
    m = p.marking
    did = hashlib.sha256(f"{p.id}|{t.subject}|{status}".encode()).hexdigest()[:32]
    env = {
        "id": did, "type": "product_delivery", "source_agency": m.agency, "source_system": "products", "tlp": m.tlp,
        "reliability": "F", "validity": 6, "criminal_intelligence": m.ci, "criminal_predicate": None,
        "handling": list(m.handling), "cases": list(m.cases), "recipients": list(m.recipients),
        "source_law_enforcement": True, "review_by": None, "observed_at": now, "ingested_at": now, "trace_id": p.id,
    }  # fmt: skip
    body = {
        "delivery_id": did, "product": p.id, "series": p.series, "revision": p.revision, "product_type": p.type,
        "title": p.title, "urgency": p.urgency, "status": status, "recipient_agency": t.who.agency,
        "recipient_unit": t.who.unit, "recipient_officer": t.subject, "banner": text.split("\n", 1)[0],
        "text": text, "fields": {k: v for k, v in p.fields.items() if v}, "removed": removed, "sent_at": now,
    }  # fmt: skip
    return {"envelope": env, "body": body}
