"""Reading and showing alerts: what `argus tail alerts` and `argus demo` print for a person."""

from __future__ import annotations

from typing import Any


def format_alert(body: dict[str, Any]) -> str:
    lines = [
        f"[{body['level']}] {body['alert_type']}  score {body['score']:.0f}/100  "
        f"to {body['recipient_agency']}"
        + (f" unit {body['recipient_unit']}" if body.get("recipient_unit") else "")
        + (f" officer {body['recipient_officer']}" if body.get("recipient_officer") else ""),
        f"  {body['summary']}",
    ]
    for i, h in enumerate(body["hits"], 1):
        lines.append(
            f"  hit {i}: {h['matched']}  ({h['report_tlp'].replace('_', '+')} record of "
            f"{h['report_agency']}, score {h['score']:.0f})"
        )
        lines.append(f"    matched because: {h['match_reason']}")
        path = "  ->  ".join(
            (f"-[{s['relation']}]-> " if s.get("relation") and j else "") + f"{s['kind']}: {s['label']}"
            for j, s in enumerate(h["path"])
        )
        lines.append(f"    path: {path.replace('  ->  -[', '  -[')}")
        for k, v in h["fields"].items():
            lines.append(f"    {k}: {v}")
        if h["withheld"]:
            lines.append(f"    withheld by marking: {', '.join(h['withheld'])}")
        lines.append(f"    contact: {h['contact']}")
        lines.append("    why this score: " + "; ".join(h["reasons"]))
    lines.append(f"  {body['instructions']}")
    return "\n".join(lines)


def for_recipient(body: dict[str, Any], agency: str | None, unit: str | None) -> bool:
    if agency and body["recipient_agency"] != agency:
        return False
    return not (unit and body.get("recipient_unit") != unit)
