"""What starts a playbook besides a person: a schedule, or an event the pipeline addressed to the
playbook's agency (an alert of a type and level, a deconfliction conflict, a risk score crossing
its threshold, a SAR pattern), with the event's fields bound to the playbook's external variables
by path (`hits.0.fields.plate`)."""

from __future__ import annotations

from typing import Any

from argus.playbooks.model import Playbook

SCHEMAS = {
    "alert": "alert.v1",
    "conflict": "deconfliction_notice.v1",
    "risk": "risk_score.v1",
    "sar_pattern": "sar_pattern.v1",
}
KINDS = (*SCHEMAS, "schedule")
LEVELS = ("LOW", "MEDIUM", "HIGH")
ALERT_TYPES = ("QUERY_HIT", "INCIDENT_HIT", "ENCOUNTER_NOTICE", "RELATED_CASE")
MIN_EVERY_S = 1


def check_triggers(triggers: list[dict[str, Any]], pb: Playbook) -> list[str]:
    """What is wrong with each trigger, naming it by position."""
    external = {n for n, v in (pb.doc.get("playbook_variables") or {}).items() if v.get("external")}
    out = []
    for i, t in enumerate(triggers):
        kind = t.get("kind")
        if kind not in KINDS:
            out.append(f"triggers/{i}/kind: one of {', '.join(KINDS)}")
            continue
        if kind == "schedule" and not (isinstance(t.get("every_s"), int) and t["every_s"] >= MIN_EVERY_S):
            out.append(f"triggers/{i}/every_s: whole seconds, at least {MIN_EVERY_S}")
        if kind == "alert" and t.get("alert_type") not in (None, *ALERT_TYPES):
            out.append(f"triggers/{i}/alert_type: one of {', '.join(ALERT_TYPES)}")
        if kind == "alert" and t.get("min_level", "LOW") not in LEVELS:
            out.append(f"triggers/{i}/min_level: one of {', '.join(LEVELS)}")
        if kind == "risk" and not isinstance(t.get("min_score", 0), int | float):
            out.append(f"triggers/{i}/min_score: a number")
        for name, path in (t.get("bind") or {}).items():
            if name not in external:
                out.append(f"triggers/{i}/bind/{name}: not an external variable of the playbook")
            if not isinstance(path, str) or not path:
                out.append(f"triggers/{i}/bind/{name}: a path into the event, like hits.0.fields.plate")
    return out


def matches(t: dict[str, Any], body: dict[str, Any]) -> bool:
    kind = t["kind"]
    if kind == "alert":
        level_ok = LEVELS.index(body.get("level", "LOW")) >= LEVELS.index(t.get("min_level", "LOW"))
        return level_ok and t.get("alert_type") in (None, body.get("alert_type"))
    if kind == "conflict":
        return t.get("conflict_kind") in (None, body.get("kind"))
    if kind == "risk":
        return bool(body.get("crossed")) and float(body.get("score", 0)) >= float(t.get("min_score", 0))
    if kind == "sar_pattern":
        return t.get("pattern_kind") in (None, body.get("kind"))
    return False


def lookup(body: Any, path: str) -> Any:
    node = body
    for part in path.split("."):
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


def bind(t: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    """The external variables' values from the event; a path the event does not have binds nothing."""
    out = {}
    for name, path in (t.get("bind") or {}).items():
        value = lookup(body, path)
        if value is not None:
            out[name] = value
    return out
