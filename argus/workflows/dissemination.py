"""Who a published product goes to, on which channel, and why anyone on the list did not get it.

The dissemination list selects people from the identity directory (agencies, units, roles,
regions, sectors, named users); the one policy then decides each of them against the product's
marking. A recipient who may not see the whole product gets nothing, with the reason recorded:
never a redacted copy by surprise. Portion-marked paragraphs are left out per recipient when the
copy is made (argus/workflows/product_render.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from argus.records import Tlp
from argus.security.policy import FULL, NO_FURTHER_DISSEMINATION, Marking, Recipient, Rules, agency_allows
from argus.workflows.product_model import LES, OPERATIONAL, Dissemination, Product, product_view


@dataclass(frozen=True)
class Target:
    subject: str
    who: Recipient
    matched: str  # which selector of the list named them


def _matched(d: Dissemination, s: dict[str, Any], community: str | None) -> str | None:
    lists = set(s.get("lists") or ())
    checks = (
        (s["id"] in d.named, f"named {s['id']}"),
        (s["agency"] in d.agencies, f"agency {s['agency']}"),
        (bool(s.get("unit")) and s.get("unit") in d.units, f"unit {s.get('unit')}"),
        (bool(set(s["roles"]) & set(d.roles)), "role " + ",".join(sorted(set(s["roles"]) & set(d.roles)))),
        (community is not None and community in d.regions, f"region {community}"),
        (bool(lists & set(d.sectors)), "sector " + ",".join(sorted(lists & set(d.sectors)))),
    )
    return next((why for ok, why in checks if ok), None)


def targets(d: Dissemination, subjects: Iterable[dict[str, Any]], agencies: dict[str, dict[str, Any]],
            recipient: Any) -> list[Target]:  # fmt: skip
    """Everyone the list selects (enabled users), acting in the role the list names (else their
    first role). `recipient(subject_id, role)` is the directory's policy view of a subject."""
    out = []
    for s in subjects:
        if s.get("disabled") or s.get("kind", "user") != "user":
            continue
        ag = agencies.get(s["agency"]) or {}
        why = _matched(d, s, ag.get("community"))
        if why is None:
            continue
        role = next((r for r in s["roles"] if r in d.roles), s["roles"][0])
        out.append(Target(s["id"], recipient(s["id"], role), why))
    return out


def withheld_because(p: Product, t: Target, rules: Rules | None) -> str | None:
    """Why `t` may not have the product (None: they may have it whole)."""
    m, who = p.marking, t.who
    if not (who.may("read") or who.may("field")):
        return f"role {who.role} reads no intelligence (separation of duties)"
    if not who.law_enforcement and not p.dissemination.private_sector:
        return "a private-sector partner, and the product is not marked for private-sector partners"
    if not who.law_enforcement and LES in m.handling:
        return "LES: law-enforcement recipients only"
    if not who.law_enforcement and m.ci:
        return "criminal intelligence goes only to law-enforcement recipients (28 CFR 23.20(e))"
    v = product_view(m, who, rules)
    if v is not None and v.level == FULL:
        return None
    return _policy_reason(m, who, rules)


def _policy_reason(m: Marking, who: Recipient, rules: Rules | None) -> str:
    tlp = Tlp.parse(m.tlp)
    if not agency_allows(m.agency, who, rules):
        return f"{m.agency}'s dissemination rules do not reach {who.agency}"
    if tlp is Tlp.RED:
        return "TLP:RED and not a named recipient"
    if tlp is Tlp.AMBER_STRICT:
        return f"TLP:AMBER+STRICT: {m.agency}'s organisation only"
    if NO_FURTHER_DISSEMINATION in m.handling:
        return "NO_FURTHER_DISSEMINATION and not a named recipient"
    return f"{tlp.label} and neither named nor on one of the product's cases: only part of it could be shown"


def channel(p: Product, who: Recipient) -> str:
    """A patrol officer gets an operational or FLASH product on the terminal, like an alert;
    everyone else in the workbench inbox."""
    field_only = who.may("field") and not who.may("decide") and not who.may("submit")
    if field_only and (p.type in OPERATIONAL or p.urgency == "FLASH"):
        return "field"
    return "inbox"


def taxii_refusal(p: Product) -> str | None:
    """Why the product may not go to the TAXII collection as a whole (None: it may)."""
    m = p.marking
    if Tlp.parse(m.tlp) in (Tlp.RED, Tlp.AMBER_STRICT):
        return f"{Tlp.parse(m.tlp).label}: the TAXII collection names no one"
    if m.ci or LES in m.handling:
        return "LES or criminal intelligence: TAXII readers include partners who are not law enforcement"
    if NO_FURTHER_DISSEMINATION in m.handling:
        return "NO_FURTHER_DISSEMINATION: not for a shared collection"
    return None
