"""A case's files: upload (checked for size, type and by the virus-scan hook, kept by SHA-256
under its own marking), fetch (the hash re-verified, the access in the chain of custody with its
reason) and the chain of custody itself. A file is fetched only by a case member the policy admits
to the file's marking; to anyone else it does not exist."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Path, Query, Request
from fastapi.responses import Response

from argus.api.case_models import Listing
from argus.api.case_service import act, actor, casework, evidence, file_json
from argus.api.deps import Caller, Problem, Reader, Submitter, bounded, json, refused
from argus.api.models import answers
from argus.api.routes.cases import CaseId
from argus.security.policy import FULL, Marking
from argus.workflows.case_model import EvidenceFile
from argus.workflows.cases import CaseRefused
from argus.workflows.evidence import MAX_BYTES, TYPES

router = APIRouter(tags=["cases"])
FileId = Annotated[str, Path(pattern=r"^FILE-[0-9a-f]{16}$")]
Reason = Annotated[str, Query(min_length=3, max_length=500, description="Why: recorded in the chain of custody")]
_FILE = {
    "id": "FILE-5f0c2a9e1b7d4c3a",
    "case_id": "CASE-5f0c2a9e1b7d4c3a",
    "sha256": "9f86d0...",
    "name": "lpr.csv",
    "content_type": "text/csv",
    "size": 2048,
    "tlp": "AMBER",
    "criminal_intelligence": False,
    "caveats": [],
    "added_by": "det.lee",
    "added_at": "2026-12-06T09:00:00+00:00",
    "reason": "plate reads, Shaw Ave",
}


@router.post(
    "/api/v1/cases/{case_id}/files",
    status_code=201,
    responses=answers(Listing, _FILE, 201),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {t: {"schema": {"type": "string", "format": "binary"}} for t in TYPES},
        }
    },
    summary="Upload a file to the case (the body is the file; its Content-Type says what it is)",
)
async def upload(
    c: Submitter,
    case_id: CaseId,
    request: Request,
    reason: Reason,
    name: Annotated[str, Query(min_length=1, max_length=200, pattern=r"^[^/\\\x00-\x1f]+$")],
    tlp: Annotated[Literal["GREEN", "AMBER", "AMBER+STRICT", "RED"] | None, Query()] = None,
    criminal_intelligence: Annotated[bool, Query()] = False,
    content_type: Annotated[str, Header(max_length=100)] = "application/octet-stream",
    content_length: Annotated[int | None, Header(ge=0)] = None,
) -> Any:
    """The body is the file. Refused if too large (413), if the bytes are not the declared type (415)
    or if the virus scan finds something (422); kept by SHA-256 under its own marking, its addition
    the first entry of its chain of custody."""
    if content_length is not None and content_length > MAX_BYTES:
        raise refused(CaseRefused(413, "file", f"larger than {MAX_BYTES // (1024 * 1024)} MiB"))
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BYTES:
            raise refused(CaseRefused(413, "file", f"larger than {MAX_BYTES // (1024 * 1024)} MiB"))
    ctype = content_type.split(";")[0].strip().lower()

    def run() -> EvidenceFile:
        case = act(c, casework(c).writable, case_id, actor(c), c.who)
        m = Marking(c.who.agency, tlp or case.tlp, criminal_intelligence or case.ci, case.handling, (case.id,))
        f = act(c, evidence(c).add, case, actor(c), name, ctype, bytes(body), m, reason)
        casework(c).link(case_id, actor(c), c.who, "file", f.id, f"{name} ({f.size} bytes, SHA-256 {f.sha256[:12]})")
        return f

    return json(file_json(await bounded(c, run)), 201)


def _file(c: Caller, case_id: str, file_id: str) -> EvidenceFile:
    act(c, casework(c).get, case_id, actor(c), c.who)
    f = c.svc.cases().file(file_id)
    v = c.gate.view(f.marking) if f is not None and f.case_id == case_id else None
    if f is None or v is None or v.level != FULL:
        raise c.hide(file_id)
    return f


@router.get(
    "/api/v1/cases/{case_id}/files/{file_id}",
    summary="The file's bytes, checked against their SHA-256",
    responses={200: {"content": {"application/octet-stream": {}}}, **answers(Listing, {})},
)
async def fetch(
    c: Reader,
    case_id: CaseId,
    file_id: FileId,
    reason: Reason,
    action: Annotated[Literal["viewed", "downloaded", "exported"], Query()] = "downloaded",
) -> Response:
    """The bytes are checked against their SHA-256 on every read (409 if they no longer match, 410 if
    missing); the access, with its reason, joins the chain of custody."""

    def run() -> tuple[EvidenceFile, bytes]:
        f = _file(c, case_id, file_id)
        return f, act(c, evidence(c).read, f, actor(c), action, reason)

    f, data = await bounded(c, run)
    disposition = "inline" if action == "viewed" else "attachment"
    safe = f.name.encode("ascii", "replace").decode().replace('"', "'")
    return Response(
        data,
        media_type=f.content_type,
        headers={
            "Content-Disposition": f'{disposition}; filename="{safe}"',
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "sandbox; default-src 'none'",
            "X-Argus-SHA256": f.sha256,
            "Cache-Control": "no-store",
        },
    )


@router.get(
    "/api/v1/cases/{case_id}/files/{file_id}/custody",
    responses=answers(Listing, {"custody": []}),
    summary="The file's chain of custody: who added, viewed, downloaded or exported it, when and why",
)
async def custody(c: Reader, case_id: CaseId, file_id: FileId) -> Any:
    """Every addition, view, download and export of the file: who, their agency, when, why, and whether
    the hash held."""

    def run() -> list[dict[str, Any]]:
        _file(c, case_id, file_id)
        return [x.__dict__ for x in c.svc.cases().custody(file_id)]

    got = await bounded(c, run)
    c.audited("read", f"{file_id} custody", count=len(got))
    if not got:
        raise Problem(404, "No such entity", f"no file {file_id!r} you may see")
    return json({"custody": got})
