"""Event deconfliction: register, change and cancel planned operations; see your agency's
operations and the conflict notices addressed to it (a watch centre's include every conflict).

An operation is seen only by its own agency; another agency learns of it only through a conflict
notice, which names the operation's agency and contact and nothing of its case.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from argus.api.deps import Caller, Problem, Reader, Submitter, bounded, json, refused
from argus.api.models import answers
from argus.api.operation_models import CancelForm, NoticeList, OperationForm, OperationList, Registered
from argus.api.services import topic_or_none
from argus.registry import node_class
from argus.stores.operations import op_json
from argus.workflows.deconfliction import Deconfliction, OperationRefused
from argus.workflows.operation_model import Contact, Operation
from argus.workflows.sar_review import Actor

router = APIRouter(tags=["deconfliction"])
OpId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^OP-[0-9a-f]{16}$")]
_OP = {
    "id": "OP-5f0c2a9e1b7d4c3a",
    "agency": "CA0190000",
    "kind": "search_warrant",
    "title": "Elm St warrant",
    "case_id": "CASE-7",
    "contact": {"subject": "det.lee", "name": "Det. Lee", "phone": "559-555-0101"},
    "start": "2026-12-07T05:00:00+00:00",
    "end": "2026-12-07T09:00:00+00:00",
    "lat": 36.7378,
    "lon": -119.7871,
    "radius_m": 200.0,
    "address": "",
    "subjects": ["per-1a2b"],
    "vehicles": [],
    "tlp": "AMBER",
    "state": "PLANNED",
    "version": 1,
    "created_by": "det.lee",
}
_NOTICE = {
    "notice_id": "9f2c",
    "conflict_id": "CNF-1b2c3d4e5f607182",
    "kind": "SPACE_TIME",
    "recipient_agency": "CA0190000",
    "recipient_officer": "det.lee",
    "watch": False,
    "operation": "OP-5f0c2a9e1b7d4c3a",
    "operation_title": "Elm St warrant",
    "parties": [
        {"agency": "CA0430000", "contact_name": "Sgt. Diaz", "contact_phone": "559-555-0199", "operation": None}
    ],
    "distance_m": 212.4,
    "overlap_start": "2026-12-07T06:00:00+00:00",
    "overlap_end": "2026-12-07T09:00:00+00:00",
    "entity": None,
    "encounter": None,
    "text": "Deconfliction: operations within 212 m of each other in overlapping hours.",
    "found_at": "2026-12-06T20:00:00+00:00",
}


def watch_centre(c: Caller) -> str | None:
    for m in c.svc.topo.nodes.values():
        if node_class(m.use).__name__ == "DeconflictionProcessor":
            return str(m.config.get("watch_centre") or "") or None
    return None


def desk(c: Caller) -> Deconfliction:
    svc = c.svc
    return Deconfliction(
        svc.operations(),
        svc.audit,
        svc.publish,
        topic_or_none(svc.topo, "operation_event.v1"),
        topic_or_none(svc.topo, "deconfliction_notice.v1"),
        watch_centre(c),
    )


def actor(c: Caller) -> Actor:
    return Actor(c.subject, c.who.agency, c.who.role, c.source)


def geocode(c: Caller, address: str) -> tuple[float, float]:
    """The place of `address` among the caller's own agency's records that hold it."""
    hits = c.svc.search().search(address, agencies=[c.who.agency], visible_to=c.gate.audience, limit=10)["hits"]
    found = next(((h["lat"], h["lon"]) for h in hits if h.get("lat") is not None and h.get("lon") is not None), None)
    if found is None:
        raise Problem(
            422,
            "Refused",
            "address: no place your agency holds matches it; give lat and lon",
            errors=[{"field": "address", "problem": "not found among the places your agency holds"}],
        )
    return float(found[0]), float(found[1])


def operation_of(c: Caller, f: OperationForm, op_id: str) -> Operation:
    lat, lon = (f.lat, f.lon) if f.lat is not None and f.lon is not None else geocode(c, f.address)
    return Operation(
        op_id,
        c.who.agency,
        f.kind,
        f.title,
        f.case_id,
        Contact(c.subject, f.contact_name, f.contact_phone),
        f.start,
        f.end,
        lat,
        lon,
        f.radius_m,
        f.address,
        tuple(dict.fromkeys(f.subjects)),
        tuple(dict.fromkeys(f.vehicles)),
        f.tlp,
        created_by=c.subject,
    )


@router.post(
    "/api/v1/operations",
    status_code=201,
    responses=answers(Registered, {"operation": _OP, "notices": [_NOTICE]}, 201),
    summary="Register a planned operation; conflicts are found and told at once",
)
async def register(c: Submitter, form: OperationForm) -> Any:
    """An operation of the caller's agency, checked at once against the registry: the answer lists the
    conflicts found as told to the caller's agency (the other side's agency and contact only)."""

    def run() -> dict[str, Any]:
        op = operation_of(c, form, "OP-" + uuid.uuid4().hex[:16])
        try:
            saved, told = desk(c).register(op, actor(c))
        except OperationRefused as exc:
            raise refused(exc) from None
        return {"operation": op_json(saved), "notices": [n for n in told if n["recipient_agency"] == c.who.agency]}

    return json(await bounded(c, run), 201)


@router.put(
    "/api/v1/operations/{op_id}",
    responses=answers(Registered, {"operation": _OP, "notices": []}),
    summary="Change an operation of your agency (send the version you read); checked again",
)
async def change(c: Submitter, op_id: OpId, form: OperationForm) -> Any:
    """A change to an operation of the caller's agency, against the version read (409 when it changed);
    checked again, a conflict already told is not told twice."""
    if form.version is None:
        raise Problem(
            422,
            "Refused",
            "version: send the version you read",
            errors=[{"field": "version", "problem": "required on a change"}],
        )

    def run() -> dict[str, Any]:
        try:
            saved, told = desk(c).change(op_id, operation_of(c, form, op_id), int(form.version or 0), actor(c))
        except OperationRefused as exc:
            raise refused(exc) from None
        return {"operation": op_json(saved), "notices": [n for n in told if n["recipient_agency"] == c.who.agency]}

    return json(await bounded(c, run))


@router.post(
    "/api/v1/operations/{op_id}/cancel",
    responses=answers(Registered, {"operation": _OP, "notices": []}),
    summary="Cancel an operation of your agency",
)
async def cancel(c: Submitter, op_id: OpId, form: CancelForm) -> Any:
    """A cancelled operation leaves the indexes: it conflicts with nothing from then on."""

    def run() -> dict[str, Any]:
        try:
            return {"operation": op_json(desk(c).cancel(op_id, form.version, actor(c))), "notices": []}
        except OperationRefused as exc:
            raise refused(exc) from None

    return json(await bounded(c, run))


@router.get(
    "/api/v1/operations",
    responses=answers(OperationList, {"operations": [_OP]}),
    summary="Your agency's operations, latest start first",
)
async def operations(c: Reader, limit: Annotated[int, Query(ge=1, le=500)] = 100) -> Any:
    """Only the caller's own agency's operations: another agency learns of one only through a conflict
    notice."""
    ops = await bounded(c, c.svc.operations().of_agency, c.who.agency, limit)
    c.audited("read", "operations", count=len(ops))
    return json({"operations": [op_json(o) for o in ops]})


@router.get(
    "/api/v1/operations/notices",
    responses=answers(NoticeList, {"notices": [_NOTICE]}),
    summary="Deconfliction notices addressed to your agency, newest first",
)
async def notices(c: Reader, limit: Annotated[int, Query(ge=1, le=500)] = 100) -> Any:
    """Each notice as its recipient gets it: their own operation and the other side's agency and
    contact (a watch centre's: both sides' contacts)."""
    got = await bounded(c, c.svc.operations().notices, c.who.agency, limit)
    c.audited("read", "deconfliction notices", count=len(got))
    return json({"notices": got})


@router.get(
    "/api/v1/operations/{op_id}",
    responses=answers(OperationList, {"operations": [_OP]}),
    summary="One operation of your agency",
)
async def operation(c: Reader, op_id: OpId) -> Any:
    """One operation of the caller's agency; any other is answered as if it did not exist."""
    op = await bounded(c, c.svc.operations().get, op_id)
    if op is None or op.agency != c.who.agency:
        raise c.hide(op_id)
    c.audited("read", op_id)
    return json({"operations": [op_json(op)]})
