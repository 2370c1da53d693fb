"""Generated SARs for the pattern tests and the SAR benchmark: background SARs scattered at
random over a region and a period (the null hypothesis), with clusters planted in space and
time, as the triage topic carries them (sar_triage.v1), and which SAR belongs to which cluster."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from math import cos, radians
from typing import Any

from argus.records import Record

BEHAVIORS = ("SURVL", "PHOTO", "ELICIT", "TESTSEC", "THEFT", "INTRSN")
AGENCIES = ("CA0190000", "CA0430000", "CA0100000", "CA0200000")
START = datetime(2026, 9, 1, tzinfo=UTC)


@dataclass
class SarWorld:
    records: list[Record] = field(default_factory=list)
    clusters: dict[str, set[str]] = field(default_factory=dict)  # planted cluster -> its SARs


def triage_record(i: int, lat: float, lon: float, at: datetime, behavior: str, agency: str, tlp: str = "GREEN",
                  site: str = "") -> Record:  # fmt: skip
    rid = str(uuid.uuid5(uuid.NAMESPACE_URL, f"sar:{i}"))
    env = {
        "id": rid, "type": "sar", "source_agency": agency, "source_system": "synthetic", "tlp": tlp,
        "reliability": "C", "validity": 3, "criminal_intelligence": False, "criminal_predicate": None,
        "handling": [], "cases": [], "recipients": [], "source_law_enforcement": True, "review_by": None,
        "observed_at": at, "ingested_at": at, "trace_id": rid,
    }  # fmt: skip
    body = {
        "sar": rid, "sar_id": f"G-{i}", "behavior": behavior, "occurred_at": at, "submitted_by": "gen",
        "narrative": "generated", "place": "", "lat": lat, "lon": lon, "score": 10.0, "priority": "LOW",
        "reasons": [], "site": "", "site_category": site,
    }  # fmt: skip
    return Record({"envelope": env, "body": body}, key=rid)


def generate(n: int, clusters: int = 0, per_cluster: int = 4, days: int = 60, side_km: float = 100.0,
             seed: int = 7, lat0: float = 36.0, lon0: float = -120.0) -> SarWorld:  # fmt: skip
    """`n` background SARs uniform over a `side_km` square and `days`, plus `clusters` planted
    clusters of `per_cluster` SARs each within 400 m and 3 days, in time order."""
    rnd = random.Random(seed)
    dlat = side_km / 111.195
    dlon = side_km / (111.195 * cos(radians(lat0)))
    items: list[tuple[datetime, float, float, str, str, str | None]] = []
    for _ in range(n):
        at = START + timedelta(seconds=rnd.uniform(0, days * 86_400))
        items.append((at, lat0 + rnd.uniform(0, dlat), lon0 + rnd.uniform(0, dlon), rnd.choice(BEHAVIORS),
                      rnd.choice(AGENCIES), None))  # fmt: skip
    for c in range(clusters):
        clat, clon = lat0 + rnd.uniform(0.1, 0.9) * dlat, lon0 + rnd.uniform(0.1, 0.9) * dlon
        t0 = START + timedelta(days=rnd.uniform(7, days - 4))
        for _ in range(per_cluster):
            at = t0 + timedelta(hours=rnd.uniform(0, 72))
            items.append((at, clat + rnd.uniform(-0.0025, 0.0025), clon + rnd.uniform(-0.003, 0.003), "SURVL",
                          rnd.choice(AGENCIES), f"c{c}"))  # fmt: skip
    items.sort(key=lambda x: x[0])
    world = SarWorld()
    for i, (at, lat, lon, behavior, agency, planted) in enumerate(items):
        rec = triage_record(i, lat, lon, at, behavior, agency)
        world.records.append(rec)
        if planted:
            world.clusters.setdefault(planted, set()).add(rec.body["sar"])
    return world


def found_clusters(patterns: list[dict[str, Any]], agency: str | None = None) -> list[set[str]]:
    """The SAR sets of the space-time clusters raised (to `agency`, or to anyone)."""
    return [set(p["sars"]) for p in patterns
            if p["kind"] == "SPACE_TIME_CLUSTER" and (agency is None or p["recipient_agency"] == agency)]  # fmt: skip
