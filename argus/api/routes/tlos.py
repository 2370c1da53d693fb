"""The terrorism liaison officer network: who the TLOs are (agency, sector, area, training, how to
reach them) and what they reported. A TLO submits SARs as a TLO only while their training is
current (checked on every submission). Supervisors register the TLOs of their own agency; the
fusion centre's people see the whole network, everyone else their own agency's.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from argus.api.deps import Caller, Decider, Problem, bounded, json, reader
from argus.api.models import answers
from argus.api.routes.sars import for_submitter
from argus.api.sar_models import _Form
from argus.security.identity import IdentityError
from argus.stores.sar_reviews import Tlo
from argus.workflows.sar_review import queue_settings

router = APIRouter(tags=["sar"])
Supervisor = Annotated[Caller, Depends(reader("review"))]
TLO_ROLE = "terrorism_liaison_officer"


class TloForm(_Form):
    subject: str = Field(min_length=1, max_length=128, description="The TLO's subject id in the directory")
    name: str = Field(min_length=2, max_length=128)
    sector: str = Field(min_length=2, max_length=64, description="e.g. water, energy, transport, fire service")
    area: str = Field(min_length=2, max_length=128)
    trained_until: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$", description="May submit as a TLO until this date")
    contact: str = Field(default="", max_length=128)


class TloEntry(BaseModel):
    subject: str
    agency: str
    name: str
    sector: str
    area: str
    trained_until: str
    contact: str
    current: bool = Field(description="Training current today")


class TloNetwork(BaseModel):
    total: int
    tlos: list[TloEntry]


EXAMPLE = {"subject": "tlo-vega", "agency": "CA0190000", "name": "R. Vega", "sector": "water", "area": "Fresno",
           "trained_until": "2027-06-30", "contact": "559-555-0101", "current": True}  # fmt: skip


def today() -> str:
    return datetime.now(UTC).date().isoformat()


def entry(t: Tlo) -> dict[str, Any]:
    return {"subject": t.subject, "agency": t.agency, "name": t.name, "sector": t.sector, "area": t.area,
            "trained_until": t.trained_until, "contact": t.contact, "current": t.current(today())}  # fmt: skip


def _network(c: Caller) -> str | None:
    """The agency whose TLOs the caller sees (None: the whole network, for the fusion centre)."""
    centre, _ = queue_settings(c.svc.topo)
    return None if centre and c.who.agency == centre else c.who.agency


def check_tlo(c: Caller) -> None:
    """A TLO submits as a TLO only while registered and trained."""
    t = c.svc.sar_reviews().tlo(c.subject)
    if t is None or t.agency != c.who.agency or not t.current(today()):
        why = "not registered in the TLO network" if t is None else f"TLO training lapsed on {t.trained_until}"
        c.denied("sar", why)
        raise Problem(403, "Not permitted", f"{why}: submit in another role, or ask your supervisor to renew it")


def _list(c: Caller, limit: int) -> dict[str, Any]:
    out = [entry(t) for t in c.svc.sar_reviews().tlos(_network(c), limit)]
    c.audited("read", "tlos", endpoint="tlos", returned=len(out))
    return {"total": len(out), "tlos": out}


@router.get("/api/v1/tlos", summary="The TLO network", responses=answers(TloNetwork, {"total": 1, "tlos": [EXAMPLE]}))
async def tlos(c: Decider, limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> Any:
    """Your agency's TLOs (the fusion centre: every agency's), with their training status."""
    return json(await bounded(c, _list, c, limit))


def _register(c: Caller, form: TloForm) -> dict[str, Any]:
    try:
        who = c.svc.directory().subject(form.subject)
    except IdentityError:
        raise Problem(404, "No such subject", f"no subject {form.subject!r} in your agency") from None
    if who["agency"] != c.who.agency:
        raise Problem(404, "No such subject", f"no subject {form.subject!r} in your agency")
    if TLO_ROLE not in who["roles"]:
        raise Problem(422, "Refused", f"subject: {form.subject!r} does not hold the {TLO_ROLE} role",
                      errors=[{"field": "subject", "problem": f"needs the {TLO_ROLE} role"}])  # fmt: skip
    t = Tlo(form.subject, who["agency"], form.name, form.sector, form.area, form.trained_until, form.contact,
            c.subject)  # fmt: skip
    c.svc.sar_reviews().put_tlo(t)
    c.api.audit.record("admin", actor=c.subject, agency=c.who.agency, object=form.subject, source=c.source,
                       detail={"tlo": "registered", "trained_until": form.trained_until})  # fmt: skip
    return entry(t)


@router.post("/api/v1/tlos", summary="Register a TLO of your agency, or renew their training",
             responses=answers(TloEntry, EXAMPLE))  # fmt: skip
async def register(c: Supervisor, form: TloForm) -> Any:
    """Supervisors only; the subject must be of the supervisor's agency and hold the TLO role
    (their agency comes from the directory, never from the form). Audited."""
    return json(await bounded(c, _register, c, form))


def _one(c: Caller, subject: str) -> dict[str, Any]:
    t = c.svc.sar_reviews().tlo(subject[:128])
    scope = _network(c)
    if t is None or (scope is not None and t.agency != scope):
        c.denied(subject[:128], "policy")
        raise Problem(404, "No such TLO", f"no TLO {subject[:128]!r} in your network")
    sars = c.svc.sar_reviews().by_submitter(t.subject, t.agency, 200)
    c.audited("read", t.subject, endpoint="tlo")
    return entry(t) | {"sars": [for_submitter(x) for x in sars]}


@router.get("/api/v1/tlos/{subject}", summary="One TLO, with their SARs' outcomes and feedback",
            responses=answers(TloEntry, EXAMPLE))  # fmt: skip
async def tlo(c: Decider, subject: str) -> Any:
    """Their entry and every SAR they submitted with each step's outcome and the feedback given."""
    return json(await bounded(c, _one, c, subject))
