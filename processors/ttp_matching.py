"""TTP matching: the ATT&CK techniques a report, SAR narrative or STIX indicator describes, with
the words that matched, and the intrusion sets known to use them (argus/stix/ttp.py).

The technique index is built from the ATT&CK objects in the STIX store (`argus attack load`, or a
TAXII subscription to ATT&CK), MITRE's own objects only, and rebuilt when that set changes. No
state: each report is matched on its own, so the node runs as one task per partition.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson
from pydantic import Field

from argus.contracts import Context, NodeConfig, Processor
from argus.records import Record
from argus.stix.attack import attack_id
from argus.stix.ttp import TechniqueIndex

_TEXT_PROPS = ("name", "description", "pattern", "x_mitre_detection")


def narrative(report: dict[str, Any], rtype: str, obj: dict[str, Any] | None = None) -> str:
    """The text a report gives to match on: RMS/CAD/SAR narratives; a STIX object's name,
    description and pattern (`obj`: the object, when the caller has parsed it already)."""
    if rtype == "stix":
        if obj is None:
            try:
                obj = orjson.loads(report.get("object_json") or "{}")
            except orjson.JSONDecodeError:
                return ""
        return "\n".join(str(obj[p]) for p in _TEXT_PROPS if isinstance(obj.get(p), str))
    parts = [report.get("narrative") or "", report.get("summary") or "", report.get("description") or ""]
    return "\n".join(p for p in parts if isinstance(p, str) and p)


@dataclass
class _Shared:
    checked: float = float("-inf")
    seen: tuple[int, ...] = ()
    index: TechniqueIndex | None = None


_SHARED: weakref.WeakKeyDictionary[Any, _Shared] = weakref.WeakKeyDictionary()


class TtpMatchingConfig(NodeConfig):
    threshold: float = Field(default=0.2, ge=0.0, le=1.0, description="Least score a technique match needs")
    top: int = Field(default=5, ge=1, le=50)
    refresh_seconds: float = Field(default=60.0, ge=0.0, description="How often to look for a new ATT&CK release")


class TtpMatchingProcessor(Processor):
    Config = TtpMatchingConfig
    config: TtpMatchingConfig
    accepts = ("resolved.v2",)
    emits = ("ttp_match.v1",)
    stores = ("stix",)
    partitioned = True
    changes_input = False  # reads what it is handed, shares it (argus/runtime/decoded.py)

    def setup(self, ctx: Context) -> None:
        self._store = ctx.stores["stix"]

    def index(self) -> TechniqueIndex | None:
        """The index for this store, shared by every task of the node in this process (one per
        partition on Kafka), looked for afresh at most every `refresh_seconds`, even when there
        is no ATT&CK yet: never a store scan per record."""
        shared = _SHARED.get(self._store)
        if shared is None:
            shared = _SHARED[self._store] = _Shared()
        now = time.monotonic()
        if now - shared.checked >= self.config.refresh_seconds:
            shared.checked = now
            objs = [
                o.obj
                for o in self._store.scan(types=["attack-pattern", "intrusion-set", "relationship"])
                if o.obj.get("type") == "relationship" or attack_id(o.obj) is not None
            ]
            seen = (len(objs), hash(tuple(sorted(o.get("modified", "") + o["id"] for o in objs))))
            if seen != shared.seen:
                shared.seen = seen
                shared.index = TechniqueIndex.from_objects(objs) if objs else None
        return shared.index

    def process(self, record: Record, ctx: Context) -> Iterable[Record]:
        index = self.index()
        if index is None or not index.techniques:
            return []
        env = record.envelope
        rtype = env["type"].split(".")[0]
        report = record.body["report"]
        obj = None
        if rtype == "stix" and '"external_id"' in (report.get("object_json") or ""):
            obj = orjson.loads(report["object_json"])
            if attack_id(obj) is not None:
                return []  # ATT&CK's own objects (a release through a TAXII feed) describe, not report
        text = narrative(report, rtype, obj)
        if not text.strip():
            return []
        matches = index.match(text[:20_000], top=self.config.top, threshold=self.config.threshold)
        if not matches:
            return []
        groups = index.attribute(matches)
        body = {
            "report_id": env["id"],
            "source_type": rtype,
            "event_id": record.body["event_id"],
            "techniques": [
                {
                    "attack_id": m.attack_id,
                    "stix_id": m.stix_id,
                    "name": m.name,
                    "score": m.score,
                    "tactics": m.tactics,
                    "evidence": m.evidence,
                }
                for m in matches
            ],
            "attributions": [
                {
                    "intrusion_set_id": a.stix_id,
                    "name": a.name,
                    "score": a.score,
                    "shared_techniques": a.shared,
                    "reasons": a.reasons,
                }
                for a in groups
            ],
        }
        return [Record({"envelope": env, "body": body}, key=record.key)]
