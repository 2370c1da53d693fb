"""The casework store's contract, on SQLite and on a real PostgreSQL: versions enforced, members
indexed, the policy pushed into the message and file queries, receipts, RFIs and training."""

from __future__ import annotations

import pytest

from argus.security.policy import Marking
from argus.stores.cases import StaleRow
from argus.stores.search import Audience
from argus.workflows.case_model import Case, EvidenceFile, Member, Message, Task

A, B = "CA0190000", "CA0430000"
LEAD = Member("lee", A, "lead")


def test_cases_tasks_and_members(case_store) -> None:  # type: ignore[no-untyped-def]
    s = case_store
    c = s.put_case(Case("CASE-1", "robberies", "investigation", A, members=(LEAD,), created_at="2026-12-01"), None)
    assert c.version == 1
    with pytest.raises(StaleRow):
        s.put_case(c, None)
    c2 = s.put_case(
        Case(
            "CASE-1",
            "robberies",
            "investigation",
            A,
            members=(LEAD, Member("diaz", B, "analyst")),
            created_at="2026-12-01",
        ),
        1,
    )
    with pytest.raises(StaleRow):
        s.put_case(c2, 1)
    assert s.case("CASE-1").members[1].agency == B and [x.id for x in s.cases_of("diaz", 10)] == ["CASE-1"]
    t = s.put_task(Task("TASK-1", "CASE-1", "canvass", "diaz", "2026-12-03"), None)
    s.put_task(Task("TASK-2", "CASE-1", "warrant", "lee", "2026-12-02"), None)
    assert [x.id for x in s.tasks("CASE-1")] == ["TASK-2", "TASK-1"] and t.version == 1


def test_messages_and_files_only_as_the_policy_allows(case_store) -> None:  # type: ignore[no-untyped-def]
    s = case_store
    amber = Marking(A, "AMBER", cases=("CASE-1",))
    ci = Marking(A, "AMBER", ci=True, cases=("CASE-1",))
    red = Marking(A, "RED", cases=("CASE-1",), recipients=("user:diaz",))
    for i, m in enumerate((amber, ci, red)):
        s.add_message(Message(f"M{i}", "case:CASE-1", "lee", A, f"Word{i} text", "2026-12-01", m))
    member = Audience(B, True, ("user:diaz", B), (), ("CASE-1",))
    other = Audience(B, True, ("user:ruiz", B), (), ("CASE-1",))
    lapsed = Audience(B, True, ("user:diaz", B), (), ("CASE-1",), ci_cleared=False)
    seen = lambda aud, **kw: [m.id for _, m in s.messages("case:CASE-1", aud, 0, 10, **kw)]  # noqa: E731
    assert seen(member) == ["M0", "M1", "M2"] and seen(other) == ["M0", "M1"] and seen(lapsed) == ["M0", "M2"]
    assert seen(lapsed, words="WORD1") == [] and seen(member, words="word1") == ["M1"]
    assert seen(Audience(B, True, (B,), (), ())) == []  # not on the case
    seq = [q for q, _ in s.messages("case:CASE-1", member, 0, 10)]
    assert [m.id for _, m in s.messages("case:CASE-1", member, seq[0], 10)] == ["M1", "M2"]
    s.mark_read("M0", "diaz", "2026-12-02")
    s.mark_read("M0", "diaz", "2026-12-03")
    assert s.receipts(["M0", "M1"]) == {"M0": [("diaz", "2026-12-02")], "M1": []}
    s.add_file(EvidenceFile("F1", "CASE-1", "ab" * 32, "a.pdf", "application/pdf", 5, ci, "lee", "2026-12-01"))
    assert [f.id for f in s.files("CASE-1", member)] == ["F1"] and s.files("CASE-1", lapsed) == []
    assert s.file("F1").marking == ci


def test_rfis_and_training(case_store) -> None:  # type: ignore[no-untyped-def]
    s = case_store
    r = {"id": "RFI-1", "requester_agency": A, "addressees": [B], "status": "OPEN", "due": "2026-12-02", "q": "?"}
    s.put_rfi(r, None)
    with pytest.raises(StaleRow):
        s.put_rfi(r, 5)
    assert [x["id"] for x in s.rfis(B, ["OPEN"], 10)] == ["RFI-1"] and s.rfis("CA0010000", ["OPEN"], 10) == []
    assert s.rfis(A, ["CLOSED"], 10) == [] and s.rfi("RFI-1")["version"] == 1
    s.put_training("lee", "28cfr23", "2025-01-01", "2026-01-01")
    s.put_training("lee", "28cfr23", "2026-01-01", "2027-01-01")
    assert s.training("lee") == [{"course": "28cfr23", "completed": "2026-01-01", "expires": "2027-01-01"}]
    assert [x["subject"] for x in s.training_due("2027-02-01", 10)] == ["lee"] and s.training_due(
        "2026-06-01", 10
    ) == []
