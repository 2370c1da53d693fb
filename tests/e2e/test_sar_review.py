"""A SAR end to end: an agency's form and a public tip enter the review queue, triaged with
reasons; the fusion centre's reviewers take them through the ISE-SAR two-part review; the
ISE-SAR is shared as STIX over TAXII (read with the OASIS client); the submitter sees the
outcome and feedback, another agency sees nothing; every step is an event and an audit entry."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from argus.backends import read_topic
from argus.security.audit import open_audit
from tests.e2e.conftest import make_workdir
from tests.e2e.test_api import Live

CENTRE, FRESNO, OTHER = "CAFC00000", "CA0190000", "CA0430000"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    lv = Live(make_workdir(tmp_path_factory.mktemp("sar"), background=20))
    yield lv
    lv.close()


def form(**over: Any) -> dict[str, Any]:
    return {
        "behavior": "SURVL",
        "occurred_at": (datetime.now(UTC) - timedelta(hours=3)).isoformat(),
        "narrative": "Two men photographed the water plant's gate and wrote down guard change times for an hour.",
        "where": {"address": "1200 Riverside Dr, Fresno", "lat": 36.7412, "lon": -119.7901},
        "site_category": "water",
        "persons": [{"given": "Marcus", "surname": "Hale", "sex": "M"}],
        "vehicles": [{"plate": "7XYZ123", "state": "CA", "make": "Ford", "colour": "white"}],
        "contact": {"name": "Ofc. J. Ruiz", "phone": "559-555-0142"},
        "protected_activity": False,
    } | over


def tip_form(**over: Any) -> dict[str, Any]:
    base = {k: v for k, v in form().items() if k in ("behavior", "occurred_at", "where")}
    return base | {"narrative": "A drone hovered over the substation fence at night for twenty minutes."} | over


def wait_for(get: Any, done: Any, timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        got = get()
        if done(got) or time.monotonic() > deadline:
            return got
        time.sleep(0.2)


def test_a_sar_from_form_to_ise_sar_and_a_tip_closed_with_every_step_explained(live: Live) -> None:
    officer, centre, other = live.client(FRESNO), live.client(CENTRE), live.client(OTHER)
    r = officer.post("/api/v1/sars", json=form())
    assert r.status_code == 201, r.text
    sar = r.json()["id"]
    t = live.client(CENTRE).post("/api/v1/tips", json=tip_form(behavior="AVIATION"))
    assert t.status_code == 202 and set(t.json()) == {"receipt", "status", "message"}, t.text

    def ours(q: dict[str, Any]) -> list[dict[str, Any]]:  # the demo's portal SARs are in the queue too
        return [s for s in q["sars"] if s["id"] == sar or s["public_tip"]]

    q = wait_for(lambda: centre.get("/api/v1/sars", params={"limit": 500}).json(),
                 lambda q: len(ours(q)) == 2 and all(s["reasons"] for s in ours(q)))  # fmt: skip
    assert len(ours(q)) == 2, q
    mine = next(s for s in q["sars"] if s["id"] == sar)
    assert {x["factor"] for x in mine["reasons"]} >= {"behavior"}
    seen_by_other = other.get("/api/v1/sars", params={"limit": 500}).json()
    assert ours(seen_by_other) == []  # AMBER, not named: not another agency's to review
    assert other.get(f"/api/v1/sars/{sar}").status_code == 404

    # initial review: the basis must be confirmed
    body = {"outcome": "ACCEPT", "reason": "complete, observed surveillance", "ratings": {"who": 2, "where": 2}}
    r = centre.post(f"/api/v1/sars/{sar}/review", json=body)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "basis_confirmed", r.text
    r = centre.post(f"/api/v1/sars/{sar}/review", json=body | {"basis_confirmed": True, "feedback": "Good detail."})
    assert r.status_code == 200 and r.json()["state"] == "ACCEPTED", r.text
    assert centre.post(f"/api/v1/sars/{sar}/review", json=body | {"basis_confirmed": True}).status_code == 409

    # vetting: surveillance needs the facts gathered before it can be an ISE-SAR
    vet = {"outcome": "ISE_SAR", "reason": "pattern of pre-operational surveillance of a water plant"}
    r = centre.post(f"/api/v1/sars/{sar}/vetting", json=vet)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "facts", r.text
    facts = "Plant security confirms the same vehicle on three days; no business reason."
    r = centre.post(f"/api/v1/sars/{sar}/vetting", json=vet | {"facts": facts, "feedback": "Shared as an ISE-SAR."})
    assert r.status_code == 200 and r.json()["state"] == "ISE_SAR" and r.json()["shared_as"], r.text
    report_id = r.json()["shared_as"]

    # shared with partners over TAXII, with the ISE-SAR fields as an extension
    from taxii2client.v21 import Server

    key = live.keys[(OTHER, "analyst", None)]
    (col,) = Server(live.url + "/taxii2/", user="x", password=key).api_roots[0].collections
    got = wait_for(lambda: col.get_objects(type=["report"]).get("objects", []),
                   lambda objs: any(o["id"] == report_id for o in objs))  # fmt: skip
    report = next(o for o in got if o["id"] == report_id)
    (ext,) = report["extensions"].values()
    assert ext["x_behavior_code"] == "SURVL" and ext["x_submitting_agency"] == FRESNO
    assert "559-555-0142" not in str(report)  # the submitter's contact stays home

    # the submitter sees the outcome and the feedback, not the reviewers' reasons
    (own,) = officer.get("/api/v1/sars/mine").json()["sars"]
    assert own["state"] == "ISE_SAR" and [s["feedback"] for s in own["steps"]] == [
        "Good detail.",
        "Shared as an ISE-SAR.",
    ]
    assert "pre-operational surveillance" not in str(own)

    # the tip: closed at initial review
    tip = next(s for s in ours(q) if s["public_tip"])
    r = centre.post(f"/api/v1/sars/{tip['id']}/review", json={"outcome": "CLOSE", "reason": "utility's own drone"})
    assert r.status_code == 200 and r.json()["state"] == "CLOSED"
    assert ours(centre.get("/api/v1/sars", params={"limit": 500}).json()) == []

    events = [e.body for e in read_topic_events(live)]
    assert [e["event"] for e in events if e["sar"] == sar] == ["SUBMITTED", "REVIEWED", "VETTED"]
    audit = open_audit(live.topo)
    reviews = [e for e in audit.query() if e["action"] == "review"]
    audit.close()
    assert {e["object"] for e in reviews} == {sar, tip["id"]}


def read_topic_events(live: Live) -> list[Any]:
    rt = live.rt
    return read_topic(rt.bus, rt.schemas, "sar.events", rt.schemas.get("sar_event.v1"), {0: 0})


def test_hostile_tips_are_refused_clearly_and_floods_slowed(live: Live) -> None:
    anon = live.client(CENTRE)  # the tip form needs no credentials; these are ignored
    base = tip_form()
    for narrative, why in (
        ("<script>alert(1)</script> they were watching the gate", "markup"),
        ("They were watching the gate \u202eetag eht\u202c for an hour", "invisible"),
        ("x" * 5000, "at most"),
    ):
        r = anon.post("/api/v1/tips", json=base | {"narrative": narrative})
        assert r.status_code == 422 and why in r.text and "<script>" not in r.text, r.text
        assert r.headers["content-type"] == "application/problem+json"
    statuses = [anon.post("/api/v1/tips", json=base).status_code for _ in range(6)]
    assert 429 in statuses and statuses[0] == 202, statuses


def test_a_tlo_submits_as_a_tlo_only_while_registered_and_trained(live: Live) -> None:
    tlo, supervisor = live.client(FRESNO, "terrorism_liaison_officer"), live.client(FRESNO, "supervisor")
    subject = f"terrorism-liaison-officer-{FRESNO.lower()}-x"
    r = tlo.post("/api/v1/sars", json=form())
    assert r.status_code == 403 and "not registered" in r.json()["detail"], r.text
    entry = {"subject": subject, "name": "R. Vega", "sector": "water", "area": "Fresno County",
             "trained_until": "2020-06-30", "contact": "559-555-0101"}  # fmt: skip
    assert live.client(OTHER, "supervisor").post("/api/v1/tlos", json=entry).status_code == 404  # not theirs
    assert supervisor.post("/api/v1/tlos", json=entry).status_code == 200
    r = tlo.post("/api/v1/sars", json=form())
    assert r.status_code == 403 and "lapsed on 2020-06-30" in r.json()["detail"], r.text
    assert supervisor.post("/api/v1/tlos", json=entry | {"trained_until": "2099-06-30"}).status_code == 200
    r = tlo.post("/api/v1/sars", json=form())
    assert r.status_code == 201, r.text
    network = live.client(FRESNO).get("/api/v1/tlos").json()
    assert [(t["subject"], t["current"]) for t in network["tlos"]] == [(subject, True)]
    assert live.client(OTHER).get("/api/v1/tlos").json()["total"] == 0
    one = live.client(CENTRE).get(f"/api/v1/tlos/{subject}").json()  # the fusion centre sees the network
    assert [s["id"] for s in one["sars"]] == [r.json()["id"]]


def test_a_sar_answers_a_requirement_and_the_gap_closes_for_those_who_see_it(live: Live) -> None:
    centre, officer, other = live.client(CENTRE), live.client(FRESNO), live.client(OTHER)
    pir = {"code": "PIR-7", "title": "Surveillance of water infrastructure", "questions": ["Who is watching?"],
           "behaviors": ["SURVL"], "area": {"lat": 36.74, "lon": -119.79, "radius_km": 30}}  # fmt: skip
    r = centre.post("/api/v1/requirements", json=pir)
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    bad = centre.post("/api/v1/requirements", json=pir | {"behaviors": []})
    assert bad.status_code == 422 and "indicator" in bad.text

    def row(c: Any) -> dict[str, Any]:
        return next(x for x in c.get("/api/v1/requirements/gaps").json()["requirements"] if x["id"] == rid)

    assert row(centre)["gap"]
    time.sleep(1.5)  # the matching node reads requirements again each second: reporting from then on
    sar = officer.post("/api/v1/sars", json=form()).json()["id"]

    def reports(c: Any) -> list[dict[str, Any]]:
        return c.get(f"/api/v1/requirements/{rid}/reporting").json()["reports"]

    got = wait_for(lambda: reports(centre), lambda xs: any(x["report_id"] == sar for x in xs))
    assert [x["matched"] for x in got if x["report_id"] == sar] == [["behavior SURVL"]], (sar, got)
    answered = row(centre)
    assert answered["answered"] == len(got) and not answered["gap"]
    assert sar not in str(other.get(f"/api/v1/requirements/{rid}/reporting").json())  # AMBER, not named

    task = {"question": "Has plant security seen this car?", "to_agency": FRESNO, "due": "2030-01-01T00:00:00Z"}
    t = centre.post(f"/api/v1/requirements/{rid}/taskings", json=task)
    assert t.status_code == 201, t.text
    assert row(centre)["taskings_open"] == 1
    (mine,) = [x for x in officer.get("/api/v1/taskings/mine").json()["taskings"] if x["id"] == t.json()["id"]]
    assert mine["requirement"]["questions"] == ["Who is watching?"]
    assert other.post(f"/api/v1/taskings/{mine['id']}/answer", json={"answer": "not ours"}).status_code == 404
    done = officer.post(f"/api/v1/taskings/{mine['id']}/answer", json={"answer": "Yes, twice last week."})
    assert done.status_code == 200 and done.json()["status"] == "ANSWERED"
    assert row(centre)["taskings_open"] == 0
