"""Deconfliction: the conflicts the store's indexes find equal those a brute-force check over
every pair finds, and each side is told only the other side's agency and contact."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from argus.security.audit import AuditLog
from argus.stores.sql_operations import EmbeddedOperations
from argus.workflows.deconfliction import Deconfliction, OperationRefused, find_conflicts
from argus.workflows.operation_model import CANCELLED, Contact, Operation, conflicts_between
from argus.workflows.sar_review import Actor

NOW = datetime(2026, 12, 6, 12, tzinfo=UTC)
AGENCIES = ("CA0190000", "CA0430000", "CA0010000")


def op(
    i: int,
    agency: str,
    lat: float,
    lon: float,
    radius: float,
    start_h: float,
    hours: float,
    subjects: tuple[str, ...] = (),
    state: str = "PLANNED",
) -> Operation:
    start = NOW + timedelta(hours=start_h)
    return Operation(
        f"OP-{i}",
        agency,
        "raid",
        f"Operation {i}",
        f"CASE-{i}",
        Contact(f"u{i}", f"Det. {i}", "555-0100"),
        start,
        start + timedelta(hours=hours),
        lat,
        lon,
        radius,
        subjects=subjects,
        state=state,
    )


ops_strategy = st.lists(
    st.tuples(
        st.sampled_from(AGENCIES),
        st.floats(36.70, 36.76),
        st.floats(-119.82, -119.74),
        st.floats(10, 2000),
        st.floats(-48, 48),
        st.floats(0.5, 12),
        st.lists(st.sampled_from(["per-1", "per-2", "veh-1"]), max_size=2).map(tuple),
        st.sampled_from(["PLANNED", "PLANNED", "PLANNED", CANCELLED]),
    ),
    min_size=2,
    max_size=25,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=ops_strategy)
def test_index_finds_what_brute_force_finds(tmp_path_factory, rows) -> None:  # type: ignore[no-untyped-def]
    store = EmbeddedOperations(tmp_path_factory.mktemp("ops") / "ops.db")
    ops = [op(i, *r) for i, r in enumerate(rows)]
    for o in ops:
        store.put(o, None)
    for o in ops:
        by_index = {c.id for c in find_conflicts(store, o, NOW)}
        brute = {c.id for other in ops for c in conflicts_between(o, other, NOW)}
        assert by_index == brute
    store.close()


def test_two_agencies_200_m_apart_in_overlapping_hours_conflict_once(tmp_path: Path) -> None:
    store = EmbeddedOperations(tmp_path / "ops.db")
    desk = Deconfliction(store, AuditLog(tmp_path / "audit.db"), watch_centre="CAFC00000", clock=lambda: NOW)
    a = op(1, AGENCIES[0], 36.7378, -119.7871, 150, 2, 4, ("per-secret",))
    b = op(2, AGENCIES[1], 36.7378 + 200 / 111_320, -119.7871, 150, 4, 4)  # 200 m north, 2 h overlap
    far_in_time = op(3, AGENCIES[2], 36.7378, -119.7871, 150, 30, 2)
    desk.register(a, Actor("u1", AGENCIES[0], "analyst"))
    _, none = desk.register(far_in_time, Actor("u3", AGENCIES[2], "analyst"))
    assert none == []
    _, told = desk.register(b, Actor("u2", AGENCIES[1], "analyst"))
    assert sorted((n["recipient_agency"], n["recipient_officer"]) for n in told) == [
        (AGENCIES[0], "u1"),
        (AGENCIES[1], "u2"),
        ("CAFC00000", None),
    ]
    to_b = next(n for n in told if n["recipient_agency"] == AGENCIES[1])
    assert to_b["operation"] == "OP-2" and to_b["parties"][0]["agency"] == AGENCIES[0]
    assert "per-secret" not in str(to_b) and "CASE-1" not in str(to_b) and "Operation 1" not in str(to_b)
    assert to_b["distance_m"] < 300
    _, again = desk.change("OP-2", store.get("OP-2").with_(title="renamed"), 1, Actor("u2", AGENCIES[1], "analyst"))
    assert again == []  # told once
    assert len(store.notices(AGENCIES[0], 10)) == 1 and len(store.notices("CAFC00000", 10)) == 1


def test_a_cancelled_operation_conflicts_with_nothing_and_stays_cancelled(tmp_path: Path) -> None:
    store = EmbeddedOperations(tmp_path / "ops.db")
    desk = Deconfliction(store, AuditLog(tmp_path / "audit.db"), clock=lambda: NOW)
    who = Actor("u1", AGENCIES[0], "analyst")
    a, _ = desk.register(op(1, AGENCIES[0], 36.7, -119.8, 300, 1, 4), who)
    desk.cancel(a.id, a.version, who)
    _, told = desk.register(op(2, AGENCIES[1], 36.7, -119.8, 300, 1, 4), Actor("u2", AGENCIES[1], "analyst"))
    assert told == []
    with pytest.raises(OperationRefused) as e:
        desk.change(a.id, a, 2, who)
    assert e.value.status == 409
    with pytest.raises(OperationRefused) as e:
        desk.cancel(a.id, 2, Actor("u9", AGENCIES[1], "analyst"))  # not its agency's
    assert e.value.status == 404
