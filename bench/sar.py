"""SAR triage and pattern detection: `python -m bench sar [--sars N] [--clusters K]`.

Generated SARs (argus/synthetic_sars.py): background SARs at random over 400 x 400 km and 60 days,
with K clusters of 4 planted within 400 m and 3 days. Measured in one run: the floor (decoding
and encoding each SAR's triage record, which every hop of the runtime does), triage (every SAR
scored, the site list of 50 sites searched), and pattern detection; the target is 1,000 SARs/s
each. Cluster detection's recall (planted clusters raised with at least 3 of their SARs), its
precision (raised SARs that were planted), and false clusters on background alone.
"""

from __future__ import annotations

import argparse
import random
import time
from typing import Any

from argus.contracts import Context
from argus.records import Record
from argus.schemas import default_schemas
from argus.state import NodeState
from argus.synthetic_sars import found_clusters, generate
from processors.sar_patterns import SarPatternsProcessor
from processors.sar_triage import SarTriageProcessor

CENTRE = "CAFC00000"


def _resolved(rec: Record) -> Record:
    """The resolved record triage reads, from a triage record's SAR."""
    b = rec.body
    sar = {
        "sar_id": b["sar_id"], "version": 1, "behavior": b["behavior"], "occurred_at": b["occurred_at"],
        "submitted_by": "gen", "narrative": "generated", "persons": [], "vehicles": [],
        "locations": [{"role": "incident", "address": None, "lat": b["lat"], "lon": b["lon"]}],
    }  # fmt: skip
    body = {"report": sar, "event_id": "ev", "entities": [], "links": [], "merges": [], "possible": []}
    return Record({"envelope": rec.envelope, "body": body}, key=rec.key)


def _rate(n: int, seconds: float) -> float:
    return round(n / seconds, 1) if seconds else float("inf")


def _patterns(records: list[Record]) -> tuple[list[dict[str, Any]], float]:
    node = SarPatternsProcessor(SarPatternsProcessor.Config(also_notify=[CENTRE]), name="sar_patterns")
    ctx = Context("sar_patterns", NodeState())
    t0 = time.perf_counter()
    out = [o.body for r in records for o in node.process(r, ctx)]
    return out, time.perf_counter() - t0


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sars", type=int, default=20_000)
    ap.add_argument("--clusters", type=int, default=20)
    args = ap.parse_args(argv)
    world = generate(args.sars, clusters=args.clusters, seed=3, side_km=400)
    recs = world.records
    schemas = default_schemas()
    ts = schemas.get("sar_triage.v1")
    t0 = time.perf_counter()
    for r in recs:
        schemas.decode(schemas.encode(ts, r.value), ts)
    floor = time.perf_counter() - t0

    rnd = random.Random(1)
    sites = [{"name": f"site {i}", "category": rnd.choice(["water", "energy", "transport"]),
              "lat": 36 + rnd.uniform(0, 3.6), "lon": -120 + rnd.uniform(0, 4.4), "radius_m": 800}
             for i in range(50)]  # fmt: skip
    triage = SarTriageProcessor(SarTriageProcessor.Config(sites=sites), name="sar_triage")
    tctx = Context("sar_triage", NodeState())
    resolved = [_resolved(r) for r in recs]
    t0 = time.perf_counter()
    for r in resolved:
        for o in triage.process(r, tctx):
            schemas.encode(ts, o.value)
    triage_s = time.perf_counter() - t0

    raised, patterns_s = _patterns(recs)
    found = found_clusters(raised, CENTRE)
    planted = set().union(*world.clusters.values()) if world.clusters else set()
    hit = sum(any(len(f & m) >= 3 for f in found) for m in world.clusters.values())
    flagged = set().union(*found) if found else set()
    noise, _ = _patterns(generate(args.sars, seed=4, side_km=400).records)
    false = len({frozenset(s) for s in found_clusters(noise, CENTRE)})
    res = {
        "sars": len(recs),
        "floor_per_s": _rate(len(recs), floor),
        "triage_per_s": _rate(len(recs), triage_s),
        "patterns_per_s": _rate(len(recs), patterns_s),
        "triage_vs_floor": round(floor / triage_s, 3),
        "patterns_vs_floor": round(floor / patterns_s, 3),
        "clusters_planted": len(world.clusters),
        "cluster_recall": round(hit / len(world.clusters), 3) if world.clusters else None,
        "sar_precision": round(len(flagged & planted) / len(flagged), 3) if flagged else None,
        "false_clusters_in_noise": false,
        "false_per_1000_sars": round(1000 * false / args.sars, 3),
        "false_rising_in_noise": sum(p["kind"] == "RISING" for p in noise),
        "kinds": {k: sum(p["kind"] == k for p in raised) for k in ("SPACE_TIME_CLUSTER", "CROSS_AGENCY", "RISING")},
    }
    print(res)
    return res


if __name__ == "__main__":
    main()
