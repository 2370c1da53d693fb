"""What the API reads and writes through: the graph and search stores (whichever backends the
topology names) and the bus, for field queries, the alert stream and analysts' decisions.

Stores are opened once per worker thread: an embedded SQLite connection then serves one request
at a time, and server backends get a client per thread. Each request refreshes its store first,
so merges made by the sink process since the last request are seen.
"""

from __future__ import annotations

import socket
import threading
import uuid
from collections.abc import Callable
from typing import Any

from argus.backends import open_bus, open_store, prepare_bus, read_topic
from argus.bus.base import Bus, Commit
from argus.contracts import Context
from argus.feeds import FeedStore
from argus.records import InvalidRecord, Record, utcnow
from argus.registry import node_class
from argus.schemas import SchemaSet, default_schemas
from argus.security.audit import AuditTrail, open_audit
from argus.security.identity import IdentityDirectory, open_directory
from argus.security.policy import FULL, Marking, ReportView
from argus.state import NodeState
from argus.stores.cases import CaseStore
from argus.stores.evidence import EvidenceStore
from argus.stores.graph import GraphStore
from argus.stores.operations import OperationStore
from argus.stores.playbooks import PlaybookStore
from argus.stores.products import ProductStore
from argus.stores.requirements import RequirementStore
from argus.stores.risk import RiskStore
from argus.stores.sar_reviews import SarReviewStore
from argus.stores.search import SearchStore
from argus.stores.shifts import ShiftStore
from argus.stores.stix import StixStore
from argus.topology import Topology

View = Callable[[Marking], ReportView | None]  # the caller's view of a marking (Gate.view)


class ServiceError(Exception):
    """A request the topology cannot serve (no field-query connector, no alert topic...)."""


def topic_with(topo: Topology, schema: str) -> str:
    for name, t in topo.topics.items():
        if t.schema_ == schema:
            return name
    raise ServiceError(f"the topology has no topic carrying {schema}")


def topic_or_none(topo: Topology, schema: str) -> str | None:
    """The topic carrying `schema`, or None for a topology without it (nothing to publish)."""
    try:
        return topic_with(topo, schema)
    except ServiceError:
        return None


class Services:
    def __init__(self, topo: Topology) -> None:
        self.topo = topo
        self._local = threading.local()
        self._opened: list[Any] = []
        self._open_lock = threading.Lock()
        self._bus: Bus | None = None
        self._schemas: SchemaSet | None = None
        self.bus_lock = threading.Lock()  # a bus client serves one thread at a time
        self.audit: AuditTrail = open_audit(topo)

    def closing(self, store: Any) -> None:
        """Close `store` with the services (a store the API opens once, not per thread)."""
        with self._open_lock:
            self._opened.append(store)

    def directory(self) -> IdentityDirectory:
        """The identity directory, one connection per worker thread."""
        d = getattr(self._local, "directory", None)
        if d is None:
            d = open_directory(self.topo)
            self._local.directory = d
            with self._open_lock:
                self._opened.append(d)
        return d

    # --- stores ---------------------------------------------------------------------------------
    def _store(self, kind: str) -> Any:
        store = getattr(self._local, kind, None)
        if store is None:
            store = open_store(self.topo, kind)
            setattr(self._local, kind, store)
            with self._open_lock:
                self._opened.append(store)
        return store

    def graph(self) -> GraphStore:
        g: GraphStore = self._store("graph")
        g.refresh()
        return g

    def search(self) -> SearchStore:
        s: SearchStore = self._store("search")
        return s

    def stix(self) -> StixStore:
        s: StixStore = self._store("stix")
        return s

    def sar_reviews(self) -> SarReviewStore:
        r: SarReviewStore = self._store("sar_reviews")
        return r

    def requirements(self) -> RequirementStore:
        r: RequirementStore = self._store("requirements")
        return r

    def products(self) -> ProductStore:
        r: ProductStore = self._store("products")
        return r

    def cases(self) -> CaseStore:
        r: CaseStore = self._store("cases")
        return r

    def evidence(self) -> EvidenceStore:
        r: EvidenceStore = self._store("evidence")
        return r

    def shifts(self) -> ShiftStore:
        r: ShiftStore = self._store("shifts")
        return r

    def playbooks(self) -> PlaybookStore:
        r: PlaybookStore = self._store("playbooks")
        return r

    def operations(self) -> OperationStore:
        r: OperationStore = self._store("operations")
        return r

    def risk(self) -> RiskStore:
        r: RiskStore = self._store("risk")
        return r

    def feeds(self) -> FeedStore:
        f: FeedStore = self._store("feeds")
        return f

    def purge(self, requests: list[dict[str, str]]) -> dict[str, Any]:
        """Erase records from the log and publish their purges (argus.security.purge)."""
        from argus.security.purge import purge_records

        with self.bus_lock:
            bus, schemas = self.bus()
            return purge_records(self.topo, bus, schemas, self.audit, requests)

    def stix_import(self, bundle: Any, agency: str, view: View) -> dict[str, Any]:
        """A partner's bundle through the topology's STIX connector (as if dropped in its inbox,
        but as the caller's agency): every object validated, SCO ids recomputed; what passes is
        published to the connector's topic, what fails is listed with its reason."""
        node = next(
            (
                (name, m)
                for name, m in self.topo.nodes.items()
                if "stix_object.v1" in getattr(node_class(m.use), "emits", ())
                and hasattr(node_class(m.use), "split_document")
            ),
            None,
        )
        if node is None:
            raise ServiceError("the topology has no STIX connector")
        name, model = node
        cls = node_class(model.use)
        conn = cls(cls.Config(**dict(model.config, agency=agency)), name=name)  # type: ignore[call-arg]
        try:
            objs = conn.split_document(bundle)  # type: ignore[attr-defined]
        except InvalidRecord as exc:
            raise Rejected([{"field": "bundle", "problem": str(exc)}]) from None
        accepted, rejected = [], []
        ctx = Context(name, NodeState())
        for i, raw in enumerate(objs):
            try:
                rec = conn.convert(raw, ctx)
                self._owned(rec.body["stix_id"], agency, view)
            except InvalidRecord as exc:
                rid = raw.get("id") if isinstance(raw, dict) else None
                rejected.append({"index": i, "id": str(rid)[:120] if rid else None, "problem": str(exc)})
                continue
            accepted.append(rec)
        with self.bus_lock:
            bus, schemas = self.bus()
            schema = schemas.get(self.topo.topics[model.outputs[0]].schema_)
            appends = [(model.outputs[0], r.key, schemas.encode(schema, r.value)) for r in accepted]
            if appends:
                bus.commit(Commit(appends=appends))
        objects = [{"id": r.body["stix_id"], "version": r.body["modified"]} for r in accepted]
        return {"accepted": len(accepted), "rejected": rejected, "ids": [o["id"] for o in objects], "objects": objects}

    def _owned(self, stix_id: str, agency: str, view: View) -> None:
        """Refuse at once a version of another agency's object the caller may see in full (the
        stream refuses every foreign version: dedup dead-letters it and the STIX store never
        writes it). One the caller may not see is not refused here: saying so would tell them
        it exists; it stays pending in their TAXII status."""
        for o in self.stix().versions(stix_id):
            v = view(Marking.of(o.row))
            if o.agency != agency and v is not None and v.level == FULL:
                raise InvalidRecord(f"{stix_id} belongs to {o.agency}: a version from {agency} is refused")

    # --- bus --------------------------------------------------------------------------------------
    def bus(self) -> tuple[Bus, SchemaSet]:
        """The topology's bus (call with bus_lock held)."""
        if self._bus is None:
            bus = open_bus(self.topo, role=f"api-{socket.gethostname()}")
            schemas = default_schemas()
            prepare_bus(self.topo, bus, schemas)  # a POST may come before the pipeline ever ran here
            for sid, canonical in bus.known_schemas():
                schemas.register_writer(sid, canonical)
            self._bus, self._schemas = bus, schemas
        assert self._schemas is not None
        self._bus.refresh()
        return self._bus, self._schemas

    def publish(self, topic: str, value: dict[str, Any], key: str | None) -> None:
        with self.bus_lock:
            bus, schemas = self.bus()
            data = schemas.encode(schemas.get(self.topo.topics[topic].schema_), value)
            bus.commit(Commit(appends=[(topic, key, data)]))

    def end_offsets(self, topic: str) -> dict[int, int]:
        with self.bus_lock:
            bus, _ = self.bus()
            return {p: bus.end_offset(topic, p) for p in range(bus.partitions(topic))}

    def read_from(self, topic: str, start: dict[int, int]) -> list[Record]:
        with self.bus_lock:
            bus, schemas = self.bus()
            return read_topic(bus, schemas, topic, schemas.get(self.topo.topics[topic].schema_), start)

    def committed(self, group: str, topic: str, partition: int) -> int:
        with self.bus_lock:
            bus, _ = self.bus()
            return bus.committed(group, topic, partition)

    # --- control records --------------------------------------------------------------------------
    def decide_unmerge(self, entity_id: str, other_id: str, analyst: str, agency: str, reason: str) -> str:
        return self.decide(entity_id, other_id, "APART", analyst, agency, reason)

    def decide(self, entity_id: str, other_id: str, verdict: str, analyst: str, agency: str, reason: str) -> str:
        """Publish an analyst's decision about two entities (decision.v2): APART splits and keeps
        them apart, SAME merges `entity_id` into `other_id`. The action stays UNMERGE, so a
        reader of decision.v1 keeps a SAME pair apart rather than merging it."""
        decision_id = str(uuid.uuid4())
        self.publish(
            topic_with(self.topo, "decision.v2"),
            {
                "decision_id": decision_id,
                "action": "UNMERGE",
                "verdict": verdict,
                "entity_id": entity_id,
                "other_id": other_id,
                "analyst": analyst,
                "agency": agency,
                "reason": reason,
                "decided_at": utcnow(),
            },
            entity_id,
        )
        return decision_id

    def close(self) -> None:
        with self._open_lock:
            for s in self._opened:
                s.close()
            self._opened.clear()
        if self._bus is not None:
            self._bus.close()
        self.audit.close()


class Rejected(Exception):
    """A submission 28 CFR Part 23 does not allow into the system: every problem, by field."""

    def __init__(self, problems: list[dict[str, str]]) -> None:
        super().__init__("; ".join(f"{p['field']}: {p['problem']}" for p in problems))
        self.problems = problems
