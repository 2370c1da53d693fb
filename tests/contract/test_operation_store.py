"""The operations store's contract, on SQLite and on a real PostgreSQL: the spatial and temporal
index finds what overlaps and nothing cancelled, the entity index finds what names a subject,
versions are enforced, conflicts and notices are kept once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from argus.stores.operations import StaleOperation
from argus.workflows.operation_model import CANCELLED, Conflict, Contact, Operation

T0 = datetime(2026, 12, 7, 5, tzinfo=UTC)


def op(i: int, lat: float, hours: tuple[float, float], agency: str = "CA0190000", **kw: object) -> Operation:
    return Operation(
        f"OP-{i:016x}",
        agency,
        "raid",
        f"op {i}",
        "",
        Contact("u", "Det. U", "555"),
        T0 + timedelta(hours=hours[0]),
        T0 + timedelta(hours=hours[1]),
        lat,
        -119.78,
        100.0,
        **kw,
    )  # type: ignore[arg-type]


def test_the_indexes_find_what_overlaps(operation_store) -> None:  # type: ignore[no-untyped-def]
    s = operation_store
    s.put(op(1, 36.70, (0, 4), subjects=("per-1",)), None)
    s.put(op(2, 36.70, (5, 6)), None)  # later
    s.put(op(3, 36.80, (0, 4)), None)  # 11 km north
    s.put(op(4, 36.7005, (3, 8), vehicles=("veh-1",)), None)
    probe = op(9, 36.7001, (1, 3.5))
    assert sorted(o.id for o in s.near(probe.box(), probe.start, probe.end)) == [
        op(1, 0, (0, 1)).id,
        op(4, 0, (0, 1)).id,
    ]
    assert [o.title for o in s.naming(["per-1", "veh-1", "nobody"])] == ["op 1", "op 4"]
    cancelled = s.put(s.get(op(1, 0, (0, 1)).id).with_(state=CANCELLED), 1)
    assert cancelled.version == 2
    assert [o.title for o in s.near(probe.box(), probe.start, probe.end)] == ["op 4"]
    assert [o.title for o in s.naming(["per-1"])] == []
    with pytest.raises(StaleOperation):
        s.put(cancelled, 1)
    with pytest.raises(StaleOperation):
        s.put(op(2, 36.70, (5, 6)), None)  # the id is taken
    assert [o.title for o in s.of_agency("CA0190000", 10)] == ["op 2", "op 4", "op 1", "op 3"]
    assert s.count() == 4 and s.of_agency("CA0430000", 10) == []


def test_conflicts_and_notices_are_kept_once(operation_store) -> None:  # type: ignore[no-untyped-def]
    s = operation_store
    c = Conflict(
        "CNF-1", "SPACE_TIME", "OP-a", "CA0190000", "OP-b", "CA0430000", T0, 20.0, (T0, T0 + timedelta(hours=1))
    )
    assert s.add_conflicts([c]) == [c] and s.add_conflicts([c]) == []
    assert [x.id for x in s.conflicts("CA0430000", 10)] == ["CNF-1"] and s.conflicts("CA0010000", 10) == []
    assert s.conflicts(None, 10)[0].overlap == c.overlap
    n = {"notice_id": "n1", "recipient_agency": "CA0190000", "found_at": T0, "text": "x"}
    s.add_notices([n, n])
    assert [x["notice_id"] for x in s.notices("CA0190000", 10)] == ["n1"] and s.notices("CA0430000", 10) == []
