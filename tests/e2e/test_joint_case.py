"""A joint case end to end: Fresno opens a case and names a Clovis investigator; they exchange
messages and a file, whose chain of custody shows every access; a criminal-intelligence message
never reaches a member whose 28 CFR 23 training has expired, checked on the raw bytes of the live
stream, the list and a search; an RFI is asked, answered and closed; the expired training also
closes the case itself to that member when the case holds criminal intelligence."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from argus.security.identity import open_directory
from tests.e2e.conftest import make_workdir
from tests.e2e.test_api import Live

FRESNO, CLOVIS, WATCH = "CA0190000", "CA0100000", "CAFC00000"
SECRET = "INFORMANT-RIVERA-7"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    lv = Live(make_workdir(tmp_path_factory.mktemp("joint"), background=10))
    yield lv
    lv.close()


def admin(live: Live) -> httpx.Client:
    return live.client(FRESNO, "administrator")


def expire(live: Live, user: str, course: str, days: int) -> None:
    when = datetime.now(UTC)
    r = admin(live).put(
        f"/api/v1/admin/training/{user}/{course}",
        json={
            "completed": (when - timedelta(days=400)).isoformat(),
            "expires": (when + timedelta(days=days)).isoformat(),
        },
    )
    assert r.status_code == 200, r.text


def stream(client: httpx.Client, path: str, got: list[bytes], ready: threading.Event, stop: threading.Event) -> None:
    def run() -> None:
        with client.stream("GET", path, params={"heartbeat": 0.2}, timeout=30) as r:
            for chunk in r.iter_bytes():
                ready.set()
                got.append(chunk)
                if stop.is_set():
                    return

    threading.Thread(target=run, daemon=True).start()


def test_two_agencies_work_a_case_together(live: Live) -> None:
    lead, inv = live.client(FRESNO), live.client(CLOVIS, "analyst", "inv")
    lapsed = live.client(CLOVIS, "analyst", "old")
    users = {u["id"]: u for u in open_directory(live.topo).subjects()}
    inv_id = next(u for u in users if u.startswith("analyst-ca0100000-inv"))
    old_id = next(u for u in users if u.startswith("analyst-ca0100000-old"))
    expire(live, old_id, "28cfr23", -3)  # expired three days ago
    assert lapsed.get("/api/v1/training/me").json()["lapsed"][0]["course"] == "28cfr23"
    r = lead.post("/api/v1/cases", json={"title": "Pharmacy robbery series", "type": "task_force"})
    assert r.status_code == 201, r.text
    case = r.json()
    cid, v = case["id"], case["version"]
    assert inv.get(f"/api/v1/cases/{cid}").status_code == 404  # not yet a member
    for who, role in ((inv_id, "investigator"), (old_id, "read_only")):
        r = lead.post(f"/api/v1/cases/{cid}/members", json={"subject": who, "role": role, "version": v})
        assert r.status_code == 200, r.text
        v = r.json()["version"]
    assert (
        lead.post(f"/api/v1/cases/{cid}/members", json={"subject": inv_id, "role": "analyst", "version": 1}).status_code
        == 409
    )
    assert [c["id"] for c in inv.get("/api/v1/cases").json()["cases"]] == [cid]
    # live thread: the lapsed member listens
    got, ready, stop = [], threading.Event(), threading.Event()
    stream(lapsed, f"/api/v1/cases/{cid}/messages/stream", got, ready, stop)
    assert ready.wait(10)
    r = inv.post(
        f"/api/v1/cases/{cid}/messages",
        json={"text": f"@{lead_id(users)} van seen at the rail yard", "mentions": [lead_id(users)]},
    )
    assert r.status_code == 201, r.text
    r = lead.post(
        f"/api/v1/cases/{cid}/messages", json={"text": f"Source {SECRET} says Friday", "criminal_intelligence": True}
    )
    assert r.status_code == 201, r.text
    last = lead.post(f"/api/v1/cases/{cid}/messages", json={"text": "briefing at 0600"}).json()["seq"]
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and b"briefing at 0600" not in b"".join(got):
        time.sleep(0.1)
    stop.set()
    raw = b"".join(got)
    assert b"rail yard" in raw and b"briefing at 0600" in raw
    assert SECRET.encode() not in raw  # never on the wire for the member whose clearance lapsed
    assert SECRET.encode() not in lapsed.get(f"/api/v1/cases/{cid}/messages").content
    assert lapsed.get(f"/api/v1/cases/{cid}/messages", params={"q": "friday"}).json()["messages"] == []
    assert [m["text"] for m in inv.get(f"/api/v1/cases/{cid}/messages", params={"q": "FRIDAY"}).json()["messages"]] == [
        f"Source {SECRET} says Friday"
    ]
    assert inv.post("/api/v1/messages/read", json={"thread": f"case:{cid}", "upto": last}).json()["read"] == 3
    reads = lead.get(f"/api/v1/cases/{cid}/messages").json()["messages"]
    assert all(inv_id in [x["subject"] for x in m["read_by"]] for m in reads)
    # a file: every access in its chain of custody, the hash checked on each read
    r = inv.post(
        f"/api/v1/cases/{cid}/files",
        params={"name": "receipt.pdf", "reason": "pawn shop receipt"},
        content=PDF,
        headers={"Content-Type": "application/pdf"},
    )
    assert r.status_code == 201, r.text
    fid = r.json()["id"]
    for action in ("viewed", "downloaded", "exported"):
        got_file = lead.get(f"/api/v1/cases/{cid}/files/{fid}", params={"action": action, "reason": "court package"})
        assert got_file.content == PDF and got_file.headers["x-argus-sha256"] == r.json()["sha256"]
    custody = lead.get(f"/api/v1/cases/{cid}/files/{fid}/custody").json()["custody"]
    assert [(x["action"], x["hash_ok"]) for x in custody] == [
        ("added", True),
        ("viewed", True),
        ("downloaded", True),
        ("exported", True),
    ]
    assert (
        inv.post(
            f"/api/v1/cases/{cid}/files",
            params={"name": "x.pdf", "reason": "wrong type"},
            content=b"\x89PNG\r\n\x1a\n....",
            headers={"Content-Type": "application/pdf"},
        ).status_code
        == 415
    )
    eicar = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
    assert (
        inv.post(
            f"/api/v1/cases/{cid}/files",
            params={"name": "e.txt", "reason": "scan"},
            content=eicar,
            headers={"Content-Type": "text/plain"},
        ).status_code
        == 422
    )
    assert (
        live.client(FRESNO, "analyst", "outsider")
        .get(f"/api/v1/cases/{cid}/files/{fid}/custody", params={})
        .status_code
        == 404
    )
    # tasks, notes and the activity
    t = inv.post(
        f"/api/v1/cases/{cid}/tasks",
        json={
            "title": "Canvass the rail yard",
            "assignee": inv_id,
            "due": (datetime.now(UTC) + timedelta(days=2)).isoformat(),
        },
    )
    assert t.status_code == 201, t.text
    assert lapsed.post(f"/api/v1/cases/{cid}/notes", json={"text": "read-only cannot"}).status_code == 403
    huge = b'{"chart": {"nodes": [{"x": 99999999999999999999999}]}, "version": 99}'
    r = lead.put(f"/api/v1/cases/{cid}/chart", content=huge, headers={"Content-Type": "application/json"})
    assert r.status_code == 422 and "chart" in r.json()["detail"], r.text  # a number JSON cannot keep
    kinds = [i["kind"] for i in lead.get(f"/api/v1/cases/{cid}/activity").json()["items"]]
    assert kinds[0] == "opened" and "task" in kinds and "link:file" in kinds


def lead_id(users: dict) -> str:  # type: ignore[type-arg]
    return next(u for u in users if u.startswith("analyst-ca0190000-x"))


def test_an_rfi_is_answered_and_closed_and_a_lapsed_member_loses_a_ci_case(live: Live) -> None:
    fresno, clovis = live.client(FRESNO), live.client(CLOVIS, "analyst", "rfi")
    due = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    r = fresno.post(
        "/api/v1/rfis",
        json={
            "question": "Any reporting on CA 8ABC123?",
            "addressees": [CLOVIS, WATCH],
            "priority": "PRIORITY",
            "due": due,
        },
    )
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    assert [x["id"] for x in clovis.get("/api/v1/rfis").json()["rfis"]] == [rid]
    naive = fresno.post("/api/v1/rfis", json={"question": "?", "addressees": [CLOVIS], "due": "2026-12-31T10:00:00"})
    assert naive.status_code == 422 and "due" in naive.json()["detail"]  # a time without its zone
    assert live.client("CA0200000").get(f"/api/v1/rfis/{rid}").status_code == 404
    assert fresno.post(f"/api/v1/rfis/{rid}/answer", json={"answer": "x", "version": 1}).status_code == 403
    a = clovis.post(f"/api/v1/rfis/{rid}/answer", json={"answer": "Two FI cards, May", "records": ["r1"], "version": 1})
    assert a.status_code == 200 and a.json()["status"] == "ANSWERED"
    done = fresno.post(f"/api/v1/rfis/{rid}/close", json={"version": 2})
    assert done.status_code == 200 and done.json()["status"] == "CLOSED"
    # a criminal-intelligence case: a member whose 28 CFR 23 training lapsed no longer sees it
    ci = fresno.post(
        "/api/v1/cases",
        json={
            "title": "Gang intelligence",
            "criminal_intelligence": True,
            "predicate": "Reasonable suspicion of 18 USC 1962 racketeering by the crew",
        },
    )
    assert ci.status_code == 201, ci.text
    users = {u["id"] for u in open_directory(live.topo).subjects()}
    member = next(u for u in users if u.startswith("analyst-ca0100000-rfi"))
    r = fresno.post(
        f"/api/v1/cases/{ci.json()['id']}/members", json={"subject": member, "role": "analyst", "version": 1}
    )
    assert r.status_code == 200, r.text
    assert clovis.get(f"/api/v1/cases/{ci.json()['id']}").status_code == 200
    expire(live, member, "28cfr23", -1)
    assert clovis.get(f"/api/v1/cases/{ci.json()['id']}").status_code == 404
    assert clovis.get("/api/v1/cases").json()["cases"] == [] or all(
        c["id"] != ci.json()["id"] for c in clovis.get("/api/v1/cases").json()["cases"]
    )
    expire(live, member, "28cfr23", 300)  # renewed
    assert clovis.get(f"/api/v1/cases/{ci.json()['id']}").status_code == 200


def test_partner_engagement_per_period(live: Live) -> None:
    centre = live.client(WATCH, "supervisor", "eng")
    partner = live.client("PSPENERGY", "private_sector_partner")  # in the directory: what it submits is counted
    r = centre.post(
        "/api/v1/partners",
        json={
            "name": "Valley Power & Light",
            "kind": "private_sector",
            "sector": "energy",
            "ori": "PSPENERGY",
            "contacts": [{"name": "R. Chen", "role": "security manager", "email": "rchen@vpl.example"}],
            "agreements": [{"title": "MOU", "start": "2026-01-01T00:00:00Z", "end": "2028-01-01T00:00:00Z"}],
        },
    )
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    now = datetime.now(UTC)
    for kind, days, rating in (
        ("meeting", 10, None),
        ("outreach", 5, None),
        ("feedback", 2, 4),
        ("meeting", 200, None),
    ):
        e = centre.post(
            f"/api/v1/partners/{pid}/engagements",
            json={"kind": kind, "at": (now - timedelta(days=days)).isoformat(), "summary": kind, "rating": rating},
        )
        assert e.status_code == 201, e.text
    sar = partner.post(
        "/api/v1/sars",
        json={
            "behavior": "SURVL",
            "occurred_at": (now - timedelta(hours=1)).isoformat(),
            "narrative": "A drone hovered over the substation fence for ten minutes.",
            "where": {"address": "400 Grid Rd, Fresno", "lat": 36.74, "lon": -119.79},
            "contact": {"name": "R. Chen", "phone": "559-555-0111"},
            "protected_activity": False,
        },
    )
    assert sar.status_code in (201, 202), sar.text
    view = centre.get(f"/api/v1/partners/{pid}/engagement").json()
    assert view["engagements"] == {"meeting": 1, "outreach": 1, "feedback": 1} and view["feedback_average"] == 4
    assert view["submitted"] == 1 and len(view["agreements_in_force"]) == 1
    assert live.client(FRESNO, "supervisor", "eng").get(f"/api/v1/partners/{pid}").status_code == 404


def test_lapsed_ise_sar_training_closes_sar_review_and_says_why(live: Live) -> None:
    reviewer = live.client(WATCH, "analyst", "sar")
    users = {u["id"] for u in open_directory(live.topo).subjects()}
    uid = next(u for u in users if u.endswith("cafc00000-sar"))
    body = {"outcome": "ACCEPT", "reason": "complete, observed surveillance", "ratings": {"who": 2, "where": 2}}
    assert reviewer.post("/api/v1/sars/nosuch/review", json=body).status_code == 404  # trained: looked up
    expire(live, uid, "ise_sar", -1)
    r = reviewer.post("/api/v1/sars/nosuch/review", json=body)
    assert r.status_code == 403 and r.json()["errors"][0]["field"] == "training", r.text
    assert reviewer.get("/api/v1/training/me").json()["lapsed"][0]["removes"] == "SAR review and vetting"
