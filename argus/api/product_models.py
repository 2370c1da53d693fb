"""What the product routes take and answer, as OpenAPI documents them.

A form names no author, agency or recipient identity of its own: the author and originating agency
are the caller's; whom it goes to is a dissemination list the policy resolves at publication.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from argus.records import InvalidRecord, Tlp
from argus.stores.products import OUTCOMES
from argus.workflows.product_model import CATEGORIES, CAVEATS, TEMPLATES, URGENCIES


def _clean(v: str) -> str:
    """Analysts' prose: any text, but no control or invisible direction-changing characters."""
    bad = next((ch for ch in v if unicodedata.category(ch) in ("Cc", "Cf") and ch not in "\n\t"), None)
    if bad is not None:
        raise ValueError(f"control or invisible character U+{ord(bad):04X} is not allowed")
    return v


Text = Annotated[str, AfterValidator(_clean)]
Ref = Annotated[str, Field(min_length=1, max_length=160, pattern=r"^[A-Za-z0-9_.:\-]+$")]
Name = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:\-]+$")]


def _tlp(v: str | None) -> str | None:
    if v is None:
        return None
    try:
        return Tlp.parse(v).value
    except InvalidRecord as exc:
        raise ValueError(str(exc)) from None


def _caveats(v: list[str]) -> list[str]:
    bad = [c for c in v if c not in CAVEATS]
    if bad:
        raise ValueError(f"unknown caveat {bad[0][:32]!r}; one of {', '.join(CAVEATS)}")
    return list(dict.fromkeys(v))


class PortionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tlp: Annotated[str | None, AfterValidator(_tlp)] = Field(None, description="More restrictive than the whole")
    caveats: Annotated[list[str], AfterValidator(_caveats)] = Field(default_factory=list, max_length=4)
    criminal_intelligence: bool = False
    named: list[Name] = Field(default_factory=list, max_length=50,
                              description="Whom a RED, AMBER+STRICT or NO_FURTHER_DISSEMINATION paragraph names: "
                              "user ids, or agency ORIs")  # fmt: skip


class ParagraphIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: Text = Field(min_length=1, max_length=8000)
    portion: PortionIn | None = None
    sources: list[Ref] = Field(default_factory=list, max_length=50, description="Record ids the paragraph quotes")


class EmbedIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["entity", "record", "graph", "map", "timeline"]
    ref: Ref
    caption: Text = Field("", max_length=300)


class DisseminationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    agencies: list[Name] = Field(default_factory=list, max_length=200)
    units: list[Name] = Field(default_factory=list, max_length=200)
    roles: list[Name] = Field(default_factory=list, max_length=10)
    regions: list[Name] = Field(default_factory=list, max_length=50, description="Agencies' communities")
    sectors: list[Name] = Field(default_factory=list, max_length=50, description="Dissemination lists")
    named: list[Name] = Field(default_factory=list, max_length=500, description="User ids")
    taxii: bool = Field(False, description="Partner centres: the shared TAXII collection")
    private_sector: bool = Field(False, description="Marked for private-sector partners")


class ProductForm(BaseModel):
    """A draft (POST) or its edit (PUT, with the `version` it was read at)."""

    model_config = ConfigDict(extra="forbid")
    type: Literal[tuple(TEMPLATES)]  # type: ignore[valid-type]
    title: Text = Field(min_length=1, max_length=300)
    tlp: Annotated[str | None, AfterValidator(_tlp)] = Field(None, description="Default: the template's")
    caveats: Annotated[list[str] | None, AfterValidator(lambda v: None if v is None else _caveats(v))] = None
    criminal_intelligence: bool = False
    cases: list[Name] = Field(default_factory=list, max_length=20)
    urgency: Literal[URGENCIES] = "ROUTINE"  # type: ignore[valid-type]
    topic: Text = Field("", max_length=200)
    category: Literal[CATEGORIES] = "other"  # type: ignore[valid-type]
    period_start: str = Field("", pattern=r"^(\d{4}-\d{2}-\d{2})?$")
    period_end: str = Field("", pattern=r"^(\d{4}-\d{2}-\d{2})?$")
    sections: dict[Name, list[ParagraphIn]] = Field(default_factory=dict, max_length=20)
    fields: dict[Name, Annotated[Text, Field(max_length=500)]] = Field(default_factory=dict, max_length=20)
    embeds: list[EmbedIn] = Field(default_factory=list, max_length=50)
    sources: list[Ref] = Field(default_factory=list, max_length=100)
    dissemination: DisseminationIn = Field(default_factory=DisseminationIn)
    requested_at: datetime | None = Field(None, description="When the product was asked for (RFI, requirement)")
    version: int | None = Field(None, ge=0, description="PUT: the version the edit was made on")

    @field_validator("sections")
    @classmethod
    def _paragraphs(cls, v: dict[str, list[ParagraphIn]]) -> dict[str, list[ParagraphIn]]:
        if sum(len(x) for x in v.values()) > 400:
            raise ValueError("at most 400 paragraphs")
        return v


class StepIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Text = Field(min_length=1, max_length=2000)
    outcome: str | None = Field(None, max_length=16, description="Review: PASS | RETURN; approval: APPROVE | RETURN")
    version: int | None = Field(None, ge=0, description="The version the decision was made on")


class FeedbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    useful: int = Field(3, ge=1, le=5)
    actionable: bool = False
    outcome: Literal[OUTCOMES] = "none"  # type: ignore[valid-type]
    comment: Text = Field("", max_length=2000)


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class ProductSummary(_Open):
    id: str
    series: str
    revision: int
    type: str
    title: str
    state: str
    urgency: str
    category: str
    topic: str
    agency: str
    tlp: str
    created_at: str
    published_at: str | None
    superseded_by: str | None


class Library(BaseModel):
    total: int
    products: list[ProductSummary]


class ProductOut(ProductSummary):
    banner: str
    caveats: list[str]
    criminal_intelligence: bool
    sections: list[dict[str, Any]]
    fields: dict[str, str]
    embeds: list[dict[str, Any]]
    sources: list[str]
    removed: int = Field(description="Paragraphs left out of your copy by their portion marking")
    version: int
    revisions: list[dict[str, Any]] = Field(description="Every revision of the product you may see")
    author: str | None = Field(None, description="The originating agency's readers only, as the rest below")
    steps: list[dict[str, Any]] | None = Field(None, description="The workflow so far: who, when, why")
    cases: list[str] | None = None
    dissemination: dict[str, Any] | None = None
    content: dict[str, list[dict[str, Any]]] | None = Field(
        None, description="Every paragraph with its portion marking and sources, for editing"
    )
    quoted: list[str] | None = Field(None, description="The sources of the whole")


class Templates(BaseModel):
    templates: list[dict[str, Any]]
    caveats: dict[str, str]


class DeliveryOut(_Open):
    recipient: str
    agency: str
    channel: str
    status: str
    reason: str
    removed: int
    at: str | None
    received_at: str | None
    read_at: str | None


class Deliveries(BaseModel):
    product: str
    delivered: int
    withheld: int
    read: int
    deliveries: list[DeliveryOut]


class Inbox(BaseModel):
    total: int
    products: list[dict[str, Any]]


class FeedbackList(BaseModel):
    product: str
    feedback: list[dict[str, Any]]


class Production(BaseModel):
    agency: str
    since: str
    products: list[dict[str, Any]]
    publication_hours: dict[str, Any]
    deliveries: list[dict[str, Any]]
    read_rate: float | None
    feedback: list[dict[str, Any]]
    useful_mean: float | None
    taskings_answered: int
