"""What the case, message, RFI and training routes take, as OpenAPI documents them. A form names
no author or agency: those are the caller's."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import orjson
from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from argus.api.product_models import Name, Ref, Text, _caveats
from argus.workflows.case_model import CASE_ROLES, CASE_TYPES, TASK_STATES

CaseType = Literal["investigation", "task_force", "threat", "event_security", "intelligence"]
CaseRole = Literal["lead", "investigator", "analyst", "read_only"]
TaskState = Literal["OPEN", "IN_PROGRESS", "DONE", "CANCELLED"]
assert set(CaseType.__args__) == set(CASE_TYPES) and set(CaseRole.__args__) == set(CASE_ROLES)  # type: ignore[attr-defined]
assert set(TaskState.__args__) == set(TASK_STATES)  # type: ignore[attr-defined]
Tlp = Literal["CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"]
MAX_INT = 2**62  # versions and sequence numbers: what every store's integer column holds


def _plausible(v: datetime) -> datetime:
    if not 1970 <= v.year <= 2200:
        raise ValueError("a date between 1970 and 2200")
    return v


When = Annotated[AwareDatetime, AfterValidator(_plausible)]  # with its time zone: compared with other times
Caveats = Annotated[list[str], AfterValidator(_caveats)]


class _Form(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CaseForm(_Form):
    title: Annotated[Text, Field(min_length=1, max_length=200)]
    type: CaseType = "investigation"
    tlp: Literal["GREEN", "AMBER", "AMBER+STRICT", "RED"] = "AMBER"
    caveats: Caveats = Field(default_factory=list, max_length=4)
    criminal_intelligence: bool = False
    predicate: Annotated[Text, Field(max_length=2000)] = Field(
        "", description="28 CFR 23.20(a): the criminal predicate, required with criminal intelligence"
    )
    summary: Annotated[Text, Field(max_length=4000)] = ""


class MemberForm(_Form):
    subject: Name = Field(description="The user's id in the directory")
    role: CaseRole | None = Field(description="Their role in the case; null removes them")
    version: int = Field(ge=1, le=MAX_INT)


class StatusForm(_Form):
    status: Literal["OPEN", "SUSPENDED", "CLOSED"]
    version: int = Field(ge=1, le=MAX_INT)


def _chart(v: dict[str, Any]) -> dict[str, Any]:
    """A chart is kept as JSON: every number must fit in 64 bits, and the whole in 1 MB."""
    try:
        size = len(orjson.dumps(v))
    except TypeError as exc:
        raise ValueError(f"not storable as JSON ({exc})") from None
    if size > 1_000_000:
        raise ValueError("larger than 1 MB")
    return v


class ChartForm(_Form):
    chart: Annotated[dict[str, Any], AfterValidator(_chart)] = Field(
        description="The link chart as the workbench saved it: nodes, edges, positions"
    )
    version: int = Field(ge=1, le=MAX_INT)


class TaskForm(_Form):
    title: Annotated[Text, Field(min_length=1, max_length=200)]
    assignee: Annotated[str, Field(max_length=64, pattern=r"^[A-Za-z0-9_.:\-]*$")] = ""
    due: When
    state: TaskState = "OPEN"
    version: int | None = Field(None, ge=1, le=MAX_INT, description="On a change: the version you read")


class NoteForm(_Form):
    text: Annotated[Text, Field(min_length=1, max_length=4000)]


class LinkForm(_Form):
    kind: Literal["entity", "record", "alert"]
    ref: Ref
    note: Annotated[Text, Field(max_length=500)] = ""


class MessageForm(_Form):
    text: Annotated[Text, Field(min_length=1, max_length=8000)]
    tlp: Tlp | None = Field(None, description="Default: the case's")
    criminal_intelligence: bool = False
    caveats: Caveats = Field(default_factory=list, max_length=4)
    named: list[Name] = Field(
        default_factory=list,
        max_length=50,
        description="Who a RED message is for: user:<id> or agency ORIs (its author's agency always sees it)",
    )
    mentions: list[Name] = Field(default_factory=list, max_length=20)
    attachments: list[Ref] = Field(default_factory=list, max_length=10)


class DirectForm(_Form):
    to: Name
    text: Annotated[Text, Field(min_length=1, max_length=8000)]
    criminal_intelligence: bool = False


class ReadForm(_Form):
    thread: Annotated[
        str,
        Field(min_length=3, max_length=200, pattern=r"^(case:CASE-[0-9a-f]{16}|dm:[A-Za-z0-9.\-]+\|[A-Za-z0-9.\-]+)$"),
    ]
    upto: int = Field(ge=1, le=MAX_INT, description="Every message of the thread up to this sequence number is read")


class RfiForm(_Form):
    question: Annotated[Text, Field(min_length=1, max_length=4000)]
    addressees: list[Annotated[str, Field(pattern=r"^[A-Z0-9]{9}$")]] = Field(min_length=1, max_length=50)
    priority: Literal["ROUTINE", "PRIORITY", "URGENT"] = "ROUTINE"
    due: When
    case_id: Annotated[str, Field(max_length=64, pattern=r"^[A-Za-z0-9_.:\-]*$")] = ""
    tlp: Literal["GREEN", "AMBER", "AMBER+STRICT", "RED"] = "AMBER"


class AnswerForm(_Form):
    answer: Annotated[Text, Field(min_length=1, max_length=8000)]
    records: list[Ref] = Field(default_factory=list, max_length=100)
    version: int = Field(ge=1, le=MAX_INT)


class VersionForm(_Form):
    version: int = Field(ge=1, le=MAX_INT)


class TrainingForm(_Form):
    completed: When
    expires: When


class CaseOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str
    title: str
    type: str
    lead_agency: str
    status: str
    tlp: str
    version: int
    members: list[dict[str, Any]]


class CaseList(BaseModel):
    cases: list[CaseOut]


class Listing(BaseModel):
    model_config = ConfigDict(extra="allow")


class ShiftForm(_Form):
    start: When
    end: When
    staff: list[Name] = Field(default_factory=list, max_length=100, description="User ids on the shift")


class LogForm(_Form):
    kind: Literal["event", "call", "decision"]
    text: Annotated[Text, Field(min_length=1, max_length=4000)]
    ref: Annotated[str, Field(max_length=160, pattern=r"^[A-Za-z0-9_.:\-]*$")] = ""


class HandoverForm(_Form):
    notes: Annotated[Text, Field(max_length=20_000)] = Field("", description="The outgoing officer's own words")
    incoming: Name = Field(description="The incoming watch officer's user id")
    version: int = Field(ge=1, le=MAX_INT)


class Agreement(_Form):
    title: Annotated[Text, Field(min_length=1, max_length=200)]
    start: When
    end: When


class PartnerContact(_Form):
    name: Annotated[Text, Field(min_length=1, max_length=120)]
    role: Annotated[Text, Field(max_length=120)] = ""
    phone: Annotated[str, Field(max_length=32, pattern=r"^[0-9+() .\-x]*$")] = ""
    email: Annotated[str, Field(max_length=200, pattern=r"^[^@\s]+@[^@\s]+$|^$")] = ""


class PartnerForm(_Form):
    name: Annotated[Text, Field(min_length=1, max_length=200)]
    kind: Literal["law_enforcement", "private_sector", "community", "government", "academic"]
    sector: Annotated[Text, Field(max_length=100)] = Field("", description="e.g. energy, transport, faith community")
    ori: Annotated[str, Field(pattern=r"^([A-Z0-9]{9})?$")] = Field(
        "", description="Its ORI, where it is in the directory"
    )
    contacts: list[PartnerContact] = Field(default_factory=list, max_length=50)
    agreements: list[Agreement] = Field(default_factory=list, max_length=20, description="MOUs and their dates")
    version: int | None = Field(None, ge=1, le=MAX_INT, description="On a change: the version you read")


class EngagementForm(_Form):
    kind: Literal["meeting", "outreach", "training", "call", "feedback"]
    at: When
    summary: Annotated[Text, Field(min_length=1, max_length=4000)]
    rating: int | None = Field(None, ge=1, le=5, description="Feedback: how useful they found what they got, 1-5")
