"""The SAR review store: one row per SAR (its marking, the ISE-SAR fields, its triage and every
review step), edited concurrently by reviewers, so each change is conditional on the version
it read (optimistic concurrency) and a lost race is a clear conflict, never a silent overwrite.

One SQL text serves SQLite (embedded) and PostgreSQL (the server backend): `?` placeholders,
and `strpos`/`instr` chosen per dialect. Reads for the review queue take the reader's
`Audience` and keep only SARs the reader sees in full, inside the query, so nothing is sorted
or counted on a SAR the reader may not see.
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from argus.security.policy import Marking
from argus.stores.search import Audience
from argus.workflows.sar_model import OPEN, Step


@dataclass
class Tlo:
    """A terrorism liaison officer in the network: who, where, and until when trained."""

    subject: str
    agency: str
    name: str
    sector: str
    area: str
    trained_until: str  # ISO date: may submit as a TLO until then
    contact: str = ""
    registered_by: str = ""

    def current(self, today: str) -> bool:
        return self.trained_until >= today


class StaleVersion(Exception):
    """Someone else changed the SAR since it was read."""


@dataclass
class SarCase:
    """A SAR as the review sees it."""

    id: str  # the record id (deterministic from agency and sar_id)
    sar_id: str
    marking: Marking
    behavior: str
    occurred_at: datetime
    received_at: datetime
    narrative: str
    submitted_by: str  # the submitter as they named themselves
    submitter: str = ""  # the authenticated subject who submitted it ("" from a portal file)
    submitter_role: str = ""  # analyst, private_sector_partner, terrorism_liaison_officer, public
    contact: dict[str, str] = field(default_factory=dict)
    place: str = ""
    lat: float | None = None
    lon: float | None = None
    site_category: str = ""
    protected_activity: bool = False
    public_tip: bool = False
    state: str = "SUBMITTED"
    version: int = 0
    triage_score: float = 0.0
    triage_reasons: list[dict[str, Any]] = field(default_factory=list)
    priority: str = "LOW"
    override: dict[str, Any] | None = None
    due_at: datetime | None = None
    breached: bool = False
    steps: list[Step] = field(default_factory=list)
    shared_as: str = ""  # the STIX report id of an ISE-SAR
    updated_at: datetime | None = None

    @property
    def open(self) -> bool:
        return self.state in OPEN


COLUMNS = (
    "id", "sar_id", "agency", "tlp", "ci", "nfd", "handling", "cases", "recipients", "behavior", "occurred_at",
    "received_at", "narrative", "submitted_by", "submitter", "submitter_role", "contact", "place", "lat", "lon",
    "site_category", "protected_activity", "public_tip", "state", "version", "triage_score", "triage_reasons",
    "priority", "override", "due_at", "breached", "steps", "shared_as", "updated_at", "rank",
)  # fmt: skip
TRIAGE = ("triage_score", "triage_reasons", "priority", "due_at")
SCHEMA = f"""CREATE TABLE IF NOT EXISTS sar_reviews (
    id TEXT PRIMARY KEY, {
    ", ".join(
        f"{c} TEXT" if c not in ("lat", "lon", "triage_score", "rank") else f"{c} REAL"
        for c in COLUMNS[1:]
        if c not in ("ci", "nfd", "protected_activity", "public_tip", "version", "breached")
    )
},
    ci INTEGER, nfd INTEGER, protected_activity INTEGER, public_tip INTEGER, version INTEGER, breached INTEGER)"""
TLOS = """CREATE TABLE IF NOT EXISTS tlos (
    subject TEXT PRIMARY KEY, agency TEXT, name TEXT, sector TEXT, area TEXT, trained_until TEXT, contact TEXT,
    registered_by TEXT)"""
PATTERNS = """CREATE TABLE IF NOT EXISTS sar_patterns (
    pattern_id TEXT PRIMARY KEY, recipient_agency TEXT, kind TEXT, detected_at TEXT, body TEXT)"""
INDEXES = (
    "CREATE INDEX IF NOT EXISTS sar_patterns_recipient ON sar_patterns (recipient_agency, detected_at)",
    "CREATE INDEX IF NOT EXISTS sar_reviews_queue ON sar_reviews (state, rank)",
    "CREATE INDEX IF NOT EXISTS sar_reviews_submitter ON sar_reviews (submitter)",
    "CREATE INDEX IF NOT EXISTS sar_reviews_due ON sar_reviews (due_at)",
)


def _t(d: datetime | None) -> str | None:
    return d.isoformat() if d is not None else None


def _spaced(names: Sequence[str]) -> str:
    return f" {' '.join(names)} " if names else ""


def to_row(c: SarCase) -> tuple[Any, ...]:
    m = c.marking
    values = {
        **{f.name: getattr(c, f.name) for f in dataclasses.fields(c) if f.name != "marking"},
        "agency": m.agency, "tlp": m.tlp, "ci": int(m.ci), "nfd": int("NO_FURTHER_DISSEMINATION" in m.handling),
        "handling": _spaced(m.handling), "cases": _spaced(m.cases), "recipients": _spaced(m.recipients),
        "occurred_at": _t(c.occurred_at), "received_at": _t(c.received_at), "due_at": _t(c.due_at),
        "updated_at": _t(c.updated_at), "contact": orjson.dumps(c.contact).decode(),
        "triage_reasons": orjson.dumps(c.triage_reasons).decode(),
        "override": orjson.dumps(c.override).decode() if c.override is not None else None,
        "steps": orjson.dumps([s.as_dict() for s in c.steps]).decode(),
        "protected_activity": int(c.protected_activity), "public_tip": int(c.public_tip), "breached": int(c.breached),
        "rank": rank(c),
    }  # fmt: skip
    return tuple(values[k] for k in COLUMNS)


def rank(c: SarCase) -> float:
    """Where the SAR stands in the queue: a reviewer's override, else its triage score."""
    return float(c.override["score"]) if c.override else c.triage_score


def _d(v: str | None) -> datetime | None:
    return datetime.fromisoformat(v) if v else None


def from_row(row: Sequence[Any]) -> SarCase:
    r = dict(zip(COLUMNS, row, strict=True))
    marking = Marking(
        r["agency"], r["tlp"], bool(r["ci"]), tuple(r["handling"].split()), tuple(r["cases"].split()),
        tuple(r["recipients"].split()),
    )  # fmt: skip
    return SarCase(
        id=r["id"], sar_id=r["sar_id"], marking=marking, behavior=r["behavior"],
        occurred_at=_d(r["occurred_at"]) or datetime.min, received_at=_d(r["received_at"]) or datetime.min,
        narrative=r["narrative"], submitted_by=r["submitted_by"], submitter=r["submitter"],
        submitter_role=r["submitter_role"], contact=orjson.loads(r["contact"] or "{}"), place=r["place"] or "",
        lat=r["lat"], lon=r["lon"], site_category=r["site_category"] or "",
        protected_activity=bool(r["protected_activity"]), public_tip=bool(r["public_tip"]), state=r["state"],
        version=int(r["version"]), triage_score=float(r["triage_score"] or 0.0),
        triage_reasons=orjson.loads(r["triage_reasons"] or "[]"), priority=r["priority"],
        override=orjson.loads(r["override"]) if r["override"] else None, due_at=_d(r["due_at"]),
        breached=bool(r["breached"]), steps=[Step.of(s) for s in orjson.loads(r["steps"] or "[]")],
        shared_as=r["shared_as"] or "", updated_at=_d(r["updated_at"]),
    )  # fmt: skip


class SarReviewStore(ABC):
    """Every backend answers the same contract (tests/contract/test_sar_review_store.py)."""

    @abstractmethod
    def create(self, case: SarCase) -> bool:
        """Insert a new SAR; False (and no change) when one with its id is there already."""

    @abstractmethod
    def get(self, sar_id: str) -> SarCase | None: ...

    @abstractmethod
    def save(self, case: SarCase) -> SarCase:
        """Write `case` if the stored version is still `case.version`; the saved copy carries
        the next version. StaleVersion otherwise."""

    @abstractmethod
    def triaged(self, case: SarCase) -> None:
        """The triage of a SAR (idempotent: the sink writes it at least once): a new SAR is
        inserted whole; a known one gets the new score and reasons, and the new priority and
        due time unless a reviewer overrode them; its review is never touched."""

    @abstractmethod
    def queue(self, audience: Audience | None, states: Sequence[str], limit: int) -> tuple[int, list[SarCase]]:
        """SARs in `states` the audience sees in full (None: every SAR), by effective score
        (an override's, else the triage's), highest first, with how many there are."""

    @abstractmethod
    def by_submitter(self, subject: str, agency: str, limit: int) -> list[SarCase]:
        """The SARs `subject` of `agency` submitted, newest first."""

    @abstractmethod
    def overdue(self, now: datetime, limit: int) -> list[SarCase]:
        """Open SARs past their due time whose breach was not raised yet."""

    @abstractmethod
    def since(self, start: datetime, limit: int) -> list[SarCase]:
        """SARs received at or after `start` (metrics and feedback dashboards), oldest first."""

    @abstractmethod
    def daily(self, audience: Audience | None, since: datetime) -> list[tuple[str, str, int]]:
        """(behaviour, day, SARs) for SARs that occurred since `since` and the audience sees in full."""

    @abstractmethod
    def add_patterns(self, patterns: Sequence[dict[str, Any]]) -> None:
        """Keep detected patterns (sar_pattern.v1 bodies), replacing one of the same id (a
        cluster that grew); idempotent."""

    @abstractmethod
    def patterns(self, agency: str, limit: int) -> list[dict[str, Any]]:
        """Patterns addressed to `agency`, most recently detected first."""

    @abstractmethod
    def put_tlo(self, tlo: Tlo) -> None:
        """Register a TLO, or replace their entry."""

    @abstractmethod
    def tlo(self, subject: str) -> Tlo | None: ...

    @abstractmethod
    def tlos(self, agency: str | None, limit: int) -> list[Tlo]:
        """The TLOs of `agency` (None: the whole network), by agency and name."""

    @abstractmethod
    def close(self) -> None: ...
