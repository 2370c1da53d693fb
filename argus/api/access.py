"""The one place every API read passes through before it leaves the process.

A `Gate` is made per request for the subject making it. It decides, with the same policy the
alerts use (argus.security.policy.decide), what of each search hit, entity, source record
and link that subject may see: whole, redacted (the AMBER view withholds names, dates of birth,
addresses and narrative), existence only (AMBER+STRICT, NO_FURTHER_DISSEMINATION: "restricted,
contact <agency>"), or not at all (another agency's RED; criminal intelligence to a
non-law-enforcement reader). Stores are asked to exclude what a subject may never see before
they count and page (search's `visible_to`; traversals' `allow`), so totals, pages and paths do
not betray it either.

Identity (who the subject is: an authenticated API key or token, resolved through the
directory to its agency, role, cases and dissemination lists) is established by the caller of
`Gate`. `hidden` counts what the gate kept back, for the audit trail.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from argus.alerts import level
from argus.security.policy import (
    AMBER_VIEW,
    EXISTENCE,
    FULL,
    RANK,
    Marking,
    Recipient,
    ReportView,
    Rules,
    decide,
)
from argus.stores.graph import GraphEdge, GraphNode, GraphStore, SourceRow, display_of
from argus.stores.search import WHOLE_KINDS, Audience

# Entity attributes that identify a person or a place: withheld under the AMBER view.
PERSONAL = ("name", "first", "last", "middle", "dob", "address", "street", "phone", "ssn", "email")
# Entity resolution writes which record made a merge at the head of its reason.
MERGED_BY = re.compile(r"^record (\S+): ")


def restricted(agencies: list[str]) -> str:
    return "restricted, contact " + ", ".join(sorted(set(agencies)))


def hit_marking(h: dict[str, Any]) -> Marking:
    """The marking of the report behind an alert hit (carried on the hit)."""
    return Marking(
        agency=h["report_agency"],
        tlp=h["report_tlp"],
        ci=bool(h.get("report_ci", True)),
        handling=tuple(h.get("report_handling") or ()),
        cases=tuple(h.get("report_cases") or ()),
        recipients=tuple(h.get("report_recipients") or ()),
    )


def cut_hit(h: dict[str, Any], v: ReportView) -> dict[str, Any]:
    """A hit cut down to what a subscriber with view `v` may see of its report. Without the
    report at hand the words that could name or place anyone go: the matched label, the path's
    labels and every field but those the view keeps whole (offenses, series, date, ratings,
    vehicles)."""
    keep = ("offenses", "sar_behavior", "call_type", "series_id", "occurred_at", "ratings", "vehicles")
    fields = {k: x for k, x in h["fields"].items() if v.level == AMBER_VIEW and k in keep}
    kind = h["path"][1]["kind"].lower() if len(h["path"]) > 1 else "subject"
    return dict(
        h,
        matched=f"{kind} (details withheld)",
        path=[dict(p, label=f"{p['kind'].lower()} (withheld)") for p in h["path"]],
        fields=fields,
        withheld=sorted(set(h["withheld"]) | (set(v.withheld) if v.level == AMBER_VIEW else {"all details"})),
        reasons=[
            *[r for r in h["reasons"] if not r.startswith("+") or "listed as" in r],
            "details withheld by the record's marking",
        ],
        access=v.level,
    )


class Gate:
    def __init__(
        self,
        subject: Recipient,
        graph: GraphStore | None = None,
        rules: Rules | None = None,
        barred: tuple[str, ...] = (),
    ) -> None:
        self.subject = subject
        self.graph = graph
        self.rules = rules
        self.barred = barred
        self.hidden = 0
        self._nodes: dict[str, tuple[ReportView | None, list[SourceRow]]] = {}
        self._all_full: dict[str, bool] = {}
        self._views: dict[Marking, ReportView | None] = {}

    @property
    def audience(self) -> Audience:
        s = self.subject
        return Audience(s.agency, s.law_enforcement, tuple(sorted(s.principals)), self.barred, tuple(sorted(s.cases)),
                        s.cleared_for_ci)  # fmt: skip

    def view(self, m: Marking) -> ReportView | None:
        """Decided once per distinct marking in a request: a page holds thousands of rows but
        few markings, and the same rows are asked about again (entity, sources, merges)."""
        if m not in self._views:
            self._views[m] = decide(m, self.subject, self.rules)
        return self._views[m]

    def in_full(self, m: Marking) -> bool:
        """Whether the subject sees an object of this marking whole: what a workflow (a SAR, a
        requirement, a tasking) needs before it is shown or acted on at all."""
        v = self.view(m)
        return v is not None and v.level == FULL

    def _seen(self, v: ReportView | None) -> ReportView | None:
        if v is None:
            self.hidden += 1
        return v

    def deliver(self, body: dict[str, Any]) -> dict[str, Any] | None:
        """An alert as this subscriber may have it, or None. Addressed to an officer, it goes to
        that officer; to a unit, to its members; to an agency, to its members; a supervisor
        watches every alert of their agency. Then each hit is decided again by the policy for
        this subscriber from the marking it carries: dropped if they may not see its report,
        cut down to what they may see if the hit shows more (correlation cut it for the
        addressee, who may hold cases, lists or a name this subscriber does not)."""
        s = self.subject
        officer, unit = body.get("recipient_officer"), body.get("recipient_unit")
        watch = s.may("review")
        if body["recipient_agency"] != s.agency or not (s.may("field") or s.may("read")):
            return None
        if (officer and officer != s.officer and not watch) or (not officer and unit and unit != s.unit and not watch):
            return None
        hits: list[dict[str, Any]] = []
        for h in body["hits"]:
            v = self.view(hit_marking(h))
            if v is None:
                continue
            hits.append(h if RANK[v.level] >= RANK.get(h.get("access", FULL), 3) else cut_hit(h, v))
        if not hits:
            self.hidden += 1
            return None
        if hits == body["hits"]:
            return body
        top = max(hits, key=lambda h: h["score"])
        lvl = level(top["score"])
        summary = f"{lvl}: {top['matched']} is on file with {top['report_agency']}" + (
            f"; {len(hits)} record(s) in all" if len(hits) > 1 else ""
        )
        return dict(body, hits=hits, score=top["score"], level=lvl, summary=summary)

    # --- search -----------------------------------------------------------------------------
    def hit(self, hit: dict[str, Any]) -> dict[str, Any] | None:
        fields = hit.get("fields") or {}
        m = Marking.of(fields, hit["agency"], hit["tlp"])
        v = self._seen(self.view(replace(m, whole=hit["kind"] in WHOLE_KINDS)))
        if v is None:
            return None
        out = dict(hit, access=v.level)
        if v.level == FULL:
            return out
        if v.level == AMBER_VIEW:
            out["snippet"] = ""
            out.pop("text", None)
            if not v.can("locations"):
                out["lat"] = out["lon"] = None
            out["withheld"] = list(v.withheld)
            return out
        return {
            "id": hit["id"],
            "kind": hit["kind"],
            "agency": hit["agency"],
            "tlp": hit["tlp"],
            "title": restricted([hit["agency"]]),
            "access": EXISTENCE,
            "withheld": list(v.withheld),
        }

    # --- graph --------------------------------------------------------------------------------
    def _learn(self, ids: list[str]) -> None:
        assert self.graph is not None
        todo = [i for i in dict.fromkeys(ids) if i not in self._nodes]
        if not todo:
            return
        found = self.graph.sources_for(todo)
        for i in todo:
            rows = found.get(i, [])
            views = [(self.view(Marking.of(r)), r) for r in rows]
            seen = [(v, r) for v, r in views if v is not None]
            best = max((v for v, _ in seen), key=lambda v: RANK[v.level], default=None)
            self._nodes[i] = (best, [r for _, r in seen])
            self._all_full[i] = bool(rows) and all(v is not None and v.level == FULL for v, _ in views)

    def node_view(self, node_id: str) -> ReportView | None:
        """The best view the subject has of any source record of the entity: an entity is as
        visible as the most visible report that mentions it."""
        self._learn([node_id])
        return self._nodes[node_id][0]

    def node(self, n: GraphNode | None) -> dict[str, Any] | None:
        if n is None:
            return None
        props = n["props"]
        if n["kind"] == "EVENT" and "tlp" in props:  # an incident node is its report
            v = self.view(Marking.of(props))
        else:
            v = self.node_view(n["id"])
        if self._seen(v) is None:
            return None
        assert v is not None
        if n["kind"] != "EVENT" or "tlp" not in props:
            n = self._as_seen(n, v)
        if v.level == FULL:
            return dict(n, access=FULL)
        agencies = [r["agency"] for r in self._nodes.get(n["id"], (None, []))[1]] or [props.get("agency", "")]
        props = n["props"]
        if v.level == EXISTENCE:
            return {
                "id": n["id"],
                "kind": n["kind"],
                "subtype": n["subtype"],
                "label": restricted(agencies),
                "props": {},
                "access": EXISTENCE,
            }
        if n["kind"] == "PERSON":
            kept = {k: val for k, val in props.items() if k != "keys" and not any(p in k for p in PERSONAL)}
            return dict(
                n, label=f"{n['subtype']} (name withheld: {restricted(agencies)})", props=kept, access=AMBER_VIEW
            )
        if n["kind"] == "LOCATION":
            return dict(n, label=f"location withheld: {restricted(agencies)}", props={}, access=AMBER_VIEW)
        return dict(n, access=AMBER_VIEW)

    def _as_seen(self, n: GraphNode, v: ReportView) -> GraphNode:
        """The entity as told by the records the subject may see: label and attributes come from
        those records' own mentions (in record order), so a merge with a record the subject
        may not see (or sees only redacted) adds nothing to what is shown. Rows written before
        mentions were kept fall back to the stored node only when the subject sees every source
        in full."""
        rows = self._nodes.get(n["id"], (None, []))[1]
        told = [r for r in rows if "attrs" in r and self._rank(r) >= RANK[v.level]]
        if told:
            label, props = display_of(told)
            return dict(n, label=label or n["label"], props=props)  # type: ignore[return-value]
        if v.level == FULL and self._all_full.get(n["id"]):
            return dict(n, props={k: x for k, x in n["props"].items() if k != "keys"})  # type: ignore[return-value]
        kept = {k: x for k, x in n["props"].items() if k != "keys" and not any(p in k for p in PERSONAL)}
        return dict(n, label=n["subtype"], props=kept)  # type: ignore[return-value]

    def _rank(self, r: SourceRow) -> int:
        rv = self.view(Marking.of(r))
        return RANK[rv.level] if rv is not None else 0

    def edge_visible(self, e: GraphEdge) -> bool:
        """An edge is followed only where its record is seen beyond its existence: a record
        seen only as "restricted, contact <agency>" must not tell whom or what it mentions."""
        p = e["props"]
        if "tlp" not in p:
            return True
        v = self.view(Marking.of(p))
        return v is not None and v.level != EXISTENCE

    def allow(self, edges: list[GraphEdge]) -> list[GraphEdge]:
        """Traversal filter: an edge is followed only if its report and both its ends are
        visible to the subject."""
        self._learn([x for e in edges for x in (e["src"], e["dst"])])
        return [
            e
            for e in edges
            if self.edge_visible(e) and self._nodes[e["src"]][0] is not None and self._nodes[e["dst"]][0] is not None
        ]

    def edge(self, e: GraphEdge) -> dict[str, Any] | None:
        p = e["props"]
        if "tlp" not in p:
            return dict(e)
        v = self._seen(self.view(Marking.of(p)))
        if v is None or v.level == EXISTENCE:
            return None
        if v.level == FULL:
            return dict(e)
        return dict(e, props={k: p[k] for k in ("agency", "tlp", "record_id") if k in p} | {"reason": "withheld"})

    def merges(self, entity_id: str, merges: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """What was merged into the entity, as far as the subject may know: a merge made by a
        record the subject sees in full keeps its reason; one made by a record seen redacted
        shows only the merged id; one made by a record the subject may not see is left out (its
        existence would say that record exists)."""
        self._learn([entity_id])
        seen = {r["record_id"]: self._rank(r) for r in self._nodes[entity_id][1]}
        out = []
        for m in merges:
            by = MERGED_BY.match(m.get("reason") or "")
            rank = seen.get(by.group(1), 0) if by else 0
            if rank == RANK[FULL]:
                out.append(m)
            elif rank:
                out.append({"merged": m["merged"]})
        return out

    def sources(self, entity_id: str) -> list[dict[str, Any]]:
        self._learn([entity_id])
        out = []
        for r in self._nodes[entity_id][1]:
            v = self.view(Marking.of(r))
            assert v is not None
            if v.level == FULL:
                out.append(dict(r, access=v.level))
            else:  # the row says the record mentions the entity; what it said stays withheld
                kept = {k: x for k, x in r.items() if k not in ("label", "attrs")}
                out.append(dict(kept, reason="withheld", access=v.level))
        return out
