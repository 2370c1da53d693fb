"""Case files: a tampered or missing object is refused on read with the failure in the chain of
custody; an upload's type must match its bytes; the site's scanner can refuse a file."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from argus.security.audit import AuditLog
from argus.security.policy import Marking
from argus.stores.evidence import FileEvidence
from argus.stores.sql_cases import EmbeddedCases
from argus.workflows.case_model import Case
from argus.workflows.cases import CaseRefused
from argus.workflows.evidence import Evidence, check_type, scan
from argus.workflows.sar_review import Actor

WHO = Actor("det.lee", "CA0190000", "analyst")
CASE = Case("CASE-0000000000000001", "t", "investigation", "CA0190000")


def desk(tmp_path: Path) -> Evidence:
    return Evidence(EmbeddedCases(tmp_path / "cases.db"), FileEvidence(tmp_path / "files"), AuditLog(tmp_path / "a.db"))


def test_a_tampered_file_is_refused_and_the_custody_says_so(tmp_path: Path) -> None:
    ev = desk(tmp_path)
    f = ev.add(CASE, WHO, "notes.txt", "text/plain", b"plate 8ABC123 at 0214", Marking("CA0190000", "AMBER"), "canvass")
    assert ev.read(f, WHO, "viewed", "review") == b"plate 8ABC123 at 0214"
    (tmp_path / "files" / f.sha256[:2] / f.sha256).write_bytes(b"plate 8ABC124 at 0214")
    with pytest.raises(CaseRefused) as e:
        ev.read(f, WHO, "downloaded", "court")
    assert e.value.status == 409
    (tmp_path / "files" / f.sha256[:2] / f.sha256).unlink()
    with pytest.raises(CaseRefused) as e:
        ev.read(f, WHO, "exported", "court")
    assert e.value.status == 410
    assert [(c.action, c.hash_ok) for c in ev.store.custody(f.id)] == [
        ("added", True),
        ("viewed", True),
        ("downloaded", False),
        ("exported", False),
    ]


def test_types_are_checked_against_the_bytes(tmp_path: Path) -> None:
    check_type(b"%PDF-1.7 ...", "application/pdf")
    check_type(b'{"a": 1}', "application/json")
    for data, ctype in (
        (b"%PDF-", "image/png"),
        (b"\xff\xfe", "text/plain"),
        (b"{", "application/json"),
        (b"MZ\x90", "application/x-msdownload"),
        (b"a\x00b", "text/csv"),
    ):
        with pytest.raises(CaseRefused) as e:
            check_type(data, ctype)
        assert e.value.status == 415 and e.value.field == "content_type"
    ev = desk(tmp_path)
    with pytest.raises(CaseRefused) as e:
        ev.add(CASE, WHO, "big.txt", "text/plain", b"x" * (ev.max_bytes + 1), Marking("CA0190000", "AMBER"), "r")
    assert e.value.status == 413


def test_the_site_scanner_refuses_through_its_exit_code(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "ARGUS_SCAN_COMMAND",
        f'{sys.executable} -c "import sys; d=sys.stdin.buffer.read(); '
        "print('Win.Test.Bad FOUND') if b'bad' in d else None; sys.exit(1 if b'bad' in d else 0)\"",
    )
    assert scan(b"all good") is None
    assert scan(b"something bad") == "Win.Test.Bad FOUND"
