"""The one place that decides what of a report a recipient may see.

Every alert the correlation processor builds goes through `report_view`; later read paths
(API, exports, TAXII) are to use the same function. TLP 2.0 semantics (FIRST):
CLEAR no limit; GREEN the community; AMBER the recipient's organisation on need-to-know;
AMBER+STRICT the recipient's organisation only; RED named recipients only. Criminal
intelligence goes only to law-enforcement recipients (28 CFR 23.20(e)).

For a recipient of *another* agency than the report's owner, Argus applies:
- CLEAR, GREEN: every field.
- AMBER: what an officer needs to recognise and act on the lead: offenses, series, date,
  ratings, vehicle descriptions, person descriptors (role, sex, race) and the contact.
  Withheld: narrative, person names and dates of birth, addresses.
- AMBER+STRICT, or a NO_FURTHER_DISSEMINATION caveat: only that a record exists and whom to
  contact.
- RED: nothing, not even that a record exists. The owner is told of the encounter instead.
The owning agency always sees its own records in full.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from argus.records import Tlp

FULL = "full"
AMBER_VIEW = "amber"
EXISTENCE = "existence"

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


@dataclass(frozen=True)
class Recipient:
    agency: str
    role: str = "patrol_officer"
    law_enforcement: bool = True
    unit: str | None = None
    officer: str | None = None


@dataclass
class ReportView:
    level: str
    visible: frozenset[str]
    withheld: list[str] = field(default_factory=list)

    def can(self, name: str) -> bool:
        return name in self.visible


def report_view(summary: dict[str, Any], recipient: Recipient) -> ReportView | None:
    """What `recipient` may see of a report (a correlation summary); None: not even existence."""
    if summary.get("criminal_intelligence") and not recipient.law_enforcement:
        return None
    if summary["agency"] == recipient.agency:
        return ReportView(FULL, frozenset(ALL_FIELDS))
    tlp = Tlp(summary["tlp"])
    if tlp is Tlp.RED:
        return None
    if tlp is Tlp.AMBER_STRICT or "NO_FURTHER_DISSEMINATION" in summary.get("handling", ()):
        return ReportView(EXISTENCE, frozenset({"case_owner"}), [f for f in ALL_FIELDS if f != "case_owner"])
    if tlp is Tlp.AMBER:
        return ReportView(AMBER_VIEW, frozenset(f for f in ALL_FIELDS if f not in AMBER_WITHHELD), list(AMBER_WITHHELD))
    return ReportView(FULL, frozenset(ALL_FIELDS))
