"""Deduplication: one report per (id, version), whichever source or replay it came from.

Versions: RMS/CAD/SAR carry an integer version; STIX objects their `modified`. A newer version
supersedes and passes; an equal version with equal content is a duplicate and stops here; an
older version is stale and stops here (its arrival is counted, it is not lost: it stays on the
source topic). An equal version with different content is a correction and passes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import orjson
from prometheus_client import Counter

from argus.contracts import Context, Processor
from argus.records import REPORT_BRANCH, InvalidRecord, Record

DROPPED = Counter("argus_dedup_dropped_total", "Reports dedup did not pass on", ["node", "why"])


def version_of(rtype: str, body: dict) -> str:
    if rtype == "stix":
        return body.get("modified") or body.get("created") or ""
    return f"{body.get('version', 1):010d}"


class DedupProcessor(Processor):
    accepts = ("rms_record.v2", "cad_incident.v2", "sar.v2", "stix_object.v1")
    emits = ("report.v2",)
    partitioned = True  # state is keyed by the report id, which each input's record key determines

    def process(self, record: Record, ctx: Context) -> Iterable[Record]:
        env, body = record.envelope, record.body
        rtype = env["type"]
        version = version_of(rtype, body)
        digest = hashlib.blake2b(orjson.dumps(body, option=orjson.OPT_SORT_KEYS), digest_size=12).hexdigest()
        seen = ctx.state.get(env["id"])
        if seen is not None:
            old_version, old_digest = seen[0], seen[1]
            owner = seen[2] if len(seen) > 2 else env["source_agency"]
            if owner != env["source_agency"]:
                DROPPED.labels(self.name, "foreign").inc()
                raise InvalidRecord(
                    f"{body.get('stix_id') or env['id']} belongs to {owner}: a version from "
                    f"{env['source_agency']} is refused (a record is its producer's)"
                )
            if version < old_version:
                DROPPED.labels(self.name, "stale").inc()
                return []
            if version == old_version and digest == old_digest:
                DROPPED.labels(self.name, "duplicate").inc()
                return []
        ctx.state.put(env["id"], [version, digest, env["source_agency"]])
        return [Record({"envelope": env, "body": (REPORT_BRANCH[rtype], body)}, key=env["id"])]
