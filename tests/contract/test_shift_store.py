"""The shift store's contract, on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import pytest

from argus.stores.shifts import StaleShift


def test_shifts_versions_and_log(shift_store) -> None:  # type: ignore[no-untyped-def]
    s = shift_store
    a = s.put({"id": "SHIFT-1", "agency": "CAFC00000", "start": "2026-12-06T06:00:00+00:00", "state": "ON_DUTY"}, None)
    s.put({"id": "SHIFT-2", "agency": "CAFC00000", "start": "2026-12-06T18:00:00+00:00", "state": "ON_DUTY"}, None)
    with pytest.raises(StaleShift):
        s.put(a, None)
    assert s.put(a | {"state": "BRIEFED"}, 1)["version"] == 2
    with pytest.raises(StaleShift):
        s.put(a, 1)
    assert [x["id"] for x in s.of_agency("CAFC00000", 10)] == ["SHIFT-2", "SHIFT-1"] and s.of_agency("X", 10) == []
    s.log("SHIFT-1", {"text": "first"})
    s.log("SHIFT-1", {"text": "second"})
    assert [e["text"] for e in s.entries("SHIFT-1")] == ["first", "second"] and s.get("SHIFT-1")["state"] == "BRIEFED"
