"""What comes into the pipeline through the API: a field query, answered once correlation has
looked (`FieldDesk`), and a public or partner submission (a tip, a SAR) checked field by field
and published as its connector would (`Submissions`)."""

from __future__ import annotations

import time
import uuid
from typing import Any

from argus.api.services import Rejected, ServiceError, Services, topic_with
from argus.contracts import Connector, Context
from argus.records import InvalidRecord
from argus.registry import node_class
from argus.state import NodeState

QUERY_TYPES = {"person": "PERSON", "vehicle": "VEHICLE"}  # a correlation node's kinds -> query_type


class FieldDesk:
    """A field query through the API takes the same path as one from a CAD terminal: validated by
    the topology's query connector, published on its topic, resolved and correlated by the
    running pipeline. The answer waits until correlation has committed past the query, so
    "no hit" means the pipeline looked, not that time ran out."""

    def __init__(self, services: Services) -> None:
        self.svc = services
        topo = services.topo
        self.connector: Connector | None = None
        for name, model in topo.nodes.items():
            cls = node_class(model.use)
            if "cad_query.v1" in getattr(cls, "emits", ()) and issubclass(cls, Connector):
                self.connector = cls(cls.Config(**model.config), name=name)  # type: ignore[call-arg]
                self.query_topic = model.outputs[0]
                break
        self.alerts_topic = topic_with(topo, "alert.v1")
        self.resolved_topic = topic_with(topo, "query_resolved.v2")
        # Which node answers a plate/VIN query and which a name query: correlation may be split
        # by kind (processors/correlation.py), each node answering the queries on its kind.
        self.correlators: dict[str, str] = {}
        for n, m in topo.nodes.items():
            if self.resolved_topic in m.inputs and self.alerts_topic in m.outputs:
                cls = node_class(m.use)
                kinds = getattr(cls.Config.model_validate(m.config), "kinds", QUERY_TYPES)
                for k in kinds:
                    self.correlators.setdefault(QUERY_TYPES[k], n)

    def submit(self, raw: dict[str, Any], timeout: float, law_enforcement: bool) -> dict[str, Any]:
        """`raw`: the query with the authenticated officer, unit and agency already in it."""
        if self.connector is None or not self.correlators:
            raise ServiceError("the topology has no field-query connector feeding correlation")
        ctx = Context(self.connector.name, NodeState())
        rec = self.connector.convert(raw, ctx)  # InvalidRecord: a clear 422
        rec.envelope["source_law_enforcement"] = law_enforcement
        correlator = self.correlators.get(rec.body["query_type"])
        if correlator is None:
            raise ServiceError(f"no correlation node in this topology answers {rec.body['query_type']} queries")
        rid = rec.envelope["id"]
        svc = self.svc
        resolved_from = svc.end_offsets(self.resolved_topic)
        alerts_from = svc.end_offsets(self.alerts_topic)
        svc.publish(self.query_topic, rec.value, rec.key)
        deadline = time.monotonic() + timeout
        where: tuple[int, int] | None = None
        done = False
        while time.monotonic() < deadline:
            if where is None:
                for r in svc.read_from(self.resolved_topic, resolved_from):
                    resolved_from[r.partition] = r.offset + 1
                    if r.envelope["id"] == rid:
                        where = (r.partition, r.offset)
            if where is not None and svc.committed(correlator, self.resolved_topic, where[0]) > where[1]:
                done = True
                break
            time.sleep(0.002)
        alerts = [
            r.body
            for r in svc.read_from(self.alerts_topic, alerts_from)
            if r.body["trigger_id"] == rid and r.body["recipient_agency"] == raw.get("agency")
        ]
        hit = any(a["alert_type"] == "QUERY_HIT" for a in alerts)
        return {
            "query_id": raw.get("query_id"),
            "record_id": rid,
            "status": "HIT" if hit else ("NO_HIT" if done else "PENDING"),
            "alerts": alerts,
        }


def check_submission(kind: str, raw: dict[str, Any], law_enforcement: bool) -> list[dict[str, str]]:
    """28 CFR Part 23 at the point of submission, every problem at once.

    Criminal intelligence needs the suspected criminal conduct (23.20(a)), a source-reliability
    rating A-F and a content-validity rating 1-6 (the evaluation at submission), an affirmation
    that it was lawfully obtained (23.20(c)), and must not be solely about political, religious or
    social views, associations or activities (23.20(b)). Only law-enforcement agencies submit it.
    """
    out: list[dict[str, str]] = []

    def bad(field: str, problem: str) -> None:
        out.append({"field": field, "problem": problem})

    if kind == "criminal_intelligence":
        if not law_enforcement:
            bad("kind", "criminal intelligence is submitted by law-enforcement agencies only (28 CFR 23.20(e))")
        predicate = raw.get("predicate")
        if not isinstance(predicate, str) or len(predicate.strip()) < 3:
            bad("predicate", "required: the suspected criminal conduct (28 CFR 23.20(a))")
        rel = raw.get("reliability")
        if not isinstance(rel, str) or rel.strip().upper() not in ("A", "B", "C", "D", "E", "F"):
            bad("reliability", f"required: source reliability A-F, got {rel!r}")
        val = raw.get("validity")
        if isinstance(val, bool) or not isinstance(val, int) or not 1 <= val <= 6:
            bad("validity", f"required: content validity 1-6, got {val!r}")
        if raw.get("protected_activity_only") is not False:
            bad(
                "protected_activity_only",
                "must be false: information solely about political, religious or social views, associations or "
                "activities is not kept (28 CFR 23.20(b)); say false only when it relates to criminal conduct",
            )
        if raw.get("lawfully_obtained") is not True:
            bad("lawfully_obtained", "must be true: information obtained in violation of law is not kept (23.20(c))")
    elif kind != "sar":
        bad("kind", "criminal_intelligence or sar")
    return out


class Submissions:
    """Criminal intelligence and SARs submitted through the API take the path a file from an RMS
    or SAR portal takes (the topology's connector validates, the pipeline carries it into every
    store) after the 28 CFR Part 23 checks; nothing rejected is published."""

    SCHEMAS = {"criminal_intelligence": "rms_record.v2", "sar": "sar.v2"}

    def __init__(self, services: Services) -> None:
        self.svc = services
        self.connectors: dict[str, tuple[Connector, str]] = {}
        for kind, schema in self.SCHEMAS.items():
            for name, model in services.topo.nodes.items():
                cls = node_class(model.use)
                if schema in getattr(cls, "emits", ()) and issubclass(cls, Connector):
                    self.connectors[kind] = (cls(cls.Config(**model.config), name=name), model.outputs[0])  # type: ignore[call-arg]
                    break

    def submit(self, kind: str, raw: dict[str, Any], agency: str, law_enforcement: bool) -> dict[str, Any]:
        problems = check_submission(kind, raw, law_enforcement)
        if problems:
            raise Rejected(problems)
        if kind not in self.connectors:
            raise ServiceError(f"the topology has no connector for {kind} submissions")
        connector, topic = self.connectors[kind]
        raw = dict(raw, agency=agency)  # an agency submits as itself
        raw.pop("protected_activity_only", None)
        raw.pop("lawfully_obtained", None)
        if kind == "criminal_intelligence":
            raw["category"] = "criminal_intelligence"
            raw.setdefault("report_id", f"CI-{uuid.uuid4().hex[:12].upper()}")
        else:
            raw.setdefault("sar_id", f"SAR-{uuid.uuid4().hex[:12].upper()}")
        try:
            rec = connector.convert(raw, Context(connector.name, NodeState()))
        except InvalidRecord as exc:
            raise Rejected([{"field": "record", "problem": str(exc)}]) from None
        rec.envelope["source_law_enforcement"] = law_enforcement  # the submitter's, from the directory
        self.svc.publish(topic, rec.value, rec.key)
        env = rec.envelope
        return {
            "record_id": env["id"],
            "kind": kind,
            "status": "accepted",
            "reliability": env["reliability"],
            "validity": env["validity"],
            "review_by": env["review_by"].isoformat() if env["review_by"] else None,
        }
