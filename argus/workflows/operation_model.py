"""Planned operations and their conflicts (the RISSafe model), as plain values.

An operation is a raid, warrant, buy/bust, surveillance, undercover meeting or arrest that an
agency plans at a place (a point and a radius) over a time window, against resolved subjects and
vehicles. Two operations conflict when they belong to different agencies and overlap in space
(the distance between their centres is under the sum of their radii) and in time, or when they
name the same subject or vehicle while neither is over. `conflicts_between` is the one
definition: the store's indexes only narrow the candidates it is asked about.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime

from argus.geo import metres
from argus.security.policy import Marking

KINDS = ("raid", "search_warrant", "buy_bust", "surveillance", "undercover_meeting", "arrest")
PLANNED, CANCELLED = "PLANNED", "CANCELLED"
SPACE_TIME, SUBJECT, VEHICLE, ENCOUNTER = "SPACE_TIME", "SUBJECT", "VEHICLE", "ENCOUNTER"
MAX_RADIUS_M = 50_000.0
_M_PER_DEG = 111_320.0
_NS = uuid.UUID("6f1c1d0e-8d0b-4c55-9a43-0a1e5b7d2c11")


@dataclass(frozen=True)
class Contact:
    """Whom the other side calls: the one thing of an operation another agency is told."""

    subject: str
    name: str
    phone: str


@dataclass(frozen=True)
class Operation:
    id: str
    agency: str
    kind: str
    title: str
    case_id: str
    contact: Contact
    start: datetime
    end: datetime
    lat: float
    lon: float
    radius_m: float
    address: str = ""
    subjects: tuple[str, ...] = ()
    vehicles: tuple[str, ...] = ()
    tlp: str = "AMBER"
    state: str = PLANNED
    version: int = 0
    created_by: str = ""

    @property
    def marking(self) -> Marking:
        return Marking(self.agency, self.tlp, cases=(self.case_id,) if self.case_id else ())

    def box(self) -> tuple[float, float, float, float]:
        """min_lat, max_lat, min_lon, max_lon of the circle: two circles that overlap have boxes
        that overlap, so the box is a safe first cut for a spatial index."""
        dlat = self.radius_m / _M_PER_DEG
        dlon = self.radius_m / (_M_PER_DEG * max(math.cos(math.radians(self.lat)), 0.01))
        return self.lat - dlat, self.lat + dlat, self.lon - dlon, self.lon + dlon

    def with_(self, **changes: object) -> Operation:
        return replace(self, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Conflict:
    """One conflict between operation `a` and operation `b` (or a field encounter with `a`'s
    subject): the kind, what overlapped and, for an entity, which one."""

    id: str
    kind: str
    a: str
    a_agency: str
    b: str
    b_agency: str
    found_at: datetime
    distance_m: float | None = None
    overlap: tuple[datetime, datetime] | None = None
    entity: str = ""
    encounter: str = ""
    detail: dict[str, str] = field(default_factory=dict)


def conflict_id(kind: str, a: str, b: str, entity: str = "") -> str:
    x, y = sorted((a, b))
    return "CNF-" + uuid.uuid5(_NS, f"{kind}|{x}|{y}|{entity}").hex[:16]


def overlap(a: Operation, b: Operation) -> tuple[datetime, datetime] | None:
    lo, hi = max(a.start, b.start), min(a.end, b.end)
    return (lo, hi) if lo < hi else None


def conflicts_between(a: Operation, b: Operation, now: datetime) -> list[Conflict]:
    """Every conflict of `a` (entered or changed) with `b`, newest definition of each kind."""
    if a.id == b.id or a.state != PLANNED or b.state != PLANNED:
        return []
    out: list[Conflict] = []
    when = overlap(a, b)
    if a.agency != b.agency and when is not None:
        d = metres(a.lat, a.lon, b.lat, b.lon)
        if d < a.radius_m + b.radius_m:
            out.append(
                Conflict(
                    conflict_id(SPACE_TIME, a.id, b.id),
                    SPACE_TIME,
                    a.id,
                    a.agency,
                    b.id,
                    b.agency,
                    now,
                    distance_m=round(d, 1),
                    overlap=when,
                )
            )
    if a.end > now and b.end > now:
        for kind, mine, theirs in ((SUBJECT, a.subjects, b.subjects), (VEHICLE, a.vehicles, b.vehicles)):
            for e in sorted(set(mine) & set(theirs)):
                out.append(
                    Conflict(
                        conflict_id(kind, a.id, b.id, e),
                        kind,
                        a.id,
                        a.agency,
                        b.id,
                        b.agency,
                        now,
                        overlap=when,
                        entity=e,
                    )
                )
    return out
