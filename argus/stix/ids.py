"""Deterministic STIX 2.1 identifiers for cyber observables (SCOs), recomputed on import.

A partner's SCO id is uuid5(NS, JCS(contributing properties)); an id that does not match its
own properties means two feeds will never agree that they saw the same thing, so it is refused
with the id it should have had rather than stored under the wrong one.
"""

from __future__ import annotations

import uuid
from typing import Any

import rfc8785

NAMESPACE = uuid.UUID("00abedb4-aa42-466c-9c01-fed23315a9b7")
HASH_PREFERENCE = ("MD5", "SHA-1", "SHA-256", "SHA-512")

# STIX 2.1 section 6: the properties that contribute to each SCO type's id.
CONTRIBUTING: dict[str, tuple[str, ...]] = {
    "artifact": ("hashes", "payload_bin"),
    "autonomous-system": ("number",),
    "directory": ("path",),
    "domain-name": ("value",),
    "email-addr": ("value",),
    "email-message": ("from_ref", "subject", "body"),
    "file": ("hashes", "name", "parent_directory_ref", "extensions"),
    "ipv4-addr": ("value",),
    "ipv6-addr": ("value",),
    "mac-addr": ("value",),
    "mutex": ("name",),
    "network-traffic": ("start", "end", "src_ref", "dst_ref", "src_port", "dst_port", "protocols", "extensions"),
    "process": (),
    "software": ("name", "cpe", "swid", "vendor", "version"),
    "url": ("value",),
    "user-account": ("account_type", "user_id", "account_login"),
    "windows-registry-key": ("key", "values"),
    "x509-certificate": ("hashes", "serial_number"),
}
SCO_TYPES = frozenset(CONTRIBUTING)


def _one_hash(hashes: dict[str, Any]) -> dict[str, Any]:
    """Exactly one hash contributes: the first of MD5, SHA-1, SHA-256, SHA-512 present."""
    by_upper = {k.upper(): k for k in hashes}
    for name in HASH_PREFERENCE:
        if name in by_upper:
            k = by_upper[name]
            return {k: hashes[k]}
    k = next(iter(hashes))
    return {k: hashes[k]}


def expected_id(obj: dict[str, Any]) -> str | None:
    """The id an SCO must have; None when it has no contributing property (a random id is
    then correct and nothing can be checked) or is not an SCO."""
    stype = obj.get("type")
    if stype not in CONTRIBUTING:
        return None
    contrib: dict[str, Any] = {}
    for prop in CONTRIBUTING[stype]:
        if prop in obj and obj[prop] not in (None, "", [], {}):
            contrib[prop] = _one_hash(obj[prop]) if prop == "hashes" and isinstance(obj[prop], dict) else obj[prop]
    if not contrib:
        return None
    return f"{stype}--{uuid.uuid5(NAMESPACE, rfc8785.dumps(contrib).decode())}"
