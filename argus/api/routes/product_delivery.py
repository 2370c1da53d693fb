"""A product after publication: the caller's copy rendered (HTML, PDF with the banner on every
page, STIX 2.1), the inbox, receipt, consumer feedback, the originating agency's view of its
deliveries and feedback, and the production metrics of the programme.

Renderings are made from the caller's own copy only (argus/workflows/product_render.py): the
same policy decision as the JSON, never the stored product.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from argus.api.deps import Caller, Decider, Problem, Reader, bounded, json
from argus.api.models import PROBLEMS, answers
from argus.api.product_models import Deliveries, FeedbackIn, FeedbackList, Inbox, Production
from argus.api.product_service import copy_of, find
from argus.records import utcnow
from argus.stores.products import Feedback
from argus.workflows.product_model import Product
from argus.workflows.product_render import html, pdf
from argus.workflows.product_stix import report_bundle

router = APIRouter(tags=["products"])


def _copy(c: Caller, pid: str, fmt: str) -> Any:
    p = find(c, pid)
    copy = copy_of(c, p)
    if copy is None:
        raise c.hide(p.id)
    c.audited("export" if fmt != "html" else "read", p.id, endpoint=f"product.{fmt}", removed=copy.removed)
    if fmt == "html":
        return html(copy)
    if fmt == "pdf":
        return pdf(copy)
    first = c.svc.products().revisions(p.series)[0].created_at
    return report_bundle(copy, p.published_at or p.updated_at or p.created_at, first)


_HTML = {200: {"content": {"text/html": {"example": "<!doctype html>..."}}}, **PROBLEMS}
_PDF = {200: {"content": {"application/pdf": {"example": "%PDF-1.7 ..."}}}, **PROBLEMS}
_STIX = {200: {"content": {"application/json": {"example": {"type": "bundle", "id": "bundle--...", "objects": []}}}},
         **PROBLEMS}  # fmt: skip


@router.get("/api/v1/products/{pid}/html", summary="Your copy as an HTML page", responses=_HTML)
async def as_html(c: Reader, pid: str) -> Response:
    """Standalone (no request leaves the page), banner above and below, portion labels."""
    return Response(await bounded(c, _copy, c, pid, "html"), media_type="text/html")


@router.get("/api/v1/products/{pid}/pdf", summary="Your copy as PDF, banner marking on every page", responses=_PDF)
async def as_pdf(c: Reader, pid: str) -> Response:
    """Rendered with WeasyPrint; the banner is in every page's header and footer."""
    body = await bounded(c, _copy, c, pid, "pdf")
    return Response(body, media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{pid[:64]}.pdf"'})  # fmt: skip


@router.get("/api/v1/products/{pid}/stix", summary="Your copy as a STIX 2.1 report bundle", responses=_STIX)
async def as_stix(c: Reader, pid: str) -> Any:
    """The report with its object refs, TLP 2.0 marking-definition and a statement marking per
    caveat; the same report partner centres read over TAXII when it is released as a whole."""
    return json(await bounded(c, _copy, c, pid, "stix"))


def _home(c: Caller, pid: str) -> Product:
    """A product the caller's agency originated (its deliveries and feedback are for it alone)."""
    p = find(c, pid)
    if p.marking.agency != c.who.agency:
        raise c.hide(p.id)
    return p


def _deliveries(c: Caller, pid: str) -> dict[str, Any]:
    p = _home(c, pid)
    rows = c.svc.products().deliveries(p.id)
    c.audited("read", p.id, endpoint="product.deliveries", returned=len(rows))
    out = [{k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in r.__dict__.items() if k != "product"}
           for r in rows]  # fmt: skip
    sent = [r for r in rows if r.status == "DELIVERED"]
    return {"product": p.id, "delivered": len(sent), "withheld": len(rows) - len(sent),
            "read": sum(r.read_at is not None for r in sent), "deliveries": out}  # fmt: skip


@router.get("/api/v1/products/{pid}/deliveries", summary="Who got the product, on which channel, and who did not",
            responses=answers(Deliveries, {"product": "PRD-5f0c2a9e1b7d4c3a", "delivered": 1, "withheld": 1, "read": 1,
                                           "deliveries": []}))  # fmt: skip
async def deliveries(c: Decider, pid: str) -> Any:
    """The originating agency's record: each recipient with the channel, when it was received and
    read, or why the policy withheld it."""
    return json(await bounded(c, _deliveries, c, pid))


def _receipt(c: Caller, pid: str) -> None:
    p = find(c, pid)
    c.svc.products().mark(p.id, c.subject, "received", utcnow())
    c.audited("acknowledge", p.id, endpoint="product.receipt")


@router.post("/api/v1/products/{pid}/receipt", status_code=204, summary="Acknowledge receipt (one tap)",
             responses={204: {}, **PROBLEMS})  # fmt: skip
async def receipt(c: Reader, pid: str) -> Response:
    """Recorded on the caller's delivery, and in the audit trail."""
    await bounded(c, _receipt, c, pid)
    return Response(status_code=204)


def _inbox(c: Caller, limit: int) -> dict[str, Any]:
    store = c.svc.products()
    out = []
    for d in store.inbox(c.subject, limit):
        p = store.get(d.product)
        if p is None or copy_of(c, p) is None:  # withdrawn from the caller's sight since: not shown
            continue
        out.append({"id": p.id, "title": p.title, "type": p.type, "urgency": p.urgency, "state": p.state,
                    "agency": p.marking.agency, "tlp": p.marking.tlp, "channel": d.channel,
                    "delivered_at": d.at.isoformat() if d.at else None,
                    "read": d.read_at is not None})  # fmt: skip
    c.audited("read", "product-inbox", endpoint="products/inbox", returned=len(out))
    return {"total": len(out), "products": out}


@router.get("/api/v1/product/inbox", summary="Products delivered to you",
            responses=answers(Inbox, {"total": 0, "products": []}))  # fmt: skip
async def inbox(c: Reader, limit: Annotated[int, Query(ge=1, le=500)] = 100) -> Any:
    """Newest first, each with whether you have read it."""
    return json(await bounded(c, _inbox, c, limit))


def _feedback(c: Caller, pid: str, body: FeedbackIn) -> dict[str, Any]:
    p = find(c, pid)
    if p.state not in ("PUBLISHED", "SUPERSEDED", "WITHDRAWN"):
        raise Problem(409, "Not in that state", f"product {p.id} is {p.state}: feedback is on published products")
    f = Feedback(p.id, c.subject, c.who.agency, body.useful, body.actionable, body.outcome, body.comment, utcnow())
    c.svc.products().put_feedback(f)
    c.audited("write", p.id, endpoint="product.feedback", outcome=body.outcome)
    return {"product": p.id, "feedback": [_fb(f)]}


def _fb(f: Feedback) -> dict[str, Any]:
    return {"agency": f.agency, "useful": f.useful, "actionable": f.actionable, "outcome": f.outcome,
            "comment": f.comment, "at": f.at.isoformat()}  # fmt: skip


_FB = {
    "product": "PRD-5f0c2a9e1b7d4c3a",
    "feedback": [{"agency": "CA0190000", "useful": 5, "actionable": True, "outcome": "arrest", "comment": "",
                  "at": "2026-12-06T12:00:00+00:00"}],
}  # fmt: skip


@router.post("/api/v1/products/{pid}/feedback", summary="Feedback on a product (a terminal's one tap too)",
             responses=answers(FeedbackList, _FB))  # fmt: skip
async def feedback(c: Reader, pid: str, body: FeedbackIn) -> Any:
    """Useful (1-5), actionable, and what it led to (arrest, seizure, case opened, prevented,
    identified); a reader's newer feedback replaces their older."""
    return json(await bounded(c, _feedback, c, pid, body))


def _feedback_list(c: Caller, pid: str) -> dict[str, Any]:
    p = _home(c, pid)
    got = c.svc.products().feedback(p.id)
    c.audited("read", p.id, endpoint="product.feedback", returned=len(got))
    return {"product": p.id, "feedback": [_fb(f) for f in got]}


@router.get("/api/v1/products/{pid}/feedback", summary="The feedback on one of your agency's products",
            responses=answers(FeedbackList, _FB))  # fmt: skip
async def feedback_list(c: Decider, pid: str) -> Any:
    """For the originating agency: each reader's agency, score, outcome and comment."""
    return json(await bounded(c, _feedback_list, c, pid))


def _metrics(c: Caller, days: int) -> dict[str, Any]:
    since = utcnow() - timedelta(days=days)
    got = c.svc.products().production(since, c.who.agency)
    sent = [d for d in got["deliveries"] if d["status"] == "DELIVERED"]
    n = sum(d["count"] for d in sent)
    fb = sum(f["count"] for f in got["feedback"])
    answered = [t for t in c.svc.requirements().taskings(agency=c.who.agency, limit=10000)
                if t.status == "ANSWERED" and t.answered_at >= since.isoformat()]  # fmt: skip
    c.audited("read", "product-metrics", endpoint="product/metrics")
    return got | {"agency": c.who.agency, "since": since.isoformat(), "read_rate": (sum(d["read"] for d in sent) / n)
                  if n else None, "useful_mean": sum(f["useful_sum"] for f in got["feedback"]) / fb if fb else None,
                  "taskings_answered": len(answered)}  # fmt: skip


@router.get("/api/v1/product/metrics", summary="Production metrics of your agency's products",
            responses=answers(Production, {"agency": "CAFC00000", "since": "2026-11-06T00:00:00+00:00", "products": [],
                                           "publication_hours": {"count": 0, "sum": 0, "median": None},
                                           "deliveries": [], "read_rate": None, "feedback": [], "useful_mean": None,
                                           "taskings_answered": 0}))  # fmt: skip
async def metrics(c: Decider, days: Annotated[int, Query(ge=1, le=3660)] = 30) -> Any:
    """Products by type and state; hours from request to publication; reach and read rate by
    channel; feedback scores and reported outcomes; taskings your agency answered."""
    return json(await bounded(c, _metrics, c, days))
