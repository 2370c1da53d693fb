"""Intelligence products: templates, drafting and editing, the workflow's steps (submit, peer
review, supervisor approval, publish, revise, withdraw), the library and one product as the
caller may have it.

A product is seen whole (less any paragraph its portion marking keeps from the caller) or not at
all: a reader the policy does not admit to all of it gets a 404, as for a product that does not
exist. Drafts are seen only in their originating agency.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from argus.api.deps import Caller, Decider, Problem, Reader, bounded, json, refused
from argus.api.models import answers
from argus.api.product_models import Library, ProductForm, ProductOut, StepIn, Templates
from argus.api.product_service import actor, copy_of, find, product_of, publisher, visible, workflow
from argus.records import utcnow
from argus.stores.products import LibraryQuery, StaleProduct
from argus.workflows.product_model import CAVEATS, STATES, TEMPLATES, Product, portion_marking
from argus.workflows.product_render import banner, portion_label
from argus.workflows.products import ProductRefused

router = APIRouter(tags=["products"])
_EX = {
    "id": "PRD-5f0c2a9e1b7d4c3a",
    "series": "PRD-5f0c2a9e1b7d4c3a",
    "revision": 1,
    "type": "bolo",
    "title": "White Ford Transit, CA 7XYZ123",
    "state": "PUBLISHED",
    "urgency": "PRIORITY",
    "category": "organised_crime",
    "topic": "copper theft",
    "agency": "CAFC00000",
    "tlp": "AMBER",
    "created_at": "2026-12-06T09:00:00+00:00",
    "published_at": "2026-12-06T11:02:00+00:00",
    "superseded_by": None,
}
_DETAIL = _EX | {"banner": "TLP:AMBER // LES // ORIGINATOR CAFC00000", "caveats": ["LES"],
                 "criminal_intelligence": False,
                 "sections": [{"key": "subject", "title": "Subject or vehicle", "paragraphs": [
                     {"text": "White Ford Transit van, CA plate 7XYZ123.", "portion": "(AMBER//LES)", "sources": []}]}],
                 "fields": {"plate": "7XYZ123"}, "embeds": [], "sources": [], "removed": 1, "version": 4,
                 "revisions": [{"id": "PRD-5f0c2a9e1b7d4c3a", "revision": 1, "state": "PUBLISHED"}]}  # fmt: skip


def summary(p: Product) -> dict[str, Any]:
    return {
        "id": p.id, "series": p.series, "revision": p.revision, "type": p.type, "title": p.title, "state": p.state,
        "urgency": p.urgency, "category": p.category, "topic": p.topic, "agency": p.marking.agency,
        "tlp": p.marking.tlp, "created_at": p.created_at.isoformat(),
        "published_at": p.published_at.isoformat() if p.published_at else None,
        "superseded_by": p.superseded_by or None,
    }  # fmt: skip


def detail(c: Caller, p: Product) -> dict[str, Any]:
    """The caller's copy, with the workflow's history and the list for its own agency."""
    copy = copy_of(c, p)
    if copy is None:
        raise c.hide(p.id)
    sections = [
        {"key": s.key, "title": s.title, "paragraphs": [
            {"text": x.text, "portion": portion_label(portion_marking(p.marking, x.portion)) if x.portion else None,
             "sources": list(x.sources)} for x in copy.sections.get(s.key, ())]}
        for s in p.template.sections if copy.sections.get(s.key)
    ]  # fmt: skip
    revs = [{"id": r.id, "revision": r.revision, "state": r.state}
            for r in c.svc.products().revisions(p.series) if visible(c, r)]  # fmt: skip
    out = summary(p) | {
        "banner": banner(p.marking), "caveats": list(p.marking.handling), "criminal_intelligence": p.marking.ci,
        "sections": sections, "fields": {k: v for k, v in p.fields.items() if v}, "sources": list(copy.sources),
        "embeds": [e.__dict__ for e in p.embeds], "removed": copy.removed, "version": p.version, "revisions": revs,
    }  # fmt: skip
    if p.marking.agency == c.who.agency:  # the originating agency works on it: the whole content
        out |= {"author": p.author, "steps": [s.as_dict() for s in p.steps], "cases": list(p.marking.cases),
                "dissemination": p.dissemination.as_dict(), "supersedes": p.supersedes or None,
                "content": {k: [x.as_dict() for x in v] for k, v in p.sections.items()},
                "quoted": list(p.sources)}  # fmt: skip
    return out


@router.get("/api/v1/product/templates", summary="The product types and their templates",
            responses=answers(Templates, {"templates": [TEMPLATES["bolo"].as_dict()], "caveats": CAVEATS}))  # fmt: skip
async def templates(c: Reader) -> Any:
    """Each type's sections (required ones checked on submission), fields and default handling."""
    return {"templates": [t.as_dict() for t in TEMPLATES.values()], "caveats": CAVEATS}


def _draft(c: Caller, form: ProductForm) -> dict[str, Any]:
    p = workflow(c).draft(product_of(form, c), actor(c))
    return detail(c, p)


@router.post("/api/v1/products", status_code=201, summary="Draft a product from its template",
             responses=answers(ProductOut, _DETAIL | {"state": "DRAFT"}, 201))  # fmt: skip
async def draft(c: Decider, form: ProductForm) -> Any:
    """As the caller's agency, authored by the caller; handling defaults to the template's."""
    return json(await bounded(c, _draft, c, form), 201)


def _library(c: Caller, q: LibraryQuery) -> dict[str, Any]:
    total, got = c.svc.products().library(c.gate.audience, q)
    c.audited("read", "product-library", endpoint="products", returned=len(got))
    return {"total": total, "products": [summary(p) for p in got]}


@router.get("/api/v1/products", summary="The product library: search every product you may see",
            responses=answers(Library, {"total": 1, "products": [_EX]}))  # fmt: skip
async def library(
    c: Reader,
    q: Annotated[str, Query(max_length=200, description="Words in the title, topic or unrestricted text")] = "",
    type: Annotated[str, Query(max_length=32)] = "",
    category: Annotated[str, Query(max_length=32)] = "",
    topic: Annotated[str, Query(max_length=200)] = "",
    agency: Annotated[str, Query(max_length=16, description="Originating agency")] = "",
    since: Annotated[str, Query(pattern=r"^(\d{4}-\d{2}-\d{2})?$")] = "",
    until: Annotated[str, Query(pattern=r"^(\d{4}-\d{2}-\d{2})?$")] = "",
    state: Annotated[list[str] | None, Query(max_length=7)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Any:
    """Released products the caller sees in full, and drafts of the caller's own agency; newest
    first. Words never match a portion-marked paragraph."""
    bad = [s for s in state or () if s not in STATES]
    if bad:
        raise Problem(400, "Invalid request", f"state: {bad[0][:32]!r} is not one of {', '.join(STATES)}")
    query = LibraryQuery(q, type, category, topic, agency, since, until, tuple(state or ()), limit)
    return json(await bounded(c, _library, c, query))


def _one(c: Caller, pid: str) -> dict[str, Any]:
    p = find(c, pid)
    c.svc.products().mark(p.id, c.subject, "read", utcnow())
    c.audited("read", p.id, endpoint="product")
    return detail(c, p)


@router.get("/api/v1/products/{pid}", summary="One product as you may have it",
            responses=answers(ProductOut, _DETAIL))  # fmt: skip
async def one(c: Reader, pid: str) -> Any:
    """Your copy: paragraphs your clearance for their portion marking allows, sources you may
    see, every revision you may see. Reading it is recorded as read on your delivery."""
    return json(await bounded(c, _one, c, pid))


def _edit(c: Caller, pid: str, form: ProductForm) -> dict[str, Any]:
    p = _at(find(c, pid), form.version)
    try:
        return detail(c, workflow(c).edit(p, product_of(form, c), actor(c)))
    except ProductRefused as exc:
        raise refused(exc) from None
    except StaleProduct as exc:
        raise Problem(409, "Changed meanwhile", f"{exc}; reload it and edit again") from None


@router.put("/api/v1/products/{pid}", summary="Edit a draft", responses=answers(ProductOut, _DETAIL))
async def edit(c: Decider, pid: str, form: ProductForm) -> Any:
    """Only a draft of the caller's agency; `version` is the one the edit was made on."""
    return json(await bounded(c, _edit, c, pid, form))


def _at(p: Product, version: int | None) -> Product:
    if version is not None and version != p.version:
        raise Problem(409, "Changed meanwhile", f"product {p.id} is at version {p.version}, not {version}; reload it")
    return p


def _act(c: Caller, pid: str, how: str, body: StepIn) -> dict[str, Any]:
    p = _at(find(c, pid), body.version)
    flow, who = workflow(c), actor(c)
    try:
        if how == "submit":
            p = flow.submit(p, who, body.reason)
        elif how == "review":
            p = flow.peer_review(p, who, body.outcome or "", body.reason)
        elif how == "approval":
            p = flow.approve(p, who, body.outcome or "", body.reason)
        elif how == "publish":
            p = publisher(c).publish(p, who, body.reason)
        elif how == "revise":
            p = flow.revise(p, who)
        else:
            p = publisher(c).withdraw(p, who, body.reason)
    except ProductRefused as exc:
        raise refused(exc) from None
    except StaleProduct as exc:
        raise Problem(409, "Changed meanwhile", f"{exc}; reload it and decide again") from None
    return detail(c, p)


def _step_route(how: str, summary_: str, doc: str, status: int = 200) -> None:
    async def step(c: Decider, pid: str, body: StepIn) -> Any:
        return json(await bounded(c, _act, c, pid, how, body), status)

    step.__doc__ = doc
    step.__name__ = f"product_{how}"
    router.post(f"/api/v1/products/{{pid}}/{how}", summary=summary_, status_code=status,
                responses=answers(ProductOut, _DETAIL, status))(step)  # fmt: skip


_step_route(
    "submit",
    "Submit a draft for peer review",
    "Checks the template's required sections and that the product (or the paragraph quoting it) is "
    "marked at least as restrictively as every source it quotes; a refusal names the source.",
)
_step_route("review", "Peer review: PASS or RETURN", "By an analyst of the originating agency other than the author.")
_step_route(
    "approval",
    "Supervisor approval: APPROVE or RETURN",
    "By a supervisor of the originating agency other than the author.",
)
_step_route(
    "publish",
    "Publish an approved product to its dissemination list",
    "Each recipient is decided by the policy: delivered their own copy on their channel (patrol "
    "terminals like an alert, the workbench inbox, partner centres over TAXII) or withheld with the "
    "reason; every delivery is a dissemination entry in the audit.",
)
_step_route(
    "revise",
    "Start a new revision of a published product",
    "A draft that supersedes the published revision when it is published.",
    201,
)
_step_route(
    "withdraw", "Withdraw a published product", "Terminals holding it are told to drop it; the TAXII report is revoked."
)
