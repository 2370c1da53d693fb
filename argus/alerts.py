"""Reading and showing alerts: what `argus tail alerts` and `argus demo` print for a person; and
the hits on their way to an alert, encoded in blocks that the correlation nodes pass on without
decoding (processors/alert_composer.py), which the composer and a purge read."""

from __future__ import annotations

from typing import Any

import orjson

from argus.schemas import default_schemas

Notice = tuple[str, str, dict[str, Any]]  # (agency told, what of theirs was matched, the hit)


def level(score: float) -> str:
    """An alert's level from its top score: what the officer-safety line says."""
    return "HIGH" if score >= 70 else "MEDIUM" if score >= 40 else "LOW"


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


def alert_json(body: dict[str, Any]) -> bytes:
    """The one JSON shape of an alert on every channel (the SSE stream, the field query's answer,
    `argus tail alerts --json`, examples/cad_alert_consumer.py): the alert.v1 body, timestamps in
    RFC 3339 with their offset."""
    return orjson.dumps(body, default=str)


def for_recipient(body: dict[str, Any], agency: str | None, unit: str | None) -> bool:
    if agency and body["recipient_agency"] != agency:
        return False
    return not (unit and body.get("recipient_unit") != unit)


FOUND = "argus.FoundHits"


def found_block(hits: list[dict[str, Any]], notices: list[Notice]) -> bytes:
    """What a correlation node found, encoded once, for the nodes after it to pass on as is."""
    schemas = default_schemas()
    value = {"hits": hits, "notices": [{"agency": a, "label": lab, "hit": h} for a, lab, h in notices]}
    return schemas.encode(schemas.block(FOUND), value)


def found_in(blocks: list[bytes]) -> tuple[list[dict[str, Any]], list[Notice]]:
    """The hits and notices of `found_before` blocks, in chain order."""
    schemas = default_schemas()
    reader = schemas.block(FOUND)
    hits: list[dict[str, Any]] = []
    notices: list[Notice] = []
    for block in blocks:
        got = schemas.decode(block, reader)
        hits += got["hits"]
        notices += [(n["agency"], n["label"], n["hit"]) for n in got["notices"]]
    return hits, notices
