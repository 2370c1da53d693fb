"""The audit trail contract, on every backend (embedded SQLite, OpenSearch): one linear hash chain
whichever handle appends (API processes on several hosts, CLIs), what one handle records another
reads at once, dedup keys recorded once, the auditor's filters, and verify naming the first entry
edited or removed behind the trail's back."""

from __future__ import annotations

import threading
import time

import pytest

from argus.security.audit import GENESIS, entry_hash, new_entry
from tests.contract.conftest import AuditBackend

OWN, OTHER = "NV0020000", "CA0430000"


def test_entries_chain_and_are_read_back_by_another_handle(audit_backend: AuditBackend) -> None:
    api, cli = audit_backend.open(), audit_backend.open()
    assert api.record("login", actor="det-ruiz", agency=OWN, source="10.0.0.7") == 1
    assert cli.record("admin", actor="admin1", agency="-", object="agency:CA0430000", detail={"n": [1, 2.5]}) == 2
    assert api.record("read", actor="det-ruiz", agency=OWN, object="e1", detail={"returned": 3}) == 3
    assert api.record("deny", actor="det-ruiz", agency=OWN, object="e2", outcome="denied") == 4
    got = cli.query(limit=10)
    assert [e["seq"] for e in got] == [1, 2, 3, 4]
    assert got[1]["detail"] == {"n": [1, 2.5]} and got[0]["source"] == "10.0.0.7" and got[3]["outcome"] == "denied"
    assert got[2]["outcome"] == "ok" and got[0]["object"] is None and got[0]["detail"] == {}
    prev = GENESIS
    for e in got:  # each entry carries the hash of the one before it
        assert e["prev"] == prev and e["hash"] == entry_hash(prev, e, api.key, e["dedup"])
        prev = e["hash"]
    v = api.verify()
    assert v.ok and v.entries == 4 and v.head == got[-1]["hash"]


def test_auditor_filters(audit_backend: AuditBackend) -> None:
    log = audit_backend.open()
    log.record("read", actor="a", agency=OWN, object="e1")
    log.record("read", actor="b", agency=OTHER, object="e1")
    log.record("disseminate", actor="b", agency=OTHER, object="r9", recipient=OWN, reason="QUERY_HIT alert x")
    log.record("export", actor="a", agency=OWN, object="bundle")
    assert [e["actor"] for e in log.query(visible_to_agency=OWN)] == ["a", "b", "a"]
    assert [e["seq"] for e in log.query(visible_to_agency=OTHER)] == [2, 3]
    assert [e["seq"] for e in log.query(actor="a")] == [1, 4]
    assert [e["seq"] for e in log.query(action="read", object="e1")] == [1, 2]
    assert [e["seq"] for e in log.query(agency=OTHER, action="disseminate")] == [3]
    assert [e["seq"] for e in log.query(after=1, limit=2)] == [2, 3]
    first = log.query(limit=1)[0]["at"]
    assert [e["seq"] for e in log.query(since="2000-01-01", until=first)] == [1]
    assert log.query(since="2999-01-01") == []


def test_a_dedup_key_is_recorded_once_across_handles(audit_backend: AuditBackend) -> None:
    a, b = audit_backend.open(), audit_backend.open()
    kw = {"actor": "u", "agency": OTHER, "recipient": OWN, "reason": "alert", "object": "r1"}
    assert a.record("disseminate", **kw, dedup="alert1|r1|u") == 1
    assert b.record("disseminate", **kw, dedup="alert1|r1|u") is None  # a reconnecting stream
    assert a.record("disseminate", **kw, dedup="alert1|r1|u") is None
    assert b.record("disseminate", **kw, dedup="alert2|r1|u") == 2
    assert [e["seq"] for e in a.query()] == [1, 2] and a.verify().ok


def test_concurrent_appenders_keep_one_chain(audit_backend: AuditBackend) -> None:
    """Four handles (four API processes) appending at once: every entry once, seq 1..N, one chain."""
    handles = [audit_backend.open() for _ in range(4)]
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            for j in range(15):
                handles[i].record("read", actor=f"w{i}", agency=OWN, object=f"{i}-{j}")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    got = handles[0].query(limit=1000)
    assert [e["seq"] for e in got] == list(range(1, 61))
    assert sorted(e["object"] for e in got) == sorted(f"{i}-{j}" for i in range(4) for j in range(15))
    v = handles[1].verify()
    assert v.ok and v.entries == 60


def test_an_edited_or_removed_entry_is_named(audit_backend: AuditBackend) -> None:
    log = audit_backend.open()
    for i in range(5):
        log.record("read", actor="det-ruiz", agency=OWN, object=f"e{i}")
    audit_backend.edit(3, "object", "e9")
    v = audit_backend.open().verify()
    assert not v.ok and v.first_bad == 3 and "hash" in (v.problem or "") and v.entries == 2
    audit_backend.remove(2)
    v = audit_backend.open().verify()
    assert not v.ok and v.first_bad == 2 and "missing" in (v.problem or "")


def test_an_unknown_action_is_refused(audit_backend: AuditBackend) -> None:
    log = audit_backend.open()
    with pytest.raises(ValueError, match="audit action 'peek'"):
        log.record("peek", actor="a", agency=OWN)
    assert log.query() == []


@pytest.mark.integration
@pytest.mark.parametrize("audit_backend", [pytest.param("opensearch")], indirect=True)
def test_a_claim_abandoned_by_a_dead_writer_is_taken_over(audit_backend: AuditBackend) -> None:
    """OpenSearch: a dedup key is claimed before its entry is written. A writer that died between
    the two leaves the claim; after `claim_s` another handle records the entry (once), a writer
    that died after writing the entry leaves nothing to redo, and a repeat long after is dropped."""
    import hashlib

    log = audit_backend.open(claim_s=0.5)
    kw = {"actor": "u", "agency": OTHER, "recipient": OWN, "reason": "alert"}

    def claim_only(key: str) -> None:  # what a writer killed after claiming leaves
        body = {"dedup": key, "seq": None, "claimed_at": time.time()}
        log.client.index(index=log.claims, id=hashlib.sha256(key.encode()).hexdigest(), body=body, op_type="create")

    claim_only("dead|before")
    assert log.record("disseminate", **kw, dedup="dead|before") is None  # claimed just now: being written
    time.sleep(0.6)
    assert log.record("disseminate", **kw, dedup="dead|before") == 1  # abandoned: taken over
    assert log.record("disseminate", **kw, dedup="dead|before") is None

    # A writer that wrote its entry and died before completing the claim.
    seq = log._create(lambda n: new_entry(n, "disseminate", **kw), "dead|after")  # entry written, claim not
    claim_only("dead|after")
    time.sleep(0.6)
    assert log.record("disseminate", **kw, dedup="dead|after") is None
    # A key recorded the usual way, repeated after claim_s (a stream reconnecting later): still once.
    assert log.record("disseminate", **kw, dedup="usual") == 3
    time.sleep(0.6)
    assert log.record("disseminate", **kw, dedup="usual") is None
    assert log.record("disseminate", **kw, dedup="usual") is None
    assert [e["seq"] for e in log.query()] == [1, seq, 3] == [1, 2, 3] and log.verify().ok


def _five(audit_backend: AuditBackend) -> list[dict]:
    log = audit_backend.open()
    for i in range(5):
        log.record("disseminate", actor="det-ruiz", agency=OWN, object=f"e{i}", dedup=f"alert{i}|r{i}|det-ruiz")
    return log.query(limit=10)


def test_an_insider_without_the_key_cannot_rewrite_the_chain(audit_backend: AuditBackend) -> None:
    """An entry edited and every later hash recomputed (without the key) does not verify."""
    got = _five(audit_backend)
    prev = got[1]["hash"]
    for e in got[2:]:
        forged = dict(e, object="e-forged" if e["seq"] == 3 else e["object"], prev=prev)
        h = entry_hash(prev, forged, b"0" * 32, e["dedup"])  # a guessed key
        audit_backend.edit(e["seq"], "prev", prev)
        audit_backend.edit(e["seq"], "hash", h)
        if e["seq"] == 3:
            audit_backend.edit(3, "object", "e-forged")
        prev = h
    v = audit_backend.open().verify()
    assert not v.ok and v.first_bad == 3, v


def test_an_edited_dedup_column_shows(audit_backend: AuditBackend) -> None:
    _five(audit_backend)
    audit_backend.edit(4, "dedup", "alert9|r9|det-ruiz")
    v = audit_backend.open().verify()
    assert not v.ok and v.first_bad == 4 and "hash" in (v.problem or "")


def test_a_forged_entry_appended_without_the_key_shows(audit_backend: AuditBackend) -> None:
    got = _five(audit_backend)
    head = got[-1]["hash"]
    e = new_entry(6, "read", "insider", OWN, object="cover-story")
    audit_backend.append_raw({**e, "dedup": None, "prev": head, "hash": entry_hash(head, e)})
    v = audit_backend.open().verify()
    assert not v.ok and v.first_bad == 6 and "without the audit key" in (v.problem or "")


def test_removing_the_newest_entries_is_caught_by_a_kept_head(audit_backend: AuditBackend) -> None:
    got = _five(audit_backend)
    kept = (5, got[-1]["hash"])
    assert audit_backend.open().verify(kept).ok
    for seq in (5, 4, 3):
        audit_backend.remove(seq)
    assert audit_backend.open().verify().ok  # a shorter chain is a valid chain...
    v = audit_backend.open().verify(kept)  # ...but not the one the auditor kept the head of
    assert not v.ok and "removed" in (v.problem or "")
    assert not audit_backend.open().verify((2, "hmac-sha256:" + "0" * 64)).ok
