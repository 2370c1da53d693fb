"""STIX 2.1 bundles out of the object store, for one subject, through the one policy.

An export is a dissemination: only objects the subject may see in full go out (an object seen
only redacted or as "exists, contact <agency>" cannot be cut into valid STIX without changing
its meaning, so it stays home), each exactly as stored, with the marking-definitions they
reference. The bundle is assembled from the stored JSON bytes; no stix2 objects are built.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from argus.security.policy import FULL, Marking, ReportView
from argus.stix.markings import TLP_MARKINGS, marking_definition
from argus.stores.stix import StixStore, StoredObject, Versions

View = Callable[[Marking], ReportView | None]


@dataclass
class Export:
    bundle: bytes
    objects: list[StoredObject] = field(default_factory=list)
    withheld: int = 0  # matching objects the subject may not have


def audit_release(
    audit: Any,
    caller: Any,
    objects: list[StoredObject],
    *,
    what: str,
    reason: str,
    withheld: int,
    action: str,
    own_action: str,
    selection: dict[str, Any] | None = None,
) -> None:
    """One audit entry per originating agency whose objects left (exports, TAXII pages): for
    another agency's, the recipient and the reason (28 CFR 23.20(f))."""
    by_agency: dict[str, list[str]] = {}
    for o in objects:
        by_agency.setdefault(o.agency, []).append(o.id)
    for agency, ids in by_agency.items():
        other = agency != caller.who.agency
        audit.record(
            action if other else own_action,
            actor=caller.subject,
            agency=agency,
            object=what,
            source=caller.source,
            recipient=caller.who.agency if other else None,
            reason=reason if other else None,
            detail={"ids": ids[:1000], "withheld": withheld, **({"selection": selection} if selection else {})},
        )


def _refs(obj: dict[str, Any]) -> list[str]:
    refs = list(obj.get("object_marking_refs") or ())
    refs += [g["marking_ref"] for g in obj.get("granular_markings") or () if "marking_ref" in g]
    return refs


def visible(rows: Any, view: View) -> tuple[list[StoredObject], int]:
    out, hidden = [], 0
    for r in rows:
        v = view(Marking.of(r.row))
        if v is not None and v.level == FULL:
            out.append(r)
        else:
            hidden += 1
    return out, hidden


def export(
    store: StixStore,
    view: View,
    *,
    ids: list[str] | None = None,
    types: list[str] | None = None,
    record_ids: list[str] | None = None,
    case: str | None = None,
    agencies: list[str] | None = None,
    versions: Versions = "last",
    limit: int | None = None,
) -> Export:
    """The selection is every filter given at once: ids, types, record ids (what a search found),
    a case, originating agencies (a collection's view)."""
    if record_ids is not None and not record_ids:
        rows: Any = iter(())  # a search that found nothing selects nothing, not everything
    else:
        rows = store.scan(ids=ids, types=types, record_ids=record_ids, versions=versions)
    if case is not None:
        rows = (r for r in rows if case in (r.marks.get("cases") or ()))
    if agencies:
        rows = (r for r in rows if r.agency in agencies)
    chosen, hidden = visible(rows, view)
    if limit is not None:
        chosen = chosen[:limit]
    present = {o.id for o in chosen}
    extra: list[bytes] = []
    for ref in dict.fromkeys(ref for o in chosen for ref in _refs(o.obj)):
        if ref in present:
            continue
        present.add(ref)
        if ref in TLP_MARKINGS:  # TLP 1.0 ids were mapped on import: only TLP 2.0 ids remain
            extra.append(orjson.dumps(marking_definition(TLP_MARKINGS[ref])))
            continue
        stored, _ = visible(store.scan(ids=[ref]), view)  # another marking (a statement, ...)
        extra += [o.raw for o in stored]
    body = b",".join([*(o.raw for o in chosen), *extra])
    head = orjson.dumps({"type": "bundle", "id": f"bundle--{uuid.uuid4()}"})[:-1]
    return Export(head + b',"objects":[' + body + b"]}", chosen, hidden)
