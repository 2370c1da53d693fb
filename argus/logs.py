"""Structured logs without personal data.

Application logs are read by operators, shipped to log stores and kept far longer than a
criminal-intelligence record may be (28 CFR 23.20(h) purges records, not their echoes in a log
file). So nothing about a person leaves Argus through a log line: every line, its arguments,
its exception text and its extra fields pass through one redactor before they are written.

The redactor cannot know every name, so it works on where personal data shows up in Argus's own
lines, not on guessing what looks like a name:
- values of personal fields, in JSON (`"name": "SMITH"`), key=value and URL query strings (every
  query value except paging and filter switches: a search term is what an analyst typed about
  someone);
- input echoed by validation errors (`got '...'`), which is how a malformed DOB or plate would
  otherwise reach a dead-letter log line;
- dates of birth and other bare calendar dates (timestamps keep their time and stay), plates
  written as "plate X", social security, phone and e-mail patterns.
"""

from __future__ import annotations

import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any

import orjson

MASK = "[redacted]"

# Fields that carry personal data wherever they appear (records, query strings, extras).
PERSONAL_FIELDS = (
    "name",
    "person_name",
    "first_name",
    "last_name",
    "middle_name",
    "given_name",
    "surname",
    "alias",
    "aka",
    "dob",
    "person_dob",
    "date_of_birth",
    "birth_date",
    "plate",
    "vin",
    "address",
    "street",
    "phone",
    "email",
    "ssn",
    "dl_number",
    "license_number",
    "narrative",
    "text",
    "snippet",
    "q",
)
# Query parameters that say how to page or filter, never about whom.
SAFE_PARAMS = frozenset(
    {"limit", "offset", "hops", "max_hops", "type", "tlp", "agency", "since", "until", "from", "to", "unit", "role"}
)

_KEYS = "|".join(sorted(PERSONAL_FIELDS, key=len, reverse=True))
_RULES: list[tuple[re.Pattern[str], str]] = [
    # "name": "SMITH, JON"   'dob': '1991-04-02'   "plate": 123
    (
        re.compile(rf"""(["'](?:{_KEYS})["']\s*:\s*)("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[^,}}\]\s]+)""", re.I),
        rf'\1"{MASK}"',
    ),
    # name=SMITH  plate=8ABC123 (log extras, form bodies)
    (re.compile(rf"(?<![\w?&])((?:{_KEYS})=)([^&\s,;]+)", re.I), rf"\1{MASK}"),
    # validation errors echo the input: "expected YYYY-MM-DD, got '13/45/1991'"
    (re.compile(r"""(\bgot\s+)("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')"""), rf"\1{MASK}"),
    # "plate 8ABC123", "plate CA 8ABC123", "plate: 8ABC-123"
    (re.compile(r"\b(plate[:#]?\s+)(?:[A-Z]{2}\s+)?[A-Z0-9][A-Z0-9 -]{0,9}[A-Z0-9]\b", re.I), rf"\1{MASK}"),
    # bare calendar dates (a DOB); ISO timestamps carry a time and are kept
    (re.compile(r"\b(?:18|19|20)\d\d-[01]\d-[0-3]\d\b(?![T\d:]|\s\d\d:)"), MASK),
    (re.compile(r"\b[01]?\d/[0-3]?\d/(?:18|19|20)?\d\d\b"), MASK),
    (re.compile(r"\b\d{3}-\d{2}-\d{4}\b"), MASK),  # SSN
    (re.compile(r"\b[\w.+-]+@[\w-]+\.[\w.-]+\b"), MASK),  # e-mail
    (re.compile(r"(?<!\d)\(?\d{3}\)?[ .-]\d{3}-\d{4}\b"), MASK),  # phone
]
_QUERY = re.compile(r"\?([^\s\"']*)")


def _query(m: re.Match[str]) -> str:
    parts = []
    for part in m.group(1).split("&"):
        key, eq, _ = part.partition("=")
        parts.append(part if not eq or key.lower() in SAFE_PARAMS else f"{key}={MASK}")
    return "?" + "&".join(parts)


def redact(text: str) -> str:
    """The line as it may be written: query values, personal fields and patterns masked."""
    text = _QUERY.sub(_query, text)
    for pattern, repl in _RULES:
        text = pattern.sub(repl, text)
    return text


def _redact_value(key: str, value: Any) -> Any:
    if key.lower() in PERSONAL_FIELDS:
        return MASK
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: _redact_value(str(k), v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_redact_value("", v) for v in value]
    return value


_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "color_message"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line (ts, level, logger, msg, exc, extras), redacted."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": redact(record.getMessage()),
        }
        if record.exc_info:
            out["exc"] = redact(self.formatException(record.exc_info))
        for k, v in record.__dict__.items():
            if k not in _STANDARD and not k.startswith("_"):
                out[k] = _redact_value(k, v)
        return orjson.dumps(out, default=str).decode()


class TextFormatter(logging.Formatter):
    """The classic one-line format for a terminal, redacted the same way."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = redact(record.message)
        return super().formatMessage(record)

    def formatException(self, ei: Any) -> str:
        return redact(super().formatException(ei))


def handler(fmt: str = "json", stream: Any = None) -> logging.Handler:
    h = logging.StreamHandler(stream or sys.stderr)
    h.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    return h


def configure(level: str | int = "INFO", fmt: str = "json", stream: Any = None) -> None:
    """Route every logger (Argus's, uvicorn's, libraries') through one redacting handler."""
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    root.addHandler(handler(fmt, stream))
    root.setLevel(level.upper() if isinstance(level, str) else level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        lg = logging.getLogger(name)
        lg.handlers.clear()
        lg.propagate = True
    # HTTP clients' one line per request (the schema registry client's, at start-up): their
    # failures reach the caller as exceptions, said where they matter.
    for name in ("httpx", "httpx2", "httpcore", "httpcore2"):
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))


def uvicorn_config(level: str, fmt: str = "json") -> dict[str, Any]:
    """dictConfig for uvicorn (each worker process applies it): its loggers write through the
    same redacting formatter, so an access line keeps the path but not what was searched for."""
    formatter = {"()": f"{__name__}.{'JsonFormatter' if fmt == 'json' else 'TextFormatter'}"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"argus": formatter},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "argus", "stream": "ext://sys.stderr"}},
        "root": {"handlers": ["stderr"], "level": level.upper()},
        "loggers": {
            "uvicorn": {"handlers": [], "level": level.upper(), "propagate": True},
            "uvicorn.error": {"handlers": [], "level": level.upper(), "propagate": True},
            "uvicorn.access": {"handlers": [], "level": level.upper(), "propagate": True},
        },
    }
