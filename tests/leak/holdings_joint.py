"""The leak harness's holdings for joint operations: for each report i, a case under the
report's marking (its members s0 and s1) with a message, a file, a task and its opening entry; an
RFI from the report's agency to its alert's addressee; a planned operation and a watch shift of
the report's agency; a deconfliction notice to the alert's addressee; and one direct message from s0 to s1.
Each carries a token the harness looks for in every answer (tests/leak/test_harness.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from argus.security.policy import FULL, Marking, Recipient, decide
from argus.stores.evidence import FileEvidence
from argus.stores.sql_cases import EmbeddedCases
from argus.stores.sql_operations import EmbeddedOperations
from argus.stores.sql_shifts import EmbeddedShifts
from argus.workflows.case_model import Case, Entry, EvidenceFile, Member, Message, Task, dm_thread
from argus.workflows.operation_model import Contact, Operation

MEMBERS = ("s0", "s1")
T0 = datetime(2026, 12, 1, tzinfo=UTC)


def case_id(i: int) -> str:
    return f"CASE-{i:016x}"


def case_marking(i: int, r: dict[str, Any]) -> Marking:
    nfd = ("NO_FURTHER_DISSEMINATION",) if r["nfd"] else ()
    return Marking(r["agency"], r["tlp"], r["ci"], nfd, (case_id(i),))


def dm_marking(directory: Any) -> Marking:
    return Marking(directory.subject("s0")["agency"], "RED", recipients=("user:s0", "user:s1"))


def addressee(r: dict[str, Any]) -> str:
    return r["to"] if r["to"] != r["agency"] else "CAFC00000"


def seed(world: Any) -> None:
    d, data = world.directory, world.topo.data_dir
    store, ops = EmbeddedCases(data / "cases.db"), EmbeddedOperations(data / "operations.db")
    objects = FileEvidence(data / "evidence")
    for i, r in enumerate(world.reports):
        cid, m = case_id(i), case_marking(i, r)
        members = tuple(Member(s, d.subject(s)["agency"], "lead" if s == "s0" else "read_only") for s in MEMBERS)
        store.put_case(
            Case(
                cid,
                f"CASET{i:03d}Q",
                "investigation",
                r["agency"],
                r["tlp"],
                m.handling,
                r["ci"],
                members=members,
                created_at=T0.isoformat(),
            ),
            None,
        )
        for s in MEMBERS:
            d.add_member(s, "case", cid)
        store.add_entry(Entry(f"EV-{i:016x}", cid, "opened", T0.isoformat(), "s0", r["agency"], f"CASET{i:03d}Q"))
        store.add_message(
            Message(f"MSG-{i:016x}", f"case:{cid}", "s0", r["agency"], f"CASEM{i:03d}Q", T0.isoformat(), m)
        )
        sha = objects.put(f"CASEF{i:03d}Q".encode())
        store.add_file(
            EvidenceFile(f"FILE-{i:016x}", cid, sha, f"file{i}.txt", "text/plain", 9, m, "s0", T0.isoformat())
        )
        store.put_task(Task(f"TASK-{i:016x}", cid, f"CASEK{i:03d}Q", "s0", T0.isoformat()), None)
        store.put_rfi(
            {
                "id": f"RFI-{i:016x}",
                "question": f"RFIQ{i:03d}Q",
                "requester": "s0",
                "requester_agency": r["agency"],
                "addressees": [addressee(r)],
                "priority": "ROUTINE",
                "due": (T0 - timedelta(days=1)).isoformat(),
                "case_id": "",
                "tlp": "AMBER",
                "status": "OPEN",
                "answer": "",
                "answer_records": [],
                "answered_by": "",
                "answered_agency": "",
                "answered_at": "",
                "created_at": T0.isoformat(),
            },
            None,
        )
        start = datetime.now(UTC) + timedelta(days=1, hours=i)
        ops.put(
            Operation(
                f"OP-{i:016x}",
                r["agency"],
                "raid",
                f"OPT{i:03d}Q",
                f"RMS-{i}",  # the agency's own case number
                Contact("s0", "Det. S", "555"),
                start,
                start + timedelta(hours=2),
                36.7,
                -119.8,
                100.0,
            ),
            None,
        )
        ops.add_notices(
            [
                {
                    "notice_id": f"ntc{i:03d}",
                    "recipient_agency": r["to"],
                    "found_at": T0.isoformat(),
                    "text": f"NOTICE{i:03d}Q",
                    "kind": "SPACE_TIME",
                    "parties": [],
                }
            ]
        )
    store.add_message(
        Message(
            "MSG-dm00000000000000",
            dm_thread("s0", "s1"),
            "s0",
            dm_marking(d).agency,
            "DMQ000Q",
            T0.isoformat(),
            dm_marking(d),
        )
    )
    store.put_training("s0", "privacy", "2026-01-01", "2027-01-01")
    shifts = EmbeddedShifts(data / "shifts.db")
    for i, r in enumerate(world.reports):  # a shift of the report's agency, with a log entry and a briefing
        shifts.put(
            {
                "id": f"SHIFT-{i:016x}",
                "agency": r["agency"],
                "watch_officer": "s0",
                "start": T0.isoformat(),
                "end": T0.isoformat(),
                "staff": ["s0"],
                "state": "BRIEFED",
                "marks": {"alerts": {}, "dead_letters": 0},
                "briefing": {"items": [{"kind": "note", "text": f"SHIFTB{i:03d}Q"}]},
                "notes": "",
                "incoming": "",
                "handed_at": "",
                "acknowledged_by": "",
                "acknowledged_at": "",
            },
            None,
        )
        shifts.log(
            f"SHIFT-{i:016x}",
            {"at": T0.isoformat(), "kind": "call", "text": f"SHIFTL{i:03d}Q", "ref": "", "actor": "s0"},
        )
    shifts.close()
    for i, r in enumerate(world.reports):  # a partner the report's agency keeps, with a meeting
        store.put_partner(
            {
                "id": f"PTR-{i:016x}",
                "owner": r["agency"],
                "name": f"PTRN{i:03d}Q",
                "kind": "community",
                "contacts": [],
                "agreements": [],
                "created_at": T0.isoformat(),
            },
            None,
        )
        store.add_engagement(f"PTR-{i:016x}", {"at": T0.isoformat(), "kind": "meeting", "summary": f"PTRE{i:03d}Q"})
    store.close()
    ops.close()


def joint_tokens(world: Any, sid: str, who: Recipient) -> set[bytes]:
    """What `who` may not see of the joint-operations holdings."""
    rules, reads = world.directory.rules, who.may("read")
    out: set[str] = set()
    for i, r in enumerate(world.reports):
        v = decide(case_marking(i, r), who, rules)
        if not (sid in MEMBERS and reads and v is not None and v.level == FULL):
            out |= {f"CASET{i:03d}Q", f"CASEM{i:03d}Q", f"CASEF{i:03d}Q", f"CASEK{i:03d}Q", case_id(i)}
        if not (reads and who.agency in (r["agency"], addressee(r))):
            out |= {f"RFIQ{i:03d}Q", f"RFI-{i:016x}"}
        if not (reads and who.agency == r["agency"]):
            out |= {f"OPT{i:03d}Q", f"OP-{i:016x}"}
        if not (reads and who.agency == r["to"]):
            out.add(f"NOTICE{i:03d}Q")
        if not (who.may("decide") and who.agency == r["agency"]):
            out |= {f"PTRN{i:03d}Q", f"PTRE{i:03d}Q", f"PTR-{i:016x}"}
        if not (who.may("review") and who.agency == r["agency"]):
            out |= {f"SHIFTB{i:03d}Q", f"SHIFTL{i:03d}Q", f"SHIFT-{i:016x}"}
    dm = decide(dm_marking(world.directory), who, rules)
    if not (sid in MEMBERS and reads and dm is not None and dm.level == FULL):
        out.add("DMQ000Q")
    return {x.encode() for x in out}
