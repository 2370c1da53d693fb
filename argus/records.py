"""The pipeline's record and envelope, and the rules every record must satisfy on entry.

Records travel between nodes as Avro datums (plain dicts: {"envelope": ..., "body": ...}), so a
processor on the embedded runtime sees exactly what it would see on Kafka.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any

import orjson

# Namespace of Argus's own deterministic ids (records, entities, links, alerts).
ARGUS_NS = uuid.UUID("6f1c3a52-8f0e-5d7b-9a41-2b3c4d5e6f70")
_NS_BYTES = ARGUS_NS.bytes
# STIX 2.1 namespace for deterministic SCO ids (STIX 2.1 section 2.9).
STIX_SCO_NS = uuid.UUID("00abedb4-aa42-466c-9c01-fed23315a9b7")

ORI_RE = re.compile(r"^[A-Z]{2}[A-Z0-9]{7}$")
MAX_TEXT = 32_768  # narratives
MAX_FIELD = 256  # names, ids, plates, addresses


class InvalidRecord(ValueError):
    """Input that must not enter the pipeline; the message is the dead-letter reason."""


class Tlp(StrEnum):
    """TLP 2.0. Ordered from least to most restrictive."""

    CLEAR = "CLEAR"
    GREEN = "GREEN"
    AMBER = "AMBER"
    AMBER_STRICT = "AMBER_STRICT"
    RED = "RED"

    @property
    def rank(self) -> int:
        return _TLP_ORDER.index(self)

    @property
    def label(self) -> str:
        return "TLP:AMBER+STRICT" if self is Tlp.AMBER_STRICT else f"TLP:{self.value}"

    @classmethod
    def parse(cls, value: Any) -> Tlp:
        """Accept 'TLP:AMBER+STRICT', 'amber+strict', TLP 1.0 'WHITE' (-> CLEAR), or a member."""
        if isinstance(value, Tlp):
            return value
        if not isinstance(value, str):
            raise InvalidRecord(f"tlp must be a string like 'TLP:AMBER', got {value!r}")
        v = value.strip().upper()
        v = v.removeprefix("TLP:").removeprefix("TLP ").replace("+", "_").replace(" ", "_")
        v = {"WHITE": "CLEAR"}.get(v, v)
        try:
            return cls(v)
        except ValueError:
            raise InvalidRecord(
                f"unknown TLP marking {value!r}; expected one of TLP:CLEAR, TLP:GREEN, "
                "TLP:AMBER, TLP:AMBER+STRICT, TLP:RED"
            ) from None

    @staticmethod
    def most_restrictive(markings: list[Tlp]) -> Tlp:
        return max(markings, key=lambda t: t.rank)


_TLP_ORDER = [Tlp.CLEAR, Tlp.GREEN, Tlp.AMBER, Tlp.AMBER_STRICT, Tlp.RED]
RELIABILITY = ("A", "B", "C", "D", "E", "F")
RELIABILITY_TEXT = {
    "A": "reliable",
    "B": "usually reliable",
    "C": "fairly reliable",
    "D": "not usually reliable",
    "E": "unreliable",
    "F": "reliability cannot be judged",
}
VALIDITY_TEXT = {
    1: "confirmed",
    2: "probably true",
    3: "possibly true",
    4: "doubtful",
    5: "improbable",
    6: "validity cannot be judged",
}
RETENTION = timedelta(days=5 * 365)  # 28 CFR 23.20(h): review within five years


def as_bytes(item: Any) -> bytes:
    """An item of a parsed document as the bytes a dead letter keeps: its JSON, or, for what
    JSON cannot encode again (nested past orjson's limit), a bounded repr."""
    try:
        return orjson.dumps(item)
    except (TypeError, ValueError):
        try:
            return repr(item)[:1_048_576].encode("utf-8", "replace")
        except RecursionError:
            return b"<nested too deep to show>"


def deterministic_id(*parts: str) -> str:
    """UUIDv5 under the Argus namespace: the same source fact always gets the same id.
    (RFC 9562 5.5 by hand: uuid.UUID's constructor was a tenth of bulk STIX import time.)"""
    h = bytearray(hashlib.sha1(_NS_BYTES + "\x1f".join(parts).encode()).digest()[:16])
    h[6] = (h[6] & 0x0F) | 0x50
    h[8] = (h[8] & 0x3F) | 0x80
    x = h.hex()
    return f"{x[:8]}-{x[8:12]}-{x[12:16]}-{x[16:20]}-{x[20:]}"


def to_micros(dt: datetime) -> datetime:
    """Avro timestamp-micros takes aware datetimes; naive input is taken as UTC."""
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


EARLIEST, LATEST = datetime(1800, 1, 1, tzinfo=UTC), datetime(2200, 1, 1, tzinfo=UTC)
INT_MAX = 2**31 - 1  # Avro int
LONG_MAX = 2**63 - 1  # Avro long


def parse_time(value: Any, field_name: str) -> datetime:
    """An instant between 1800 and 2200 (after its offset is applied): anything else is a typo
    or hostile, and would fail later, far from its source, when encoded or compared."""
    if isinstance(value, datetime):
        dt = to_micros(value)
    elif not isinstance(value, str) or not value:
        raise InvalidRecord(f"{field_name}: expected an ISO 8601 timestamp, got {str(value)[:40]!r}")
    else:
        try:
            dt = to_micros(datetime.fromisoformat(value.replace("Z", "+00:00")))
        except ValueError:
            raise InvalidRecord(f"{field_name}: not an ISO 8601 timestamp: {value[:40]!r}") from None
    try:
        in_range = EARLIEST <= dt.astimezone(UTC) < LATEST
    except (OverflowError, ValueError):
        in_range = False
    if not in_range:
        raise InvalidRecord(f"{field_name}: {str(value)[:40]!r} is out of range (years 1800-2199, UTC)")
    return dt


def parse_int(value: Any, field_name: str, lo: int = 1, hi: int = INT_MAX, default: int | None = None) -> int:
    """A whole number in [lo, hi] (an Avro int by default), or InvalidRecord naming the field."""
    if value is None and default is not None:
        return default
    if isinstance(value, str) and value.strip().lstrip("-").isdigit() and len(value.strip()) < 20:
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise InvalidRecord(f"{field_name}: expected a whole number from {lo} to {hi}, got {str(value)[:40]!r}")
    return value


def clean_text(value: Any, field_name: str, limit: int = MAX_FIELD, required: bool = False) -> str | None:
    """Reject hostile strings instead of passing them downstream to graph, search and screens.

    Control characters (other than newline and tab in narratives) and oversized values are
    errors, not silently trimmed: the source must fix them, and the dead letter says which.
    """
    if value is None or value == "":
        if required:
            raise InvalidRecord(f"{field_name}: required")
        return None
    if not isinstance(value, str):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        else:
            raise InvalidRecord(f"{field_name}: expected a string, got {type(value).__name__}")
    if len(value) > limit:
        raise InvalidRecord(f"{field_name}: {len(value)} characters, over the limit of {limit}")
    allowed = "\n\t" if limit > MAX_FIELD else ""
    for ch in value:
        if ch not in allowed and unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co"):
            raise InvalidRecord(f"{field_name}: contains control character U+{ord(ch):04X}; refused as hostile input")
    value = unicodedata.normalize("NFC", value).strip()
    if required and not value:
        raise InvalidRecord(f"{field_name}: required")
    return value or None


def parse_dob(value: Any, field_name: str = "dob") -> str | None:
    v = clean_text(value, field_name, 10)
    if v is None:
        return None
    try:
        d = date.fromisoformat(v)
    except ValueError:
        raise InvalidRecord(f"{field_name}: expected YYYY-MM-DD, got {v!r}") from None
    if not (1900 <= d.year <= 2100):
        raise InvalidRecord(f"{field_name}: year {d.year} out of range")
    return d.isoformat()


@dataclass(frozen=True)
class Handling:
    """What a record's source says about its handling; validated into an envelope."""

    agency: str
    tlp: Tlp
    reliability: str
    validity: int
    criminal_intelligence: bool = False
    predicate: str | None = None
    caveats: tuple[str, ...] = ()
    cases: tuple[str, ...] = ()
    recipients: tuple[str, ...] = ()
    law_enforcement: bool = True  # the originating agency's, as its connector is configured


def parse_handling(
    raw: dict[str, Any],
    *,
    default_reliability: str | None = None,
    default_validity: int | None = None,
    default_tlp: str | None = None,
    agency: str | None = None,
    law_enforcement: bool = True,
) -> Handling:
    """Validate agency, TLP and 28 CFR 23 ratings, naming every problem at once.

    A criminal-intelligence record needs a criminal predicate and both ratings (23.20(a) and
    the evaluation at submission); other records may take the connector's defaults.
    """
    problems: list[str] = []
    ori = raw.get("agency", agency)
    if not isinstance(ori, str) or not ORI_RE.match(ori.strip().upper()):
        problems.append(f"agency: expected a 9-character ORI such as CA0190000, got {ori!r}")
        ori = ""
    ori = ori.strip().upper()
    tlp_raw = raw.get("tlp", default_tlp)
    tlp = Tlp.RED
    if tlp_raw is None:
        problems.append("tlp: required (TLP:CLEAR, TLP:GREEN, TLP:AMBER, TLP:AMBER+STRICT, TLP:RED)")
    else:
        try:
            tlp = Tlp.parse(tlp_raw)
        except InvalidRecord as exc:
            problems.append(str(exc))
    ci = raw.get("category", "incident") == "criminal_intelligence"
    rel = raw.get("reliability")
    val = raw.get("validity")
    predicate = raw.get("predicate")
    if ci:
        if not predicate:
            problems.append(
                "predicate: criminal intelligence must name the suspected criminal conduct (28 CFR 23.20(a))"
            )
        if rel is None:
            problems.append("reliability: criminal intelligence needs a source-reliability rating A-F")
        if val is None:
            problems.append("validity: criminal intelligence needs a content-validity rating 1-6")
    rel = default_reliability if rel is None else rel
    val = default_validity if val is None else val
    if rel is not None and (not isinstance(rel, str) or rel.strip().upper() not in RELIABILITY):
        problems.append(f"reliability: expected one of A-F, got {rel!r}")
    if val is not None and (isinstance(val, bool) or not isinstance(val, int) or not 1 <= val <= 6):
        if isinstance(val, str) and val.strip().isdigit() and 1 <= int(val) <= 6:
            val = int(val)
        else:
            problems.append(f"validity: expected an integer 1-6, got {val!r}")
    if ci and not law_enforcement:
        problems.append("category: criminal intelligence comes from law-enforcement agencies only (28 CFR 23.20(e))")
    if (rel is None or val is None) and not ci:
        problems.append("reliability/validity: required (no connector default configured)")
    caveats = raw.get("handling") or []
    if not isinstance(caveats, list) or not all(isinstance(c, str) and len(c) <= 64 for c in caveats):
        problems.append("handling: expected a list of short caveat strings")
        caveats = []
    try:
        predicate = clean_text(predicate, "predicate", 1024)
    except InvalidRecord as exc:
        problems.append(str(exc))
    cases = _names(raw.get("cases"), "cases", CASE_RE, "case ids of letters, digits, '-', '_', '.' or ':'", problems)
    recipients = _names(raw.get("recipients"), "recipients", RECIPIENT_RE, "an ORI, user:<id> or list:<name>", problems)
    if problems:
        raise InvalidRecord("; ".join(problems))
    return Handling(
        agency=ori,
        tlp=tlp,
        reliability=str(rel).strip().upper(),
        validity=int(val),  # type: ignore[arg-type]
        criminal_intelligence=ci,
        predicate=predicate,
        caveats=tuple(caveats),
        cases=cases,
        recipients=recipients,
        law_enforcement=law_enforcement,
    )


CASE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")
RECIPIENT_RE = re.compile(r"^([A-Z]{2}[A-Z0-9]{7}|(user|list):[A-Za-z0-9][A-Za-z0-9_.@-]{0,63})$")


def _names(value: Any, field_name: str, pattern: re.Pattern[str], what: str, problems: list[str]) -> tuple[str, ...]:
    """A list of short identifiers (cases, named recipients), each checked against `pattern`."""
    if value is None or value == []:
        return ()
    if not isinstance(value, list) or len(value) > 100:
        problems.append(f"{field_name}: expected a list of at most 100 entries")
        return ()
    bad = [v for v in value if not isinstance(v, str) or not pattern.match(v)]
    if bad:
        problems.append(f"{field_name}: {bad[0]!r} is not {what}")
        return ()
    return tuple(dict.fromkeys(value))


def make_envelope(
    *,
    record_id: str,
    rtype: str,
    handling: Handling,
    source_system: str,
    observed_at: datetime,
    ingested_at: datetime,
    trace_id: str,
) -> dict[str, Any]:
    return {
        "id": record_id,
        "type": rtype,
        "source_agency": handling.agency,
        "source_system": source_system,
        "tlp": handling.tlp.value,
        "reliability": handling.reliability,
        "validity": handling.validity,
        "criminal_intelligence": handling.criminal_intelligence,
        "criminal_predicate": handling.predicate,
        "handling": list(handling.caveats),
        "cases": list(handling.cases),
        "recipients": list(handling.recipients),
        "source_law_enforcement": handling.law_enforcement,
        # 28 CFR 23.20(h): criminal intelligence is reviewed within five years; SARs are held to the
        # same review (ISE-SAR retention follows the submitting agency's criminal-intelligence rule).
        "review_by": (ingested_at + RETENTION) if handling.criminal_intelligence or rtype == "sar" else None,
        "observed_at": observed_at,
        "ingested_at": ingested_at,
        "trace_id": trace_id,
    }


@dataclass(slots=True)
class Record:
    """A message between nodes: an Avro datum plus its key and, once read, where it came from.

    `topic` on an emitted record picks one of the node's declared outputs; None means the
    node's first output.
    """

    value: dict[str, Any]
    key: str | None = None
    topic: str | None = None
    partition: int = -1
    offset: int = -1
    raw: bytes | None = field(default=None, repr=False)

    @property
    def envelope(self) -> dict[str, Any]:
        return self.value["envelope"]

    @property
    def body(self) -> Any:
        return self.value["body"]


# The union branch of report.v2 / resolved.v2 for each envelope type (written as (name, body)).
REPORT_BRANCH = {
    "rms.incident": "argus.RmsRecord",
    "cad.incident": "argus.CadIncident",
    "sar": "argus.Sar",
    "stix": "argus.StixObject",
}
