"""SAR triage: a score (0-100) for every SAR, with each reason and its points, so the review
queue puts first what most needs a trained reviewer's eyes and says why.

Factors: the ISE-SAR behaviour (defined criminal activity weighs more than behaviour needing
more information), people and vehicles already on file (entity resolution matched them),
nearness to a configured critical-infrastructure site, other SARs nearby in the last weeks,
the source's reliability rating, the submitting agency's record (how many of its SARs passed
review, from the review events), how late it was reported (relevance decays), and the ATT&CK
techniques its narrative describes (from `ttp.matches`, which follow the SAR: the SAR is triaged
again with them, kept two days for that). One task:
nearby SARs and track records are across every partition.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from argus.contracts import Context, NodeConfig, Processor
from argus.geo import cell, metres
from argus.records import Record
from argus.workflows.sar_model import BY_CODE, CRIMINAL, priority_of

# Points by behaviour: threats, intrusion, sabotage and aviation first; photography last (it is
# not suspicious in itself).
BEHAVIOR_POINTS = {
    "THREAT": 30, "INTRSN": 25, "SABOT": 25, "AVIATION": 25, "CYBER": 20, "THEFT": 20, "MISREP": 20,
    "WPNS": 22, "MATRLS": 20, "RECRUT": 15, "TESTSEC": 15, "SURVL": 12, "EXPERT": 12, "ELICIT": 10,
    "SECTOR": 10, "PHOTO": 5,
}  # fmt: skip
RELIABILITY_POINTS = {"A": 10, "B": 6, "C": 3}


class Site(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    category: str = Field(min_length=1, max_length=64, description="energy, water, transport, government...")
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    radius_m: float = Field(default=1000, gt=0, le=50_000)


class SarTriageConfig(NodeConfig):
    sites: list[Site] = Field(default=[], description="Critical-infrastructure sites and how near counts")
    site_points: float = Field(default=20, ge=0, le=100)
    nearby_m: float = Field(default=2000, gt=0, le=100_000, description="Another SAR this near counts")
    nearby_days: int = Field(default=14, ge=1, le=365)
    nearby_points: float = Field(default=5, ge=0, le=100, description="Per nearby SAR, at most 4")
    on_file_points: float = Field(default=15, ge=0, le=100, description="Per person or vehicle on file, at most 2")
    late_days: int = Field(default=30, ge=1, le=3650, description="Reported this long after: relevance decays")
    ttp_points: float = Field(
        default=8, ge=0, le=100, description="Per ATT&CK technique the narrative describes, at most 2"
    )


ENV_TIMES = ("observed_at", "ingested_at", "review_by")


def _freeze(d: dict[str, Any], times: tuple[str, ...]) -> dict[str, Any]:
    """State is kept as JSON: times as ISO text, read back by `_thaw`."""
    return {k: (v.isoformat() if k in times and v is not None else v) for k, v in d.items()}


def _thaw(d: dict[str, Any], times: tuple[str, ...]) -> dict[str, Any]:
    return {k: (datetime.fromisoformat(v) if k in times and isinstance(v, str) else v) for k, v in d.items()}


def _reason(factor: str, points: float, detail: str) -> dict[str, Any]:
    return {"factor": factor, "points": float(points), "detail": detail[:300]}


class SarTriageProcessor(Processor):
    Config = SarTriageConfig
    config: SarTriageConfig
    accepts = ("resolved.v2", "sar_event.v1", "ttp_match.v1")
    emits = ("sar_triage.v1",)
    changes_input = False  # reads what it is handed, shares it (argus/runtime/decoded.py)
    ordered = True  # nearby SARs and track records depend on the order SARs arrive in: the sources'

    def process(self, record: Record, ctx: Context) -> Iterable[Record]:
        env = record.envelope
        if "event" in record.body:  # a review event: the submitting agency's record
            self._track(record.body, ctx)
            return []
        if "techniques" in record.body:  # ATT&CK techniques in a SAR's narrative: triaged again
            return self._ttp(record, ctx)
        if env["type"] != "sar":
            return []
        report = record.body["report"]
        reasons = self._behavior(report) + self._on_file(record.body["entities"])
        where = next((x for x in report.get("locations") or [] if x.get("lat") is not None), None)
        site: dict[str, Any] = {}
        if where is not None:
            lat, lon = where["lat"], where["lon"]
            site, near = self._site(lat, lon), self._nearby(env["id"], lat, lon, report["occurred_at"], ctx)
            reasons += ([site["reason"]] if site else []) + near
        reasons += self._source(env, ctx) + self._age(report["occurred_at"], env["ingested_at"])
        score = max(0.0, min(100.0, sum(r["points"] for r in reasons)))
        body = {
            "sar": env["id"], "sar_id": report["sar_id"], "behavior": report["behavior"],
            "occurred_at": report["occurred_at"], "submitted_by": report["submitted_by"],
            "narrative": report["narrative"], "place": (where or {}).get("address") or "",
            "lat": where["lat"] if where else None, "lon": where["lon"] if where else None,
            "score": round(score, 1), "priority": priority_of(score), "reasons": reasons,
            "site": site.get("name", ""), "site_category": site.get("category", ""),
        }  # fmt: skip
        self._keep(env, body, ctx)
        return [Record({"envelope": env, "body": body}, key=env["id"])]

    # --- ATT&CK techniques, which arrive after the SAR (ttp_matching reads the same records) ------
    def _keep(self, env: dict[str, Any], body: dict[str, Any], ctx: Context) -> None:
        """The SAR's triage, one key a SAR (a state value stays small), kept two days by day of
        arrival for its technique matches."""
        day = int(env["ingested_at"].timestamp() // 86_400)
        days = ctx.state.get("td_days", [])
        for old in [d for d in days if d < day - 1]:
            for chunk in range(ctx.state.get(f"tdn:{old}", 0) // 256 + 1):
                for sar in ctx.state.get(f"tdd:{old}:{chunk}", ()):
                    ctx.state.delete(f"td:{sar}")
                ctx.state.delete(f"tdd:{old}:{chunk}")
            ctx.state.delete(f"tdn:{old}")
        ctx.state.put("td_days", sorted({*(d for d in days if d >= day - 1), day}))
        n = ctx.state.get(f"tdn:{day}", 0)  # the day's SARs, indexed 256 a key: no list grows with the day
        key = f"tdd:{day}:{n // 256}"
        ctx.state.put(key, [*ctx.state.get(key, ()), env["id"]])
        ctx.state.put(f"tdn:{day}", n + 1)
        ctx.state.put(f"td:{env['id']}", [_freeze(env, ENV_TIMES), _freeze(body, ("occurred_at",))])

    def _ttp(self, record: Record, ctx: Context) -> list[Record]:
        b = record.body
        kept = ctx.state.get(f"td:{b['report_id']}")
        if b["source_type"] != "sar" or not b["techniques"] or kept is None:
            return []
        env, body = _thaw(kept[0], ENV_TIMES), _thaw(kept[1], ("occurred_at",))
        named = ", ".join(f"{t['attack_id']} {t['name']}" for t in b["techniques"][:3])
        reasons = [r for r in body["reasons"] if r["factor"] != "ttp"]
        reasons.append(_reason("ttp", self.config.ttp_points * min(2, len(b["techniques"])), f"ATT&CK: {named}"))
        score = max(0.0, min(100.0, sum(r["points"] for r in reasons)))
        body = dict(body, reasons=reasons, score=round(score, 1), priority=priority_of(score))
        return [Record({"envelope": env, "body": body}, key=env["id"])]

    def _behavior(self, report: dict[str, Any]) -> list[dict[str, Any]]:
        b = BY_CODE[report["behavior"]]
        group = "defined criminal activity" if b.group == CRIMINAL else "needs more information"
        return [_reason("behavior", BEHAVIOR_POINTS.get(b.code, 10), f"{b.title} ({b.code}): {group}")]

    def _on_file(self, entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
        kinds = ("PERSON", "OBJECT")
        known = [e for e in entities if e["kind"] in kinds and e.get("match_method") not in (None, "new")]
        out = []
        for e in known[:2]:
            what = "person" if e["kind"] == "PERSON" else e.get("subtype") or "object"
            out.append(_reason("holdings", self.config.on_file_points, f"{what} already on file ({e['match_method']})"))
        return out

    def _site(self, lat: float, lon: float) -> dict[str, Any]:
        best = min(((metres(lat, lon, s.lat, s.lon), s) for s in self.config.sites), default=None, key=lambda x: x[0])
        if best is None or best[0] > best[1].radius_m:
            return {}
        d, s = best
        detail = f"{d:.0f} m from {s.name} ({s.category})"
        return {"name": s.name, "category": s.category, "reason": _reason("site", self.config.site_points, detail)}

    def _nearby(self, rid: str, lat: float, lon: float, at: datetime, ctx: Context) -> list[dict[str, Any]]:
        cfg = self.config
        home = cell(lat, lon, cfg.nearby_m)
        t, window = at.timestamp(), cfg.nearby_days * 86_400
        since = t - window
        found = 0
        for di in (-1, 0, 1):
            for dj in (-1, 0, 1):
                for other, olat, olon, ts in ctx.state.get(f"cell:{home[0] + di}:{home[1] + dj}", ()):
                    if other != rid and abs(ts - t) <= window:
                        found += metres(lat, lon, olat, olon) <= cfg.nearby_m
        key = f"cell:{home[0]}:{home[1]}"
        kept = [x for x in ctx.state.get(key, ()) if x[3] >= since and x[0] != rid][-199:]
        ctx.state.put(key, [*kept, [rid, lat, lon, t]])
        if not found:
            return []
        detail = f"{found} other SAR(s) within {cfg.nearby_m:.0f} m in {cfg.nearby_days} days"
        return [_reason("nearby_sars", cfg.nearby_points * min(found, 4), detail)]

    def _source(self, env: dict[str, Any], ctx: Context) -> list[dict[str, Any]]:
        out = []
        rel = env.get("reliability") or ""
        if rel in RELIABILITY_POINTS:
            out.append(_reason("reliability", RELIABILITY_POINTS[rel], f"source reliability {rel}"))
        t = ctx.state.get(f"track:{env['source_agency']}")
        if t and t["reviewed"] >= 3:
            rate = t["accepted"] / t["reviewed"]
            points = round(10 * rate - 5 * (1 - rate), 1)
            detail = f"{env['source_agency']}: {t['accepted']} of {t['reviewed']} SARs passed initial review"
            out.append(_reason("track_record", points, detail))
        return out

    def _age(self, occurred: datetime, received: datetime) -> list[dict[str, Any]]:
        days = (received - occurred).days
        if days < self.config.late_days:
            return []
        points = -min(15.0, 5.0 * days / self.config.late_days)
        return [_reason("age", points, f"reported {days} days after it happened")]

    def _track(self, ev: dict[str, Any], ctx: Context) -> None:
        if ev["event"] != "REVIEWED" or not ev["submitter_agency"]:
            return
        key = f"track:{ev['submitter_agency']}"
        t = dict(ctx.state.get(key) or {"reviewed": 0, "accepted": 0})
        t["reviewed"] += 1
        t["accepted"] += ev["outcome"] == "ACCEPT"
        ctx.state.put(key, t)
