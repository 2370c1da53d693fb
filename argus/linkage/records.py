"""What entity resolution writes: a resolved entity, a link, a field's evidence, and a STIX
object resolved whole. Shared by the streaming node (processors/entity_resolution.py) and the
bulk STIX import (pipelines/stix_bulk.py), so both write the same records."""

from __future__ import annotations

from typing import Any

import orjson

from argus.records import Record, deterministic_id

KIND_OF_STIX = {
    "identity": "PERSON",
    "location": "LOCATION",
    "observed-data": "EVENT",
    "sighting": "EVENT",
    "report": "EVENT",
    "incident": "EVENT",
    "grouping": "EVENT",
}


def entity(
    eid: str,
    kind: str,
    subtype: str,
    display: str,
    role: str,
    keys: dict[str, Any],
    attrs: dict[str, Any],
    method: str,
    score: float,
    reason: str,
) -> dict[str, Any]:
    """An argus.ResolvedEntity: empty keys and attributes left out, every value a string."""
    return {
        "entity_id": eid,
        "kind": kind,
        "subtype": subtype,
        "display": display,
        "role": role,
        "keys": {k: str(v) for k, v in keys.items() if v not in (None, "")},
        "attributes": {k: str(v) for k, v in attrs.items() if v not in (None, "")},
        "match_method": method,
        "match_score": round(score, 4),
        "match_reason": reason,
    }


def link(src: str, rel: str, dst: str, why: str) -> dict[str, Any]:
    return {
        "link_id": deterministic_id("link", src, rel, dst),
        "from_id": src,
        "to_id": dst,
        "relation": rel,
        "reason": why,
    }


def evidence(ev: list[tuple[str, str, float]]) -> list[dict[str, Any]]:
    """A comparison as argus.MatchEvidence records."""
    return [{"field": f, "level": lvl, "weight": round(w, 3)} for f, lvl, w in ev]


def stix_resolved(record: Record, obj: dict[str, Any] | None = None) -> Record:
    """A STIX object as entity resolution emits it (stateless, so the bulk import path in
    pipelines/stix_bulk.py calls it too): relationships and sightings become links, the rest an
    entity whose POLE kind follows its type."""
    env, body = record.envelope, record.body
    if obj is None:
        obj = orjson.loads(body["object_json"])
    sid, stype = body["stix_id"], body["stix_type"]
    entities, links = [], []
    if stype == "relationship":
        src, dst = obj.get("source_ref"), obj.get("target_ref")
        if src and dst:
            rel = str(obj.get("relationship_type", "related-to")).upper().replace("-", "_")
            links.append(
                {
                    "link_id": deterministic_id("link", src, rel, dst),
                    "from_id": src,
                    "to_id": dst,
                    "relation": rel,
                    "reason": f"STIX relationship {sid}",
                }
            )
    elif stype == "sighting":
        for ref in obj.get("observed_data_refs", []) or []:
            links.append(
                {
                    "link_id": deterministic_id("link", sid, "OBSERVED", ref),
                    "from_id": sid,
                    "to_id": ref,
                    "relation": "OBSERVED",
                    "reason": f"STIX sighting {sid}",
                }
            )
        if obj.get("sighting_of_ref"):
            ref = obj["sighting_of_ref"]
            links.append(
                {
                    "link_id": deterministic_id("link", sid, "SIGHTING_OF", ref),
                    "from_id": sid,
                    "to_id": ref,
                    "relation": "SIGHTING_OF",
                    "reason": f"STIX sighting {sid}",
                }
            )
    if stype != "relationship":
        kind = KIND_OF_STIX.get(stype, "OBJECT")
        if stype == "identity" and obj.get("identity_class") not in (None, "individual"):
            kind = "OBJECT"
        label = obj.get("name") or obj.get("value") or sid
        ext = [r.get("external_id") for r in obj.get("external_references", []) if r.get("external_id")]
        entities.append(
            entity(
                sid,
                kind,
                stype,
                str(label)[:200],
                "stix",
                {"stix_id": sid, "external_id": ext[0] if ext else None},
                {"modified": body.get("modified")},
                "deterministic",
                1.0,
                "STIX identifier",
            )
        )
    return Record(
        {
            "envelope": env,
            "body": {
                "report": ("argus.StixObject", body),
                "event_id": sid,
                "entities": entities,
                "links": links,
                "merges": [],
                "possible": [],
            },
        },
        key=env["id"],
        topic="resolved.v2",
    )
