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


def test_the_embedded_trail_keys_itself_with_a_file_only_its_owner_reads(tmp_path, monkeypatch) -> None:
    import stat

    from argus.security.audit import MAC, AuditLog

    monkeypatch.delenv("ARGUS_AUDIT_KEY", raising=False)
    monkeypatch.delenv("ARGUS_AUDIT_KEY_FILE", raising=False)
    log = AuditLog(tmp_path / "audit.db")
    log.record("login", actor="a", agency="CA0190000")
    key = tmp_path / "audit.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert log.query()[0]["hash"].startswith(MAC) and log.verify().ok
    log.close()
    key.write_text("11" * 32)  # another key: the chain no longer verifies
    other = AuditLog(tmp_path / "audit.db")
    assert not other.verify().ok
    other.close()


def test_audit_head_and_verify_expect_head_catch_removed_entries(tmp_path) -> None:
    import sqlite3

    from typer.testing import CliRunner

    from argus.cli import app as cli
    from argus.security.audit import AuditLog
    from tests.conftest import REPO

    log = AuditLog(tmp_path / "audit.db")
    for i in range(4):
        log.record("read", actor="a", agency="CA0190000", object=f"e{i}")
    log.close()
    args = ["-t", str(REPO / "topology.yaml"), "--data-dir", str(tmp_path)]
    head = CliRunner().invoke(cli, ["audit", "head", *args])
    assert head.exit_code == 0 and head.output.startswith("4:hmac-sha256:"), head.output
    db = sqlite3.connect(tmp_path / "audit.db")
    db.execute("DROP TRIGGER audit_no_delete")
    db.execute("DELETE FROM audit WHERE seq=4")
    db.commit()
    db.close()
    assert CliRunner().invoke(cli, ["audit", "verify", *args]).exit_code == 0
    res = CliRunner().invoke(cli, ["audit", "verify", "--expect-head", head.output.strip(), *args])
    assert res.exit_code == 1 and "removed" in res.output
