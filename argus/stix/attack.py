"""MITRE ATT&CK lookups over the STIX object store: techniques and sub-techniques by ATT&CK id,
name and tactic, as ATT&CK marks them (revoked and deprecated objects are left out unless asked
for; a revoked technique answers with what replaced it)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from argus.security.policy import FULL, Marking, ReportView
from argus.stores.stix import StixStore

ATTACK_SOURCES = ("mitre-attack", "mitre-ics-attack", "mitre-mobile-attack")


def attack_id(obj: dict[str, Any]) -> str | None:
    for ref in obj.get("external_references") or ():
        if ref.get("source_name") in ATTACK_SOURCES and ref.get("external_id"):
            return str(ref["external_id"])
    return None


def techniques(
    store: StixStore,
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


# ATT&CK object kinds by the STIX types that carry them.
KINDS: dict[str, tuple[str, ...]] = {
    "techniques": ("attack-pattern",),
    "groups": ("intrusion-set",),
    "software": ("malware", "tool"),
    "mitigations": ("course-of-action",),
    "tactics": ("x-mitre-tactic",),
    "campaigns": ("campaign",),
}
# How ATT&CK relates them: (relationship_type, source kind, target kind).
RELATIONS = (
    ("uses", "groups", "techniques"),
    ("uses", "software", "techniques"),
    ("uses", "groups", "software"),
    ("uses", "campaigns", "techniques"),
    ("mitigates", "mitigations", "techniques"),
    ("subtechnique-of", "techniques", "techniques"),
    ("attributed-to", "campaigns", "groups"),
)


def _visible(store: StixStore, view: Callable[[Marking], ReportView | None], types: tuple[str, ...]):  # type: ignore[no-untyped-def]
    for o in store.scan(types=list(types)):
        v = view(Marking.of(o.row))
        if v is not None and v.level == FULL:
            yield o.obj


def summary(obj: dict[str, Any]) -> dict[str, Any]:
    phases = [p["phase_name"] for p in obj.get("kill_chain_phases") or () if "phase_name" in p]
    out = {
        "attack_id": attack_id(obj),
        "stix_id": obj["id"],
        "type": obj["type"],
        "name": obj.get("name"),
        "revoked": bool(obj.get("revoked")),
        "deprecated": bool(obj.get("x_mitre_deprecated")),
        "domains": obj.get("x_mitre_domains", []),
    }
    if phases:
        out["tactics"] = phases
    if obj.get("aliases"):
        out["aliases"] = obj["aliases"]
    if obj.get("x_mitre_shortname"):
        out["shortname"] = obj["x_mitre_shortname"]
    return out


def lookup(
    store: StixStore,
    view: Callable[[Marking], ReportView | None],
    kind: str,
    *,
    ids: list[str] | None = None,
    q: str | None = None,
    include_revoked: bool = False,
    related: bool = False,
) -> list[dict[str, Any]]:
    """ATT&CK objects of one kind by ATT&CK id or words of the name (or alias), each with the
    objects ATT&CK relates it to when `related` (a group's techniques and software, a
    technique's groups, software and mitigations), all through the same view."""
    if kind not in KINDS:
        raise ValueError(f"unknown ATT&CK kind {kind!r}; one of {', '.join(KINDS)}")
    wanted = {i.upper() for i in ids or ()}
    words = (q or "").lower().split()
    found = []
    for obj in _visible(store, view, KINDS[kind]):
        if not include_revoked and (obj.get("revoked") or obj.get("x_mitre_deprecated")):
            continue
        aid = attack_id(obj)
        if aid is None or (wanted and aid.upper() not in wanted):
            continue
        hay = " ".join([obj.get("name", ""), aid, *obj.get("aliases", []), obj.get("x_mitre_shortname", "")]).lower()
        if words and not all(w in hay for w in words):
            continue
        found.append(summary(obj))
    if related and found:
        _attach_relations(store, view, found)
    return found


def _attach_relations(
    store: StixStore, view: Callable[[Marking], ReportView | None], found: list[dict[str, Any]]
) -> None:
    by_id = {f["stix_id"]: f for f in found}
    kind_of = {t: k for k, ts in KINDS.items() for t in ts}
    pairs: list[tuple[str, str, str]] = []  # (found id, relation label, other id)
    for rel in _visible(store, view, ("relationship",)):
        if rel.get("revoked") or rel.get("x_mitre_deprecated"):
            continue
        rtype, src, dst = rel.get("relationship_type"), rel.get("source_ref", ""), rel.get("target_ref", "")
        sk, dk = kind_of.get(src.split("--")[0]), kind_of.get(dst.split("--")[0])
        if (rtype, sk, dk) not in RELATIONS:
            continue
        if src in by_id:
            pairs.append((src, f"{rtype} {dk}", dst))
        if dst in by_id:
            pairs.append((dst, f"{rtype} by {sk}", src))
    others = {o for _, _, o in pairs}
    objs = {
        o["id"]: o for o in _visible(store, view, tuple(t for ts in KINDS.values() for t in ts)) if o["id"] in others
    }
    for fid, label, oid in pairs:
        o = objs.get(oid)
        if o is None or o.get("revoked") or o.get("x_mitre_deprecated"):
            continue  # not visible to this reader, or no longer current
        by_id[fid].setdefault("related", {}).setdefault(label, []).append(
            {"attack_id": attack_id(o), "stix_id": oid, "name": o.get("name")}
        )
