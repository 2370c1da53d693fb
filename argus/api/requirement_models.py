"""What the requirement routes answer, as OpenAPI documents it, with their examples."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class RequirementOut(BaseModel):
    id: str
    code: str
    kind: str = Field(description="PIR | SIN")
    title: str
    questions: list[str]
    agency: str
    tlp: str
    area: dict[str, Any] | None
    start: str | None
    end: str | None
    behaviors: list[str]
    keywords: list[str]
    techniques: list[str]
    entity_types: list[str]
    created_by: str
    created_at: str


class RequirementList(BaseModel):
    total: int
    requirements: list[RequirementOut]


class GapRow(RequirementOut):
    answered: int = Field(description="Reports you see in full that answered it in the period")
    last_reported: str | None
    gap: bool
    taskings_open: int


class Gaps(BaseModel):
    since: str
    until: str
    gaps: int
    requirements: list[GapRow]


class ReportRow(BaseModel):
    report_id: str
    report_type: str
    occurred_at: str
    agency: str
    matched: list[str]


class Reporting(BaseModel):
    total: int
    reports: list[ReportRow]


class TaskingOut(BaseModel):
    id: str
    requirement: dict[str, Any]
    question: str
    to_agency: str
    to_subject: str
    due: str
    from_agency: str
    created_at: str
    status: str = Field(description="OPEN | ANSWERED")
    answer: str
    answered_at: str


class TaskingList(BaseModel):
    total: int
    taskings: list[TaskingOut]


# fmt: off
_REQ = {
    "id": "5b0e…", "code": "PIR-3", "kind": "PIR", "title": "Pre-operational surveillance of water infrastructure",
    "questions": ["Who is surveilling water treatment sites in the county?"], "agency": "CAFC00000",
    "tlp": "GREEN", "area": {"lat": 36.74, "lon": -119.79, "radius_km": 40}, "start": None, "end": None,
    "behaviors": ["SURVL", "PHOTO"], "keywords": ["water plant"], "techniques": ["T0883"], "entity_types": [],
    "created_by": "an-ccic", "created_at": "2026-11-01T09:00:00+00:00",
}
EXAMPLES: dict[str, Any] = {
    "requirement": _REQ,
    "gaps": {"since": "2026-11-06T00:00:00+00:00", "until": "2026-12-06T00:00:00+00:00", "gaps": 0,
             "requirements": [_REQ | {"answered": 4, "last_reported": "2026-12-01T11:00:00+00:00", "gap": False,
                                      "taskings_open": 1}]},
    "reporting": {"total": 1, "reports": [{"report_id": "8d1e…", "report_type": "sar",
                                          "occurred_at": "2026-12-01T11:00:00+00:00", "agency": "CA0190000",
                                          "matched": ["behavior SURVL"]}]},
    "tasking": {"id": "91c2…", "requirement": {"id": "5b0e…", "code": "PIR-3", "title": _REQ["title"],
                                              "questions": _REQ["questions"]},
                "question": "Have your staff seen anyone photographing the intake gates?", "to_agency": "CA0190000",
                "to_subject": "tlo-vega", "due": "2026-12-10T00:00:00+00:00", "from_agency": "CAFC00000",
                "created_at": "2026-12-03T09:00:00+00:00", "status": "OPEN", "answer": "", "answered_at": ""},
}
# fmt: on
