"""A playbook travelling as STIX 2.1: a course-of-action with the playbook property extension
(extension-definition--1e1c1bd7-c527-4215-8e18-e199e74da57c, as the CACAO community publishes it),
the CACAO document carried whole in `playbook_base64`, so what arrives is what was sent."""

from __future__ import annotations

import base64
import binascii
import uuid
from typing import Any

import orjson

from argus.playbooks.model import Playbook
from argus.records import Tlp
from argus.stix.markings import TLP2_IDS

EXTENSION = "extension-definition--1e1c1bd7-c527-4215-8e18-e199e74da57c"
NS = uuid.UUID("3f6e1b2a-9c4d-4e7f-8a1b-5d2c6e9f0a3b")


def to_coa(pb: Playbook, text: str) -> dict[str, Any]:
    ext = {
        "extension_type": "property-extension", "playbook_id": pb.id.split("--", 1)[1],
        "created": pb.doc["created"], "modified": pb.modified, "playbook_creator": pb.doc["created_by"],
        "revoked": bool(pb.doc.get("revoked", False)), "playbook_standard": "cacao",
        "playbook_abstraction": "executable", "playbook_base64": base64.b64encode(text.encode()).decode(),
    }  # fmt: skip
    for k in ("labels", "description"):
        if pb.doc.get(k):
            ext[k] = pb.doc[k]
    coa = {
        "type": "course-of-action", "spec_version": "2.1",
        "id": f"course-of-action--{uuid.uuid5(NS, pb.id + '/' + pb.modified)}", "created_by_ref": pb.doc["created_by"],
        "created": pb.doc["created"], "modified": pb.modified, "name": pb.name, "extensions": {EXTENSION: ext},
        "object_marking_refs": [TLP2_IDS[Tlp.parse(pb.tlp())]],
    }  # fmt: skip
    if pb.doc.get("description"):
        coa["description"] = pb.doc["description"]
    return coa


def from_stix(doc: Any) -> bytes | None:
    """The CACAO document inside a course-of-action (or the first one in a bundle), or None when
    `doc` is not STIX carrying a playbook."""
    if not isinstance(doc, dict):
        return None
    objects = doc.get("objects") if doc.get("type") == "bundle" else [doc]
    for obj in objects if isinstance(objects, list) else []:
        exts = obj.get("extensions") if isinstance(obj, dict) else None
        ext = exts.get(EXTENSION) if isinstance(exts, dict) else None
        if isinstance(ext, dict) and obj.get("type") == "course-of-action" and ext.get("playbook_standard") == "cacao":
            try:
                return base64.b64decode(str(ext.get("playbook_base64", "")), validate=True)
            except binascii.Error:
                return b""
    return None


def bundle(coa: dict[str, Any]) -> bytes:
    return orjson.dumps({"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": [coa]})
