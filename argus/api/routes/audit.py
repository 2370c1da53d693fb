"""The audit trail, for auditors: their own agency's entries, filtered and paged."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from argus.api.deps import Auditor, Caller, bounded, json
from argus.api.models import EXAMPLES, AuditPage, AuditVerdict, answers
from argus.api.routes.search import parse_instant

router = APIRouter(tags=["audit"])
MAX_SEQ = 2**62


def _audit(c: Caller, selection: dict[str, Any], after: int, limit: int) -> dict[str, Any]:
    audit = c.api.audit
    entries = audit.query(**selection, visible_to_agency=c.who.agency, after=after, limit=limit)
    audit.record(
        "read",
        actor=c.subject,
        agency=c.who.agency,
        object="audit",
        source=c.source,
        detail={k: selection[k] for k in ("actor", "action", "object")} | {"returned": len(entries)},
    )
    return {"entries": entries, "next_after": entries[-1]["seq"] if entries else after}


@router.get(
    "/api/v1/audit",
    summary="The audit trail of the auditor's agency (auditors only)",
    responses=answers(AuditPage, EXAMPLES["audit"]),
)
async def audit_trail(
    c: Auditor,
    actor: Annotated[str | None, Query(max_length=128)] = None,
    action: Annotated[str | None, Query(max_length=32)] = None,
    object: Annotated[str | None, Query(alias="object", max_length=256)] = None,
    since: Annotated[str | None, Query(max_length=64, description="ISO 8601")] = None,
    until: Annotated[str | None, Query(max_length=64, description="ISO 8601")] = None,
    after: Annotated[int, Query(ge=0, le=MAX_SEQ)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Any:
    """Entries of the auditor's own agency's people and every dissemination of its records to
    others, in order; page with `after` = the last `next_after`."""
    selection = {
        "actor": actor,
        "action": action,
        "object": object,
        "since": parse_instant(since, "since"),
        "until": parse_instant(until, "until"),
    }
    return json(await bounded(c, _audit, c, selection, after, limit))


@router.get(
    "/api/v1/audit/verify",
    summary="Whether the audit trail's chain is intact (auditors only)",
    responses=answers(AuditVerdict, {"ok": True, "entries": 1234, "first_bad": None, "problem": None}),
)
async def audit_verify(c: Auditor) -> Any:
    """Re-computes every entry's keyed link, as `argus audit verify` does; names the first entry
    that was edited, removed or forged. The check itself is audited."""

    def run() -> dict[str, Any]:
        v = c.api.audit.verify()
        c.audited("read", "audit", endpoint="audit_verify", ok=v.ok, entries=v.entries)
        return {"ok": v.ok, "entries": v.entries, "first_bad": v.first_bad, "problem": v.problem}

    return json(await bounded(c, run))
