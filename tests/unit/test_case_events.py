"""A case's events go on case_event.v1 under the case's marking, for every TLP the case form
accepts: the form's "AMBER+STRICT" must reach the envelope as its enum symbol."""

from __future__ import annotations

import typing
from datetime import UTC, datetime

import pytest

from argus.api.case_models import CaseForm
from argus.records import Tlp
from argus.schemas import default_schemas
from argus.workflows.case_model import Case, Entry
from argus.workflows.cases import case_event

FORM_TLPS = typing.get_args(CaseForm.model_fields["tlp"].annotation)


@pytest.mark.parametrize("tlp", FORM_TLPS)
def test_every_tlp_the_case_form_accepts_encodes_on_the_case_events_topic(tlp: str) -> None:
    case = Case("CS-1", "Pharmacy robberies", "investigation", "CA0190000", tlp, ("LES",))
    now = datetime(2026, 12, 8, tzinfo=UTC)
    entry = Entry("EV-1", case.id, "opened", now.isoformat(), "sup", "CA0190000")
    schemas = default_schemas()
    topic = schemas.get("case_event.v1")
    back = schemas.decode(schemas.encode(topic, case_event(case, entry, now)), topic)
    assert back["envelope"]["tlp"] == Tlp.parse(tlp).value
    assert back["envelope"]["cases"] == ["CS-1"]


def test_the_form_offers_amber_strict() -> None:
    assert "AMBER+STRICT" in FORM_TLPS  # the spelling that needs the mapping above
