"""Requirements matching: a report answers a requirement in its period and area when any one
indicator matches (behaviour, keyword, technique, entity type), and the hit keeps the report's
marking."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from argus.records import Record
from argus.security.policy import Marking
from argus.stores.requirements import Requirement
from argus.stores.sql_requirements import EmbeddedRequirements
from argus.synthetic_sars import triage_record
from argus.testing import Harness
from processors.requirements import RequirementsProcessor

WHEN = datetime(2026, 11, 20, 14, 0, tzinfo=UTC)


def req(rid: str, **kw: object) -> Requirement:
    return Requirement(id=rid, code=f"PIR-{rid}", kind="PIR", title="t", questions=["q"],
                       marking=Marking("CAFC00000", "GREEN"), created_by="an", created_at="2026-11-01", **kw)  # type: ignore[arg-type]  # fmt: skip


def resolved(rid: str, rtype: str = "sar", behavior: str = "SURVL", narrative: str = "", lat: float = 36.74,
             lon: float = -119.79, entities: tuple[tuple[str, str], ...] = ()) -> Record:  # fmt: skip
    env = triage_record(0, lat, lon, WHEN, behavior, "CA0190000", tlp="AMBER").envelope | {"id": rid, "type": rtype}
    report = {"behavior": behavior, "narrative": narrative, "occurred_at": WHEN,
              "locations": [{"role": "incident", "lat": lat, "lon": lon}]}  # fmt: skip
    ents = [{"kind": k, "subtype": s} for k, s in entities]
    return Record({"envelope": env, "body": {"report": report, "entities": ents}}, key=rid)


def test_a_report_answers_each_requirement_one_of_whose_indicators_it_matches(tmp_path: Path) -> None:
    store = EmbeddedRequirements(tmp_path / "r.db")
    store.put_requirement(req("1", behaviors=["SURVL"], lat=36.7, lon=-119.8, radius_km=20))
    store.put_requirement(req("2", keywords=["drone", "water plant"], start="2026-12-01T00:00:00+00:00"))
    store.put_requirement(req("3", keywords=["Drone"], entity_types=["VEHICLE"]))
    store.put_requirement(req("4", behaviors=["SURVL"], lat=40.0, lon=-100.0, radius_km=5))  # elsewhere
    store.put_requirement(req("5", techniques=["T0883"]))
    node = RequirementsProcessor(RequirementsProcessor.Config(refresh_seconds=0), name="requirements")
    h = Harness(node, stores={"requirements": store})
    out = h.run([resolved("r1", narrative="A DRONE over the water plant", entities=(("OBJECT", "vehicle"),))])
    got = {r.body["requirement_id"]: r.body["matched"] for r in out.outputs}
    assert got == {"1": ["behavior SURVL"], "3": ["keyword 'drone'", "entity VEHICLE"]}  # 2: before its period
    assert all(r.envelope["tlp"] == "AMBER" and r.body["via"] == "text" for r in out.outputs)
    ttp = Record({"envelope": resolved("r2").envelope, "body": {
        "report_id": "r2", "source_type": "sar", "event_id": "e", "techniques": [{"attack_id": "T0883"}],
        "attributions": []}}, key="r2")  # fmt: skip
    (t,) = h.run([ttp]).outputs
    assert (t.body["requirement_id"], t.body["matched"], t.body["via"]) == ("5", ["technique T0883"], "ttp")
    store.close()


def test_no_requirements_no_work(tmp_path: Path) -> None:
    store = EmbeddedRequirements(tmp_path / "r.db")
    node = RequirementsProcessor(RequirementsProcessor.Config(refresh_seconds=0), name="requirements")
    assert Harness(node, stores={"requirements": store}).run([resolved("r1")]).outputs == []
