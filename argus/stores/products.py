"""The product store: every revision of every intelligence product with its marking, workflow and
dissemination; one delivery row per recipient and channel (with receipt and read times); and
consumers' feedback. Products are edited concurrently by authors, reviewers and approvers, so a
save is conditional on the version read.

Library reads take the reader's `Audience` and keep, inside the query, only products the reader
sees in full under the one policy (and LES products only for law-enforcement readers); a product
not yet released is seen only in its originating agency. Full text matches only the words of a
product's unrestricted paragraphs, never a portion-marked one.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from argus.stores.search import Audience
from argus.workflows.product_model import Product


class StaleProduct(Exception):
    """Someone else changed the product since it was read."""


@dataclass(frozen=True)
class Delivery:
    """A product's delivery to one recipient over one channel, or why it was withheld."""

    product: str
    recipient: str  # a subject id, or "taxii:<collection>"
    agency: str
    channel: str  # field, inbox, taxii
    status: str  # DELIVERED or WITHHELD
    reason: str
    removed: int = 0  # portion-marked paragraphs left out of this recipient's copy
    at: datetime | None = None
    received_at: datetime | None = None
    read_at: datetime | None = None
    unit: str = ""
    role: str = ""


@dataclass(frozen=True)
class Feedback:
    product: str
    subject: str
    agency: str
    useful: int  # 1-5
    actionable: bool
    outcome: str  # none, arrest, seizure, case_opened, prevented, identified, other
    comment: str
    at: datetime


OUTCOMES = ("none", "arrest", "seizure", "case_opened", "prevented", "identified", "other")


@dataclass(frozen=True)
class LibraryQuery:
    text: str = ""
    type: str = ""
    category: str = ""
    topic: str = ""
    agency: str = ""
    since: str = ""  # ISO date: published (or created, for a draft) at or after
    until: str = ""
    states: tuple[str, ...] = ()
    limit: int = 50


class ProductStore(ABC):
    """Every backend answers the same contract (tests/contract/test_product_store.py)."""

    @abstractmethod
    def create(self, p: Product) -> bool:
        """Insert a new product revision; False when one with its id is there already."""

    @abstractmethod
    def get(self, product_id: str) -> Product | None: ...

    @abstractmethod
    def save(self, p: Product) -> Product:
        """Write `p` if the stored version is still `p.version` (the saved copy carries the
        next); StaleProduct otherwise."""

    @abstractmethod
    def library(self, audience: Audience | None, q: LibraryQuery) -> tuple[int, list[Product]]:
        """Products the audience sees in full (None: all) matching `q`, newest first, with how
        many there are."""

    @abstractmethod
    def revisions(self, series: str) -> list[Product]:
        """Every revision of a product, oldest first."""

    @abstractmethod
    def deliver(self, rows: Sequence[Delivery]) -> None:
        """Record deliveries; a row already there is kept as it is (a publish retried)."""

    @abstractmethod
    def deliveries(self, product_id: str) -> list[Delivery]: ...

    @abstractmethod
    def inbox(self, subject: str, limit: int) -> list[Delivery]:
        """Deliveries to `subject` (any channel), newest first."""

    @abstractmethod
    def mark(self, product_id: str, subject: str, what: str, at: datetime) -> bool:
        """Set `received_at` or `read_at` of `subject`'s deliveries of a product where not set
        yet; False when the product was not delivered to them."""

    @abstractmethod
    def put_feedback(self, f: Feedback) -> None:
        """A reader's feedback on a product (their newer feedback replaces the older)."""

    @abstractmethod
    def feedback(self, product_id: str) -> list[Feedback]: ...

    @abstractmethod
    def production(self, since: datetime, agency: str | None = None) -> dict[str, Any]:
        """What the programme (or one originating agency) produced since `since`: products by
        type, agency and state; hours from request to publication; deliveries and reads by
        channel; feedback and outcomes."""

    @abstractmethod
    def close(self) -> None: ...
