"""Writes resolved reports into the graph store: POLE entities as nodes, links as edges,
each entity's source records with the reason it was matched, and merges.

Any GraphStore backend works (embedded by default); writes are batched until flush(). It also
follows `purges` (remove what a record contributed) and `decisions` (an analyst undid a merge or
rejected a possible match: kept apart; or confirmed one: merged),
applied in order with the resolved records buffered before them.
"""

from __future__ import annotations

from typing import Any

from argus.contracts import Context, Sink
from argus.records import Record, deterministic_id
from argus.security.policy import Marking
from argus.stores.graph import GraphEdge, GraphNode, GraphStore, SourceRow


class GraphSink(Sink):
    accepts = ("resolved.v2", "purge.v1", "decision.v2", "ttp_match.v1")
    stores = ("graph",)
    changes_input = False  # reads what it is handed, shares it (argus/runtime/decoded.py)

    def setup(self, ctx: Context) -> None:
        self.store: GraphStore = ctx.stores["graph"]
        self._nodes: dict[str, GraphNode] = {}
        self._edges: dict[str, GraphEdge] = {}
        self._sources: list[SourceRow] = []
        self._merges: list[dict[str, Any]] = []

    def add(self, record: Record) -> None:
        if "purge_id" in record.value:
            self._drain()
            self.store.delete_record(record.value["record_id"])
            return
        if "decision_id" in record.value:
            d = record.value
            self._drain()
            why = f"{d['analyst']} ({d['agency']}): {d['reason']}"
            if d.get("verdict") == "SAME":  # a possible match confirmed: one entity from now on
                survivor = self.store.canonical(d["other_id"])
                if survivor != self.store.canonical(d["entity_id"]):
                    self.store.merge(survivor, d["entity_id"], f"confirmed by {why}", 1.0)
                    self.store.settle([survivor])
            else:
                self.store.keep_apart(d["entity_id"], d["other_id"], why)
                self.store.unmerge(d["entity_id"])
            return
        env, body = record.envelope, record.body
        rid, agency, tlp = env["id"], env["source_agency"], env["tlp"]
        marks = Marking.from_envelope(env).props()
        if "techniques" in body:
            self._ttp(body, {"record_id": rid, "agency": agency, "tlp": tlp, **marks})
            return
        if body["merges"]:
            self._drain()  # merges apply after everything that came before them
            self._merges.extend(body["merges"])
            self._drain()
        for e in body["entities"]:
            props = dict(e["attributes"])
            props["keys"] = e["keys"]
            if e["kind"] == "EVENT" and e["subtype"] != "series":
                props.update(
                    agency=agency,
                    tlp=tlp,
                    record_id=rid,
                    reliability=env["reliability"],
                    validity=env["validity"],
                    review_by=env["review_by"].isoformat() if env.get("review_by") else None,
                    **marks,
                )
            self._nodes[e["entity_id"]] = {
                "id": e["entity_id"],
                "kind": e["kind"],
                "subtype": e["subtype"],
                "label": e["display"],
                "props": props,
            }
            self._sources.append(
                {
                    "entity_id": e["entity_id"],
                    "record_id": rid,
                    "agency": agency,
                    "tlp": tlp,
                    "method": e["match_method"],
                    "score": e["match_score"],
                    "reason": e["match_reason"],
                    "label": e["display"],
                    "attrs": dict(e["attributes"]),
                    **marks,  # type: ignore[typeddict-item]
                }
            )
        for link in body["links"]:
            self._edges[link["link_id"]] = {
                "id": link["link_id"],
                "src": link["from_id"],
                "dst": link["to_id"],
                "rel": link["relation"],
                "props": {"reason": link["reason"], "record_id": rid, "agency": agency, "tlp": tlp, **marks},
            }
        for link in body.get("possible", []):  # for review: the weight and each field's part ride along
            props = {"reason": link["reason"], "record_id": rid, "agency": agency, "tlp": tlp, **marks}
            self._edges[link["link_id"]] = {
                "id": link["link_id"],
                "src": link["from_id"],
                "dst": link["to_id"],
                "rel": link["relation"],
                "props": props | {"weight": link["weight"], "evidence": link["evidence"]},
            }

    def _ttp(self, body: dict[str, Any], marked: dict[str, Any]) -> None:
        """A report's ATT&CK matches as edges from its EVENT to the attack-patterns and intrusion
        sets of the mirror: "which reports show T1566", "what points at this group" are traversals.
        Each edge carries the report's marking, so it is seen by whoever may see the report."""
        event = body.get("event_id")
        if not event:
            return  # written before matches named their event
        for t in body["techniques"]:
            if t.get("stix_id"):
                evidence = f"{t['attack_id']} {t['name']} (score {t['score']:.2f}): {'; '.join(t['evidence'])}"
                props = {"reason": evidence, "attack_id": t["attack_id"], "score": t["score"], **marked}
                self._link(event, "MATCHES_TECHNIQUE", t["stix_id"], props)
        for a in body["attributions"]:
            reasons = f"{a['name']} (score {a['score']:.2f}): {'; '.join(a['reasons'])}"
            props = {"reason": reasons, "score": a["score"], **marked}
            self._link(event, "ATTRIBUTED_TO", a["intrusion_set_id"], props)

    def _link(self, src: str, rel: str, dst: str, props: dict[str, Any]) -> None:
        if src != dst:  # a STIX object matched to itself says nothing
            lid = deterministic_id("link", src, rel, dst)
            self._edges[lid] = {"id": lid, "src": src, "dst": dst, "rel": rel, "props": props}

    def _drain(self) -> None:
        self.store.begin()  # before any write: ids are mapped through the merges as they are now
        if self._nodes:
            self.store.upsert_nodes(list(self._nodes.values()))
        if self._edges:
            self.store.upsert_edges(list(self._edges.values()))
        if self._sources:
            self.store.add_sources(self._sources)
            self.store.settle([s["entity_id"] for s in self._sources if s["entity_id"] in self._nodes
                               and self._nodes[s["entity_id"]]["kind"] != "EVENT"])  # fmt: skip
        for m in self._merges:
            self.store.merge(m["survivor_id"], m["merged_id"], m["reason"], m["score"])
        self.store.settle([m["survivor_id"] for m in self._merges])
        self._nodes, self._edges, self._sources, self._merges = {}, {}, [], []

    def flush(self) -> None:
        self._drain()
        self.store.commit()
