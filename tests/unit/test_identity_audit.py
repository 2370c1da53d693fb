"""What only the embedded audit trail does: SQLite triggers refuse an UPDATE or DELETE, and an
edit by hand (triggers dropped) is found by verify. The directory's and the audit trail's
contracts, on SQLite and OpenSearch alike, are in tests/contract/."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from argus.security.audit import AuditLog

OWN = "CA0190000"


def test_audit_chain_verifies_and_shows_tampering(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.db")
    for i in range(5):
        log.record("read", actor="det-ruiz", agency=OWN, object=f"e{i}", detail={"returned": i})
    assert log.record("disseminate", actor="u", agency=OWN, recipient="CA0430000", reason="r", dedup="a|b") == 6
    assert log.record("disseminate", actor="u", agency=OWN, recipient="CA0430000", reason="r", dedup="a|b") is None
    v = log.verify()
    assert v.ok and v.entries == 6
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        log._db.execute("UPDATE audit SET actor='x' WHERE seq=2")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        log._db.execute("DELETE FROM audit WHERE seq=2")
    log.close()

    # Someone with the file edits it by hand (dropping the triggers first): verify finds it.
    db = sqlite3.connect(tmp_path / "audit.db")
    db.execute("DROP TRIGGER audit_no_update")
    db.execute("UPDATE audit SET object='e9' WHERE seq=3")
    db.commit()
    db.close()
    v = AuditLog(tmp_path / "audit.db").verify()
    assert not v.ok and v.first_bad == 3 and "hash" in (v.problem or "")
