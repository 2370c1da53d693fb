"""The SAR forms (what agencies, partners, TLOs and the public send) and the SAR answers, as
OpenAPI documents them. Every text field passes `plain` (argus/workflows/sar_intake.py): no
markup, no invisible or direction-changing characters, bounded length."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from argus.workflows.sar_intake import plain
from argus.workflows.sar_model import BY_CODE, CHECKLIST
from argus.workflows.sar_review import SarRefused

Behavior = Literal[
    "INTRSN", "MISREP", "THEFT", "SABOT", "CYBER", "THREAT", "AVIATION", "ELICIT", "TESTSEC", "RECRUT", "PHOTO",
    "SURVL", "MATRLS", "EXPERT", "WPNS", "SECTOR",
]  # fmt: skip
Tlp = Literal["TLP:CLEAR", "TLP:GREEN", "TLP:AMBER", "TLP:AMBER+STRICT", "TLP:RED"]


class _Form(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _plain_text(cls, data: Any) -> Any:
        """Every string, however deep, refused where it hides or carries anything but text."""

        def walk(v: Any, where: str) -> Any:
            if isinstance(v, str):
                try:
                    return plain(v, where, 8000)
                except SarRefused as exc:
                    raise ValueError(str(exc)) from None
            if isinstance(v, dict):
                return {k: walk(x, f"{where}.{k}" if where else str(k)) for k, x in v.items()}
            if isinstance(v, list):
                return [walk(x, f"{where}[{i}]") for i, x in enumerate(v)]
            return v

        return walk(data, "")


class Where(_Form):
    address: str | None = Field(default=None, max_length=256, description="Street address or a description")
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)

    @model_validator(mode="after")
    def _somewhere(self) -> Where:
        if not self.address and (self.lat is None or self.lon is None):
            raise ValueError("where: give an address or both lat and lon")
        return self


class Contact(_Form):
    name: str = Field(min_length=2, max_length=128, description="Who to ask for more information")
    phone: str | None = Field(default=None, max_length=32)
    email: str | None = Field(default=None, max_length=128)


class PersonSeen(_Form):
    given: str | None = Field(default=None, max_length=64)
    surname: str | None = Field(default=None, max_length=64)
    dob: str | None = Field(default=None, max_length=10, description="YYYY-MM-DD, if known")
    sex: Literal["M", "F", "U"] | None = None
    descriptors: list[str] = Field(default=[], max_length=10, description="Height, build, clothing, marks")


class VehicleSeen(_Form):
    plate: str | None = Field(default=None, max_length=16)
    state: str | None = Field(default=None, max_length=2)
    vin: str | None = Field(default=None, max_length=24)
    make: str | None = Field(default=None, max_length=24)
    model: str | None = Field(default=None, max_length=32)
    colour: str | None = Field(default=None, max_length=16)


class SarForm(_Form):
    """The ISE-SAR fields: what behaviour, who, what, where, when, who is reporting and how to
    reach them, and whether the activity may be constitutionally protected."""

    behavior: Behavior = Field(description="ISE-SAR behaviour category (GET /api/v1/sar/categories explains each)")
    occurred_at: datetime = Field(description="When it happened (ISO 8601 with a zone)")
    narrative: str = Field(min_length=20, max_length=8000, description="What happened and why it seemed suspicious")
    where: Where
    site_category: str | None = Field(default=None, max_length=64, description="The kind of site, if it was one")
    persons: list[PersonSeen] = Field(default=[], max_length=20)
    vehicles: list[VehicleSeen] = Field(default=[], max_length=20)
    contact: Contact
    protected_activity: bool = Field(
        description="Could the activity be constitutionally protected (speech, assembly, religion, the press)? "
        "Say so: reviewers weigh it, and a SAR based solely on it is not kept as intelligence"
    )
    tlp: Tlp = "TLP:AMBER"
    reliability: Literal["A", "B", "C", "D", "E", "F"] = Field(
        default="F", description="The source's reliability (A reliable ... E unreliable, F cannot be judged)"
    )
    validity: int = Field(
        default=6, ge=1, le=6, description="The content's validity (1 confirmed ... 6 cannot be judged)"
    )

    @field_validator("occurred_at")
    @classmethod
    def _past(cls, v: datetime) -> datetime:
        if v.tzinfo is None:
            raise ValueError("give a time zone (e.g. 2026-11-03T14:20:00-08:00)")
        if v > datetime.now(UTC):
            raise ValueError("a SAR reports what already happened")
        return v

    def as_form(self) -> dict[str, Any]:
        out = self.model_dump(mode="json", exclude_none=True)
        out["occurred_at"] = self.occurred_at.isoformat()
        out["where"] = self.where.model_dump(exclude_none=True)
        return out


class TipForm(_Form):
    """A member of the public's tip: anonymous, or with a way to reach them."""

    behavior: Behavior = Field(description="The closest category; SECTOR or SURVL when unsure")
    occurred_at: datetime
    narrative: str = Field(min_length=20, max_length=4000)
    where: Where
    contact: Contact | None = Field(default=None, description="Leave out to stay anonymous")
    protected_activity: bool = False

    _past = field_validator("occurred_at")(SarForm._past.__func__)  # type: ignore[attr-defined]

    def as_form(self) -> dict[str, Any]:
        out = self.model_dump(mode="json", exclude_none=True)
        out["occurred_at"] = self.occurred_at.isoformat()
        out["where"] = self.where.model_dump(exclude_none=True)
        return out


class Review(_Form):
    outcome: Literal["ACCEPT", "RETURN", "CLOSE"]
    reason: str = Field(min_length=3, max_length=2000, description="Why (kept in the audit trail)")
    basis_confirmed: bool = Field(
        default=False, description="ACCEPT: the SAR describes behaviour in the standard and is not based solely on "
        "race, ethnicity, national origin, religion or constitutionally protected activity",
    )  # fmt: skip
    questions: list[str] = Field(default=[], max_length=20, description="RETURN: what the submitter should answer")
    feedback: str = Field(default="", max_length=2000, description="What the submitter is told")
    ratings: dict[str, int] = Field(default={}, description=f"Checklist, 0-2 each: {', '.join(CHECKLIST)}")


class Vetting(_Form):
    outcome: Literal["ISE_SAR", "LOCAL", "CLOSE"]
    reason: str = Field(min_length=3, max_length=2000, description="The nexus to terrorism, or why not")
    facts: str = Field(default="", max_length=8000, description="Facts gathered (required for the second group)")
    feedback: str = Field(default="", max_length=2000)
    ratings: dict[str, int] = Field(default={})
    release_tlp: Literal["TLP:CLEAR", "TLP:GREEN", "TLP:AMBER"] = Field(
        default="TLP:GREEN", description="ISE_SAR: the marking it is shared under in the shared space"
    )


class Override(_Form):
    score: float = Field(ge=0, le=100)
    reason: str = Field(min_length=3, max_length=2000)


class Answers(_Form):
    answers: str = Field(min_length=3, max_length=8000, description="Answers to the reviewer's questions")


# --- answers ------------------------------------------------------------------------------------
class TriageReason(BaseModel):
    factor: str = Field(description="behavior, holdings, site, nearby_sars, reliability, track_record, age")
    points: float
    detail: str


class SarSummary(BaseModel):
    id: str
    sar_id: str
    state: str
    behavior: str
    priority: str
    score: float = Field(description="The triage score, or a reviewer's override")
    agency: str
    tlp: str
    public_tip: bool
    received_at: str
    due_at: str | None
    breached: bool
    reasons: list[TriageReason]
    place: str
    protected_activity: bool


class ReviewStep(BaseModel):
    step: str
    outcome: str
    actor: str
    agency: str
    at: str
    reason: str
    questions: list[str]
    feedback: str
    ratings: dict[str, int]
    facts: str


class SarDetail(SarSummary):
    narrative: str
    occurred_at: str
    submitted_by: str
    submitter_role: str
    contact: dict[str, str]
    lat: float | None
    lon: float | None
    site_category: str
    override: dict[str, Any] | None
    shared_as: str | None = Field(description="The STIX report an ISE-SAR was shared as")
    steps: list[ReviewStep]
    version: int


class SarQueue(BaseModel):
    total: int = Field(description="SARs in those states the caller may review")
    sars: list[SarSummary]


class SubmitterStep(BaseModel):
    step: str
    outcome: str
    at: str
    agency: str
    feedback: str
    questions: list[str]


class MySar(BaseModel):
    id: str
    sar_id: str
    state: str
    behavior: str
    received_at: str
    steps: list[SubmitterStep]


class MySars(BaseModel):
    total: int
    sars: list[MySar]


class SarReceipt(BaseModel):
    id: str
    sar_id: str
    state: str


class TipReceipt(BaseModel):
    receipt: str = Field(description="The tip's number, to quote if you call")
    status: str
    message: str


class Category(BaseModel):
    code: str
    title: str
    group: str
    plain: str = Field(description="What it means, in plain words")


class Categories(BaseModel):
    categories: list[Category]


class Pattern(BaseModel):
    pattern_id: str
    kind: str = Field(description="SPACE_TIME_CLUSTER | CROSS_AGENCY | RISING")
    recipient_agency: str
    sars: list[str] = Field(description="The SARs' record ids")
    sar_ids: list[str] = Field(description="Their SAR numbers")
    agencies: list[str]
    behaviors: list[str]
    site_category: str
    observed: int
    expected: float = Field(description="What chance would give (0 where the rule is a count, not a test)")
    p_value: float
    why: str
    lat: float | None
    lon: float | None
    first_at: str
    last_at: str
    detected_at: str


class Patterns(BaseModel):
    total: int
    patterns: list[Pattern]


class TrendSeries(BaseModel):
    behavior: str
    weeks: list[str] = Field(description="Each week's Monday")
    counts: list[int]
    forecast: float = Field(description="The mean of the baseline weeks before the last")
    interval: list[float] = Field(description="95% prediction interval for the last week")
    above: bool


class Trends(BaseModel):
    weeks: int
    baseline_weeks: int
    series: list[TrendSeries]


class AgencyQuality(BaseModel):
    agency: str
    submitted: int
    reviewed: int
    accepted: int
    acceptance_rate: float | None
    completeness: float | None = Field(description="Mean share of the checklist rated complete (0-1)")
    median_hours_to_review: float | None
    ise_sar: int
    public_tips: int


class Quality(BaseModel):
    days: int
    checklist: list[str]
    agencies: list[AgencyQuality]


def categories() -> list[dict[str, str]]:
    return [{"code": b.code, "title": b.title, "group": b.group, "plain": b.plain} for b in BY_CODE.values()]
