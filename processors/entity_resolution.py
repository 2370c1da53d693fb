"""POLE entity resolution: which person, vehicle, place and event each report is about.

Every entity id is stable and explainable: each ResolvedEntity says how it got its id
(new / exact / fuzzy / deterministic), with a score and a reason, and every merge of two
entities is emitted with its reason so sinks can keep it and an analyst can undo it.

Cost stays linear in the holdings: candidates come only from blocking keys (a vehicle's VIN
and normalised plate; a person's Soundex(last name) + given-name initial and date of birth;
a place's normalised address and ~11 m grid cell).

Field queries (cad.query) are resolved with the same rules but lookup-only: a query never
creates or changes an entity.

**Partitioned by kind.** The index of each kind is disjoint from the others' (a person's blocks,
a vehicle's VIN, plates and aliases, a place's address and grid cell), and no kind's answer
reads another's. So one node may resolve only some kinds (`kinds:` in its config), and a chain
of such nodes gives exactly the record one node resolving every kind gives: the first reads the
report (report.v2) and writes the event, the series and its kinds; each next one reads that
resolved.v2 record and adds its own kinds in their place. Each link of the chain is a task of its
own with its own state and changelog, so on Kafka the index is spread over as many processes as
there are kinds; splitting any one kind further would need every key of a mention in one place
(a vehicle's VIN and plate, a person's name and DOB blocks), which is why the split is by kind.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import Field

from argus.chains import chain_view
from argus.contracts import Context, NodeConfig, Processor
from argus.linkage.model import PersonModel
from argus.linkage.person import Mention
from argus.linkage.records import entity, evidence, stix_resolved
from argus.linkage.records import link as make_link
from argus.linkage.resolver import MATCH_PROBABILITY, REVIEW_PROBABILITY, PersonResolver, explain
from argus.linkage.vehicle import VehicleResolver
from argus.normalize import (
    address_key,
    geo_key,
    plate_key,
    soundex,
    vin_normal,
)
from argus.records import REPORT_BRANCH, Record, deterministic_id
from argus.topology import Topology

TITLE = {"rms.incident": "RMS report", "cad.incident": "CAD incident", "sar": "SAR"}
# A resolved record lists the event, then these sections in this order, each in report order.
SECTIONS = ("person", "vehicle", "place", "series")
SECTION_OF = {"person": "person", "vehicle": "vehicle", "address": "place", "series": "series"}
Sections = dict[str, list[tuple[dict[str, Any], dict[str, Any]]]]  # section -> (entity, link from the event)


def source_id_of(body: dict[str, Any]) -> Any:
    return body.get("report_id") or body.get("incident_id") or body.get("sar_id")


class EntityResolutionConfig(NodeConfig):
    match_probability: float = Field(
        default=MATCH_PROBABILITY, gt=0.0, lt=1.0, description="Match probability at which a person joins an entity"
    )
    review_probability: float = Field(
        default=REVIEW_PROBABILITY,
        gt=0.0,
        lt=1.0,
        description="Match probability from which a person is a possible match",
    )
    model: str | None = Field(
        default=None, description="Fellegi-Sunter model (JSON, `argus er train`); default: the one shipped"
    )
    max_candidates: int = Field(default=400, ge=10, description="Per blocking key, newest first")
    kinds: list[Literal["person", "vehicle", "place"]] = Field(
        default=["person", "vehicle", "place"],
        min_length=1,
        description="Which POLE kinds this node resolves (a chain of nodes may split them)",
    )


@dataclass
class Found:
    """What resolving a report found besides its entities: merges and possible matches."""

    merges: list[dict[str, Any]] = field(default_factory=list)
    possible: list[dict[str, Any]] = field(default_factory=list)


class EntityResolutionProcessor(Processor):
    Config = EntityResolutionConfig
    config: EntityResolutionConfig
    accepts = ("report.v2", "resolved.v2", "cad_query.v1", "decision.v2")
    emits = ("resolved.v2", "query_resolved.v2")
    ordered = True  # which report comes first matters: source order (argus/runtime/order.py)
    _model: PersonModel | None = None

    @classmethod
    def check_topology(cls, name: str, topo: Topology) -> list[str]:
        """Along a chain of these nodes each kind is resolved once, and what leaves the chain
        (a resolved topic read by anything else) has every kind resolved."""
        nodes = topo.nodes
        view = chain_view(cls, name, topo, "resolved.v2")
        problems: list[str] = []
        mine, before = view.mine, view.before
        if mine & before:
            problems.append(f"resolves {', '.join(sorted(mine & before))} again: a node upstream already does")
        done = mine | before
        for t in nodes[name].outputs:
            if topo.topics[t].schema_ != "resolved.v2":
                continue
            readers = [n for n, m in nodes.items() if t in m.inputs and n not in view.members]
            missing = {"person", "vehicle", "place"} - done
            if readers and missing:
                problems.append(
                    f"{t!r} leaves entity resolution for {', '.join(sorted(readers))} with "
                    f"{', '.join(sorted(missing))} never resolved"
                )
        return problems

    def process(self, record: Record, ctx: Context) -> Iterable[Record]:
        kinds = self.config.kinds
        if "decision_id" in record.value:
            if "person" in kinds:
                self._persons(ctx).decide(record.value)
            if "vehicle" in kinds and record.value.get("verdict", "APART") == "APART":
                VehicleResolver(ctx.state).decide(record.value)
            return []
        if record.envelope["type"] == "cad.query":
            wanted = "vehicle" if record.body["query_type"] == "VEHICLE" else "person"
            return [self._query(record, ctx)] if wanted in kinds else []
        if isinstance(record.body, dict) and "entities" in record.body:
            return [self._more(record, ctx)]
        return [self._report(record, ctx)]

    # --- vehicles ---------------------------------------------------------------------------
    def _vehicle(self, ctx: Context, v: dict[str, Any], record_id: str, found: Found) -> dict[str, Any]:
        ent, merges = VehicleResolver(ctx.state).resolve(v, record_id)
        found.merges += merges
        return ent

    # --- persons ----------------------------------------------------------------------------
    def _persons(self, ctx: Context) -> PersonResolver:
        if self._model is None:
            self._model = PersonModel.load(self.config.model)
        c = self.config
        return PersonResolver(ctx.state, self._model, c.match_probability, c.review_probability, c.max_candidates)

    def _person(self, ctx: Context, p: dict[str, Any], record_id: str, idx: int, out: Found) -> dict[str, Any]:
        m = Mention.of(p)
        r = self._persons(ctx).resolve(m, record_id, idx)
        out.merges += r.merges
        for other, s in r.possible:
            link = make_link(r.entity_id, "POSSIBLE_SAME_AS", other, explain(s))
            out.possible.append(link | {"weight": round(s.weight, 3), "evidence": evidence(s.evidence)})
        first, last = (m.last, m.first) if r.swapped else (m.first, m.last)
        display = f"{last}, {first}" + (f" {m.middle}" if m.middle else "")
        attrs = {"name": p["name"], "dob": p.get("dob"), "sex": p.get("sex"), "race": p.get("race")}
        return entity(
            r.entity_id,
            "PERSON",
            "person",
            display,
            p["role"],
            {"name_key": f"{last}|{first}", "dob": p.get("dob"), "soundex": soundex(last)},
            attrs,
            r.method,
            r.score,
            r.reason,
        ) | {"evidence": evidence(r.evidence)}

    # --- locations, events --------------------------------------------------------------------
    def _location(self, ctx: Context, loc: dict[str, Any]) -> dict[str, Any]:
        ak = address_key(loc.get("address"))
        gk = geo_key(loc.get("lat"), loc.get("lon"))
        eid = None
        reason = "new place"
        method = "new"
        if ak and ctx.state.get(f"addr:{ak}"):
            eid, reason, method = ctx.state.get(f"addr:{ak}"), f"same normalised address {ak}", "exact"
        elif gk and ctx.state.get(f"geo:{gk}"):
            eid, reason, method = ctx.state.get(f"geo:{gk}"), f"same ~11 m cell {gk}", "exact"
        if eid is None:
            eid = deterministic_id("location", ak or gk or "")
        if ak and ctx.state.get(f"addr:{ak}") is None:
            ctx.state.put(f"addr:{ak}", eid)
        if gk and ctx.state.get(f"geo:{gk}") is None:
            ctx.state.put(f"geo:{gk}", eid)
        return entity(
            eid,
            "LOCATION",
            "address",
            loc.get("address") or gk or "",
            loc["role"],
            {"address_key": ak, "geo": gk},
            {"address": loc.get("address"), "lat": loc.get("lat"), "lon": loc.get("lon")},
            method,
            1.0,
            reason,
        )

    # --- reports ----------------------------------------------------------------------------
    def _resolve_kinds(
        self,
        ctx: Context,
        env: dict[str, Any],
        body: dict[str, Any],
        event_id: str,
        sections: Sections,
        found: Found,
    ) -> None:
        """Resolve this node's kinds of the report's mentions into their sections, each an
        (entity, link from the event) pair in the order the report lists them."""
        rid, rtype = env["id"], env["type"]
        where = f"{TITLE[rtype]} {source_id_of(body)}"
        kinds = self.config.kinds
        if "person" in kinds:
            for i, p in enumerate(body.get("persons", [])):
                ent = self._person(ctx, p, rid, i, found)
                link = make_link(event_id, p["role"].upper(), ent["entity_id"], f"{where} names a {p['role']}")
                sections["person"].append((ent, link))
        if "vehicle" in kinds:
            for v in body.get("vehicles", []):
                ent = self._vehicle(ctx, v, rid, found)
                rel = "SUSPECT_VEHICLE" if v["role"] == "suspect" else f"VEHICLE_{v['role'].upper()}"
                link = make_link(event_id, rel, ent["entity_id"], f"{where} lists the vehicle as {v['role']}")
                sections["vehicle"].append((ent, link))
        if "place" in kinds:
            for loc in body.get("locations", []):
                ent = self._location(ctx, loc)
                link = make_link(
                    event_id, f"AT_{loc['role'].upper()}", ent["entity_id"], f"{where} location ({loc['role']})"
                )
                sections["place"].append((ent, link))

    @staticmethod
    def _resolved(
        record: Record,
        report: dict[str, Any],
        event_id: str,
        event: dict[str, Any],
        sections: Sections,
        found: Found,
    ) -> Record:
        """The resolved record: the event, then each section in SECTIONS order, so a chain of
        nodes writes exactly what one node resolving every kind writes."""
        env = record.envelope
        pairs = [pair for name in SECTIONS for pair in sections[name]]
        return Record(
            {
                "envelope": env,
                "body": {
                    "report": (REPORT_BRANCH[env["type"]], report),
                    "event_id": event_id,
                    "entities": [event, *(e for e, _ in pairs)],
                    "links": [link for _, link in pairs],
                    "merges": found.merges,
                    "possible": found.possible,
                },
            },
            key=env["id"],
            topic="resolved.v2",
        )

    def _report(self, record: Record, ctx: Context) -> Record:
        env, body = record.envelope, record.body
        rtype, agency = env["type"], env["source_agency"]
        if rtype == "stix":
            return stix_resolved(record)
        source_id = source_id_of(body)
        subtype = {"rms.incident": "incident", "cad.incident": "cad_incident", "sar": "sar"}[rtype]
        event_id = deterministic_id("event", agency, rtype, source_id)
        when = body.get("occurred_at") or body.get("received_at")
        title = TITLE[rtype]
        event = entity(
            event_id,
            "EVENT",
            subtype,
            f"{title} {agency} {source_id}",
            "report",
            {"agency": agency, "source_id": source_id},
            {
                "occurred_at": when.isoformat() if when else None,
                "offenses": ",".join(body.get("offenses", [])) or None,
                "behavior": body.get("behavior"),
                "call_type": body.get("call_type"),
            },
            "deterministic",
            1.0,
            "event id from agency and report id",
        )
        sections: Sections = {name: [] for name in SECTIONS}
        series = body.get("series_id")
        if series:
            sid = deterministic_id("series", series.upper())
            ent = entity(
                sid,
                "EVENT",
                "series",
                f"series {series}",
                "series",
                {"series_id": series.upper()},
                {},
                "deterministic",
                1.0,
                "series id as assigned by the investigating agency",
            )
            link = make_link(event_id, "PART_OF_SERIES", sid, f"{title} {source_id} is assigned to series {series}")
            sections["series"].append((ent, link))
        found = Found()
        self._resolve_kinds(ctx, env, body, event_id, sections, found)
        return self._resolved(record, body, event_id, event, sections, found)

    def _more(self, record: Record, ctx: Context) -> Record:
        """A report an earlier node of the chain resolved: add this node's kinds. Entities
        after the event pair up with the links in order (one link from the event to each)."""
        env, body = record.envelope, record.body
        report = body["report"]
        if env["type"] == "stix":  # resolved whole by the first node (stix_resolved)
            value = {"envelope": env, "body": dict(body, report=(REPORT_BRANCH["stix"], report))}
            return Record(value, key=env["id"], topic="resolved.v2")
        event, *rest = body["entities"]
        if len(rest) != len(body["links"]):
            raise ValueError(
                f"resolved record {env['id']}: {len(rest)} entities besides the event but {len(body['links'])} "
                "links; it was not written by entity resolution"
            )
        sections: Sections = {name: [] for name in SECTIONS}
        for ent, link in zip(rest, body["links"], strict=True):
            name = SECTION_OF.get(ent["subtype"])
            if name is None:
                raise ValueError(f"resolved record {env['id']}: entity subtype {ent['subtype']!r} is not a mention")
            if name in self.config.kinds:
                raise ValueError(
                    f"resolved record {env['id']}: its {name} mentions were resolved upstream already; "
                    "each kind must be resolved by one node of the chain"
                )
            sections[name].append((ent, link))
        found = Found(list(body.get("merges", [])), list(body.get("possible", [])))
        self._resolve_kinds(ctx, env, report, body["event_id"], sections, found)
        return self._resolved(record, report, body["event_id"], event, sections, found)

    # --- field queries (lookup only) -----------------------------------------------------------
    def _query(self, record: Record, ctx: Context) -> Record:
        q = record.body
        matches: list[dict[str, Any]] = []
        if q["query_type"] == "VEHICLE":
            vin = vin_normal(q.get("vin"))
            seen: set[str] = set()
            for eid, why, score in VehicleResolver(ctx.state).candidates(q.get("plate"), q.get("plate_state"), vin):
                if eid in seen:
                    continue
                seen.add(eid)
                pk = plate_key(q.get("plate"))
                matches.append(
                    entity(
                        eid,
                        "OBJECT",
                        "vehicle",
                        f"{q.get('plate_state') or '??'} {pk}",
                        "queried",
                        {"plate_key": pk, "vin": vin},
                        {},
                        "exact" if score >= 1.0 else "fuzzy",
                        score,
                        why,
                    )
                )
        else:
            m = Mention.of({"name": q["name"], "dob": q.get("dob")})
            # A name and DOB may fit several people on file: a field query shows them all.
            persons = self._persons(ctx)  # one resolver per query: it reads the holdings' size once
            for eid, sc in persons.lookup(m):
                matches.append(
                    entity(
                        eid,
                        "PERSON",
                        "person",
                        f"{m.last}, {m.first}",
                        "queried",
                        {"name_key": f"{m.last}|{m.first}", "dob": q.get("dob")},
                        {},
                        "probabilistic",
                        persons.probability(sc.weight),
                        explain(sc),
                    )
                    | {"evidence": evidence(sc.evidence)}
                )
        return Record(
            {"envelope": record.envelope, "body": {"query": q, "matches": matches}},
            key=record.key,
            topic="query_resolved.v2",
        )
