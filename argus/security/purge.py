"""Purge: remove a record everywhere, leaving only an audit entry.

- The log: every message that is the record (its envelope id), an alert built from it (a hit on
  it, or it as the trigger), a hit on it on its way along the correlation chain or to the alert
  composer (correlating.v3, report_hits.v1), a risk score that counted it, and a dead letter
  holding its bytes is erased in
  place (`Bus.erase`: a rewrite on the embedded bus, a compaction tombstone on Kafka).
- The stores and processor state: a purge control record on the `purges` topic, applied in
  order by the graph sink (sources, links, entities left with no source), the search sink,
  the correlation nodes (its report summary and every reference to it), risk scoring (its
  evidence, the associations it made; each score published again without it) and the risk store.
- The audit trail: one `purge` entry naming the record, who authorised it and why.

Several records are purged in one pass over the log (a retention run lapses many at once).
"""

from __future__ import annotations

import uuid
from typing import Any

from argus.alerts import found_in
from argus.backends import read_topic
from argus.bus.base import Bus, Commit
from argus.records import utcnow
from argus.schemas import SchemaSet
from argus.security.audit import AuditTrail
from argus.topology import Topology

CONTROL_SCHEMAS = ("purge.v1", "decision.v2")


def _mentions(value: dict[str, Any], raw: bytes, ids: set[str], schema: str) -> str | None:
    """The purged id this message carries, if it carries one."""
    env = value.get("envelope")
    if isinstance(env, dict) and env.get("id") in ids:
        return str(env["id"])
    body = value.get("body")
    if schema == "alert.v1" and isinstance(body, dict):
        if body.get("trigger_id") in ids:
            return str(body["trigger_id"])
        for h in body.get("hits", []):
            if h.get("report_id") in ids:
                return str(h["report_id"])
    if schema.startswith(("correlating.", "report_hits.")) and isinstance(body, dict):  # hits on the way to an alert
        hits, notices = found_in(body.get("found_before") or [])
        for h in [
            *hits,
            *(n for _, _, n in notices),
            *body.get("hits", []),
            *(n["hit"] for n in body.get("notices", [])),
        ]:
            if h.get("report_id") in ids:
                return str(h["report_id"])
    if schema == "risk_score.v1" and isinstance(body, dict):  # a score that counted it
        named = {*body.get("evidence", []), *(r.get("report") for r in body.get("reasons", []))}
        return next((i for i in ids if i in named), None)
    if schema == "dead_letter.v1":
        original = value.get("original") or b""
        return next((i for i in ids if i.encode() in original), None)
    return None


def purge_records(
    topo: Topology,
    bus: Bus,
    schemas: SchemaSet,
    audit: AuditTrail,
    requests: list[dict[str, str]],
) -> dict[str, Any]:
    """`requests`: [{record_id, agency, reason, by}]. Returns what was erased, per topic."""
    ids = {r["record_id"] for r in requests}
    erased: dict[str, int] = {}
    for name, t in topo.topics.items():
        if t.schema_ in CONTROL_SCHEMAS:
            continue
        reader = schemas.get(t.schema_)
        hits = [
            (name, r.partition, r.offset)
            for r in read_topic(bus, schemas, name, reader)
            if _mentions(r.value, r.raw or b"", ids, t.schema_)
        ]
        if hits:
            erased[name] = bus.erase(hits)
    topic = next((n for n, t in topo.topics.items() if t.schema_ == "purge.v1"), None)
    if topic is None:
        raise ValueError("this topology has no topic carrying purge.v1")
    encoder = schemas.get(topo.topics[topic].schema_)
    appends = []
    purge_ids = {}
    for r in requests:
        value = {
            "purge_id": str(uuid.uuid4()),
            "record_id": r["record_id"],
            "source_agency": r["agency"],
            "reason": r["reason"],
            "requested_by": r["by"],
            "requested_at": utcnow(),
        }
        purge_ids[r["record_id"]] = value["purge_id"]
        appends.append((topic, r["record_id"], schemas.encode(encoder, value)))
    bus.commit(Commit(appends=appends))
    for r in requests:
        audit.record(
            "purge",
            actor=r["by"],
            agency=r["agency"],
            object=r["record_id"],
            reason=r["reason"],
            detail={"purge_id": purge_ids[r["record_id"]], "erased_from_log": erased},
        )
    return {"purge_ids": purge_ids, "erased": erased}
