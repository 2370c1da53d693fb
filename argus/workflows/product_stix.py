"""A published product as a STIX 2.1 report for partner centres over TAXII: the copy released as
a whole (paragraphs marked as the product is; portion-marked ones left out), its TLP 2.0
marking-definition, each handling caveat as a statement marking, the originating agency's
identity, and object refs to the STIX objects it quotes."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from argus.records import Tlp
from argus.stix.markings import TLP2_IDS, marking_definition
from argus.workflows.product_model import CAVEATS
from argus.workflows.product_render import Copy, plain

NS = uuid.UUID("6f0c2b1e-8a3d-4f5e-b7c9-2d1e0a9f8b7c")  # Argus product ids
EPOCH = "2026-12-01T00:00:00.000Z"
STIX_ID = ("attack-pattern", "campaign", "identity", "indicator", "infrastructure", "intrusion-set", "location",
           "malware", "threat-actor", "tool", "vulnerability", "report", "note", "observed-data")  # fmt: skip


def _ts(d: datetime) -> str:
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{d.microsecond // 1000:03d}Z"


def identity_id(agency: str) -> str:
    return "identity--" + str(uuid.uuid5(NS, "agency:" + agency))


def report_id(product_id: str) -> str:
    return "report--" + str(uuid.uuid5(NS, product_id))


def statement(caveat: str) -> dict[str, Any]:
    return {
        "type": "marking-definition", "spec_version": "2.1", "id": "marking-definition--" + str(uuid.uuid5(NS, caveat)),
        "created": EPOCH, "name": caveat, "definition_type": "statement",
        "definition": {"statement": f"{caveat}: {CAVEATS.get(caveat, caveat)}"},
    }  # fmt: skip


def report_bundle(c: Copy, at: datetime, created: datetime) -> dict[str, Any]:
    """The bundle a partner ingests; ids are deterministic per product revision, `modified` the
    time of publication and `created` the first revision's, so a later revision or a withdrawal
    replaces it by STIX versioning."""
    p = c.product
    tlp = Tlp.parse(p.marking.tlp)
    statements = [statement(h) for h in p.marking.handling if h in CAVEATS]
    marks = [TLP2_IDS[tlp], *(s["id"] for s in statements)]
    agency = {
        "type": "identity", "spec_version": "2.1", "id": identity_id(p.marking.agency), "created": EPOCH,
        "modified": EPOCH, "name": p.marking.agency, "identity_class": "organization",
        "sectors": ["government-public-services"],
    }  # fmt: skip
    refs = [agency["id"], *(s for s in c.sources if s.split("--", 1)[0] in STIX_ID)]
    report = {
        "type": "report", "spec_version": "2.1", "id": report_id(p.series), "created_by_ref": agency["id"],
        "created": _ts(created), "modified": _ts(at), "published": _ts(at), "name": p.title,
        "description": plain(c), "report_types": [_REPORT_TYPE.get(p.type, "threat-report")],
        "object_refs": list(dict.fromkeys(refs)), "object_marking_refs": marks, "labels": [p.type, p.category],
        "external_references": [{"source_name": "argus-product", "external_id": p.id,
                                 "description": f"revision {p.revision}, {p.urgency}"}],
    }  # fmt: skip
    objects = [agency, marking_definition(tlp), *statements, report]
    return {"type": "bundle", "id": "bundle--" + str(uuid.uuid5(NS, p.id + ":" + _ts(at))), "objects": objects}


_REPORT_TYPE = {"threat_assessment": "threat-report", "bolo": "threat-actor", "officer_safety": "threat-report",
                "sar_trend": "observed-data", "situational_awareness": "threat-report",
                "intelligence_assessment": "threat-report"}  # fmt: skip
