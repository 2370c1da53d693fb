"""A BOLO end to end: drafted from a resolved vehicle, peer reviewed, approved and published to a
list of recipients of several agencies and roles. A patrol terminal gets it on its alert stream
within a second; a recipient the originating agency bars gets nothing, with the reason recorded;
the PDF carries the banner on every page; the STIX report validates and reaches a partner centre
over TAXII; a portion-marked paragraph is absent from the raw bytes of a recipient who may not see
it; an officer's one-tap feedback lands in the production metrics."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Iterator
from typing import Any

import orjson
import pytest

from argus.records import deterministic_id
from argus.security.identity import open_directory
from tests.e2e.conftest import make_workdir
from tests.e2e.test_api import Live

FRESNO, CLOVIS, MADERA, PARTNER = "CA0190000", "CA0100000", "CA0200000", "PSPENERGY"
CIVIC = deterministic_id("vehicle", "CA", "8ABC123")
SECRET = "SAFEHOUSE-ELM-400"
BANNER = "TLP:GREEN // FOUO // ORIGINATOR CA0190000"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    lv = Live(make_workdir(tmp_path_factory.mktemp("products"), background=20))
    yield lv
    lv.close()


def listen(client: Any, got: list[tuple[float, dict[str, Any]]], ready: threading.Event) -> threading.Thread:
    def run() -> None:
        with client.stream("GET", "/api/v1/field/alerts/stream", timeout=60) as r:
            kind = ""
            for line in r.iter_lines():
                ready.set()
                if line.startswith("event: "):
                    kind = line[7:]
                elif line.startswith("data: ") and kind == "product":
                    got.append((time.monotonic(), orjson.loads(line[6:])))
                    return

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def bolo(record: str, named: str) -> dict[str, Any]:
    details = [{"text": f"Paragraph {i}: the Civic was seen again near the rail yard after dark."} for i in range(45)]
    return {
        "type": "bolo", "title": "Grey Honda Civic, CA 8ABC123 - armed robbery series", "tlp": "GREEN",
        "caveats": ["FOUO"], "urgency": "PRIORITY", "category": "violent_crime", "topic": "pharmacy robberies",
        "fields": {"plate": "8ABC123", "vehicle": "grey 2014 Honda Civic", "photo": "none on file"},
        "embeds": [{"kind": "entity", "ref": CIVIC, "caption": "the resolved vehicle"}],
        "sections": {
            "subject": [{"text": "Grey 2014 Honda Civic, California plate 8ABC123."}],
            "officer_safety": [{"text": "Suspects displayed a handgun in the Shaw Ave pharmacy robbery."}],
            "on_contact": [{"text": "Do not stop alone; call Robbery, Det. Alvarez (559) 555-0142."}],
            "details": [*details, {"text": f"The car is kept overnight at {SECRET}.", "sources": [record],
                                   "portion": {"tlp": "AMBER", "caveats": ["NO_FURTHER_DISSEMINATION"],
                                               "named": [named]}}],
        },
        "dissemination": {"agencies": [FRESNO, CLOVIS, MADERA], "named": [], "roles": [], "taxii": True},
    }  # fmt: skip


def test_a_bolo_from_draft_to_terminal_partner_and_feedback(live: Live) -> None:
    analyst, peer = live.client(FRESNO), live.client(FRESNO, "analyst", "x2")
    sup = live.client(FRESNO, "supervisor")
    near, far = live.client(FRESNO, "patrol_officer", "2A31"), live.client(FRESNO, "patrol_officer", "2B07")
    clovis, madera = live.client(CLOVIS, "patrol_officer", "C1"), live.client(MADERA, "patrol_officer", "M1")
    clovis2 = live.client(CLOVIS, "patrol_officer", "C2")
    partner = live.client(PARTNER, "private_sector_partner")
    d = open_directory(live.topo)
    d.set_barred(FRESNO, [MADERA])  # Fresno does not share with Madera
    d.close()
    entity = analyst.get(f"/api/v1/entities/{CIVIC}").json()
    record = next(s["record_id"] for s in entity["sources"] if s["agency"] == FRESNO and s["tlp"] == "AMBER")
    named = "patrol-officer-ca0100000-c1"  # the one Clovis officer the portion names

    r = analyst.post("/api/v1/products", json=bolo(record, named))
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    loose = bolo(record, named)
    loose["sections"]["details"][-1].pop("portion")  # quoting the AMBER report in a GREEN paragraph
    bad = analyst.post("/api/v1/products", json=loose).json()["id"]
    refused = analyst.post(f"/api/v1/products/{bad}/submit", json={"reason": "go"})
    assert refused.status_code == 422 and record in refused.json()["detail"], refused.text
    mine = analyst.get(f"/api/v1/products/{bad}").json()
    assert mine["content"]["details"][-1]["portion"] is None  # the originating agency sees what it wrote
    stale = analyst.put(f"/api/v1/products/{bad}", json=bolo(record, named) | {"version": mine["version"] + 1})
    assert stale.status_code == 409, stale.text
    fixed = analyst.put(f"/api/v1/products/{bad}", json=bolo(record, named) | {"version": mine["version"]})
    assert fixed.status_code == 200 and fixed.json()["content"]["details"][-1]["portion"]["tlp"] == "AMBER"
    assert analyst.post(f"/api/v1/products/{bad}/submit", json={"reason": "marked now"}).status_code == 200
    for who, step, body in ((analyst, "submit", {"reason": "ready"}),
                            (peer, "review", {"outcome": "PASS", "reason": "sourced"}),
                            (sup, "approval", {"outcome": "APPROVE", "reason": "release"})):  # fmt: skip
        r = who.post(f"/api/v1/products/{pid}/{step}", json=body)
        assert r.status_code == 200, (step, r.text)

    got: list[tuple[float, dict[str, Any]]] = []
    ready = threading.Event()
    t = listen(near, got, ready)
    assert ready.wait(10)
    t0 = time.monotonic()
    r = sup.post(f"/api/v1/products/{pid}/publish", json={"reason": "to patrol and partners"})
    assert r.status_code == 200 and r.json()["state"] == "PUBLISHED", r.text
    t.join(10)
    assert got, "the terminal got no product"
    took, body = got[0][0] - t0, got[0][1]
    assert took < 1.0, took
    assert body["product"] == pid and body["fields"]["plate"] == "8ABC123" and SECRET in body["text"]  # own agency

    rows = {x["recipient"]: x for x in sup.get(f"/api/v1/products/{pid}/deliveries").json()["deliveries"]}
    barred = [x for x in rows.values() if x["agency"] == MADERA]
    assert barred and all(x["status"] == "WITHHELD" and "dissemination rules" in x["reason"] for x in barred)
    assert rows["taxii:shared"]["status"] == "DELIVERED", rows["taxii:shared"]
    assert madera.get(f"/api/v1/products/{pid}").status_code == 404
    assert partner.get(f"/api/v1/products/{pid}").status_code == 404  # not marked for private-sector partners

    for path in ("", "/html", "/stix"):  # not named on the portion: its words are nowhere in their copy
        raw = clovis2.get(f"/api/v1/products/{pid}{path}")
        assert raw.status_code == 200 and SECRET.encode() not in raw.content, (path, raw.status_code)
    assert SECRET.encode() in clovis.get(f"/api/v1/products/{pid}/html").content

    import pypdf

    assert SECRET.encode() in far.get(f"/api/v1/products/{pid}").content  # the originating agency sees it all
    pdf = clovis2.get(f"/api/v1/products/{pid}/pdf")
    assert pdf.headers["content-type"] == "application/pdf"
    pages = pypdf.PdfReader(io.BytesIO(pdf.content)).pages
    assert len(pages) >= 2 and all(BANNER in p.extract_text() for p in pages)
    assert all(SECRET not in p.extract_text() for p in pages)

    from stix2validator import ValidationOptions, validate_instance
    from taxii2client.v21 import Server

    bundle = clovis2.get(f"/api/v1/products/{pid}/stix").json()
    assert validate_instance(bundle, ValidationOptions(strict=False)).is_valid
    report_id = bundle["objects"][-1]["id"]
    key = live.keys[(CLOVIS, "patrol_officer", "C2")]
    (col,) = Server(live.url + "/taxii2/", user="x", password=key).api_roots[0].collections
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        objs = col.get_objects(type=["report"]).get("objects", [])
        if any(o["id"] == report_id for o in objs):
            break
        time.sleep(0.3)
    report = next(o for o in objs if o["id"] == report_id)
    assert SECRET not in str(report) and "8ABC123" in report["description"]

    assert near.post(f"/api/v1/products/{pid}/feedback", json={"outcome": "arrest", "useful": 5,
                                                              "actionable": True}).status_code == 200  # fmt: skip
    m = analyst.get("/api/v1/product/metrics").json()
    assert m["feedback"] == [{"outcome": "arrest", "count": 1, "useful_sum": 5, "actionable": 1}]
    assert m["read_rate"] is not None and m["read_rate"] > 0
    assert any(x["type"] == "bolo" and x["state"] == "PUBLISHED" for x in m["products"])
    prom = live.client(FRESNO).get("/metrics").text
    assert 'argus_product_feedback_total{outcome="arrest"' in prom


def test_risk_scores_stream_in_per_agency_and_draft_a_threat_assessment(live: Live) -> None:
    fresno, clovis = live.client(FRESNO), live.client("CA0430000")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        top = fresno.get("/api/v1/risk", params={"kind": "person", "limit": 200}).json()["scores"]
        smith = [s for s in top if "SMITH" in s["display"]]
        if smith:
            break
        time.sleep(0.3)
    assert smith, [s["display"] for s in top][:10]
    row = smith[0]
    assert row["category"] == "violent_crime" and row["score"] > 20
    assert any(r["factor"] == "offence" and "robbery" in r["detail"] for r in row["reasons"])
    theirs = clovis.get(f"/api/v1/risk/{row['subject']}")
    assert theirs.status_code == 404 or not set(theirs.json()["evidence"]) & set(row["evidence"])
    r = fresno.post(f"/api/v1/risk/{row['subject']}/assessment")
    assert r.status_code == 201, r.text
    ta = r.json()
    assert ta["type"] == "threat_assessment" and ta["state"] == "DRAFT" and ta["tlp"] in ("AMBER", "RED")
    sections = {s["key"]: s for s in ta["sections"]}
    assert "robbery" in str(sections["key_judgements"]) and sections["evidence"]["paragraphs"][0]["sources"]
    ok = fresno.post(f"/api/v1/products/{ta['id']}/submit", json={"reason": "assessed"})
    assert ok.status_code == 200 and ok.json()["state"] == "IN_REVIEW", ok.text
    assert clovis.get(f"/api/v1/products/{ta['id']}").status_code == 404  # a draft: Fresno's alone
