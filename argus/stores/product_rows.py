"""A product as one SQL row and back: its marking in the columns the policy's pushed-down filter
reads, its content as JSON, and the words the library may match (only paragraphs without a
portion marking)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson

from argus.security.policy import NO_FURTHER_DISSEMINATION, Marking
from argus.workflows.product_model import LES, Dissemination, Embed, Paragraph, Portion, Product, Step

COLUMNS = (
    "id", "series", "revision", "type", "title", "agency", "tlp", "ci", "nfd", "les", "handling", "cases",
    "recipients", "author", "created_at", "urgency", "topic", "category", "period_start", "period_end", "body",
    "dissemination", "state", "version", "updated_at", "requested_at", "published_at", "supersedes",
    "superseded_by", "steps", "text", "psp",
)  # fmt: skip
_INTS = ("revision", "ci", "nfd", "les", "version", "psp")
SCHEMA = (
    "CREATE TABLE IF NOT EXISTS products (id TEXT PRIMARY KEY, "
    + ", ".join(f"{c} {'INTEGER' if c in _INTS else 'TEXT'}" for c in COLUMNS[1:])
    + ")"
)
DELIVERY_COLUMNS = (
    "product", "recipient", "agency", "channel", "status", "reason", "removed", "at", "received_at", "read_at",
    "unit", "role",
)  # fmt: skip
DELIVERIES = """CREATE TABLE IF NOT EXISTS product_deliveries (
    product TEXT, recipient TEXT, agency TEXT, channel TEXT, status TEXT, reason TEXT, removed INTEGER, at TEXT,
    received_at TEXT, read_at TEXT, unit TEXT, role TEXT, PRIMARY KEY (product, recipient, channel))"""
FEEDBACK = """CREATE TABLE IF NOT EXISTS product_feedback (
    product TEXT, subject TEXT, agency TEXT, useful INTEGER, actionable INTEGER, outcome TEXT, comment TEXT, at TEXT,
    PRIMARY KEY (product, subject))"""
INDEXES = (
    "CREATE INDEX IF NOT EXISTS products_series ON products (series, revision)",
    "CREATE INDEX IF NOT EXISTS products_state ON products (state, published_at)",
    "CREATE INDEX IF NOT EXISTS product_deliveries_recipient ON product_deliveries (recipient, at)",
)


def _t(d: datetime | None) -> str | None:
    return d.isoformat() if d is not None else None


def _d(v: str | None) -> datetime | None:
    return datetime.fromisoformat(v) if v else None


def _spaced(names: Sequence[str]) -> str:
    return f" {' '.join(names)} " if names else ""


def searchable(p: Product) -> str:
    """The words the library matches for every reader who sees the product: its title, topic and
    the paragraphs marked as the whole is (portion-marked paragraphs never match)."""
    words = [p.title, p.topic]
    words += [para.text for paras in p.sections.values() for para in paras if para.portion is None]
    return "\n".join(words).lower()


def body_of(p: Product) -> dict[str, Any]:
    return {
        "sections": {k: [x.as_dict() for x in v] for k, v in p.sections.items()},
        "fields": p.fields, "embeds": [e.__dict__ for e in p.embeds], "sources": list(p.sources),
        "assessment": p.assessment,
    }  # fmt: skip


def to_row(p: Product) -> tuple[Any, ...]:
    m = p.marking
    v = {
        "id": p.id, "series": p.series, "revision": p.revision, "type": p.type, "title": p.title,
        "agency": m.agency, "tlp": m.tlp, "ci": int(m.ci), "nfd": int(NO_FURTHER_DISSEMINATION in m.handling),
        "les": int(LES in m.handling), "handling": _spaced(m.handling), "cases": _spaced(m.cases),
        "recipients": _spaced(m.recipients), "author": p.author, "created_at": _t(p.created_at),
        "urgency": p.urgency, "topic": p.topic, "category": p.category, "period_start": p.period_start,
        "period_end": p.period_end, "body": orjson.dumps(body_of(p)).decode(),
        "dissemination": orjson.dumps(p.dissemination.as_dict()).decode(), "state": p.state, "version": p.version,
        "updated_at": _t(p.updated_at), "requested_at": _t(p.requested_at), "published_at": _t(p.published_at),
        "supersedes": p.supersedes, "superseded_by": p.superseded_by,
        "steps": orjson.dumps([s.as_dict() for s in p.steps]).decode(), "text": searchable(p),
        "psp": int(p.dissemination.private_sector),
    }  # fmt: skip
    return tuple(v[c] for c in COLUMNS)


def _para(d: dict[str, Any]) -> Paragraph:
    por = d.get("portion")
    portion = None
    if por:
        names = tuple(por.get("recipients") or ())
        portion = Portion(por.get("tlp"), tuple(por.get("caveats") or ()), bool(por.get("ci")), names)
    return Paragraph(d["text"], portion, tuple(d.get("sources") or ()))


def from_row(row: Sequence[Any]) -> Product:
    r = dict(zip(COLUMNS, row, strict=True))
    marking = Marking(r["agency"], r["tlp"], bool(r["ci"]), tuple(r["handling"].split()), tuple(r["cases"].split()),
                      tuple(r["recipients"].split()))  # fmt: skip
    body = orjson.loads(r["body"])
    return Product(
        id=r["id"], series=r["series"], revision=int(r["revision"]), type=r["type"], title=r["title"],
        marking=marking, author=r["author"], created_at=_d(r["created_at"]) or datetime.min, urgency=r["urgency"],
        topic=r["topic"] or "", category=r["category"] or "other", period_start=r["period_start"] or "",
        period_end=r["period_end"] or "",
        sections={k: tuple(_para(x) for x in v) for k, v in body["sections"].items()},
        fields=body.get("fields") or {}, embeds=tuple(Embed(**e) for e in body.get("embeds") or ()),
        sources=tuple(body.get("sources") or ()), assessment=body.get("assessment"),
        dissemination=Dissemination.of(orjson.loads(r["dissemination"] or "{}")), state=r["state"],
        version=int(r["version"]), updated_at=_d(r["updated_at"]), requested_at=_d(r["requested_at"]),
        published_at=_d(r["published_at"]), supersedes=r["supersedes"] or "", superseded_by=r["superseded_by"] or "",
        steps=tuple(Step.of(s) for s in orjson.loads(r["steps"] or "[]")),
    )  # fmt: skip
