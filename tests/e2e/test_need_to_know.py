"""Access control end to end, over real HTTP beside a running pipeline: authentication, the
28 CFR Part 23 submission API, audit (reads, denials, disseminations, verify), retention review
and a purge that leaves nothing of a record in any store, API answer, log or alert."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from argus.backends import read_topic
from argus.cli import app as cli
from argus.demo import OFFICER_AGENCY, OWNER
from argus.records import utcnow
from argus.security.audit import AuditLog
from argus.security.retention import Retention
from argus.stores.embedded_graph import EmbeddedGraphStore
from argus.stores.embedded_search import EmbeddedSearchStore
from tests.e2e.conftest import make_workdir
from tests.e2e.test_api import CIVIC, Live

TOKEN = "Zanzibarquux"  # a word only the submitted record's narrative holds


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    lv = Live(make_workdir(tmp_path_factory.mktemp("ntk"), background=40))
    yield lv
    lv.close()


def audit(live: Live, **q: Any) -> list[dict[str, Any]]:
    return AuditLog.for_data_dir(live.topo.data_dir).query(limit=10_000, **q)


def wait_for(fn: Any, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        out = fn()
        if out:
            return out
        time.sleep(0.1)
    raise AssertionError("timed out")


CI = {
    "kind": "criminal_intelligence",
    "predicate": "armed robbery series ROB-2026-014 (PC 211)",
    "reliability": "B",
    "validity": 2,
    "protected_activity_only": False,
    "lawfully_obtained": True,
    "tlp": "TLP:AMBER",
    "occurred_at": "2026-11-20T22:10:00Z",
    "series_id": "ROB-2026-014",
    "offenses": ["120"],
    "narrative": f"Source reports the {TOKEN} crew stores weapons at a garage; associate JONAS QUILLFEATHER.",
    "persons": [{"role": "suspect", "name": "QUILLFEATHER, JONAS", "dob": "1991-04-02", "sex": "M"}],
    "vehicles": [{"role": "suspect", "plate": "8ABC123", "state": "CA"}],
}


def test_no_credentials_no_access_and_failures_are_audited(live: Live) -> None:
    r = httpx.get(live.url + "/api/v1/search")
    assert r.status_code == 401 and r.headers["content-type"] == "application/problem+json"
    r = httpx.get(live.url + "/api/v1/search", headers={"X-API-Key": "argus_0000_wrong"})
    assert r.status_code == 401
    r = httpx.get(live.url + "/api/v1/search", headers={"Authorization": "Bearer not.a.jwt"})
    assert r.status_code == 401
    r = httpx.get(live.url + "/api/v1/search", headers={"X-Argus-Agency": OWNER})  # the old trusted header
    assert r.status_code == 401
    assert len(audit(live, action="login", object=None)) >= 0
    denied = [e for e in audit(live, action="login") if e["outcome"] == "denied"]
    assert len(denied) >= 2


def test_roles_decide_what_may_be_done(live: Live) -> None:
    auditor = live.client(OWNER, role="auditor")
    assert auditor.get("/api/v1/search").status_code == 403  # auditors read the trail, not the holdings
    assert auditor.get("/api/v1/audit").status_code == 200
    assert live.client(OWNER).get("/api/v1/audit").status_code == 403
    officer = live.client(OFFICER_AGENCY, role="patrol_officer", unit="2A31")
    assert officer.post("/api/v1/submissions", json=CI).status_code == 403  # patrol does not submit
    denials = audit(live, action="deny")
    assert any(e["object"] == "/api/v1/search" and "auditor" in e["reason"] for e in denials)


def test_a_submission_without_a_predicate_or_ratings_is_rejected_and_not_stored(live: Live) -> None:
    bad = dict(CI, narrative=f"Rejected {TOKEN}x narrative", protected_activity_only=True)
    for k in ("predicate", "reliability", "validity", "lawfully_obtained"):
        bad.pop(k)
    r = live.client(OWNER).post("/api/v1/submissions", json=bad)
    assert r.status_code == 422, r.text
    fields = [e["field"] for e in r.json()["errors"]]
    assert fields == ["predicate", "reliability", "validity", "protected_activity_only", "lawfully_obtained"]
    assert "23.20(a)" in r.text and "23.20(b)" in r.text
    rejected = [e for e in audit(live, action="submit") if e["outcome"] == "rejected"]
    assert rejected and rejected[-1]["detail"]["fields"] == fields
    # Not stored: nothing on any topic carries it.
    for t in live.topo.topics:
        for rec in read_topic(live.rt.bus, live.rt.schemas, t, live.rt._topic_schema[t]):
            assert f"{TOKEN}x".encode() not in (rec.raw or b"")


def test_a_private_sector_partner_submits_sars_not_criminal_intelligence(live: Live) -> None:
    partner = live.client("PS0000001", role="private_sector_partner")
    r = partner.post("/api/v1/submissions", json=CI)
    assert r.status_code == 422 and "law-enforcement agencies only" in r.text
    sar = {
        "kind": "sar",
        "tlp": "TLP:GREEN",
        "reliability": "C",
        "validity": 3,
        "behavior": "SURVL",
        "occurred_at": "2026-11-21T09:00:00Z",
        "narrative": "Two men photographed the loading dock and asked about guard shift changes.",
        "submitted_by": "Security desk, Fresno distribution centre",
    }
    r = partner.post("/api/v1/submissions", json=sar)
    assert r.status_code == 202, r.text
    assert r.json()["review_by"] is not None


@pytest.fixture(scope="module")
def submitted(live: Live) -> dict[str, Any]:
    r = live.client(OWNER).post("/api/v1/submissions", json=CI)
    assert r.status_code == 202, r.text
    out = r.json()
    assert (out["reliability"], out["validity"]) == ("B", 2)
    owner = live.client(OWNER)
    wait_for(lambda: owner.get("/api/v1/search", params={"q": TOKEN}).json()["total"])
    return out


def test_an_accepted_submission_carries_its_ratings_and_review_date_into_every_store(
    live: Live, submitted: dict[str, Any]
) -> None:
    rid = submitted["record_id"]
    hit = live.client(OWNER).get("/api/v1/search", params={"q": TOKEN}).json()["hits"][0]
    assert hit["id"] == rid
    f = hit["fields"]
    assert (f["reliability"], f["validity"], f["criminal_intelligence"]) == ("B", 2, True)
    review_by = f["review_by"]
    assert review_by[:4] == str(utcnow().year + 5) or review_by[:4] == str(utcnow().year + 4)
    g = EmbeddedGraphStore(live.topo.data_dir / "graph.db")
    events = [n for n in g.nodes_of([s["entity_id"] for s in g.sources(CIVIC)]).values()]
    srcs = {s["record_id"]: s for s in g.sources(CIVIC)}
    assert srcs[rid]["ci"] is True and "ROB-2026-014" in srcs[rid]["cases"]
    assert events is not None
    g.close()
    ok = [e for e in audit(live, action="submit") if e["object"] == rid]
    assert ok and ok[0]["detail"]["ratings"] == "B2"


def test_amber_is_shown_in_full_only_to_members_of_the_case(live: Live, submitted: dict[str, Any]) -> None:
    rid = submitted["record_id"]
    outsider = live.client(OFFICER_AGENCY).get("/api/v1/search", params={"q": "weapons garage"}).json()
    assert all(h["id"] != rid or h["access"] == "amber" for h in outsider["hits"])
    raw = live.client(OFFICER_AGENCY).get(f"/api/v1/entities/{CIVIC}/timeline").content
    assert TOKEN.encode() not in raw and b"QUILLFEATHER" not in raw
    from argus.stores.sqlite_identity import Directory

    d = Directory.for_data_dir(live.topo.data_dir)
    d.add_agency(OFFICER_AGENCY, "Fresno PD")
    d.add_subject("det-case", OFFICER_AGENCY, ["analyst"])
    d.add_member("det-case", "case", "ROB-2026-014")
    key = d.create_key("det-case")
    member = httpx.Client(base_url=live.url, headers={"X-API-Key": key}, timeout=30)
    raw = member.get(f"/api/v1/entities/{CIVIC}/timeline").content
    assert rid.encode() in raw
    hit = member.get("/api/v1/search", params={"q": TOKEN}).json()["hits"][0]
    assert hit["access"] == "full" and TOKEN in hit["snippet"]


def test_disseminations_outside_the_agency_are_recorded_with_recipient_and_reason(live: Live) -> None:
    officer = live.client(OFFICER_AGENCY, role="patrol_officer", unit="2A31")
    q = {"query_id": "Q-AUDIT-1", "plate": "8ABC123", "state": "CA"}
    res = officer.post("/api/v1/field/query", json=q, params={"wait": 8}).json()
    assert res["status"] == "HIT"
    entries = [e for e in audit(live, action="disseminate") if e["recipient"] == OFFICER_AGENCY]
    assert entries, "a hit on another agency's record is a dissemination"
    e = next(x for x in entries if x["agency"] == OWNER)
    assert "QUERY_HIT alert" in e["reason"] and e["object"] and e["detail"]["subject"]
    reads = [x for x in audit(live, action="read") if x["detail"].get("endpoint") == "field_query"]
    assert reads


def test_retention_review_lists_revalidates_and_lapses(live: Live, submitted: dict[str, Any]) -> None:
    rid = submitted["record_id"]
    bus, schemas = live.rt.bus, live.rt.schemas
    audit_log = AuditLog.for_data_dir(live.topo.data_dir)
    r = Retention(live.topo, bus, schemas, audit_log)
    assert rid not in [h["record_id"] for h in r.due()]
    assert rid in [h["record_id"] for h in r.due(utcnow() + timedelta(days=5 * 365 + 2))]
    res = CliRunner().invoke(
        cli,
        [
            "retention",
            "due",
            "--as-of",
            (utcnow() + timedelta(days=5 * 365 + 2)).isoformat(),
            "--json",
            "-t",
            str(live.topo.base_dir / "topology.yaml"),
        ],
    )
    assert res.exit_code == 0, res.output
    assert rid in res.output
    new = r.revalidate(rid, "Sgt. Okafor", "series still active; arrest warrant outstanding", years=1)
    assert new[:4] == str(utcnow().year + 1)
    assert rid in [h["record_id"] for h in r.due(utcnow() + timedelta(days=400))]
    reviews = [e for e in audit(live, action="review") if e["object"] == rid]
    assert reviews and reviews[0]["actor"] == "Sgt. Okafor"
    r.close()


def test_purge_leaves_nothing_of_the_record_anywhere(live: Live, submitted: dict[str, Any]) -> None:
    """Kept last: it removes the submitted record (and one of the demo owner's reports)."""
    rid = submitted["record_id"]
    owner = live.client(OWNER)
    before = owner.get(f"/api/v1/entities/{CIVIC}").json()
    assert rid in {s["record_id"] for s in before["sources"]}
    r = Retention(live.topo, live.rt.bus, live.rt.schemas, AuditLog.for_data_dir(live.topo.data_dir))
    out = r.lapse(rid, "Sgt. Okafor", "no longer relevant to the series")
    r.close()
    assert out["erased"].get("reports") == 1
    secrets = [rid.encode(), TOKEN.encode(), b"QUILLFEATHER", b"JONAS"]

    def gone() -> bool:
        g = EmbeddedGraphStore(live.topo.data_dir / "graph.db")
        s = EmbeddedSearchStore(live.topo.data_dir / "search.db")
        try:
            return s.get(rid) is None and rid not in {x["record_id"] for x in g.sources(CIVIC)}
        finally:
            g.close()
            s.close()

    wait_for(gone)
    # Every API path, as the owner (who saw it in full before).
    for path in (
        "/api/v1/search?limit=100",
        f"/api/v1/search?q={TOKEN}",
        "/api/v1/search?q=QUILLFEATHER",
        f"/api/v1/entities/{CIVIC}",
        f"/api/v1/entities/{CIVIC}/timeline",
        f"/api/v1/entities/{CIVIC}/neighbours?hops=2",
        "/api/v1/cases/ROB-2026-014/timeline",
        "/api/v1/geo",
    ):
        raw = owner.get(path).content
        for secret in secrets:
            assert secret not in raw, (path, secret)
    # The log and the alert history: no message but the purge control record mentions it.
    for t, spec in live.topo.topics.items():
        if spec.schema_ == "purge.v1":
            continue
        for rec in read_topic(live.rt.bus, live.rt.schemas, t, live.rt._topic_schema[t]):
            for secret in secrets:
                assert secret not in (rec.raw or b""), (t, secret)
    # Correlation state: a query on the plate no longer reports it.
    officer = live.client(OFFICER_AGENCY, role="patrol_officer", unit="2A31")
    q = {"query_id": "Q-AFTER-PURGE", "plate": "8ABC123", "state": "CA"}
    raw = officer.post("/api/v1/field/query", json=q, params={"wait": 8}).content
    for secret in secrets:
        assert secret not in raw
    for node in ("correlate_persons", "correlation"):
        state = live.rt.bus.load_state(node)
        assert f"rep:{rid}" not in state
        assert not [k for k, v in state.items() if k.startswith("ent:") and any(x[0] == rid for x in v)]
    # Only an audit entry remains, and the trail is intact.
    purges = [e for e in audit(live, action="purge") if e["object"] == rid]
    assert len(purges) == 1 and purges[0]["actor"] == "Sgt. Okafor"
    res = CliRunner().invoke(cli, ["audit", "verify", "-t", str(live.topo.base_dir / "topology.yaml")])
    assert res.exit_code == 0 and "intact" in res.output, res.output
