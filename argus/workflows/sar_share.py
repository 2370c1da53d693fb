"""An ISE-SAR as STIX 2.1: a report whose ISE-SAR fields travel as a property extension
(defined by the extension-definition shipped in the same bundle), with a TLP 2.0 marking, for
the shared space collection over TAXII."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from argus.records import Tlp
from argus.stix.markings import TLP2_IDS, marking_definition
from argus.stores.sar_reviews import SarCase
from argus.workflows.sar_model import BY_CODE

NS = uuid.UUID("3c7b8d3e-2f0a-4d7c-9b1e-5a6f4e2d1c0b")  # Argus ISE-SAR ids
EXTENSION_ID = "extension-definition--5b3c0a6e-1f57-4a8e-9d2c-7e4f1b6a9c30"
CREATOR = "identity--" + str(uuid.uuid5(NS, "argus"))


def _ts(d: datetime) -> str:
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{d.microsecond // 1000:03d}Z"


def extension_definition() -> dict[str, Any]:
    return {
        "type": "extension-definition", "spec_version": "2.1", "id": EXTENSION_ID, "created_by_ref": CREATOR,
        "created": "2026-12-01T00:00:00.000Z", "modified": "2026-12-01T00:00:00.000Z",
        "name": "ISE-SAR", "description": "ISE-SAR Functional Standard fields of a vetted suspicious activity report",
        "schema": "https://argus.example/schemas/ise-sar-extension.json", "version": "1.0.0",
        "extension_types": ["property-extension"],
    }  # fmt: skip


def report_id(case: SarCase) -> str:
    return "report--" + str(uuid.uuid5(NS, case.id))


def ise_sar_bundle(case: SarCase, tlp: Tlp, vetted_by: str, vetted_at: datetime) -> dict[str, Any]:
    """The report (its `object_refs` the SAR's place, or the vetting centre's identity), the
    objects it refers to, the extension's definition and the TLP marking definition."""
    b = BY_CODE[case.behavior]
    marks = [TLP2_IDS[tlp]]
    identity = {
        "type": "identity", "spec_version": "2.1", "id": CREATOR, "created": "2026-12-01T00:00:00.000Z",
        "modified": "2026-12-01T00:00:00.000Z", "name": "Argus", "identity_class": "system",
    }  # fmt: skip
    refs: list[dict[str, Any]] = []
    if case.lat is not None and case.lon is not None:
        refs.append({
            "type": "location", "spec_version": "2.1", "id": "location--" + str(uuid.uuid5(NS, case.id + ":where")),
            "created": _ts(vetted_at), "modified": _ts(vetted_at), "latitude": case.lat, "longitude": case.lon,
            "object_marking_refs": marks, **({"description": case.place} if case.place else {}),
        })  # fmt: skip
    report = {
        "type": "report", "spec_version": "2.1", "id": report_id(case), "created_by_ref": CREATOR,
        "created": _ts(vetted_at), "modified": _ts(vetted_at), "published": _ts(vetted_at),
        "name": f"ISE-SAR {case.sar_id}: {b.title}", "description": case.narrative,
        "report_types": ["threat-report"], "object_refs": [r["id"] for r in refs] or [CREATOR],
        "object_marking_refs": marks,
        "extensions": {EXTENSION_ID: {
            "extension_type": "property-extension", "x_ise_sar_id": case.sar_id, "x_behavior_code": b.code,
            "x_behavior_category": b.title, "x_behavior_group": b.group, "x_occurred_at": _ts(case.occurred_at),
            "x_submitting_agency": case.marking.agency, "x_vetted_by_agency": vetted_by,
            "x_vetted_at": _ts(vetted_at), "x_site_category": case.site_category,
        }},
    }  # fmt: skip
    objects = [identity, extension_definition(), marking_definition(tlp), *refs, report]
    return {"type": "bundle", "id": "bundle--" + str(uuid.uuid5(NS, case.id + ":bundle")), "objects": objects}
