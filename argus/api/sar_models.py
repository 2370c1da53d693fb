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


def categories() -> list[dict[str, str]]:
    return [{"code": b.code, "title": b.title, "group": b.group, "plain": b.plain} for b in BY_CODE.values()]


_SUMMARY = {
    "id": "8d1e…", "sar_id": "SAR-1F2E3D4C5B6A", "state": "SUBMITTED", "behavior": "SURVL", "priority": "HIGH",
    "score": 67.0, "agency": "CA0190000", "tlp": "TLP:AMBER", "public_tip": False,
    "received_at": "2026-11-03T14:25:00+00:00", "due_at": "2026-11-03T15:25:00+00:00", "breached": False,
    "reasons": [{"factor": "site", "points": 20.0, "detail": "310 m from Riverside water treatment (water)"}],
}  # fmt: skip
_STEP = {"step": "initial_review", "outcome": "ACCEPT", "at": "2026-11-03T14:50:00+00:00", "agency": "CAFC00000",
         "feedback": "Thank you: complete and specific.", "questions": []}  # fmt: skip
SAR_EXAMPLES: dict[str, Any] = {
    "queue": {"total": 1, "sars": [_SUMMARY]},
    "detail": _SUMMARY
    | {
        "narrative": "Two men photographed the plant's gate and noted guard change times.",
        "occurred_at": "2026-11-03T11:00:00+00:00",
        "submitted_by": "Ofc. J. Ruiz",
        "submitter_role": "analyst",
        "contact": {"name": "Ofc. J. Ruiz", "phone": "559-555-0142"},
        "lat": 36.7412,
        "lon": -119.7901,
        "site_category": "water",
        "override": None,
        "shared_as": None,
        "version": 3,
        "steps": [_STEP | {"actor": "an-fc", "reason": "complete", "ratings": {"who": 2}, "facts": ""}],
    },
    "mine": {
        "total": 1,
        "sars": [
            {
                "id": "8d1e…",
                "sar_id": "SAR-1F2E3D4C5B6A",
                "state": "ACCEPTED",
                "behavior": "SURVL",
                "received_at": "2026-11-03T14:25:00+00:00",
                "steps": [_STEP],
            }
        ],
    },
    "receipt": {"id": "8d1e…", "sar_id": "SAR-1F2E3D4C5B6A", "state": "SUBMITTED"},
    "categories": {"categories": categories()[:1]},
    "tip": {"receipt": "SAR-1F2E3D4C5B6A", "status": "received", "message": "Thank you. Your tip was received."},
}
