"""The product workflow wired to the API's services for one caller: the store, the audit trail,
the product topics, the identity directory, the STIX intake, and the markings of quoted sources
(from the search index, where every record and STIX object is kept with its marking)."""

from __future__ import annotations

from typing import Any

from argus.api.deps import Caller, Problem
from argus.api.product_models import ProductForm
from argus.api.services import topic_or_none
from argus.records import utcnow
from argus.security.policy import FULL, Marking
from argus.workflows.product_model import TEMPLATES, Dissemination, Embed, Paragraph, Portion, Product
from argus.workflows.product_publish import Channels, Publisher
from argus.workflows.product_render import Copy, copy_for
from argus.workflows.products import Desk, ProductWorkflow
from argus.workflows.sar_review import Actor


def source_marking(c: Caller) -> Any:
    return source_marking_of(c.svc)


def source_marking_of(svc: Any) -> Any:
    search = svc.search()

    def marking(ref: str) -> Marking | None:
        doc = search.get(ref)
        if doc is None:
            return None
        return Marking.of(doc["fields"], doc["agency"], doc["tlp"])

    return marking


def desk(c: Caller) -> Desk:
    return desk_of(c.svc, c.gate.rules)


def desk_of(svc: Any, rules: Any) -> Desk:
    """The product workflow's desk for a caller, or for a playbook acting for one."""
    events = topic_or_none(svc.topo, "product_event.v1")

    def event(value: dict[str, Any]) -> None:
        if events:
            svc.publish(events, value, value["body"]["series"])

    return Desk(svc.products(), svc.audit, event, source_marking_of(svc), svc.directory().recipient, rules)


def workflow(c: Caller) -> ProductWorkflow:
    return ProductWorkflow(desk(c))


def publisher(c: Caller) -> Publisher:
    svc = c.svc
    d = svc.directory()
    deliveries = topic_or_none(c.svc.topo, "product_delivery.v1")

    def field(value: dict[str, Any], key: str) -> None:
        if deliveries:
            svc.publish(deliveries, value, key)

    def taxii(bundle: dict[str, Any], agency: str) -> list[Any]:
        out = svc.stix_import(bundle, agency, lambda m: c.gate.view(m))
        return list(out["rejected"])

    def people() -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
        return d.subjects(), {a["ori"]: a for a in d.agencies()}

    return Publisher(workflow(c), Channels(people, d.recipient, field, taxii))


def actor(c: Caller) -> Actor:
    return Actor(c.subject, c.who.agency, c.who.role, c.source)


def _principal(name: str) -> str:
    """An ORI names an agency; anything else a user."""
    return name if len(name) == 9 and name.isalnum() and name.upper() == name else f"user:{name}"


def product_of(form: ProductForm, c: Caller) -> Product:
    """The form as a product of the caller's agency (the workflow fills in id, author, state)."""
    t = TEMPLATES[form.type]
    unknown = [k for k in form.sections if k not in {s.key for s in t.sections}]
    if unknown:
        where = f"sections.{unknown[0]}"
        raise Problem(422, "Refused", f"{where}: not a section of the {t.title}",
                      errors=[{"field": where, "problem": "not a section of the template"}])  # fmt: skip
    odd = [k for k in form.fields if k not in t.fields]
    if odd:
        raise Problem(422, "Refused", f"fields.{odd[0]}: the {t.title} asks for {', '.join(t.fields) or 'no fields'}",
                      errors=[{"field": f"fields.{odd[0]}", "problem": "not a field of the template"}])  # fmt: skip
    sections = {
        k: tuple(
            Paragraph(p.text, None if p.portion is None else Portion(
                p.portion.tlp, tuple(p.portion.caveats), p.portion.criminal_intelligence,
                tuple(_principal(n) for n in p.portion.named)), tuple(p.sources))
            for p in paras
        )
        for k, paras in form.sections.items()
    }  # fmt: skip
    caveats = tuple(t.caveats if form.caveats is None else form.caveats)
    marking = Marking(c.who.agency, form.tlp or t.tlp, form.criminal_intelligence, caveats, tuple(form.cases))
    d = form.dissemination
    return Product(
        id="", series="", revision=1, type=form.type, title=form.title, marking=marking, author=c.subject,
        created_at=utcnow(), urgency=form.urgency, topic=form.topic,
        category=form.category, period_start=form.period_start, period_end=form.period_end, sections=sections,
        fields=dict(form.fields), embeds=tuple(Embed(e.kind, e.ref, e.caption) for e in form.embeds),
        sources=tuple(form.sources), requested_at=form.requested_at,
        dissemination=Dissemination(tuple(d.agencies), tuple(d.units), tuple(d.roles), tuple(d.regions),
                                    tuple(d.sectors), tuple(d.named), d.taxii, d.private_sector),
    )  # fmt: skip


def find(c: Caller, pid: str) -> Product:
    """The product, if the caller sees it in full (a draft: only its own agency); else a 404 as
    for one that does not exist."""
    p = c.svc.products().get(pid[:64])
    if p is None or not visible(c, p):
        c.denied(pid[:64], "policy")
        raise Problem(404, "No such product", f"no product {pid[:64]!r} you may see")
    return p


def visible(c: Caller, p: Product) -> bool:
    if p.marking.agency == c.who.agency:
        return c.who.may("read") or c.who.may("field")
    if p.state not in ("PUBLISHED", "SUPERSEDED", "WITHDRAWN"):
        return False
    return copy_of(c, p) is not None


def copy_of(c: Caller, p: Product) -> Copy | None:
    return copy_for(p, c.who, c.gate.rules, source_marking(c))


def full(c: Caller, m: Marking) -> bool:
    v = c.gate.view(m)
    return v is not None and v.level == FULL
