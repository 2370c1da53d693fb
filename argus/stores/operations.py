"""The operations store: the deconfliction registry of planned operations, with a spatial and
temporal index (so a conflict check reads the few operations near in place and time, never the
whole registry), an index of the subjects and vehicles each names, and the conflicts found.

Operations are written against the version their editor read (optimistic concurrency); a
conflict is kept once by its deterministic id."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from argus.workflows.operation_model import Conflict, Contact, Operation


class StaleOperation(Exception):
    """The operation changed since the editor read it."""


class OperationStore(ABC):
    """Every backend answers the same contract (tests/contract/test_operation_store.py)."""

    @abstractmethod
    def put(self, op: Operation, expected: int | None) -> Operation:
        """Insert (`expected` None) or update the version `expected`; the stored copy (its
        version one higher) or StaleOperation."""

    @abstractmethod
    def get(self, op_id: str) -> Operation | None: ...

    @abstractmethod
    def near(self, box: tuple[float, float, float, float], start: datetime, end: datetime) -> list[Operation]:
        """Planned operations whose box (min_lat, max_lat, min_lon, max_lon) and time window
        overlap these, through the indexes."""

    @abstractmethod
    def naming(self, entities: Sequence[str]) -> list[Operation]:
        """Planned operations naming any of these subjects or vehicles."""

    @abstractmethod
    def of_agency(self, agency: str | None, limit: int) -> list[Operation]:
        """An agency's operations (None: every agency's), latest start first."""

    @abstractmethod
    def add_conflicts(self, conflicts: Sequence[Conflict]) -> list[Conflict]:
        """Keep these; the ones not kept before (a conflict is told once)."""

    @abstractmethod
    def conflicts(self, agency: str | None, limit: int) -> list[Conflict]:
        """Conflicts involving the agency (None: all, for the watch officer), newest first."""

    @abstractmethod
    def add_notices(self, notices: Sequence[dict[str, Any]]) -> None:
        """Keep deconfliction_notice.v1 bodies, once each by notice_id."""

    @abstractmethod
    def notices(self, agency: str, limit: int) -> list[dict[str, Any]]:
        """The notices addressed to the agency, newest first."""

    @abstractmethod
    def count(self) -> int: ...

    @abstractmethod
    def close(self) -> None: ...


def op_json(op: Operation) -> dict[str, Any]:
    d = {k: getattr(op, k) for k in Operation.__dataclass_fields__}
    d["contact"] = op.contact.__dict__
    d["start"], d["end"] = op.start.isoformat(), op.end.isoformat()
    d["subjects"], d["vehicles"] = list(op.subjects), list(op.vehicles)
    return d


def op_of(d: dict[str, Any]) -> Operation:
    return Operation(
        **(
            d
            | {
                "contact": Contact(**d["contact"]),
                "start": datetime.fromisoformat(d["start"]),
                "end": datetime.fromisoformat(d["end"]),
                "subjects": tuple(d["subjects"]),
                "vehicles": tuple(d["vehicles"]),
            }
        )
    )


def conflict_json(c: Conflict) -> dict[str, Any]:
    return {
        "id": c.id,
        "kind": c.kind,
        "a": c.a,
        "a_agency": c.a_agency,
        "b": c.b,
        "b_agency": c.b_agency,
        "found_at": c.found_at.isoformat(),
        "distance_m": c.distance_m,
        "entity": c.entity,
        "overlap": [t.isoformat() for t in c.overlap] if c.overlap else None,
        "encounter": c.encounter,
        "detail": c.detail,
    }


def conflict_of(d: dict[str, Any]) -> Conflict:
    ov = d.get("overlap")
    return Conflict(
        d["id"],
        d["kind"],
        d["a"],
        d["a_agency"],
        d["b"],
        d["b_agency"],
        datetime.fromisoformat(d["found_at"]),
        d.get("distance_m"),
        (datetime.fromisoformat(ov[0]), datetime.fromisoformat(ov[1])) if ov else None,
        d.get("entity", ""),
        d.get("encounter", ""),
        d.get("detail") or {},
    )
