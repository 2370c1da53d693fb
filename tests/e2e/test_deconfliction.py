"""Event deconfliction end to end: two agencies' operations 200 m apart in overlapping hours raise
one conflict, told to both contacts and to the watch centre, each side seeing only the other's
agency and contact (checked on the raw bytes); a pair far apart in time raises none; a field query
on a planned operation's vehicle tells its contact and the watch centre, and not the querying
officer."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import orjson
import pytest

from argus.records import deterministic_id
from argus.security.identity import open_directory
from tests.e2e.conftest import make_workdir
from tests.e2e.test_api import Live

FRESNO, CLOVIS, MADERA, WATCH = "CA0190000", "CA0100000", "CA0200000", "CAFC00000"
CIVIC = deterministic_id("vehicle", "CA", "8ABC123")
SECRET = "ELM-SAFEHOUSE-CASE-4411"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    lv = Live(make_workdir(tmp_path_factory.mktemp("deconfliction"), background=10))
    yield lv
    lv.close()


def listen(client: httpx.Client, got: list[tuple[str, dict]], ready: threading.Event) -> None:
    """The field alert stream's conflict events, as they come."""
    with client.stream("GET", "/api/v1/field/alerts/stream", timeout=60) as r:
        kind = ""
        for line in r.iter_lines():
            ready.set()
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: ") and kind == "conflict":
                got.append((kind, orjson.loads(line[6:])))


def form(title: str, lat: float, start: datetime, hours: float, **over: object) -> dict[str, object]:
    return {
        "kind": "search_warrant",
        "title": title,
        "case_id": SECRET,
        "contact_name": f"Det. {title}",
        "contact_phone": "559-555-0101",
        "start": start.isoformat(),
        "end": (start + timedelta(hours=hours)).isoformat(),
        "lat": lat,
        "lon": -119.7871,
        "radius_m": 150,
    } | over


def test_two_agencies_nearby_conflict_once_and_a_field_query_tells_the_contact(live: Live) -> None:
    fresno, clovis, madera = live.client(FRESNO), live.client(CLOVIS), live.client(MADERA)
    watch = live.client(WATCH)
    soon = datetime.now(UTC) + timedelta(hours=2)
    a = fresno.post("/api/v1/operations", json=form("Elm", 36.7378, soon, 4, vehicles=[CIVIC]))
    assert a.status_code == 201, a.text
    assert a.json()["notices"] == []
    far = madera.post("/api/v1/operations", json=form("Later", 36.7378, soon + timedelta(days=3), 2))
    assert far.status_code == 201 and far.json()["notices"] == []
    live_events: list[tuple[str, dict]] = []
    ready = threading.Event()
    threading.Thread(target=listen, args=(fresno, live_events, ready), daemon=True).start()
    assert ready.wait(10)
    b = clovis.post("/api/v1/operations", json=form("Oak", 36.7378 + 200 / 111_320, soon + timedelta(hours=2), 4))
    assert b.status_code == 201 and len(b.json()["notices"]) == 1
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not live_events:
        time.sleep(0.05)
    assert [(k, e["kind"]) for k, e in live_events] == [("conflict", "SPACE_TIME")]  # live to Fresno's contact
    to_fresno = fresno.get("/api/v1/operations/notices")
    to_clovis = clovis.get("/api/v1/operations/notices")
    to_watch = watch.get("/api/v1/operations/notices").json()["notices"]
    assert [n["kind"] for n in to_fresno.json()["notices"]] == ["SPACE_TIME"]
    assert [n["kind"] for n in to_clovis.json()["notices"]] == ["SPACE_TIME"]
    assert madera.get("/api/v1/operations/notices").json()["notices"] == []
    assert len(to_watch) == 1 and {p["agency"] for p in to_watch[0]["parties"]} == {FRESNO, CLOVIS}
    n = to_clovis.json()["notices"][0]
    assert n["parties"] == [
        {"agency": FRESNO, "contact_name": "Det. Elm", "contact_phone": "559-555-0101", "operation": None}
    ]
    assert 190 < n["distance_m"] < 210
    for raw in (to_clovis.content, clovis.get(f"/api/v1/operations/{a.json()['operation']['id']}").content):
        assert b"Elm St" not in raw and CIVIC.encode() not in raw and b'"Elm"' not in raw
    assert clovis.get(f"/api/v1/operations/{a.json()['operation']['id']}").status_code == 404
    assert to_clovis.content.count(SECRET.encode()) == 0  # Fresno's case never reaches Clovis
    # a change moves it away: no new conflict; the old one is not told again
    moved = form("Oak", 36.9, soon + timedelta(hours=2), 4) | {"version": 1}
    r = clovis.put(f"/api/v1/operations/{b.json()['operation']['id']}", json=moved)
    assert r.status_code == 200 and r.json()["notices"] == []
    stale = clovis.put(f"/api/v1/operations/{b.json()['operation']['id']}", json=moved)
    assert stale.status_code == 409
    # a Madera officer runs the Civic's plate: Fresno's contact and the watch centre hear of it
    officer = live.client(MADERA, "patrol_officer", "M7")
    res = officer.post("/api/v1/field/query", json={"query_id": "DC-Q-1", "plate": "8ABC123", "state": "CA"})
    assert res.status_code == 200, res.text
    deadline = time.monotonic() + 20
    kinds: list[str] = []
    while time.monotonic() < deadline and "ENCOUNTER" not in kinds:
        kinds = [x["kind"] for x in fresno.get("/api/v1/operations/notices").json()["notices"]]
        time.sleep(0.2)
    assert kinds.count("ENCOUNTER") == 1, kinds
    assert "ENCOUNTER" in [x["kind"] for x in watch.get("/api/v1/operations/notices").json()["notices"]]
    assert "ENCOUNTER" not in [x["kind"] for x in madera.get("/api/v1/operations/notices").json()["notices"]]
    assert CIVIC.encode() not in officer.get("/api/v1/operations/notices").content


def test_bad_operations_are_problems(live: Live) -> None:
    c = live.client(FRESNO)
    soon = datetime.now(UTC) + timedelta(hours=2)
    ok = form("X", 36.7, soon, 2)
    for bad, named in (
        (form("X", 36.7, soon, -1), "end"),
        (ok | {"radius_m": 0}, "radius_m"),
        (ok | {"lat": None, "lon": None}, "address"),
        (ok | {"kind": "party"}, "kind"),
        (ok | {"address": "1 Nowhere Lane", "lat": None, "lon": None}, "address"),
    ):
        r = c.post("/api/v1/operations", json=bad)
        assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json"), r.text
        assert named in r.text
    big = c.post("/api/v1/operations/OP-0000000000000001/cancel", json={"version": 10**20})
    assert big.status_code == 422 and "version" in big.json()["detail"]  # beyond any store's integers
    patrol = live.client(FRESNO, "patrol_officer", "P1")
    assert patrol.post("/api/v1/operations", json=form("X", 36.7, soon, 2)).status_code == 403


def test_a_handoff_briefing_lists_exactly_the_open_items(live: Live) -> None:
    out, inc = live.client(WATCH, "supervisor", "w1"), live.client(WATCH, "supervisor", "w2")
    now = datetime.now(UTC)
    shift = out.post("/api/v1/shifts", json={"start": now.isoformat(), "end": (now + timedelta(hours=12)).isoformat()})
    assert shift.status_code == 201, shift.text
    sid = shift.json()["id"]
    fresno, clovis = live.client(FRESNO, "analyst", "h1"), live.client(CLOVIS, "analyst", "h2")
    soon = (now + timedelta(seconds=1)).isoformat()
    late = fresno.post("/api/v1/rfis", json={"question": "late one", "addressees": [WATCH], "due": soon}).json()["id"]
    later = (now + timedelta(days=2)).isoformat()
    open_ = clovis.post("/api/v1/rfis", json={"question": "open one", "addressees": [WATCH], "due": later}).json()["id"]
    answered = clovis.post("/api/v1/rfis", json={"question": "done", "addressees": [WATCH], "due": later}).json()["id"]
    assert out.post(f"/api/v1/rfis/{answered}/answer", json={"answer": "yes", "version": 1}).status_code == 200
    t = now + timedelta(days=5)
    fresno.post("/api/v1/operations", json=form("Pine", 37.1, t, 3))
    told = clovis.post("/api/v1/operations", json=form("Fir", 37.1 + 100 / 111_320, t, 3)).json()["notices"]
    assert len(told) == 1
    out.post(f"/api/v1/shifts/{sid}/log", json={"kind": "call", "text": "Fresno PD called about Pine"})
    time.sleep(1.2)  # the first RFI falls due
    b = out.post(f"/api/v1/shifts/{sid}/briefing", json={"version": 1})
    assert b.status_code == 200, b.text
    items = b.json()["briefing"]["items"]
    assert sorted((i["id"], i["overdue"]) for i in items if i["kind"] == "rfi") == sorted(
        [(late, True), (open_, False)]
    )
    assert [i["text"][:14] for i in items if i["kind"] == "conflict"] == ["Deconfliction:"]
    assert b.json()["briefing"]["overdue_rfis"] == 1
    told_watch = len(out.get("/api/v1/operations/notices").json()["notices"])
    assert out.get("/api/v1/ops/board").json()["joint"] == {"rfis_overdue": 1, "conflicts_24h": told_watch}
    users = {u["id"] for u in open_directory(live.topo).subjects()}
    w2 = next(u for u in users if u.endswith("cafc00000-w2"))
    assert inc.post(f"/api/v1/shifts/{sid}/briefing", json={"version": 2}).status_code == 403
    h = out.post(f"/api/v1/shifts/{sid}/handover", json={"notes": "Call Fresno first", "incoming": w2, "version": 2})
    assert h.status_code == 200, h.text
    assert out.post(f"/api/v1/shifts/{sid}/acknowledge", json={"version": 3}).status_code == 409  # not theirs to
    ack = inc.post(f"/api/v1/shifts/{sid}/acknowledge", json={"version": 3})
    assert ack.status_code == 200 and ack.json()["state"] == "ACKNOWLEDGED"
    assert inc.get(f"/api/v1/shifts/{sid}").json()["log"][0]["text"] == "Fresno PD called about Pine"
    assert live.client(FRESNO, "supervisor", "h3").get(f"/api/v1/shifts/{sid}").status_code == 404
