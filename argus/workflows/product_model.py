"""Intelligence products as a fusion centre writes them: the six product types and their templates,
the handling every product and every paragraph carries, and the states a product goes through.

A product's marking is the one policy's `Marking` (originating agency, TLP, criminal intelligence,
caveats, named recipients); a paragraph may carry a portion marking that restricts it further
(a higher TLP, more caveats, criminal intelligence), never less. `LES` (law enforcement sensitive)
keeps a product or a paragraph from every reader who is not law enforcement.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from argus.records import Tlp
from argus.security.policy import NO_FURTHER_DISSEMINATION, Marking, Recipient, ReportView, Rules, decide

LES = "LES"
CAVEATS = {
    LES: "Law enforcement sensitive: law-enforcement readers only",
    "FOUO": "For official use only: not for public release",
    "PRIVACY": "Contains personal information: handle under the privacy policy",
    NO_FURTHER_DISSEMINATION: "No further dissemination beyond the named recipients",
}
URGENCIES = ("FLASH", "PRIORITY", "ROUTINE")
CATEGORIES = ("terrorism", "organised_crime", "gang", "violent_crime", "cyber", "targeted_violence", "other")
OPERATIONAL = ("bolo", "officer_safety")  # reach patrol terminals like an alert


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    required: bool
    hint: str


@dataclass(frozen=True)
class Template:
    """What a product type needs: its sections (the required ones checked on submission), the
    named fields it asks for, and the handling it starts with."""

    type: str
    title: str
    sections: tuple[Section, ...]
    fields: tuple[str, ...] = ()
    tlp: str = "AMBER"
    caveats: tuple[str, ...] = (LES,)

    def as_dict(self) -> dict[str, Any]:
        return {
            "type": self.type, "title": self.title, "fields": list(self.fields), "tlp": self.tlp,
            "caveats": list(self.caveats), "operational": self.type in OPERATIONAL,
            "sections": [{"key": s.key, "title": s.title, "required": s.required, "hint": s.hint}
                         for s in self.sections],
        }  # fmt: skip


def _s(key: str, title: str, hint: str, required: bool = True) -> Section:
    return Section(key, title, required, hint)


_SUMMARY = _s("summary", "Summary", "The bottom line up front, in two or three sentences.")
_SOURCES = _s("sources", "Sources and confidence", "What the judgements rest on and how reliable it is.", False)
# fmt: off
TEMPLATES: dict[str, Template] = {
    t.type: t
    for t in (
        Template("situational_awareness", "Situational awareness bulletin", (
            _SUMMARY, _s("details", "Details", "What happened, where and when."),
            _s("implications", "Implications", "What it means for partners in the area.", False), _SOURCES,
        ), tlp="GREEN", caveats=("FOUO",)),
        Template("bolo", "Be on the lookout", (
            _s("subject", "Subject or vehicle", "Who or what to look for: description, plate, distinguishing marks."),
            _s("officer_safety", "Officer safety", "Weapons, violence, known threats to officers."),
            _s("on_contact", "On contact", "What to do on contact: detain, identify only, call the case agent."),
            _s("details", "Details", "Why: the case, the offence, when last seen.", False),
        ), fields=("plate", "vehicle", "subject_entity", "photo", "case_contact")),
        Template("intelligence_assessment", "Intelligence assessment", (
            _SUMMARY, _s("key_judgements", "Key judgements", "What we assess, each with its confidence."),
            _s("discussion", "Discussion", "The evidence and the reasoning."),
            _s("outlook", "Outlook", "What to expect next.", False), _SOURCES,
        )),
        Template("threat_assessment", "Threat assessment", (
            _SUMMARY, _s("key_judgements", "Key judgements", "The threat, its likelihood and its impact."),
            _s("evidence", "Evidence", "The records the assessment rests on."),
            _s("recommendations", "Recommended actions", "What partners should do."), _SOURCES,
        ), fields=("threat", "subject_entity")),
        Template("officer_safety", "Officer safety alert", (
            _s("threat", "Threat", "The danger to officers: who, what weapon, what behaviour."),
            _s("on_contact", "On contact", "How to approach; whom to call."),
            _s("details", "Details", "Background.", False),
        ), fields=("plate", "vehicle", "subject_entity", "photo")),
        Template("sar_trend", "SAR trend report", (
            _SUMMARY, _s("trends", "Trends", "Counts by behaviour and area against the baseline."),
            _s("patterns", "Patterns", "Clusters and cross-agency patterns detected.", False), _SOURCES,
        ), tlp="GREEN", caveats=("FOUO",)),
    )
}
# fmt: on

# The workflow: (action, outcome) -> (from state, to state).
TRANSITIONS: dict[tuple[str, str], tuple[str, str]] = {
    ("submit", "SUBMIT"): ("DRAFT", "IN_REVIEW"),
    ("peer_review", "PASS"): ("IN_REVIEW", "REVIEWED"),
    ("peer_review", "RETURN"): ("IN_REVIEW", "DRAFT"),
    ("approval", "APPROVE"): ("REVIEWED", "APPROVED"),
    ("approval", "RETURN"): ("REVIEWED", "DRAFT"),
    ("publish", "PUBLISH"): ("APPROVED", "PUBLISHED"),
    ("withdraw", "WITHDRAW"): ("PUBLISHED", "WITHDRAWN"),
    ("supersede", "SUPERSEDE"): ("PUBLISHED", "SUPERSEDED"),
}
STATES = ("DRAFT", "IN_REVIEW", "REVIEWED", "APPROVED", "PUBLISHED", "SUPERSEDED", "WITHDRAWN")
RELEASED = ("PUBLISHED", "SUPERSEDED", "WITHDRAWN")


@dataclass(frozen=True)
class Portion:
    """A paragraph's own marking, restricting it beyond the product's."""

    tlp: str | None = None
    caveats: tuple[str, ...] = ()
    ci: bool = False
    recipients: tuple[str, ...] = ()  # whom a RED, AMBER+STRICT or NFD paragraph names (user:<id> or an ORI)

    def as_dict(self) -> dict[str, Any]:
        return {"tlp": self.tlp, "caveats": list(self.caveats), "ci": self.ci, "recipients": list(self.recipients)}

    @property
    def narrow(self) -> bool:
        """Released only to names: such a paragraph names its own recipients (none: the
        originating agency alone), never inheriting the product's list."""
        tlp = Tlp.parse(self.tlp) if self.tlp else None
        return tlp in (Tlp.RED, Tlp.AMBER_STRICT) or NO_FURTHER_DISSEMINATION in self.caveats


@dataclass(frozen=True)
class Paragraph:
    text: str
    portion: Portion | None = None
    sources: tuple[str, ...] = ()  # record ids the paragraph quotes

    def as_dict(self) -> dict[str, Any]:
        return {"text": self.text, "portion": self.portion.as_dict() if self.portion else None,
                "sources": list(self.sources)}  # fmt: skip


@dataclass(frozen=True)
class Embed:
    """An entity, record or chart snapshot shown in the product by reference (resolved through
    the policy for each reader when the product is shown)."""

    kind: str  # entity, record, graph, map, timeline
    ref: str
    caption: str = ""


@dataclass(frozen=True)
class Step:
    action: str
    outcome: str
    actor: str
    agency: str
    at: datetime
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"action": self.action, "outcome": self.outcome, "actor": self.actor, "agency": self.agency,
                "at": self.at.isoformat(), "reason": self.reason}  # fmt: skip

    @classmethod
    def of(cls, d: dict[str, Any]) -> Step:
        return cls(d["action"], d["outcome"], d["actor"], d["agency"], datetime.fromisoformat(d["at"]), d["reason"])


@dataclass(frozen=True)
class Dissemination:
    """Whom a product is for: selectors over the directory, named recipients, partner centres
    over TAXII, and private-sector partners only when the product is marked for them."""

    agencies: tuple[str, ...] = ()
    units: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()  # an agency's community
    sectors: tuple[str, ...] = ()  # a dissemination list (identity list membership)
    named: tuple[str, ...] = ()  # subject ids
    taxii: bool = False
    private_sector: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items()}

    @classmethod
    def of(cls, d: dict[str, Any] | None) -> Dissemination:
        d = d or {}
        known = cls.__dataclass_fields__
        return cls(**{k: (tuple(v) if isinstance(v, list) else v) for k, v in d.items() if k in known})

    def principals(self) -> tuple[str, ...]:
        """Who the product names (the policy's named recipients): its named users and agencies."""
        return tuple(sorted({f"user:{s}" for s in self.named} | set(self.agencies)))


@dataclass
class Product:
    id: str
    series: str  # the first revision's id: every revision of a product shares it
    revision: int
    type: str
    title: str
    marking: Marking
    author: str
    created_at: datetime
    urgency: str = "ROUTINE"
    topic: str = ""
    category: str = "other"
    period_start: str = ""
    period_end: str = ""
    sections: dict[str, tuple[Paragraph, ...]] = field(default_factory=dict)
    fields: dict[str, str] = field(default_factory=dict)
    embeds: tuple[Embed, ...] = ()
    sources: tuple[str, ...] = ()
    assessment: dict[str, Any] | None = None
    dissemination: Dissemination = field(default_factory=Dissemination)
    state: str = "DRAFT"
    version: int = 0
    updated_at: datetime | None = None
    requested_at: datetime | None = None
    published_at: datetime | None = None
    supersedes: str = ""
    superseded_by: str = ""
    steps: tuple[Step, ...] = ()

    @property
    def template(self) -> Template:
        return TEMPLATES[self.type]

    def quoted(self) -> list[tuple[str, Portion | None]]:
        """Every source the product quotes, with the portion marking of the paragraph quoting it."""
        out = [(s, None) for s in self.sources]
        for paras in self.sections.values():
            out += [(s, p.portion) for p in paras for s in p.sources]
        return out


def tlp_rank(tlp: str) -> int:
    return Tlp.parse(tlp).rank


def portion_marking(whole: Marking, portion: Portion | None) -> Marking:
    """A paragraph's marking: the whole's, restricted by its portion (never loosened). A narrow
    portion names only its own recipients (a reader must see the whole product first anyway)."""
    if portion is None:
        return whole
    tlp = whole.tlp if portion.tlp is None or tlp_rank(portion.tlp) < tlp_rank(whole.tlp) else portion.tlp
    handling = tuple(dict.fromkeys((*whole.handling, *portion.caveats)))
    names = whole.recipients
    if portion.narrow or portion.recipients:
        names = portion.recipients
    return replace(whole, tlp=Tlp.parse(tlp).value, ci=whole.ci or portion.ci, handling=handling, recipients=names)


def product_view(m: Marking, who: Recipient, rules: Rules | None) -> ReportView | None:
    """The one policy for a product or a paragraph, with its LES caveat honoured."""
    if LES in m.handling and not who.law_enforcement:
        return None
    return decide(m, who, rules)


def looser(have: Marking, need: Marking) -> str | None:
    """Why `have` is less restrictive than `need` (a source it quotes), or None."""
    if tlp_rank(have.tlp) < tlp_rank(need.tlp):
        return f"{Tlp.parse(need.tlp).label} is more restrictive than {Tlp.parse(have.tlp).label}"
    if need.ci and not have.ci:
        return "it is criminal intelligence (28 CFR 23) and the product is not marked so"
    missing = [c for c in need.handling if c in CAVEATS and c not in have.handling]
    if missing:
        return f"it carries the caveat {missing[0]} the product does not"
    return None
