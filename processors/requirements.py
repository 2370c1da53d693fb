"""Requirements matching: each report (RMS, CAD, SAR, STIX) and each ATT&CK match, as it streams,
against the priority intelligence requirements and standing information needs on file. A report
answers a requirement when it falls in the requirement's period and area (where the requirement
sets them) and any one of its indicators matches: an ISE-SAR behaviour, a keyword in the text, an
ATT&CK technique (from `ttp.matches`), or an entity type the report names. The hit carries the
report's envelope, so whoever counts it sees only what the report's marking allows.

Requirements are read from the requirement store and looked at again every `refresh_seconds`: a
new requirement answers the reporting that arrives from then on (a second after it is added, by
default), not what came before. No state: one task per partition.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import orjson
from pydantic import Field

from argus.contracts import Context, NodeConfig, Processor
from argus.geo import metres
from argus.records import Record
from argus.stores.requirements import Requirement, RequirementStore

_TEXT = ("narrative", "summary", "description")


class RequirementsConfig(NodeConfig):
    refresh_seconds: float = Field(default=1.0, ge=0.0, description="How often to read the requirements again")


def _text(report: dict[str, Any], rtype: str) -> str:
    if rtype == "stix":
        try:
            obj = orjson.loads(report.get("object_json") or "{}")
        except orjson.JSONDecodeError:
            return ""
        return " ".join(str(obj.get(k) or "") for k in ("name", "description", "pattern"))
    return " ".join(str(report.get(k) or "") for k in _TEXT)


def _where(report: dict[str, Any]) -> tuple[float, float] | None:
    for loc in report.get("locations") or ():
        if loc.get("lat") is not None and loc.get("lon") is not None:
            return loc["lat"], loc["lon"]
    return None


def _in_scope(r: Requirement, when: datetime, where: tuple[float, float] | None, need_area: bool) -> bool:
    at = when.isoformat()
    if (r.start and at < r.start) or (r.end and at > r.end):
        return False
    if r.lat is None or r.lon is None or not need_area:
        return True
    return where is not None and metres(where[0], where[1], r.lat, r.lon) <= (r.radius_km or 0) * 1000


class RequirementsProcessor(Processor):
    Config = RequirementsConfig
    config: RequirementsConfig
    accepts = ("resolved.v2", "ttp_match.v1")
    emits = ("requirement_hit.v1",)
    stores = ("requirements",)
    partitioned = True
    changes_input = False  # reads what it is handed, shares it (argus/runtime/decoded.py)

    def setup(self, ctx: Context) -> None:
        self._store: RequirementStore = ctx.stores["requirements"]
        self._checked = float("-inf")
        self._reqs: list[tuple[Requirement, re.Pattern[str] | None]] = []

    def requirements(self) -> list[tuple[Requirement, re.Pattern[str] | None]]:
        now = time.monotonic()
        if now - self._checked >= self.config.refresh_seconds:
            self._checked = now
            self._reqs = [(r, _keywords(r.keywords)) for r in self._store.requirements(None, 10_000)]
        return self._reqs

    def process(self, record: Record, ctx: Context) -> Iterable[Record]:
        env, body = record.envelope, record.body
        reqs = self.requirements()
        if not reqs:
            return []
        if "techniques" in body:  # an ATT&CK match of a report: its techniques are the evidence
            ids = {t["attack_id"] for t in body["techniques"]}
            rid, rtype, when = body["report_id"], body["source_type"], env["observed_at"]
            found = [(r, [f"technique {t}" for t in r.techniques if t in ids]) for r, _ in reqs
                     if _in_scope(r, when, None, need_area=False)]  # fmt: skip
            via = "ttp"
        else:
            report, rtype = body["report"], env["type"].split(".")[0]
            rid, when = env["id"], report.get("occurred_at") or env["observed_at"]
            where, text, via = _where(report), _text(report, rtype), "text"
            kinds = {e["kind"] for e in body["entities"]} | {e["subtype"].upper() for e in body["entities"]}
            found = []
            for r, words in reqs:
                if not _in_scope(r, when, where, need_area=True):
                    continue
                why = [f"behavior {b}" for b in r.behaviors if rtype == "sar" and report.get("behavior") == b]
                why += [f"keyword {m!r}" for m in sorted({m.lower() for m in words.findall(text)})] if words else []
                why += [f"entity {k}" for k in r.entity_types if k.upper() in kinds]
                found.append((r, why))
        return [
            Record(
                {
                    "envelope": env,
                    "body": {
                        "requirement_id": r.id,
                        "report_id": rid,
                        "report_type": rtype,
                        "matched": why,
                        "occurred_at": when,
                        "via": via,
                    },
                },
                key=rid,
            )
            for r, why in found
            if why
        ]


def _keywords(words: list[str]) -> re.Pattern[str] | None:
    words = [w.strip() for w in words if w.strip()]
    if not words:
        return None
    return re.compile(r"\b(" + "|".join(re.escape(w) for w in words) + r")\b", re.IGNORECASE)
