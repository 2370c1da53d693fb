"""MITRE ATT&CK lookups over the STIX object store: techniques and sub-techniques by ATT&CK id,
name and tactic, as ATT&CK marks them (revoked and deprecated objects are left out unless asked
for; a revoked technique answers with what replaced it)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from argus.security.policy import FULL, Marking, ReportView
from argus.stores.stix import EmbeddedStixStore

ATTACK_SOURCES = ("mitre-attack", "mitre-ics-attack", "mitre-mobile-attack")


def attack_id(obj: dict[str, Any]) -> str | None:
    for ref in obj.get("external_references") or ():
        if ref.get("source_name") in ATTACK_SOURCES and ref.get("external_id"):
            return str(ref["external_id"])
    return None


def techniques(
    store: EmbeddedStixStore,
    view: Callable[[Marking], ReportView | None],
    *,
    ids: list[str] | None = None,
    tactic: str | None = None,
    q: str | None = None,
    include_revoked: bool = False,
) -> Iterator[dict[str, Any]]:
    wanted = {i.upper() for i in ids or ()}
    words = (q or "").lower().split()
    for o in store.scan(types=["attack-pattern"]):
        v = view(Marking.of(o.row))
        if v is None or v.level != FULL:
            continue
        obj = o.obj
        if not include_revoked and (obj.get("revoked") or obj.get("x_mitre_deprecated")):
            continue
        tid = attack_id(obj)
        if tid is None or (wanted and tid.upper() not in wanted):
            continue
        phases = [p["phase_name"] for p in obj.get("kill_chain_phases") or () if "phase_name" in p]
        if tactic and tactic.lower() not in phases:
            continue
        if words and not all(w in (obj.get("name", "") + " " + tid).lower() for w in words):
            continue
        yield {
            "attack_id": tid,
            "stix_id": obj["id"],
            "name": obj.get("name"),
            "tactics": phases,
            "sub_technique": bool(obj.get("x_mitre_is_subtechnique")),
            "domains": obj.get("x_mitre_domains", []),
            "revoked": bool(obj.get("revoked")),
            "deprecated": bool(obj.get("x_mitre_deprecated")),
            "description": obj.get("description", ""),
        }
