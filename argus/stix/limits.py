"""Limits every STIX object meets at the door, whichever way it comes in (an inbox file, a
TAXII feed, a TAXII POST, the bundle API, `argus stix import`).

A hostile object nested hundreds deep would otherwise reach code that recurses (JSON encoders,
the validator, the dead-letter path) and fail there, far from the door and without a reason a
partner can act on; an oversized description would be indexed, stored and shown. Both are refused
here with the field named, so the object is dead-lettered (or listed as a failure) and the rest
of its bundle carries on.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

from argus.records import InvalidRecord

MAX_DEPTH = 32  # ATT&CK's deepest objects nest 5 levels; extensions a few more
MAX_STRING = 65_536  # characters of any one string property (a description, a pattern)
MAX_OBJECT_BYTES = 1_048_576  # one object's JSON
MAX_DOCUMENT_BYTES = 256 * 1_048_576  # one bundle file
# Characters a STIX text property may not carry: controls (other than newline, tab and carriage
# return) and the bidirectional overrides and isolates that make text read other than it is.
HOSTILE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")


class StixTooLarge(ValueError):
    """A document or object past a limit: the message names it."""


def depth_of(doc: Any, limit: int = MAX_DEPTH) -> int:
    """How deep `doc` nests, counted without recursion, stopping once past `limit`."""
    stack: list[tuple[Any, int]] = [(doc, 1)]
    deepest = 0
    while stack:
        node, d = stack.pop()
        if d > deepest:
            deepest = d
            if deepest > limit:
                return deepest
        if isinstance(node, dict):
            stack.extend((v, d + 1) for v in node.values() if isinstance(v, (dict, list)))
        elif isinstance(node, list):
            stack.extend((v, d + 1) for v in node if isinstance(v, (dict, list)))
    return deepest


MAX_DOCUMENT_DEPTH = 512  # a whole envelope: past this it is refused whole; each object meets MAX_DEPTH


def loads_bounded(data: bytes, max_depth: int = MAX_DOCUMENT_DEPTH) -> Any:
    """JSON text as Python, refused whole only past `max_depth` (orjson stops at 1024 levels by
    itself): an object nested too deep inside is refused alone by `check_object`, the rest kept."""
    doc = orjson.loads(data)
    d = depth_of(doc, max_depth)
    if d > max_depth:
        raise StixTooLarge(f"nested more than {max_depth} levels deep; refused")
    return doc


def check_object(raw: dict[str, Any]) -> None:
    """Raise InvalidRecord naming the property that is too deep, too long or hostile."""
    d = depth_of(raw)
    if d > MAX_DEPTH:
        raise InvalidRecord(f"object nested more than {MAX_DEPTH} levels deep; refused")
    stack: list[tuple[str, Any]] = [(k, v) for k, v in raw.items()]
    while stack:
        path, v = stack.pop()
        if isinstance(v, str):
            _check_string(path, v)
        elif isinstance(v, dict):
            stack.extend((f"{path}.{k}", x) for k, x in v.items())
            for k in v:
                if isinstance(k, str):
                    _check_string(f"{path} (a key)", k)
        elif isinstance(v, list):
            stack.extend((f"{path}[{i}]", x) for i, x in enumerate(v))


def _check_string(path: str, v: str) -> None:
    if len(v) > MAX_STRING:
        raise InvalidRecord(f"{path}: {len(v)} characters, over the limit of {MAX_STRING}")
    bad = HOSTILE.search(v)
    if bad:
        ch = bad.group()
        raise InvalidRecord(f"{path}: contains control character U+{ord(ch):04X}; refused as hostile input")
