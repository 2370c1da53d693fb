"""What the playbook routes take and answer, as OpenAPI documents them. A playbook itself is the
CACAO document (or a STIX course-of-action carrying it), read as bytes so that export can give back
exactly what was imported."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from argus.api.models import _Open

VarName = Annotated[str, StringConstraints(pattern=r"^__[a-zA-Z_][a-zA-Z0-9_-]{0,199}__$")]
VarValue = Annotated[str, StringConstraints(max_length=65536)]
Path = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_.]+$")]


class _Form(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Trigger(_Form):
    kind: Literal["alert", "conflict", "risk", "sar_pattern", "schedule"]
    alert_type: Literal["QUERY_HIT", "INCIDENT_HIT", "ENCOUNTER_NOTICE", "RELATED_CASE"] | None = None
    min_level: Literal["LOW", "MEDIUM", "HIGH"] = "LOW"
    min_score: float = Field(0, ge=0, le=1000)
    conflict_kind: Annotated[str, StringConstraints(max_length=40)] | None = None
    pattern_kind: Annotated[str, StringConstraints(max_length=40)] | None = None
    every_s: int | None = Field(None, ge=1, le=31_536_000, description="schedule: seconds between runs")
    bind: dict[VarName, Path] = Field(
        default_factory=dict,
        max_length=50,
        description="external variable -> path into the event, like hits.0.fields.plate",
    )


class TriggersForm(_Form):
    triggers: list[Trigger] = Field(max_length=20)


class StartForm(_Form):
    variables: dict[VarName, VarValue] = Field(
        default_factory=dict, max_length=100, description="values for the playbook's external variables"
    )


class AnswerForm(_Form):
    values: dict[VarName, VarValue] = Field(default_factory=dict, max_length=100)


class ProblemOut(BaseModel):
    step: str
    rule: str
    message: str


class Validation(BaseModel):
    valid: bool
    problems: list[ProblemOut]


class PlaybookOut(_Open):
    id: str
    modified: str
    name: str
    tlp: str


class PlaybookList(BaseModel):
    playbooks: list[PlaybookOut]


class ExecutionOut(_Open):
    id: str
    playbook: str
    state: Literal["running", "waiting", "completed", "failed"]


class ExecutionList(BaseModel):
    executions: list[ExecutionOut]


class TaskOut(_Open):
    id: str
    state: Literal["open", "answered", "timed_out"]


class TaskList(BaseModel):
    tasks: list[TaskOut]


PB_ID = r"^playbook--[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
EXAMPLE_PB: dict[str, Any] = {
    "id": "playbook--0b6a3c1e-8d2f-4f5a-9e7b-1c2d3e4f5a6b", "modified": "2026-11-30T09:00:00.000Z",
    "name": "Block a hostile address at the perimeter", "tlp": "GREEN", "agency": "CA0190000",
    "imported_by": "analyst.kim", "triggers": [],
}  # fmt: skip
EXAMPLE_EX: dict[str, Any] = {
    "id": "EXEC-4c1f0a9d2e7b6a5c3d1e", "playbook": EXAMPLE_PB["id"], "name": EXAMPLE_PB["name"],
    "state": "completed", "started_by": "analyst.kim", "started_at": "2026-12-06T10:00:00+00:00",
    "trigger": {"kind": "alert", "event": "alerts/0/42"}, "inputs": {"__ip__": "198.51.100.7"},
}  # fmt: skip
EXAMPLE_TASK: dict[str, Any] = {
    "id": "TASK-5e2d1c0b9a8f7e6d", "state": "open", "instructions": "Approve the block of 198.51.100.7",
    "assignee": {"kind": "group", "name": "supervisor"}, "fields": {"__approved__": "bool"},
}  # fmt: skip
