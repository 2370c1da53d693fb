"""SAR pattern detection, as SARs stream in (after triage, which places them):

- **space-time clusters** (Knox-style): a SAR with more SARs within `eps_m` and `eps_days` of it
  than chance allows. Chance is the background rate of SARs in the surrounding region over the
  baseline period; the number of neighbours is tested against Poisson(rate x cylinder volume),
  firing below `alpha`, so on SARs scattered at random a SAR raises a false cluster with
  probability at most `alpha`.
- **cross-agency**: the same behaviour against the same kind of site reported by several
  agencies within `cross_days`.
- **rising counts**: this week's SARs of one behaviour in one region against the mean of the
  past `baseline_weeks` (Poisson tail below `alpha`, at least `rising_min`).

A pattern is addressed to each agency whose SARs are in it (and to `also_notify`, the fusion
centre), with its statistics computed over only the SARs that agency may see under the one
policy (in full, as the review queue shows them): one agency is never told how many SARs another
keeps from it. One task: patterns cross
partitions.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from math import pi
from typing import Any

from pydantic import Field

from argus.contracts import Context, NodeConfig, Processor
from argus.geo import cell, metres
from argus.records import Record
from argus.security.policy import FULL, Marking, Recipient, decide
from argus.stats import poisson_sf

DAY, WEEK = 86_400.0, 604_800.0
NS = uuid.UUID("6f0e5b1a-9c2d-4e3f-8a7b-1c2d3e4f5a6b")


class SarPatternsConfig(NodeConfig):
    eps_m: float = Field(default=1000, gt=0, le=50_000, description="How near in space a neighbour is")
    eps_days: float = Field(default=7, gt=0, le=90, description="How near in time a neighbour is")
    min_sars: int = Field(default=3, ge=2, le=100, description="Fewest SARs in a cluster")
    alpha: float = Field(default=0.001, gt=0, lt=1, description="False-alarm rate per test")
    region_km: float = Field(default=25, gt=0, le=500, description="Cell of the background rate (3x3 cells)")
    baseline_days: int = Field(default=56, ge=7, le=730)
    min_rate: float = Field(default=1e-6, ge=0, description="Floor on the background rate, SARs per km2 per day")
    cross_days: float = Field(default=14, gt=0, le=365)
    baseline_weeks: int = Field(default=8, ge=2, le=52)
    rising_min: int = Field(default=3, ge=2, le=1000)
    also_notify: list[str] = Field(default=[], description="Agencies told of every pattern (the fusion centre)")


def _entry(rec: Record) -> dict[str, Any]:
    env, b = rec.envelope, rec.body
    m = Marking.from_envelope(env)
    return {"id": b["sar"], "lat": b["lat"], "lon": b["lon"], "t": b["occurred_at"].timestamp(), "b": b["behavior"],
            "site": b["site_category"], "m": [m.agency, m.tlp, m.ci, list(m.handling), list(m.cases),
                                             list(m.recipients)], "v": _seen_by(m)}  # fmt: skip


def _marking(e: dict[str, Any]) -> Marking:
    a, t, ci, h, c, r = e["m"]
    return Marking(a, t, ci, tuple(h), tuple(c), tuple(r))


ANYONE = Recipient(agency="ZZ0000000", role="analyst")  # an agency no marking names


def _seen_by(m: Marking) -> list[str]:
    """Who sees a SAR in full, as an analyst of an agency: "*" for every agency, or the owner and
    the agencies it names (the policy without an originator's own rules, as alerts are addressed)."""
    v = decide(m, ANYONE)
    if v is not None and v.level == FULL:
        return ["*"]
    named = [r for r in m.recipients if ":" not in r and decide(m, Recipient(agency=r, role="analyst")) is not None]
    return sorted({m.agency, *named})


def _count(into: dict[str, int], seen_by: list[str]) -> None:
    for who in seen_by:
        into[who] = into.get(who, 0) + 1


class SarPatternsProcessor(Processor):
    Config = SarPatternsConfig
    config: SarPatternsConfig
    accepts = ("sar_triage.v1",)
    emits = ("sar_pattern.v1",)
    changes_input = False  # reads what it is handed, shares it (argus/runtime/decoded.py)
    ordered = True  # a pattern depends on the order SARs come in: the sources', whatever the timing

    def process(self, record: Record, ctx: Context) -> Iterable[Record]:
        s = _entry(record)
        out: list[Record] = []
        if s["lat"] is not None and s["lon"] is not None:
            home = self._remember(s, ctx)
            out += self._cluster(s, home, ctx)
            out += self._rising(s, home, ctx)
        if s["site"]:
            out += self._cross(s, ctx)
        return out

    # --- memory -----------------------------------------------------------------------------------
    def _remember(self, s: dict[str, Any], ctx: Context) -> tuple[int, int]:
        """Keep `s` in its neighbourhood cell, in its region cell's day, and in the counts of who
        sees it in full (per region day, per region week and behaviour); its region cell comes
        back. Day and week buckets let every count be read without scanning SARs."""
        cfg = self.config
        i, j = cell(s["lat"], s["lon"], cfg.eps_m)
        key = f"pc:{i}:{j}"
        horizon = s["t"] - cfg.eps_days * DAY * 2
        near = [e for e in ctx.state.get(key, ()) if e["t"] >= horizon and e["id"] != s["id"]][-499:]
        ctx.state.put(key, [*near, s])
        ri, rj = cell(s["lat"], s["lon"], cfg.region_km * 1000)
        day, week = int(s["t"] // DAY), str(int(s["t"] // WEEK))
        dkey = f"rd:{ri}:{rj}:{day}"
        # a day's SARs in one region cell, for naming a rise's SARs: at most 500 (a state value stays small)
        same_day = [e for e in ctx.state.get(dkey, ()) if e["id"] != s["id"]][-499:]
        ctx.state.put(dkey, [*same_day, s])
        stale = f"rd:{ri}:{rj}:{day - 8}"  # a day's SARs are read only in their week
        if ctx.state.get(stale) is not None:
            ctx.state.delete(stale)
        days = {d: dict(n) for d, n in (ctx.state.get(f"rv:{ri}:{rj}") or {}).items()
                if int(d) >= day - cfg.baseline_days - 1}  # fmt: skip
        _count(days.setdefault(str(day), {}), s["v"])
        ctx.state.put(f"rv:{ri}:{rj}", days)
        wkey = f"wk:{ri}:{rj}:{s['b']}"
        weeks = {w: dict(n) for w, n in (ctx.state.get(wkey) or {}).items()
                 if int(w) >= int(week) - 2 * cfg.baseline_weeks}  # fmt: skip
        _count(weeks.setdefault(week, {}), s["v"])
        ctx.state.put(wkey, weeks)
        return ri, rj

    def _background(self, s: dict[str, Any], home: tuple[int, int], ctx: Context) -> dict[str, int]:
        """SARs of the 3x3 region cells around `s` over the baseline period: how many everyone
        sees in full ("*") and how many only some agency does (by agency)."""
        since = int(s["t"] // DAY) - self.config.baseline_days
        total: dict[str, int] = {}
        for di in (-1, 0, 1):
            for dj in (-1, 0, 1):
                for d, counts in (ctx.state.get(f"rv:{home[0] + di}:{home[1] + dj}") or {}).items():
                    if since <= int(d) <= since + self.config.baseline_days:
                        for who, n in counts.items():
                            total[who] = total.get(who, 0) + n
        return total

    def _week_members(self, s: dict[str, Any], home: tuple[int, int], ctx: Context) -> list[dict[str, Any]]:
        week = int(s["t"] // WEEK)
        first = int(week * WEEK // DAY)
        out: list[dict[str, Any]] = []
        for di in (-1, 0, 1):
            for dj in (-1, 0, 1):
                for day in range(first, first + 7):
                    out += [e for e in ctx.state.get(f"rd:{home[0] + di}:{home[1] + dj}:{day}", ()) if e["b"] == s["b"]]
        return out

    def _near(self, s: dict[str, Any], ctx: Context) -> list[dict[str, Any]]:
        cfg = self.config
        i, j = cell(s["lat"], s["lon"], cfg.eps_m)
        out = []
        for di in (-1, 0, 1):
            for dj in (-1, 0, 1):
                for e in ctx.state.get(f"pc:{i + di}:{j + dj}", ()):
                    if e["id"] == s["id"] or abs(e["t"] - s["t"]) > cfg.eps_days * DAY:
                        continue
                    if metres(s["lat"], s["lon"], e["lat"], e["lon"]) <= cfg.eps_m:
                        out.append(e)
        return out

    # --- the three detectors ----------------------------------------------------------------------
    def _cluster(self, s: dict[str, Any], home: tuple[int, int], ctx: Context) -> list[Record]:
        cfg = self.config
        members = [s, *self._near(s, ctx)]
        if len(members) < cfg.min_sars:
            return []
        background = self._background(s, home, ctx)
        # the rate over the days actually observed (at least a week), not the whole baseline
        span = min(float(cfg.baseline_days), max(7.0, (s["t"] - self._first(s, ctx)) / DAY))
        area = 9 * cfg.region_km**2
        volume = pi * (cfg.eps_m / 1000) ** 2 * 2 * cfg.eps_days
        out = []
        for agency, seen in self._audiences(members, ctx):
            if s not in seen or len(seen) < cfg.min_sars:
                continue
            seen_before = background.get("*", 0) + background.get(agency, 0)
            lam = max(seen_before / (area * span), cfg.min_rate) * volume
            p = poisson_sf(len(seen) - 1, lam)
            if p >= cfg.alpha:
                continue
            why = (f"{len(seen)} SARs within {cfg.eps_m:.0f} m and {cfg.eps_days:g} days of one another; "
                   f"{lam:.3f} neighbours expected by chance (P = {p:.2g})")  # fmt: skip
            seed = min(e["id"] for e in seen)
            out.append(self._pattern("SPACE_TIME_CLUSTER", agency, seed, seen, len(seen) - 1, lam, p, why, ctx))
        return out

    def _cross(self, s: dict[str, Any], ctx: Context) -> list[Record]:
        cfg = self.config
        key = f"sc:{s['b']}:{s['site']}"
        since = s["t"] - cfg.cross_days * DAY
        kept = [*[e for e in ctx.state.get(key, ()) if e["t"] >= since and e["id"] != s["id"]][-199:], s]
        ctx.state.put(key, kept)
        if len({e["m"][0] for e in kept}) < 2:
            return []
        out = []
        for agency, seen in self._audiences(kept, ctx):
            agencies = {e["m"][0] for e in seen}
            if s not in seen or len(agencies) < 2:
                continue
            why = (f"{s['b']} against {s['site']} sites reported by {len(agencies)} agencies "
                   f"within {cfg.cross_days:g} days")  # fmt: skip
            seed = f"{s['b']}:{s['site']}:{min(e['id'] for e in seen)}"
            out.append(self._pattern("CROSS_AGENCY", agency, seed, seen, len(seen), 0.0, 0.0, why, ctx))
        return out

    def _rising(self, s: dict[str, Any], home: tuple[int, int], ctx: Context) -> list[Record]:
        cfg = self.config
        week = int(s["t"] // WEEK)
        counts: dict[int, dict[str, int]] = {}
        for di in (-1, 0, 1):
            for dj in (-1, 0, 1):
                for w, by in (ctx.state.get(f"wk:{home[0] + di}:{home[1] + dj}:{s['b']}") or {}).items():
                    into = counts.setdefault(int(w), {})
                    for who, n in by.items():
                        into[who] = into.get(who, 0) + n
        if week - int(self._first(s, ctx) // WEEK) < cfg.baseline_weeks:
            return []  # no baseline yet: every week would look like a rise
        out = []
        for agency in self._tell(s, ctx):
            seen = lambda by, a=agency: by.get("*", 0) + by.get(a, 0)  # noqa: E731
            now = seen(counts.get(week, {}))
            before = sum(seen(by) for w, by in counts.items() if week - cfg.baseline_weeks <= w < week)
            mean = max(before / cfg.baseline_weeks, 0.5)
            fired = f"rise:{agency}:{s['b']}:{week}"
            if now < cfg.rising_min or not self._sees(agency, s) or ctx.state.get(fired):
                continue
            p = poisson_sf(now, mean)
            if p >= cfg.alpha:
                continue
            ctx.state.put(fired, True)
            members = [e for e in self._week_members(s, home, ctx) if self._sees(agency, e)]
            why = (f"{now} {s['b']} SARs this week in this region against {before / cfg.baseline_weeks:.2f} "
                   f"a week over the past {cfg.baseline_weeks} weeks (P = {p:.2g})")  # fmt: skip
            out.append(self._pattern("RISING", agency, f"{s['b']}:{week}", members, now, mean, p, why, ctx))
        return out

    # --- whom to tell, and what --------------------------------------------------------------------
    def _audiences(self, members: list[dict[str, Any]], ctx: Context) -> list[tuple[str, list[dict[str, Any]]]]:
        """Each agency to tell (those whose SARs are in it, and `also_notify`) with the members it
        may see, under the one policy."""
        agencies = sorted({e["m"][0] for e in members} | set(self.config.also_notify))
        return [(a, [e for e in members if self._sees(a, e)]) for a in agencies]

    @staticmethod
    def _first(s: dict[str, Any], ctx: Context) -> float:
        """When the earliest SAR seen happened: how much history the baselines have."""
        first = ctx.state.get("first_t")
        if first is None or s["t"] < first:
            ctx.state.put("first_t", s["t"])
            return s["t"]
        return float(first)

    def _tell(self, s: dict[str, Any], ctx: Context) -> list[str]:
        """Every agency a pattern around `s` may be told to: those that sent SARs (kept as they
        appear) and `also_notify`."""
        known = ctx.state.get("agencies") or []
        if s["m"][0] not in known:
            known = sorted({*known, s["m"][0]})
            ctx.state.put("agencies", known)
        return sorted(set(known) | set(self.config.also_notify))

    @staticmethod
    def _sees(agency: str, e: dict[str, Any]) -> bool:
        """In full, as the review queue shows a SAR: a pattern names its SARs and where they were."""
        v = decide(_marking(e), Recipient(agency=agency, role="analyst"))
        return v is not None and v.level == FULL

    def _pattern(self, kind: str, agency: str, seed: str, seen: list[dict[str, Any]], observed: int,
                 expected: float, p: float, why: str, ctx: Context) -> Record:  # fmt: skip
        pid = str(uuid.uuid5(NS, f"{kind}:{agency}:{seed}"))
        sars = sorted(e["id"] for e in seen)
        # a pattern that grew is told again under the same pattern id, as a message of its own
        eid = str(uuid.uuid5(NS, f"{pid}:{observed}:{','.join(sars)}"))
        now = ctx.now()
        located = [e for e in seen if e["lat"] is not None]
        env = {
            "id": eid, "type": "sar_pattern", "source_agency": agency, "source_system": self.name, "tlp": "RED",
            "reliability": "F", "validity": 6, "criminal_intelligence": False, "criminal_predicate": None,
            "handling": [], "cases": [], "recipients": [agency], "source_law_enforcement": True, "review_by": None,
            "observed_at": now, "ingested_at": now, "trace_id": pid,
        }  # fmt: skip
        body = {
            "pattern_id": pid, "kind": kind, "recipient_agency": agency, "sars": sars,
            "agencies": sorted({e["m"][0] for e in seen}), "behaviors": sorted({e["b"] for e in seen}),
            "site_category": seen[-1]["site"] if kind == "CROSS_AGENCY" else "", "observed": observed,
            "expected": round(expected, 6), "p_value": p, "why": why,
            "lat": sum(e["lat"] for e in located) / len(located) if located else None,
            "lon": sum(e["lon"] for e in located) / len(located) if located else None,
            "first_at": datetime.fromtimestamp(min(e["t"] for e in seen), UTC),
            "last_at": datetime.fromtimestamp(max(e["t"] for e in seen), UTC), "detected_at": now,
        }  # fmt: skip
        return Record({"envelope": env, "body": body}, key=pid)
