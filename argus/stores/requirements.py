"""Priority intelligence requirements and standing information needs, the reporting that answered
them, and the taskings of the collection plan: one store, SQLite embedded and PostgreSQL on a
server (argus/stores/sql_requirements.py), one contract suite.

A requirement and each report that answered it keep their markings, so the gap view counts, for
each reader, only the reporting that reader sees in full (the policy pushed into the SQL).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from argus.security.policy import Marking
from argus.stores.search import Audience


@dataclass
class Requirement:
    """What a fusion centre needs to know: the questions, where and when, and the indicators that
    say a report speaks to it (any one of them)."""

    id: str
    code: str  # e.g. PIR-3, SIN-12
    kind: str  # PIR | SIN
    title: str
    questions: list[str]
    marking: Marking
    created_by: str
    created_at: str
    lat: float | None = None
    lon: float | None = None
    radius_km: float | None = None
    start: str | None = None  # ISO timestamps bounding when the reported activity happened
    end: str | None = None
    behaviors: list[str] = field(default_factory=list)  # ISE-SAR codes
    keywords: list[str] = field(default_factory=list)
    techniques: list[str] = field(default_factory=list)  # ATT&CK ids
    entity_types: list[str] = field(default_factory=list)  # PERSON, OBJECT, LOCATION...


@dataclass
class Hit:
    """A report that answered a requirement, under the report's own marking."""

    requirement_id: str
    report_id: str
    report_type: str
    matched: list[str]
    occurred_at: str
    marking: Marking
    via: str = "text"  # text: the report itself; ttp: its ATT&CK match (a report may answer both ways)


@dataclass
class Tasking:
    """A collection-plan task: a question for a partner agency or a TLO about a requirement."""

    id: str
    requirement_id: str
    question: str
    to_agency: str
    to_subject: str  # "" for the whole agency
    due: str
    created_by: str
    created_by_agency: str
    created_at: str
    status: str = "OPEN"  # OPEN | ANSWERED
    answer: str = ""
    answered_by: str = ""
    answered_at: str = ""


class RequirementStore(ABC):
    @abstractmethod
    def put_requirement(self, r: Requirement) -> None: ...

    @abstractmethod
    def requirement(self, rid: str) -> Requirement | None: ...

    @abstractmethod
    def requirements(self, audience: Audience | None, limit: int) -> list[Requirement]:
        """Requirements the audience sees in full (None: every one, for the matching node), by code."""

    @abstractmethod
    def add_hits(self, hits: Sequence[Hit]) -> None:
        """Idempotent: a report answers a requirement once (each way), however often it is replayed."""

    @abstractmethod
    def answered(self, audience: Audience | None, ids: Sequence[str], since: str,
                 until: str) -> dict[str, tuple[int, str | None]]:  # fmt: skip
        """For each requirement: how many reports the audience sees in full answered it with
        activity in [since, until], and the latest such activity."""

    @abstractmethod
    def reporting(self, audience: Audience | None, rid: str, limit: int) -> list[Hit]:
        """The reports that answered `rid` which the audience sees in full, newest first."""

    @abstractmethod
    def put_tasking(self, t: Tasking) -> None: ...

    @abstractmethod
    def tasking(self, tid: str) -> Tasking | None: ...

    @abstractmethod
    def taskings(self, *, agency: str | None = None, subject: str | None = None, requirement: str | None = None,
                 limit: int = 200) -> list[Tasking]:  # fmt: skip
        """Taskings addressed to `agency` (to it as a whole, or to `subject` in it), or those of
        `requirement`; newest first."""

    @abstractmethod
    def close(self) -> None: ...


def describe(r: Requirement) -> dict[str, Any]:
    m = r.marking
    return {
        "id": r.id, "code": r.code, "kind": r.kind, "title": r.title, "questions": r.questions,
        "agency": m.agency, "tlp": m.tlp, "area": {"lat": r.lat, "lon": r.lon, "radius_km": r.radius_km}
        if r.lat is not None else None, "start": r.start, "end": r.end, "behaviors": r.behaviors,
        "keywords": r.keywords, "techniques": r.techniques, "entity_types": r.entity_types,
        "created_by": r.created_by, "created_at": r.created_at,
    }  # fmt: skip
