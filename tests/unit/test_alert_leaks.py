"""Property: an alert, as delivered, never carries a report, name or narrative the policy denies
its recipient.

Hypothesis files random reports about one vehicle (random agencies, TLP markings, caveats,
cases, named recipients, criminal-intelligence flags), each naming its own person and narrative,
then an officer of a random agency runs the plate. Every alert correlation emits goes through
the delivery gate with random agency rules (barring, communities), and its raw bytes are
scanned for what the recipient may not see.
"""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from argus.api.access import Gate
from argus.security.policy import FULL, AgencyRules, Marking, Recipient, decide
from argus.testing import Harness
from processors.correlation import CorrelationProcessor
from processors.dedup import DedupProcessor
from processors.entity_resolution import EntityResolutionProcessor
from tests.conftest import query_record, rms_record

AGENCIES = ["CA0190000", "CA0430000", "NV0020000"]
TLPS = ["TLP:CLEAR", "TLP:GREEN", "TLP:AMBER", "TLP:AMBER+STRICT", "TLP:RED"]

report = st.fixed_dictionaries(
    {
        "agency": st.sampled_from(AGENCIES),
        "tlp": st.sampled_from(TLPS),
        "ci": st.booleans(),
        "nfd": st.booleans(),
        "cases": st.lists(st.sampled_from(["ROB-1", "ROB-2"]), max_size=1, unique=True),
        "recipients": st.lists(st.sampled_from([*AGENCIES, "user:4471", "user:9999"]), max_size=2, unique=True),
    }
)
rules = st.fixed_dictionaries(
    {
        "barred": st.dictionaries(st.sampled_from(AGENCIES), st.sampled_from(AGENCIES), max_size=2),
        "community": st.dictionaries(st.sampled_from(AGENCIES), st.sampled_from(["north", "south"]), max_size=3),
    }
)


def _name(i: int) -> str:
    """A surname unique to report i that survives name normalisation (letters only)."""
    return "NAME" + "".join(chr(ord("A") + int(d)) for d in f"{i:03d}") + "Q"


def _raw(i: int, r: dict[str, Any]) -> dict[str, Any]:
    return {
        "report_id": f"RPT-{i:03d}Q",
        "agency": r["agency"],
        "tlp": r["tlp"],
        "category": "criminal_intelligence" if r["ci"] else "incident",
        "predicate": "armed robbery series" if r["ci"] else None,
        "handling": ["NO_FURTHER_DISSEMINATION"] if r["nfd"] else [],
        "cases": r["cases"],
        "recipients": r["recipients"],
        "series_id": None,
        "narrative": f"NARR{i:03d}Q fled in a grey Civic",
        "persons": [{"role": "suspect", "name": f"{_name(i)}, JON", "dob": f"1990-01-0{1 + i % 9}", "sex": "M"}],
    }


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(reports=st.lists(report, min_size=1, max_size=6), asker=st.sampled_from(AGENCIES), agency_rules=rules)
def test_no_alert_carries_what_the_policy_denies(
    reports: list[dict[str, Any]], asker: str, agency_rules: dict[str, Any]
) -> None:
    def rule(ori: str) -> AgencyRules:
        barred = agency_rules["barred"].get(ori)
        return AgencyRules(frozenset({barred} - {ori}) if barred else frozenset(), agency_rules["community"].get(ori))

    dedup, er, corr = Harness(DedupProcessor()), Harness(EntityResolutionProcessor()), Harness(CorrelationProcessor())
    for i, r in enumerate(reports):
        for rep in dedup.run([rms_record(**_raw(i, r))]).outputs:
            for res in er.run([rep]).outputs:
                corr.run([res])
    alerts = [a.body for a in corr.run(er.run([query_record(agency=asker)]).outputs).outputs]
    hits = 0
    for alert in alerts:
        to = alert["recipient_agency"]
        officer = alert.get("recipient_officer")
        who = Recipient(
            agency=to,
            role="patrol_officer" if officer else "analyst",
            officer=officer,
            unit=alert.get("recipient_unit"),
            community=agency_rules["community"].get(to),
        )
        delivered = Gate(who, rules=rule).deliver(alert)
        if delivered is None:
            continue
        if alert["alert_type"] == "QUERY_HIT" and to == asker:
            hits += len(delivered["hits"])
        body = orjson.dumps(delivered, default=str)
        for i, r in enumerate(reports):
            m = Marking(
                r["agency"],
                r["tlp"].removeprefix("TLP:").replace("+", "_"),
                r["ci"],
                ("NO_FURTHER_DISSEMINATION",) if r["nfd"] else (),
                tuple(r["cases"]),
                tuple(r["recipients"]),
            )
            v = decide(m, who, rule)
            denied = [_name(i), f"NARR{i:03d}Q"] if v is None or v.level != FULL else []
            denied += [f"RPT-{i:03d}Q"] if v is None else []
            leaked = [d for d in denied if d.encode() in body]
            assert not leaked, (alert["alert_type"], to, r, leaked)
    # And the gate is not passing the test by withholding everything: a CLEAR report from
    # another agency always reaches the officer, barred or not.
    if any(r["tlp"] == "TLP:CLEAR" and r["agency"] != asker for r in reports):
        assert hits, alerts
