"""The requirement store's contract, on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

from argus.security.policy import Marking
from argus.stores.requirements import Hit, Requirement, RequirementStore, Tasking
from argus.stores.search import Audience

A, B = "CA0190000", "CA0430000"


def req(rid: str, code: str, agency: str = A, tlp: str = "GREEN", **kw: object) -> Requirement:
    kw.setdefault("title", f"title {code}")
    return Requirement(id=rid, code=code, kind="PIR", questions=["who?"],
                       marking=Marking(agency, tlp), created_by="an", created_at="2026-11-01T00:00:00+00:00",
                       **kw)  # type: ignore[arg-type]  # fmt: skip


def hit(rid: str, report: str, when: str, agency: str = A, tlp: str = "GREEN") -> Hit:
    return Hit(rid, report, "sar", ["behavior SURVL"], when, Marking(agency, tlp))


def test_requirements_round_trip_and_are_shown_only_in_full(requirement_store: RequirementStore) -> None:
    r = req("r1", "PIR-1", lat=36.7, lon=-119.8, radius_km=25, start="2026-11-01T00:00:00+00:00",
            behaviors=["SURVL"], keywords=["drone"], techniques=["T0883"], entity_types=["VEHICLE"])  # fmt: skip
    requirement_store.put_requirement(r)
    requirement_store.put_requirement(req("r2", "PIR-2", B, "AMBER"))
    requirement_store.put_requirement(req("r3", "PIR-0", B, "GREEN"))
    assert requirement_store.requirement("r1") == r
    reader = Audience(A, principals=(A,))
    assert [x.id for x in requirement_store.requirements(reader, 10)] == ["r3", "r1"]
    assert [x.id for x in requirement_store.requirements(None, 10)] == ["r3", "r1", "r2"]
    requirement_store.put_requirement(req("r1", "PIR-1", title="renamed"))
    assert requirement_store.requirement("r1").title == "renamed"  # type: ignore[union-attr]


def test_answered_counts_only_reporting_seen_in_full_in_the_period(requirement_store: RequirementStore) -> None:
    requirement_store.add_hits([
        hit("r1", "a", "2026-11-02T10:00:00+00:00"), hit("r1", "b", "2026-11-05T10:00:00+00:00"),
        hit("r1", "c", "2026-11-04T10:00:00+00:00", B, "AMBER"), hit("r2", "d", "2026-10-01T00:00:00+00:00"),
    ])  # fmt: skip
    requirement_store.add_hits([hit("r1", "a", "2026-11-02T10:00:00+00:00")])  # replayed: counted once
    reader = Audience(A, principals=(A,))
    got = requirement_store.answered(
        reader, ["r1", "r2", "r9"], "2026-11-01T00:00:00+00:00", "2026-12-01T00:00:00+00:00"
    )
    assert got == {"r1": (2, "2026-11-05T10:00:00+00:00")}
    assert requirement_store.answered(None, ["r1"], "2026-11-01", "2026-12-01")["r1"][0] == 3
    assert [h.report_id for h in requirement_store.reporting(reader, "r1", 10)] == ["b", "a"]
    assert [h.report_id for h in requirement_store.reporting(Audience(B, principals=(B,)), "r1", 10)] == ["b", "c", "a"]


def test_taskings_reach_their_agency_or_one_person_in_it(requirement_store: RequirementStore) -> None:
    def t(tid: str, to: str, subject: str = "", at: str = "2026-11-01") -> Tasking:
        return Tasking(tid, "r1", "what do you see at the plant?", to, subject, "2026-11-10", "an", A, at)

    for x in (
        t("t1", B),
        t("t2", B, "tlo-7", "2026-11-02"),
        t("t3", B, "tlo-8", "2026-11-03"),
        t("t4", A, at="2026-10-31"),
    ):
        requirement_store.put_tasking(x)
    assert [x.id for x in requirement_store.taskings(agency=B, subject="tlo-7")] == ["t2", "t1"]
    assert [x.id for x in requirement_store.taskings(agency=B, subject="someone")] == ["t1"]
    assert [x.id for x in requirement_store.taskings(requirement="r1")] == ["t3", "t2", "t1", "t4"]
    done = requirement_store.tasking("t2")
    assert done is not None
    done.status, done.answer = "ANSWERED", "a white van twice"
    requirement_store.put_tasking(done)
    assert requirement_store.tasking("t2").answer == "a white van twice"  # type: ignore[union-attr]
