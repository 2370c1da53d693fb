"""What the deconfliction routes take and answer, as OpenAPI documents them. A form names no
agency: an operation is registered by the caller's own agency."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from argus.api.case_models import MAX_INT, When
from argus.api.product_models import Ref, Text
from argus.workflows.operation_model import KINDS, MAX_RADIUS_M

Kind = Literal["raid", "search_warrant", "buy_bust", "surveillance", "undercover_meeting", "arrest"]
assert set(Kind.__args__) == set(KINDS)  # type: ignore[attr-defined]
MAX_SPAN = timedelta(days=31)


class OperationForm(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Kind
    title: Annotated[Text, Field(min_length=1, max_length=200)]
    case_id: Annotated[str, Field(max_length=64, pattern=r"^[A-Za-z0-9_.:\-]*$")] = ""
    contact_name: Annotated[Text, Field(min_length=1, max_length=120)]
    contact_phone: Annotated[str, Field(min_length=3, max_length=32, pattern=r"^[0-9+() .\-x]+$")]
    start: When = Field(description="With a time zone")
    end: When
    lat: float | None = Field(None, ge=-85, le=85)
    lon: float | None = Field(None, ge=-180, le=180)
    address: Annotated[Text, Field(max_length=200)] = Field(
        "", description="Geocoded against the places Argus holds for your agency when no point is given"
    )
    radius_m: float = Field(200.0, gt=0, le=MAX_RADIUS_M)
    subjects: list[Ref] = Field(default_factory=list, max_length=50, description="Resolved person entity ids")
    vehicles: list[Ref] = Field(default_factory=list, max_length=50, description="Resolved vehicle entity ids")
    tlp: Literal["AMBER", "AMBER+STRICT", "RED"] = "AMBER"
    version: int | None = Field(None, ge=1, le=MAX_INT, description="On a change: the version you read")

    @model_validator(mode="after")
    def _window(self) -> OperationForm:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("start and end need a time zone")
        if self.end <= self.start:
            raise ValueError("end must be after start")
        if self.end - self.start > MAX_SPAN:
            raise ValueError("an operation spans at most 31 days")
        if (self.lat is None) != (self.lon is None):
            raise ValueError("lat and lon come together")
        if self.lat is None and not self.address.strip():
            raise ValueError("a point (lat, lon) or an address is needed")
        return self


class CancelForm(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: int = Field(ge=1, le=MAX_INT)


class Party(BaseModel):
    agency: str
    contact_name: str
    contact_phone: str
    operation: str | None = None


class NoticeOut(BaseModel):
    notice_id: str
    conflict_id: str
    kind: str = Field(description="SPACE_TIME | SUBJECT | VEHICLE | ENCOUNTER")
    recipient_agency: str
    recipient_officer: str | None = None
    watch: bool
    operation: str | None = None
    operation_title: str | None = None
    parties: list[Party]
    distance_m: float | None = None
    overlap_start: Any = None
    overlap_end: Any = None
    entity: str | None = None
    encounter: str | None = None
    text: str
    found_at: Any


class OperationOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str
    agency: str
    kind: str
    title: str
    state: str
    version: int
    start: datetime
    end: datetime


class Registered(BaseModel):
    operation: OperationOut
    notices: list[NoticeOut] = Field(description="Conflicts found on this entry: what was told to whom")


class OperationList(BaseModel):
    operations: list[OperationOut]


class NoticeList(BaseModel):
    notices: list[NoticeOut]
