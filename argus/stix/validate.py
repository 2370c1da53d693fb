"""The STIX 2.1 checks every imported object passes, cheap enough for the bulk path.

`stix2.parse` checks the same required properties but builds a Python object per STIX object
(about 7,700 objects/s here); these are dict lookups. Exports are still checked with
stix2-validator in the tests.
"""

from __future__ import annotations

import re
from typing import Any

from argus.records import InvalidRecord

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")
SDO_COMMON = ("created", "modified")

# STIX 2.1 required properties beyond type/id/spec_version (sections 4-7).
REQUIRED: dict[str, tuple[str, ...]] = {
    "attack-pattern": ("name",),
    "campaign": ("name",),
    "course-of-action": ("name",),
    "grouping": ("context", "object_refs"),
    "identity": ("name",),
    "incident": ("name",),
    "indicator": ("pattern", "pattern_type", "valid_from"),
    "infrastructure": ("name",),
    "intrusion-set": ("name",),
    "location": (),
    "malware": ("is_family",),
    "malware-analysis": ("product",),
    "note": ("content", "object_refs"),
    "observed-data": ("first_observed", "last_observed", "number_observed"),
    "opinion": ("opinion", "object_refs"),
    "report": ("name", "published", "object_refs"),
    "threat-actor": ("name",),
    "tool": ("name",),
    "vulnerability": ("name",),
    "relationship": ("relationship_type", "source_ref", "target_ref"),
    "sighting": ("sighting_of_ref",),
    "language-content": ("object_ref", "contents"),
    "extension-definition": ("name", "schema", "version", "extension_types", "created_by_ref"),
    # SCOs (no created/modified)
    "autonomous-system": ("number",),
    "directory": ("path",),
    "domain-name": ("value",),
    "email-addr": ("value",),
    "email-message": ("is_multipart",),
    "ipv4-addr": ("value",),
    "ipv6-addr": ("value",),
    "mac-addr": ("value",),
    "mutex": ("name",),
    "network-traffic": ("protocols",),
    "software": ("name",),
    "url": ("value",),
}
SCO_TYPES = frozenset(
    {
        "artifact", "autonomous-system", "directory", "domain-name", "email-addr", "email-message", "file",
        "ipv4-addr", "ipv6-addr", "mac-addr", "mutex", "network-traffic", "process", "software", "url",
        "user-account", "windows-registry-key", "x509-certificate",
    }
)  # fmt: skip
NO_MODIFIED = SCO_TYPES | {"marking-definition"}
TIMESTAMP_PROPS = ("created", "modified", "valid_from", "valid_until", "first_seen", "last_seen", "published")


def check(obj: dict[str, Any]) -> None:
    """Raise InvalidRecord naming the first property that breaks STIX 2.1."""
    stype = obj["type"]
    custom = stype.startswith("x-")
    if not custom and stype not in NO_MODIFIED:
        for p in SDO_COMMON:
            if p not in obj:
                raise InvalidRecord(f"{stype} {obj['id']}: required property {p!r} is missing")
    if stype == "marking-definition":
        if "created" not in obj:
            raise InvalidRecord(f"marking-definition {obj['id']}: required property 'created' is missing")
        if "definition_type" not in obj and "extensions" not in obj:
            raise InvalidRecord(f"marking-definition {obj['id']}: needs definition_type or extensions")
    for p in REQUIRED.get(stype, ()):
        if obj.get(p) in (None, "", []):
            raise InvalidRecord(f"{stype} {obj['id']}: required property {p!r} is missing")
    if stype == "file" and not (obj.get("name") or obj.get("hashes")):
        raise InvalidRecord(f"file {obj['id']}: needs name or hashes")
    if stype == "artifact" and not (obj.get("payload_bin") or obj.get("url")):
        raise InvalidRecord(f"artifact {obj['id']}: needs payload_bin or url")
    for p in TIMESTAMP_PROPS:
        v = obj.get(p)
        if v is not None and (not isinstance(v, str) or not TIMESTAMP.match(v)):
            raise InvalidRecord(f"{stype} {obj['id']}: {p} {str(v)[:40]!r} is not a STIX timestamp (RFC 3339, Z)")
    if "created" in obj and "modified" in obj and obj["modified"] < obj["created"]:
        # same format and zone: the strings order as the instants do, up to fraction digits
        if obj["modified"][:19] < obj["created"][:19]:
            raise InvalidRecord(f"{stype} {obj['id']}: modified is before created")
