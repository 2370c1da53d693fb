"""Alerts reach whom the policy says, with what the policy says, on every path.

Correlation cuts each hit for the alert's addressee; every delivery (the field answer, the SSE
stream and its replays) decides again per subscriber from the marking the hit carries. These are
the leaks an outside probe found: an alert built for one named user reaching a colleague,
criminal intelligence reaching a non-law-enforcement agency, and a series count that counted
records the recipient may not know exist.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from argus.api.access import Gate
from argus.records import InvalidRecord, parse_handling
from argus.security.identity import IdentityError
from argus.security.policy import Recipient
from argus.stores.sqlite_identity import Directory
from argus.testing import Harness
from connectors.rms import RmsConnector
from processors.correlation import CorrelationProcessor
from processors.dedup import DedupProcessor
from processors.entity_resolution import EntityResolutionProcessor
from tests.conftest import ctx, query_record, rms_raw, rms_record

PARTNER = "CAPRV0001"  # a private-sector partner's ORI


class Chain:
    def __init__(self) -> None:
        self.dedup = Harness(DedupProcessor())
        self.er = Harness(EntityResolutionProcessor())
        self.corr = Harness(CorrelationProcessor())

    def ingest(self, *records: Any) -> list[dict[str, Any]]:
        out = []
        for rec in records:
            for rep in self.dedup.run([rec]).outputs:
                for res in self.er.run([rep]).outputs:
                    out += self.corr.run([res]).outputs
        return [r.body for r in out]

    def query(self, **kw: Any) -> list[dict[str, Any]]:
        return [r.body for r in self.corr.run(self.er.run([query_record(**kw)]).outputs).outputs]


def partner_record(**over: Any) -> Any:
    """A record from a source configured as a non-law-enforcement agency's."""
    conn = RmsConnector(RmsConnector.Config(path="-", law_enforcement=False), name="partner")
    return conn.convert(rms_raw(**over), ctx())


def test_criminal_intelligence_never_reaches_a_non_law_enforcement_agency() -> None:
    c = Chain()
    ci = rms_record(
        tlp="TLP:GREEN",
        category="criminal_intelligence",
        predicate="armed robbery series",
        report_id="CI-SECRET-1",
        narrative="Informant says SMITH stores weapons at the warehouse.",
    )
    c.ingest(ci)
    alerts = c.ingest(partner_record(agency=PARTNER, report_id="PRV-1", tlp="TLP:GREEN", narrative="seen at mall"))
    to_partner = [a for a in alerts if a["recipient_agency"] == PARTNER]
    raw = orjson.dumps(to_partner, default=str)
    assert b"CI-SECRET-1" not in raw and b"Informant" not in raw, to_partner
    # the law-enforcement owner of the intelligence is still told of the partner's report
    assert any(a["recipient_agency"] == "CA0190000" and a["alert_type"] == "RELATED_CASE" for a in alerts)


def test_a_non_law_enforcement_source_cannot_file_criminal_intelligence() -> None:
    with pytest.raises(InvalidRecord, match="law-enforcement agencies only"):
        parse_handling(
            {"agency": PARTNER, "tlp": "TLP:GREEN", "category": "criminal_intelligence", "predicate": "x",
             "reliability": "B", "validity": 2},
            law_enforcement=False,
        )  # fmt: skip


def test_a_series_count_counts_only_reports_the_recipient_may_know_of() -> None:
    c = Chain()
    c.ingest(
        rms_record(report_id="S-1", tlp="TLP:GREEN", series_id="SER-77"),
        rms_record(report_id="S-2", agency="NV0020000", tlp="TLP:RED", series_id="SER-77"),
        rms_record(report_id="S-3", agency="NV0020000", tlp="TLP:RED", series_id="SER-77"),
    )
    hit_alert = next(a for a in c.query() if a["alert_type"] == "QUERY_HIT")
    raw = orjson.dumps(hit_alert, default=str)
    assert b"(1 report(s) on file)" in raw, raw
    assert b"S-2" not in raw and b"S-3" not in raw
    assert not any("series" in r and "reports" in r for h in hit_alert["hits"] for r in h["reasons"] if "3" in r)


def _red_for(user: str) -> list[dict[str, Any]]:
    c = Chain()
    c.ingest(rms_record(report_id="RED-1", tlp="TLP:RED", recipients=[f"user:{user}"], narrative="NARR-RED-1"))
    return c.query(officer_id=user)


def test_an_alert_for_a_named_officer_reaches_no_colleague() -> None:
    alerts = _red_for("analyst-7")
    hit = next(a for a in alerts if a["alert_type"] == "QUERY_HIT")
    assert b"NARR-RED-1" in orjson.dumps(hit, default=str)  # correlation built it for the named user
    named = Recipient("CA0430000", "patrol_officer", unit="2A31", officer="analyst-7")
    colleague = Recipient("CA0430000", "patrol_officer", unit="2A31", officer="officer-8")
    supervisor = Recipient("CA0430000", "supervisor", unit="HQ", officer="sgt-1")
    assert Gate(named).deliver(hit) is not None
    assert Gate(colleague).deliver(hit) is None  # addressed to another officer
    # a supervisor watches every alert of the agency, but the policy still decides each hit
    assert Gate(supervisor).deliver(hit) is None
    unaddressed = dict(hit, recipient_officer=None, recipient_unit=None)
    assert Gate(colleague).deliver(unaddressed) is None


def test_a_hit_shown_in_full_to_its_addressee_is_cut_for_a_subscriber_who_may_see_less() -> None:
    c = Chain()
    c.ingest(rms_record(report_id="STRICT-1", tlp="TLP:AMBER+STRICT", recipients=["user:a-1"], narrative="NARR-S"))
    hit = next(a for a in c.query(officer_id="a-1") if a["alert_type"] == "QUERY_HIT")
    assert hit["hits"][0]["access"] == "full"
    other = Recipient("CA0430000", "supervisor", officer="sgt-1")
    shown = Gate(other).deliver(hit)
    assert shown is not None
    raw = orjson.dumps(shown, default=str)
    for secret in (b"NARR-S", b"SMITH", b"1991-04-02", b"Shaw"):
        assert secret not in raw, secret
    assert shown["hits"][0]["access"] == "existence" and shown["hits"][0]["contact"].startswith("CA0190000")


def test_a_non_law_enforcement_subscriber_gets_no_criminal_intelligence_hit() -> None:
    c = Chain()
    c.ingest(rms_record(report_id="CI-2", tlp="TLP:GREEN", category="criminal_intelligence", predicate="robbery"))
    hit = next(a for a in c.query() if a["alert_type"] == "QUERY_HIT")
    assert hit["hits"][0]["report_ci"] is True
    le = Recipient("CA0430000", "patrol_officer", unit="2A31", officer="4471")
    not_le = Recipient("CA0430000", "patrol_officer", law_enforcement=False, unit="2A31", officer="4471")
    assert Gate(le).deliver(hit) is not None
    assert Gate(not_le).deliver(hit) is None


def test_a_query_from_a_non_law_enforcement_terminal_gets_no_criminal_intelligence() -> None:
    c = Chain()
    c.ingest(rms_record(report_id="CI-3", tlp="TLP:GREEN", category="criminal_intelligence", predicate="robbery"))
    q = query_record()
    q.envelope["source_law_enforcement"] = False
    alerts = [r.body for r in c.corr.run(c.er.run([q]).outputs).outputs]
    assert not [a for a in alerts if a["alert_type"] == "QUERY_HIT"]


def test_a_non_law_enforcement_agencys_people_hold_no_law_enforcement_role(tmp_path: Any) -> None:
    d = Directory(tmp_path / "identity.db")
    d.add_agency(PARTNER, "Mall security", law_enforcement=False)
    with pytest.raises(IdentityError, match="not a law-enforcement agency"):
        d.add_subject("guard-1", PARTNER, ["analyst"])
    d.add_subject("guard-1", PARTNER, ["private_sector_partner"])
    with pytest.raises(IdentityError, match="not a law-enforcement agency"):
        d.set_roles("guard-1", ["private_sector_partner", "patrol_officer"])
    d.close()


def test_dedup_refuses_another_agencys_version_of_a_record() -> None:
    from argus.records import Record

    dedup = Harness(DedupProcessor())
    first = rms_record()
    assert dedup.run([first]).outputs
    forged = Record(first.value | {"envelope": dict(first.envelope, source_agency="NV0020000")}, key=first.key)
    run = dedup.run([forged])
    assert not run.outputs
    assert any("belongs to CA0190000" in str(d) for d in run.dead_letters)
