"""A hit as an officer or analyst reads it: a correlated report's summary, the fields and path
the recipient's view of its marking lets through, and the notice telling an owning agency its
subject was encountered. Pure functions of a report's summary and a view: the correlation nodes
build hits with them, and the alert writer (argus/alert_writer.py) puts the words around them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from argus.nibrs import offense_name
from argus.records import RELIABILITY_TEXT, VALIDITY_TEXT, Record
from argus.scoring import score_hit
from argus.security.policy import EXISTENCE, Recipient, ReportView, report_view

KIND_LABEL = {"rms.incident": "RMS report", "cad.incident": "CAD incident", "sar": "SAR", "stix": "STIX"}


def contact(agency: str, case_owner: str | None) -> str:
    return agency + (f" ({case_owner})" if case_owner else "")


def encounter_context(env: dict[str, Any], query: dict[str, Any], units: list[str]) -> tuple[str, str, str, str]:
    """Where, when, by which unit and why the trigger (a query or a CAD incident) happened."""
    loc = (query.get("location") or {}).get("address") or ""
    when = (query.get("issued_at") or env["observed_at"]).isoformat()
    unit = query.get("unit_id") or ", ".join(units)
    return loc, when, unit, query.get("reason") or "CAD incident"


def marking_of(s: dict[str, Any], access: str) -> dict[str, Any]:
    """A hit's copy of its report's marking and how much of the report it shows, so every
    delivery can decide again for its own subscriber (argus.api.access.Gate.deliver)."""
    return {
        "access": access,
        "report_ci": bool(s.get("criminal_intelligence")),
        "report_handling": list(s.get("handling") or ()),
        "report_cases": list(s.get("cases") or ()),
        "report_recipients": list(s.get("recipients") or ()),
    }


def _iso(dt: datetime | None) -> str | None:
    return dt.isoformat() if dt else None


def summarize(record: Record, narrative_chars: int) -> dict[str, Any]:
    """What a correlation node keeps of a report (its holdings' summary): everything a later hit
    on it may show and the marking that decides how much, with the narrative cut short, so no
    trigger has to read the report itself again."""
    env, body = record.envelope, record.body
    rep = body["report"]
    ents = body["entities"]
    series = next((e for e in ents if e["subtype"] == "series"), None)
    when = rep.get("occurred_at") or rep.get("received_at")
    return {
        "id": env["id"],
        "type": env["type"],
        "kind": env["type"].split(".")[0],
        "source_id": rep.get("report_id") or rep.get("incident_id") or rep.get("sar_id") or rep.get("stix_id"),
        "event_id": body["event_id"],
        "agency": env["source_agency"],
        "tlp": env["tlp"],
        "reliability": env["reliability"],
        "validity": env["validity"],
        "criminal_intelligence": env["criminal_intelligence"],
        "law_enforcement": bool(env.get("source_law_enforcement")),
        "handling": env["handling"],
        "cases": env.get("cases", []),
        "recipients": env.get("recipients", []),
        "offenses": rep.get("offenses", []),
        "behavior": rep.get("behavior"),
        "call_type": rep.get("call_type"),
        "series_id": rep.get("series_id"),
        "series_entity": series["entity_id"] if series else None,
        "occurred_at": _iso(when),
        "case_owner": rep.get("case_owner"),
        "narrative": (rep.get("narrative") or "")[:narrative_chars],
        "units": rep.get("units", []),
        "vehicles": [
            {"entity_id": e["entity_id"], "role": e["role"], "display": e["display"]}
            for e in ents
            if e["subtype"] == "vehicle"
        ],
        "persons": [
            {
                "entity_id": e["entity_id"],
                "role": e["role"],
                "display": e["display"],
                "dob": e["attributes"].get("dob"),
                "sex": e["attributes"].get("sex"),
                "race": e["attributes"].get("race"),
            }
            for e in ents
            if e["subtype"] == "person"
        ],
        "locations": [{"role": e["role"], "display": e["display"]} for e in ents if e["kind"] == "LOCATION"],
    }


def hit_fields(s: dict[str, Any], view: ReportView) -> dict[str, str]:
    f: dict[str, str] = {}
    if view.can("offenses") and s["offenses"]:
        f["offenses"] = ", ".join(f"{c} {offense_name(c)}" for c in s["offenses"])
    if view.can("offenses") and s.get("behavior"):
        f["sar_behavior"] = s["behavior"]
    if view.can("offenses") and s.get("call_type"):
        f["call_type"] = s["call_type"]
    if view.can("series_id") and s["series_id"]:
        f["series_id"] = s["series_id"]
    if view.can("occurred_at") and s["occurred_at"]:
        f["occurred_at"] = s["occurred_at"]
    if view.can("ratings"):
        f["ratings"] = (
            f"{s['reliability']}{s['validity']} ({RELIABILITY_TEXT[s['reliability']]}, {VALIDITY_TEXT[s['validity']]})"
        )
    if view.can("vehicles") and s["vehicles"]:
        f["vehicles"] = "; ".join(f"{v['role']}: {v['display']}" for v in s["vehicles"])
    if view.can("persons") and s["persons"]:
        parts = []
        for p in s["persons"]:
            desc = "/".join(x for x in (p.get("sex"), p.get("race")) if x) or "description not given"
            txt = f"{p['role']}: {desc}"
            if view.can("person_names"):
                txt += f" {p['display']}"
            if view.can("person_dobs") and p.get("dob"):
                txt += f" DOB {p['dob']}"
            parts.append(txt)
        f["persons"] = "; ".join(parts)
    if view.can("locations") and s["locations"]:
        f["locations"] = "; ".join(f"{x['role']}: {x['display']}" for x in s["locations"])
    if view.can("narrative") and s["narrative"]:
        f["narrative"] = s["narrative"]
    return f


def entity_step(kind_word: str, entity_id: str, relation: str | None, label: str) -> dict[str, Any]:
    return {"kind": kind_word.upper(), "id": entity_id, "relation": relation, "label": label}


def report_step(s: dict[str, Any], view: ReportView, relation: str | None) -> dict[str, Any]:
    if view.level == EXISTENCE:
        return {
            "kind": "RECORD",
            "id": s["event_id"],
            "relation": relation,
            "label": f"restricted record, contact {s['agency']}",
        }
    what = KIND_LABEL.get(s["type"], s["type"])
    offs = ", ".join(offense_name(c) for c in s["offenses"]) if view.can("offenses") else ""
    return {
        "kind": "RECORD",
        "id": s["event_id"],
        "relation": relation,
        "label": f"{what} {s['agency']} {s['source_id']}" + (f" ({offs})" if offs else ""),
    }


def entity_label(s: dict[str, Any], eid: str, view: ReportView, kind_word: str, asked: str) -> str:
    """What was matched, in words this recipient may see."""
    if kind_word == "vehicle" and view.can("vehicles"):
        v = next((v for v in s["vehicles"] if v["entity_id"] == eid), None)
        if v:
            return f"vehicle {v['display']}"
    if kind_word == "person" and view.can("person_names"):
        p = next((p for p in s["persons"] if p["entity_id"] == eid), None)
        if p:
            return f"person {p['display']}"
    return f"{kind_word} {asked}"


def trigger_context(record: Record) -> tuple[str, str, str, str]:
    body = record.body
    units = body["report"].get("units", []) if "report" in body else []
    return encounter_context(record.envelope, body.get("query") or {}, units)


def encounter_hit(
    record: Record, s: dict[str, Any], eid: str, role: str, kind_word: str
) -> tuple[str, str, dict[str, Any]]:
    """The hit telling the owner of record `s` that its subject or vehicle `eid` was
    encountered, and by whom: (owning agency, what was matched in its words, hit)."""
    env = record.envelope
    q = record.body.get("query") or {}
    loc, when, unit, reason = trigger_context(record)
    owner = Recipient(agency=s["agency"], role="analyst")
    view = report_view(s, owner)
    assert view is not None  # the owner always sees its own record
    label = entity_label(s, eid, view, kind_word, "")
    hit = {
        "matched_entity_id": eid,
        "matched": label,
        "match_reason": f"{reason} by {env['source_agency']}",
        "path": [
            {
                "kind": "RECORD",
                "id": s["event_id"],
                "relation": None,
                "label": f"your {KIND_LABEL.get(s['type'], s['type'])} {s['source_id']}",
            },
            entity_step(kind_word, eid, f"LISTED_AS_{role.upper()}", label),
            {
                "kind": "ENCOUNTER",
                "id": env["id"],
                "relation": "ENCOUNTERED",
                "label": f"{reason} by {env['source_agency']} unit {unit or '?'}",
            },
        ],
        "score": 0.0,
        "reasons": ["deconfliction notice"],
        "report_id": s["source_id"],
        "report_agency": env["source_agency"],
        "report_tlp": env["tlp"],
        "contact": f"{env['source_agency']} unit {unit or '?'}",
        "fields": {
            k: v
            for k, v in {
                "encountered_by": env["source_agency"],
                "unit": unit,
                "officer": q.get("officer_id") or "",
                "when": when,
                "where": loc,
                "reason": reason,
            }.items()
            if v
        },
        "withheld": [],
        # the owner is told as a named recipient of what the encountering agency recorded
        **marking_of({"agency": env["source_agency"], "tlp": env["tlp"], "recipients": [s["agency"]]}, "full"),
    }
    return s["agency"], label, hit


@dataclass(frozen=True)
class Match:
    """What tied a trigger to a record: the entity, in words the recipient may see, and how surely."""

    entity_id: str
    label: str
    reason: str
    score: float


def build_hit(
    s: dict[str, Any],
    view: ReportView,
    role: str,
    match: Match,
    head: list[dict[str, Any]],
    series_n: int,
    now: datetime,
    other_agency: bool,
) -> dict[str, Any]:
    """A hit on record `s` (its summary) as `view` lets its recipient see it. `head`: the path
    from the trigger to the matched entity; `series_n`: the reports of its series the recipient
    may know of (a count must not betray the others)."""
    path = [*head, report_step(s, view, f"LISTED_AS_{role.upper()}" if view.level != EXISTENCE else "LISTED")]
    if view.can("series_id") and s["series_id"]:
        path.append(
            {
                "kind": "SERIES",
                "id": s["series_entity"],
                "relation": "PART_OF_SERIES",
                "label": f"series {s['series_id']} ({series_n} report(s) on file)",
            }
        )
    score, reasons = score_hit(s, role, match.score, now, series_n, other_agency)
    if view.level == EXISTENCE:
        reasons = [r for r in reasons if not r.startswith("+") or "listed as" in r]
        reasons.append("details withheld by the record's marking")
    return {
        "matched_entity_id": match.entity_id,
        "matched": match.label,
        "match_reason": match.reason,
        "path": path,
        "score": score,
        "reasons": reasons,
        "report_id": s["source_id"],
        "report_agency": s["agency"],
        "report_tlp": s["tlp"],
        "contact": contact(s["agency"], s.get("case_owner")),
        "fields": hit_fields(s, view),
        "withheld": list(view.withheld),
        **marking_of(s, view.level),
    }
