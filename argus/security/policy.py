"""The one policy: what of a marked object a subject may see.

Every read path asks `decide(marking, subject, rules)`: the correlation processor when it
writes an alert, the API gate for search hits, entities, sources, edges, paths and timelines,
and the alert stream when it delivers. Inputs:

- TLP 2.0 (FIRST): CLEAR no limit; GREEN the community; AMBER the recipient's organisation and
  those with need-to-know; AMBER+STRICT the recipient's organisation only; RED named recipients
  only. An object carrying several markings has already been given the most restrictive one.
- The originating agency's dissemination rules (argus.security.identity: agencies it bars,
  the community its GREEN and AMBER reach).
- Need-to-know: membership of one of the object's cases, or being a named recipient (a user,
  the user's agency, or a dissemination list the user is on).
- Role: auditors and administrators read no holdings (separation of duties); a private-sector
  partner is not a law-enforcement recipient.
- 28 CFR 23.20(e): criminal intelligence goes only to law-enforcement recipients, and only to
  those whose 28 CFR 23 training is current where training is recorded or required.

What another agency's reader gets, by level:
- FULL: every field.
- AMBER_VIEW: what an officer needs to recognise and act on a lead: offenses, series, date,
  ratings, vehicle descriptions, person descriptors (role, sex, race) and the contact. Withheld:
  narrative, person names and dates of birth, addresses and coordinates.
- EXISTENCE (AMBER+STRICT, or a NO_FURTHER_DISSEMINATION caveat, without being named): only
  that a record exists and whom to contact.
- None: nothing, not even that the object exists (RED not named, barred, outside the
  community, criminal intelligence to a non-law-enforcement reader).
The owning agency always sees its own records in full.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from argus.records import Tlp

FULL = "full"
AMBER_VIEW = "amber"
EXISTENCE = "existence"
RANK = {EXISTENCE: 1, AMBER_VIEW: 2, FULL: 3}

ALL_FIELDS = (
    "offenses",
    "series_id",
    "occurred_at",
    "ratings",
    "vehicles",
    "persons",
    "person_names",
    "person_dobs",
    "locations",
    "narrative",
    "case_owner",
)
AMBER_WITHHELD = ("narrative", "person_names", "person_dobs", "locations")
NO_FURTHER_DISSEMINATION = "NO_FURTHER_DISSEMINATION"

# What each role may do. Reading holdings is a permission like any other, so an auditor (who
# reads the audit trail) and an administrator (who manages identities) see no intelligence.
ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "patrol_officer": frozenset({"read", "field"}),
    "analyst": frozenset({"read", "field", "submit", "decide", "subscribe", "respond"}),
    "supervisor": frozenset({"read", "field", "submit", "decide", "review", "purge", "subscribe", "respond"}),
    "terrorism_liaison_officer": frozenset({"read", "field", "submit"}),
    "private_sector_partner": frozenset({"read", "submit"}),
    "auditor": frozenset({"audit"}),
    "administrator": frozenset({"manage"}),
}
ROLES = frozenset(ROLE_PERMISSIONS)
NON_LAW_ENFORCEMENT = frozenset({"private_sector_partner"})


@dataclass(frozen=True)
class Marking:
    """How an object may be handled: carried by every record (its envelope) and copied onto
    everything a store keeps of it (search documents, graph sources, edges, incident nodes)."""

    agency: str
    tlp: str
    ci: bool = False
    handling: tuple[str, ...] = ()
    cases: tuple[str, ...] = ()
    recipients: tuple[str, ...] = ()
    whole: bool = False  # shown whole or not at all (a STIX object: export and TAXII cannot half-release it)

    @classmethod
    def of(cls, d: Mapping[str, Any], agency: str | None = None, tlp: str | None = None) -> Marking:
        """From a flat mapping (a correlation summary, a search hit's fields, a source row, an
        edge's props); `agency`/`tlp` given when the mapping keeps them elsewhere."""
        return cls(
            agency=agency if agency is not None else str(d.get("agency", "")),
            tlp=tlp if tlp is not None else str(d.get("tlp", "RED")),
            ci=bool(d.get("criminal_intelligence", d.get("ci", False))),
            handling=tuple(d.get("handling") or ()),
            cases=tuple(d.get("cases") or ()),
            recipients=tuple(d.get("recipients") or ()),
            whole=bool(d.get("whole", False)),
        )

    @classmethod
    def from_envelope(cls, env: Mapping[str, Any]) -> Marking:
        return cls(
            agency=env["source_agency"],
            tlp=env["tlp"],
            ci=bool(env.get("criminal_intelligence")),
            handling=tuple(env.get("handling") or ()),
            cases=tuple(env.get("cases") or ()),
            recipients=tuple(env.get("recipients") or ()),
            whole=env.get("type") == "stix",
        )

    def props(self) -> dict[str, Any]:
        """The flat properties a store keeps beside agency and tlp (lists of strings and a
        boolean, which every backend stores natively)."""
        out: dict[str, Any] = {
            "ci": self.ci,
            "handling": list(self.handling),
            "cases": list(self.cases),
            "recipients": list(self.recipients),
        }
        if self.whole:
            out["whole"] = True
        return out


@dataclass(frozen=True)
class Recipient:
    """Who is reading: a user or system of an agency, with its role and memberships."""

    agency: str
    role: str = "patrol_officer"
    law_enforcement: bool = True
    unit: str | None = None
    officer: str | None = None
    cases: frozenset[str] = frozenset()
    lists: frozenset[str] = frozenset()
    community: str | None = None
    lapsed: frozenset[str] = frozenset()  # training courses required and not current (argus/workflows/training.py)

    @property
    def cleared_for_ci(self) -> bool:
        """Criminal intelligence goes to law-enforcement readers with current 28 CFR 23 training."""
        return self.law_enforcement and "28cfr23" not in self.lapsed

    @cached_property
    def principals(self) -> frozenset[str]:
        """The names under which this reader can be a named recipient (asked for every marking a
        reader is checked against, so worked out once per reader)."""
        out = {self.agency} | {f"list:{x}" for x in self.lists}
        if self.officer:
            out.add(f"user:{self.officer}")
        return frozenset(out)

    def may(self, permission: str) -> bool:
        return permission in ROLE_PERMISSIONS.get(self.role, frozenset())

    def trained(self, course: str) -> bool:
        return course not in self.lapsed


@dataclass(frozen=True)
class AgencyRules:
    """An originating agency's dissemination rules: the agencies it refuses to share with
    (beyond TLP:CLEAR), and the community its GREEN and AMBER records reach (None: any)."""

    barred: frozenset[str] = frozenset()
    community: str | None = None


Rules = Callable[[str], AgencyRules]


@dataclass
class ReportView:
    level: str
    visible: frozenset[str]
    withheld: list[str] = field(default_factory=list)

    def can(self, name: str) -> bool:
        return name in self.visible


_FULL = ReportView(FULL, frozenset(ALL_FIELDS))


def decide(m: Marking, who: Recipient, rules: Rules | None = None) -> ReportView | None:
    """What `who` may see of an object marked `m`; None: not even that it exists. An object
    shown whole or not at all (`m.whole`) is not shown at all where it would be cut."""
    v = _decide(m, who, rules)
    if v is not None and m.whole and v.level != FULL:
        return None
    return v


def _decide(m: Marking, who: Recipient, rules: Rules | None) -> ReportView | None:
    if not who.may("read") and not who.may("field"):
        return None
    if m.ci and not who.cleared_for_ci:
        return None
    if m.agency == who.agency:
        return _FULL
    tlp = Tlp.parse(m.tlp)
    if tlp is Tlp.CLEAR:
        return _FULL
    if not agency_allows(m.agency, who, rules):
        return None
    named = not who.principals.isdisjoint(m.recipients)
    if tlp is Tlp.RED:
        return _FULL if named else None
    if named:
        return _FULL
    if tlp is Tlp.AMBER_STRICT or NO_FURTHER_DISSEMINATION in m.handling:
        return ReportView(EXISTENCE, frozenset({"case_owner"}), [f for f in ALL_FIELDS if f != "case_owner"])
    if tlp is Tlp.AMBER:
        if not who.cases.isdisjoint(m.cases):  # need-to-know: on the case
            return _FULL
        return ReportView(AMBER_VIEW, frozenset(f for f in ALL_FIELDS if f not in AMBER_WITHHELD), list(AMBER_WITHHELD))
    return _FULL


def agency_allows(origin: str, who: Recipient, rules: Rules | None) -> bool:
    """The originating agency's own rules (beyond TLP:CLEAR): not barred, inside its community."""
    if rules is None or origin == who.agency:
        return True
    r = rules(origin)
    return who.agency not in r.barred and (r.community is None or who.community == r.community)


def report_view(summary: Mapping[str, Any], recipient: Recipient, rules: Rules | None = None) -> ReportView | None:
    """`decide` for a correlation summary (which keeps its marking flat beside its fields)."""
    return decide(Marking.of(summary), recipient, rules)


def best(views: Iterable[ReportView | None]) -> ReportView | None:
    seen = [v for v in views if v is not None]
    return max(seen, key=lambda v: RANK[v.level], default=None)
