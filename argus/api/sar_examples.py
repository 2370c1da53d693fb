"""Example answers of the SAR routes, as OpenAPI shows them (kept apart from the models)."""

from __future__ import annotations

from typing import Any

from argus.api.sar_models import categories
from argus.workflows.sar_model import CHECKLIST

# fmt: off
_SUMMARY = {
    "id": "8d1e…", "sar_id": "SAR-1F2E3D4C5B6A", "state": "SUBMITTED", "behavior": "SURVL", "priority": "HIGH",
    "score": 67.0, "agency": "CA0190000", "tlp": "TLP:AMBER", "public_tip": False,
    "received_at": "2026-11-03T14:25:00+00:00", "due_at": "2026-11-03T15:25:00+00:00", "breached": False,
    "reasons": [{"factor": "site", "points": 20.0, "detail": "310 m from Riverside water treatment (water)"}],
    "place": "1200 Riverside Dr, Fresno", "protected_activity": False,
}
_STEP = {"step": "initial_review", "outcome": "ACCEPT", "at": "2026-11-03T14:50:00+00:00", "agency": "CAFC00000",
         "feedback": "Thank you: complete and specific.", "questions": []}
SAR_EXAMPLES: dict[str, Any] = {
    "queue": {"total": 1, "sars": [_SUMMARY]},
    "detail": _SUMMARY | {
        "narrative": "Two men photographed the plant's gate and noted guard change times.",
        "occurred_at": "2026-11-03T11:00:00+00:00", "submitted_by": "Ofc. J. Ruiz", "submitter_role": "analyst",
        "contact": {"name": "Ofc. J. Ruiz", "phone": "559-555-0142"}, "lat": 36.7412, "lon": -119.7901,
        "site_category": "water", "override": None, "shared_as": None, "version": 3,
        "steps": [_STEP | {"actor": "an-fc", "reason": "complete", "ratings": {"who": 2}, "facts": ""}],
    },
    "mine": {"total": 1, "sars": [{"id": "8d1e…", "sar_id": "SAR-1F2E3D4C5B6A", "state": "ACCEPTED",
                                   "behavior": "SURVL", "received_at": "2026-11-03T14:25:00+00:00",
                                   "steps": [_STEP]}]},
    "receipt": {"id": "8d1e…", "sar_id": "SAR-1F2E3D4C5B6A", "state": "SUBMITTED"},
    "categories": {"categories": categories()[:1]},
    "patterns": {"total": 1, "patterns": [{
        "pattern_id": "2c9f…", "kind": "SPACE_TIME_CLUSTER", "recipient_agency": "CAFC00000", "sars": ["8d1e…"],
        "sar_ids": ["SAR-1F2E3D4C5B6A"], "agencies": ["CA0190000", "CA0430000"], "behaviors": ["SURVL"],
        "site_category": "", "observed": 3, "expected": 0.012, "p_value": 2.9e-7,
        "why": "4 SARs within 1500 m and 7 days of one another; 0.012 neighbours expected by chance",
        "lat": 36.741, "lon": -119.79, "first_at": "2026-11-01T20:00:00+00:00",
        "last_at": "2026-11-03T11:00:00+00:00", "detected_at": "2026-11-03T14:26:00+00:00"}]},
    "trends": {"weeks": 3, "baseline_weeks": 2, "series": [{
        "behavior": "SURVL", "weeks": ["2026-11-16", "2026-11-23", "2026-11-30"], "counts": [2, 3, 9],
        "forecast": 2.5, "interval": [0, 5.6], "above": True}]},
    "quality": {"days": 90, "checklist": list(CHECKLIST), "agencies": [{
        "agency": "CA0190000", "submitted": 12, "reviewed": 10, "accepted": 8, "acceptance_rate": 0.8,
        "completeness": 0.86, "median_hours_to_review": 3.5, "ise_sar": 2, "public_tips": 0}]},
    "tip": {"receipt": "SAR-1F2E3D4C5B6A", "status": "received", "message": "Thank you. Your tip was received."},
}
# fmt: on
