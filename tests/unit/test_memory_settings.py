"""The settings that bound a process's memory: read from the environment, a bad value refused by
name, and the page cache applied to every connection the embedded stores open."""

from __future__ import annotations

from pathlib import Path

import pytest

from argus import sqlite, state_view


@pytest.mark.parametrize(
    ("var", "read", "unit"),
    [("ARGUS_SQLITE_CACHE_MB", sqlite._cache_kib, 1024), ("ARGUS_STATE_KEYS", state_view._keep, 1)],
)
def test_a_setting_is_read_and_a_bad_one_refused_by_name(
    monkeypatch: pytest.MonkeyPatch, var: str, read: object, unit: int
) -> None:
    monkeypatch.setenv(var, "48")
    assert read() == 48 * unit  # type: ignore[operator]
    for bad in ("0", "-5", "lots", "1e3", ""):
        monkeypatch.setenv(var, bad)
        with pytest.raises(ValueError, match=var):
            read()  # type: ignore[operator]


def test_every_connection_gets_the_cache_bound(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ARGUS_SQLITE_CACHE_MB", raising=False)
    assert sqlite._cache_kib() == 32 * 1024
    db = sqlite.connect(tmp_path / "a.db")
    assert db.execute("PRAGMA cache_size").fetchone()[0] == -sqlite.CACHE_KIB
    ro = sqlite.connect(tmp_path / "a.db", read_only=True, cache_kib=1024)
    assert ro.execute("PRAGMA cache_size").fetchone()[0] == -1024
