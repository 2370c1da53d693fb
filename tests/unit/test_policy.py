"""The one policy, rule by rule: TLP 2.0, need-to-know, named recipients, agency rules, roles,
28 CFR 23.20(e)."""

from __future__ import annotations

import pytest

from argus.security.policy import (
    AMBER_VIEW,
    EXISTENCE,
    FULL,
    AgencyRules,
    Marking,
    Recipient,
    decide,
)

OWN, OTHER, THIRD = "CA0190000", "CA0430000", "NV0020000"


def level(m: Marking, who: Recipient, rules=None) -> str | None:  # type: ignore[no-untyped-def]
    v = decide(m, who, rules)
    return None if v is None else v.level


@pytest.mark.parametrize(
    ("tlp", "expected"),
    [("CLEAR", FULL), ("GREEN", FULL), ("AMBER", AMBER_VIEW), ("AMBER_STRICT", EXISTENCE), ("RED", None)],
)
def test_tlp_for_another_agency(tlp: str, expected: str | None) -> None:
    assert level(Marking(OWN, tlp), Recipient(OTHER, "analyst")) == expected
    assert level(Marking(OWN, tlp), Recipient(OWN, "analyst")) == FULL  # the owner always sees its own


def test_red_reaches_named_recipients_only() -> None:
    m = Marking(OWN, "RED", recipients=("user:det-ruiz", "list:robbery-task-force", THIRD))
    assert level(m, Recipient(OTHER, "analyst", officer="det-ruiz")) == FULL
    assert level(m, Recipient(OTHER, "analyst", officer="someone", lists=frozenset({"robbery-task-force"}))) == FULL
    assert level(m, Recipient(THIRD, "analyst")) == FULL  # the agency is named
    assert level(m, Recipient(OTHER, "analyst", officer="someone")) is None


def test_amber_need_to_know_is_case_membership_strict_is_not() -> None:
    m = Marking(OWN, "AMBER", cases=("ROB-2026-014",))
    assert level(m, Recipient(OTHER, "analyst", cases=frozenset({"ROB-2026-014"}))) == FULL
    assert level(m, Recipient(OTHER, "analyst", cases=frozenset({"OTHER-CASE"}))) == AMBER_VIEW
    strict = Marking(OWN, "AMBER_STRICT", cases=("ROB-2026-014",))
    assert level(strict, Recipient(OTHER, "analyst", cases=frozenset({"ROB-2026-014"}))) == EXISTENCE


def test_no_further_dissemination_caveat_limits_to_existence_unless_named() -> None:
    m = Marking(OWN, "GREEN", handling=("NO_FURTHER_DISSEMINATION",), recipients=(THIRD,))
    assert level(m, Recipient(OTHER, "analyst")) == EXISTENCE
    assert level(m, Recipient(THIRD, "analyst")) == FULL


def test_criminal_intelligence_only_to_law_enforcement() -> None:
    partner = Recipient("PS0000001", "private_sector_partner", law_enforcement=False)
    assert level(Marking(OWN, "CLEAR", ci=True), partner) is None
    assert level(Marking(OWN, "CLEAR", ci=False), partner) == FULL


def test_roles_without_read_see_no_holdings() -> None:
    for role in ("auditor", "administrator"):
        assert level(Marking(OWN, "CLEAR"), Recipient(OWN, role)) is None


def test_agency_rules_bar_and_community() -> None:
    rules = {OWN: AgencyRules(barred=frozenset({OTHER}), community="CA-NCRIC")}.get

    def r(ori: str) -> AgencyRules:
        return rules(ori) or AgencyRules()

    assert level(Marking(OWN, "GREEN"), Recipient(OTHER, "analyst", community="CA-NCRIC"), r) is None  # barred
    assert level(Marking(OWN, "CLEAR"), Recipient(OTHER, "analyst"), r) == FULL  # CLEAR has no limit
    assert level(Marking(OWN, "GREEN"), Recipient(THIRD, "analyst", community="NV-SNCTC"), r) is None  # outside
    assert level(Marking(OWN, "GREEN"), Recipient(THIRD, "analyst", community="CA-NCRIC"), r) == FULL


def test_several_markings_most_restrictive_wins_at_ingest() -> None:
    from argus.records import Tlp

    assert Tlp.most_restrictive([Tlp.GREEN, Tlp.RED, Tlp.AMBER]) is Tlp.RED
