"""Generated holdings for the leak harness, written the way the sinks and the pipeline write them.

Each report i carries its own tokens, so a response can be scanned for what a subject may not
see: its record, incident and link ids (`rec…x`, `ev…x`, `lnk…x`), its person's name and
narrative (`NAME…Q`, `NARR…Q`, `ALIAS…Q`), a STIX indicator of the same marking (`STIX…Q`, id
`…-000057170…`), and an alert whose one hit is on it (`alr…x`, `ANARR…Q`, `ANAME…Q`), addressed to
a generated agency and sometimes to one named officer. Vehicles are shared between reports
(`veh…x`, `PLATE…Q`). Every agency also holds an analyst-added TAXII feed (`feed<ori>`) and a
TAXII status resource (`STATUSBODY<ori>`).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from argus.api.services import Services
from argus.feeds import FeedRegistry, FeedSpec
from argus.security.policy import FULL, Marking, Recipient, ReportView, decide
from argus.stix.markings import to_tlp2
from argus.stores.embedded_graph import EmbeddedGraphStore
from argus.stores.embedded_search import EmbeddedSearchStore
from argus.stores.products import Delivery, Feedback
from argus.stores.requirements import Hit, Requirement, Tasking
from argus.stores.sar_reviews import SarCase, Tlo
from argus.stores.sql_products import EmbeddedProducts
from argus.stores.sql_requirements import EmbeddedRequirements
from argus.stores.sql_risk import EmbeddedRisk
from argus.stores.sql_sar_reviews import EmbeddedSarReviews
from argus.stores.sqlite_identity import Directory
from argus.stores.stix import EmbeddedStixStore, StixItem
from argus.stores.taxii_status import Statuses
from argus.topology import Topology, load_topology
from argus.workflows.product_model import Dissemination, Paragraph, Portion, Product
from argus.workflows.sar_model import Step
from tests.e2e.conftest import make_workdir
from tests.leak import holdings_joint, holdings_playbooks

AGENCIES = ["CA0190000", "CA0430000", "NV0020000"]
PARTNER = "PS0000001"  # a private-sector partner, not law enforcement
CASES = ["ROB-1", "ROB-2"]
LISTS = ["task-force"]
READ_ROLES = ["patrol_officer", "analyst", "supervisor", "terrorism_liaison_officer", "private_sector_partner"]
TLPS = ["CLEAR", "GREEN", "AMBER", "AMBER_STRICT", "RED"]

report = st.fixed_dictionaries(
    {
        "agency": st.sampled_from(AGENCIES),
        "tlp": st.sampled_from(TLPS),
        "ci": st.booleans(),
        "nfd": st.booleans(),
        "cases": st.lists(st.sampled_from(CASES), max_size=1, unique=True),
        "recipients": st.lists(
            st.sampled_from([*AGENCIES, "user:s0", "user:s1", "list:task-force"]), max_size=2, unique=True
        ),
        "vehicle": st.integers(0, 2),
        "link": st.booleans(),
        "alias": st.booleans(),
        "to": st.sampled_from(AGENCIES),  # the agency its alert is addressed to
        "officer": st.sampled_from([None, "s0", "s1"]),  # and, sometimes, one officer of it
    }
)
subject = st.fixed_dictionaries(
    {
        "agency": st.sampled_from(AGENCIES),
        "role": st.sampled_from([*READ_ROLES, "auditor", "administrator"]),
        "cases": st.lists(st.sampled_from(CASES), max_size=2, unique=True),
        "lists": st.lists(st.sampled_from(LISTS), max_size=1, unique=True),
    }
)
rules = st.fixed_dictionaries(
    {
        "barred": st.dictionaries(st.sampled_from(AGENCIES), st.sampled_from(AGENCIES), max_size=2),
        "community": st.dictionaries(st.sampled_from(AGENCIES), st.sampled_from(["north", "south"]), max_size=3),
    }
)


def marking(r: dict[str, Any]) -> Marking:
    nfd = ("NO_FURTHER_DISSEMINATION",) if r["nfd"] else ()
    return Marking(r["agency"], r["tlp"], r["ci"], nfd, tuple(r["cases"]), tuple(r["recipients"]))


def stix_id(i: int) -> str:
    return f"indicator--00000000-0000-4000-8000-00005717{i:04d}"


_BASE: dict[str, Path] = {}


def topology_file() -> Path:
    """One prepared topology (no pipeline runs here); each example gets its own data dir."""
    if "topo" not in _BASE:
        _BASE["topo"] = make_workdir(Path(tempfile.mkdtemp(prefix="argus-leaks-")), background=0)
    return _BASE["topo"]


@dataclass
class World:
    """What one example holds, and who asks."""

    topo: Topology
    reports: list[dict[str, Any]]
    directory: Directory
    keys: list[tuple[str, str]] = field(default_factory=list)  # (subject id, API key)
    posted_sars: int = 0  # SARs the harness itself submitted so far

    @property
    def match_ids(self) -> list[str]:
        """Possible matches, and ids that are none."""
        return [f"pm{i:03d}x" for i in range(len(self.reports))]

    @property
    def sar_ids(self) -> list[str]:
        return [f"sar{i:03d}x" for i in range(len(self.reports))] + ["sar999x"]

    @property
    def entity_ids(self) -> list[str]:
        ids = [f"{p}{i:03d}x" for i in range(len(self.reports)) for p in ("ev", "per")]
        return ids + [f"veh{k}x" for k in range(3)]

    def views(self, who: Recipient) -> list[ReportView | None]:
        return [decide(marking(r), who, self.directory.rules) for r in self.reports]


def build(reports: list[dict[str, Any]], subjects: list[dict[str, Any]], agency_rules: dict[str, Any]) -> World:
    data_dir = Path(tempfile.mkdtemp(prefix="argus-leak-"))
    topo = load_topology(topology_file(), data_dir)
    _graph_and_search(data_dir, reports)
    _stix(data_dir, reports)
    _feeds_and_statuses(data_dir)
    _sars(data_dir, reports)
    _requirements(data_dir, reports)
    _products(data_dir, reports)
    _risk(data_dir, reports)
    _alerts(topo, reports)
    d = Directory.for_data_dir(data_dir)
    for ori in AGENCIES:
        d.add_agency(ori, ori, community=agency_rules["community"].get(ori))
    for owner, barred in agency_rules["barred"].items():
        if barred != owner:
            d.set_barred(owner, [barred])
    d.add_agency(PARTNER, "partner", law_enforcement=False)
    world = World(topo, reports, d)
    for n, sj in enumerate(subjects):
        agency = PARTNER if sj["role"] == "private_sector_partner" else sj["agency"]
        d.add_subject(f"s{n}", agency, [sj["role"]])
        for c in sj["cases"]:
            d.add_member(f"s{n}", "case", c)
        for li in sj["lists"]:
            d.add_member(f"s{n}", "list", li)
        world.keys.append((f"s{n}", d.create_key(f"s{n}")))
    holdings_joint.seed(world)
    holdings_playbooks.seed(world)
    return world


def _graph_and_search(data_dir: Path, reports: list[dict[str, Any]]) -> None:
    g = EmbeddedGraphStore(data_dir / "graph.db")
    s = EmbeddedSearchStore(data_dir / "search.db")
    nodes: dict[str, Any] = {}
    edges: list[Any] = []
    sources: list[Any] = []
    docs: list[Any] = []
    for i, r in enumerate(reports):
        _report(i, r, reports, nodes, edges, sources, docs)
    g.upsert_nodes(list(nodes.values()))
    g.upsert_edges(edges)
    g.add_sources(sources)
    g.commit()
    for i, r in enumerate(reports):
        if r.get("alias") and i > 0:  # the merge entity resolution recorded, with its reason
            g.upsert_nodes([{"id": f"als{i:03d}x", "kind": "PERSON", "subtype": "person", "label": "", "props": {}}])
            g.commit()
            g.merge(f"per{i - 1:03d}x", f"als{i:03d}x", f"record rec{i:03d}x: ALIAS{i:03d}Q, same DOB", 0.95)
            g.commit()
    s.upsert(docs)
    s.commit()
    g.close()
    s.close()


def _report(i: int, r: dict[str, Any], reports: list[dict[str, Any]], nodes: dict, edges: list, sources: list,
            docs: list) -> None:  # fmt: skip
    rid, ev, person, veh = f"rec{i:03d}x", f"ev{i:03d}x", f"per{i:03d}x", f"veh{r['vehicle']}x"
    m = marking(r)
    marks = m.props()
    nodes[ev] = {"id": ev, "kind": "EVENT", "subtype": "incident", "label": f"RMS {rid}",
                 "props": {"agency": m.agency, "tlp": m.tlp, "record_id": rid, **marks}}  # fmt: skip
    nodes[person] = {"id": person, "kind": "PERSON", "subtype": "person", "label": f"NAME{i:03d}Q",
                     "props": {"name": f"NAME{i:03d}Q", "dob": "1990-01-01", "sex": "M"}}  # fmt: skip
    nodes[veh] = {"id": veh, "kind": "OBJECT", "subtype": "vehicle", "label": f"PLATE{r['vehicle']}Q",
                  "props": {"plate": f"PLATE{r['vehicle']}Q"}}  # fmt: skip
    mentions = [(eid, nodes[eid]["label"], nodes[eid]["props"]) for eid in (ev, person, veh)]
    if r.get("alias") and i > 0:
        # The report names the previous report's person under another spelling and entity
        # resolution merged them: only readers of this report may see that spelling.
        alias = {"name": f"ALIAS{i:03d}Q", "dob": "1990-01-01", "sex": "M"}
        mentions.append((f"per{i - 1:03d}x", alias["name"], alias))
    for eid, label, attrs in mentions:
        sources.append({"entity_id": eid, "record_id": rid, "agency": m.agency, "tlp": m.tlp, "method": "new",
                        "score": 1.0, "reason": f"NAME{i:03d}Q in {rid}", "label": label,
                        "attrs": {k: str(x) for k, x in attrs.items()}, **marks})  # fmt: skip
    for dst, rel in ((person, "suspect"), (veh, "vehicle")):
        props = {"reason": f"NAME{i:03d}Q named in {rid}", "record_id": rid, "agency": m.agency, "tlp": m.tlp}
        edges.append({"id": f"{ev}-{dst}", "src": ev, "dst": dst, "rel": rel, "props": props | marks})
    if r.get("link") and i > 0:
        # A relationship the report asserts between entities other reports brought in.
        props = {"reason": f"NARR{i:03d}Q", "record_id": rid, "agency": m.agency, "tlp": m.tlp, **marks}
        edges.append({"id": f"lnk{i:03d}x", "src": f"per{i - 1:03d}x", "dst": veh, "rel": "ASSOCIATED_WITH",
                      "props": props})  # fmt: skip
        # Entity resolution could not decide whether this report's person is the previous one's.
        why = {"reason": f"PMR{i:03d}Q weight", "weight": 7.5, "evidence": [{"field": "surname", "level": "exact",
               "weight": 7.5}]}  # fmt: skip
        edges.append({"id": f"pm{i:03d}x", "src": person, "dst": f"per{i - 1:03d}x", "rel": "POSSIBLE_SAME_AS",
                      "props": props | why})  # fmt: skip
    docs.append(
        {
            "id": rid,
            "kind": "rms.incident",
            "agency": m.agency,
            "tlp": m.tlp,
            "occurred_at": f"2026-11-{1 + i % 28:02d}T10:00:00+00:00",
            "title": f"RMS report {rid}",
            "text": f"NARR{i:03d}Q narrative NAME{i:03d}Q PLATE{r['vehicle']}Q 120 robbery",
            "amber_text": f"120 robbery PLATE{r['vehicle']}Q",
            "lat": 36.7,
            "lon": -119.8,
            "fields": {
                "criminal_intelligence": m.ci,
                "handling": list(m.handling),
                "cases": list(m.cases),
                "recipients": list(m.recipients),
                "entities": [ev, person, veh],
                "series_id": None,
                "offenses": ["120"],
            },
            "version": 1,
        }
    )


def _stix(data_dir: Path, reports: list[dict[str, Any]]) -> None:
    store = EmbeddedStixStore(data_dir / "stix.db")
    items = []
    for i, r in enumerate(reports):
        m = marking(r)
        obj = {"type": "indicator", "spec_version": "2.1", "id": stix_id(i), "created": "2026-11-01T10:00:00.000Z",
               "modified": "2026-11-01T10:00:00.000Z", "name": f"STIX{i:03d}Q", "pattern_type": "stix",
               "pattern": "[ipv4-addr:value = '198.51.100.7']", "valid_from": "2026-11-01T10:00:00Z"}  # fmt: skip
        items.append(StixItem(to_tlp2(obj), f"stx{i:03d}x", m.agency, m.tlp, m.props() | {"whole": True}))
    store.put(items)
    store.commit()
    store.close()


def _feeds_and_statuses(data_dir: Path) -> None:
    feeds = FeedRegistry(data_dir / "feeds.db")
    statuses = Statuses(data_dir / "taxii.db")
    for ori in AGENCIES:
        spec = {"name": f"feed{ori.lower()}", "url": "https://taxii.example/api1/", "collection": "c1", "agency": ori}
        feeds.add(FeedSpec.model_validate(spec), "harness")
        statuses.put(ori, {"id": f"st{ori.lower()}", "status": "complete", "note": f"STATUSBODY{ori}"})
    feeds.close()
    statuses.close()


def sar_submitter(i: int) -> str:
    """Who submitted SAR i: s0 or s1 (of the report's agency, if that is theirs)."""
    return f"s{i % 2}"


def _sars(data_dir: Path, reports: list[dict[str, Any]]) -> None:
    """SAR i under report i's marking: its narrative (`SARN…Q`), its submitter's contact
    (`SARC…Q`), its number (`SARID…Q`), a reviewer's internal reason (`SARR…Q`) and the feedback
    its submitter is told (`SARF…Q`); every other one already through initial review."""
    store = EmbeddedSarReviews(data_dir / "sar_reviews.db")
    t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(days=30)
    for i, r in enumerate(reports):
        steps = [Step("initial_review", "ACCEPT", "rev", r["agency"], t0, f"SARR{i:03d}Q", feedback=f"SARF{i:03d}Q")]
        store.create(SarCase(
            id=f"sar{i:03d}x", sar_id=f"SARID{i:03d}Q", marking=marking(r), behavior="SURVL", occurred_at=t0,
            received_at=t0 + timedelta(minutes=i), narrative=f"SARN{i:03d}Q watched the gate", submitted_by="Ofc",
            submitter=sar_submitter(i), submitter_role="analyst", contact={"phone": f"SARC{i:03d}Q"},
            state="ACCEPTED" if i % 2 else "SUBMITTED", steps=steps if i % 2 else [], triage_score=10.0 * i,
            due_at=t0 + timedelta(hours=1),
        ))  # fmt: skip
    for ori in AGENCIES:  # each agency's TLO, whose contact only its own agency's people see
        store.put_tlo(Tlo(f"tlo-{ori.lower()}", ori, "TLO", "water", "county", "2099-01-01", f"TLOC{ori}Q", "sup"))
    for ori in AGENCIES:  # a pattern over every SAR, told to each agency
        store.add_patterns([{"pattern_id": f"pat{ori.lower()}", "recipient_agency": ori, "kind": "SPACE_TIME_CLUSTER",
                             "sars": [f"sar{i:03d}x" for i in range(len(reports))], "why": "harness",
                             "detected_at": t0}])  # fmt: skip
    store.close()


def _requirements(data_dir: Path, reports: list[dict[str, Any]]) -> None:
    """Requirement i under report i's marking (title `REQT…Q`); `reqallx`, TLP:CLEAR, answered by
    every report under its own marking; and a tasking about it to each agency (`TSKQ<ori>Q`)."""
    store = EmbeddedRequirements(data_dir / "requirements.db")
    at = (datetime.now(UTC) - timedelta(days=10)).isoformat()
    for i, r in enumerate(reports):
        store.put_requirement(Requirement(f"req{i:03d}x", f"PIR-{i}", "PIR", f"REQT{i:03d}Q", ["q"], marking(r),
                                          "s0", at, behaviors=["SURVL"]))  # fmt: skip
    store.put_requirement(Requirement("reqallx", "PIR-ALL", "PIR", "all", ["q"], Marking(AGENCIES[0], "CLEAR"),
                                      "s0", at, keywords=["robbery"]))  # fmt: skip
    store.add_hits([Hit("reqallx", f"rec{i:03d}x", "rms", ["keyword 'robbery'"], at, marking(r))
                    for i, r in enumerate(reports)])  # fmt: skip
    for ori in AGENCIES:
        store.put_tasking(Tasking(f"tsk{ori.lower()}", "reqallx", f"TSKQ{ori}Q", ori, "", at, "s0", AGENCIES[0], at))
    store.close()


def product_for_partners(i: int) -> bool:
    """Even products are marked for private-sector partners."""
    return i % 2 == 0


def _products(data_dir: Path, reports: list[dict[str, Any]]) -> None:
    """Product i, published under report i's marking: its title (`PRDT…Q`), a paragraph marked as
    the whole (`PRDB…Q`), a TLP:RED paragraph naming no one (`PRDP…Q`: the originating agency's
    alone), delivered to s0, with s0's feedback (`PRDF…Q`: for the originating agency)."""
    store = EmbeddedProducts(data_dir / "products.db")
    t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(days=5)
    for i, r in enumerate(reports):
        body = (Paragraph(f"PRDB{i:03d}Q bulletin"), Paragraph(f"PRDP{i:03d}Q informant", Portion("RED")))
        store.create(Product(
            id=f"prd{i:03d}x", series=f"prd{i:03d}x", revision=1, type="situational_awareness",
            title=f"PRDT{i:03d}Q", marking=marking(r), author="s0", created_at=t0 + timedelta(minutes=i),
            sections={"summary": body, "details": (Paragraph("harness details"),)}, state="PUBLISHED",
            published_at=t0 + timedelta(minutes=i), dissemination=Dissemination(private_sector=product_for_partners(i)),
        ))  # fmt: skip
        store.deliver([Delivery(f"prd{i:03d}x", "s0", r["agency"], "inbox", "DELIVERED", "harness", 1, t0)])
        store.put_feedback(Feedback(f"prd{i:03d}x", "s0", r["agency"], 4, True, "arrest", f"PRDF{i:03d}Q", t0))
    store.close()


def _risk(data_dir: Path, reports: list[dict[str, Any]]) -> None:
    """A risk score of `rskallx` for each agency, over every report (`RISKR<ori>Q`: that agency's
    reasons, a notice too): each agency reads its own and nobody else's."""
    store = EmbeddedRisk(data_dir / "risk.db")
    at = datetime.now(UTC) - timedelta(days=1)
    store.put([{"subject": "rskallx", "subject_kind": "person", "display": "harness", "recipient_agency": ori,
                "score": 75.0, "category": "violent_crime", "categories": {"violent_crime": 75.0},
                "reasons": [{"factor": "offence", "category": "violent_crime", "weight": 30.0,
                             "detail": f"RISKR{ori}Q", "report": "rec000x"}],
                "evidence": [f"rec{i:03d}x" for i in range(len(reports))], "threshold": 60.0, "crossed": True,
                "computed_at": at} for ori in AGENCIES])  # fmt: skip
    store.close()


def _alerts(topo: Topology, reports: list[dict[str, Any]]) -> None:
    svc = Services(topo)
    try:
        for i, r in enumerate(reports):
            svc.publish("alerts", alert(i, r), f"{r['to']}:-")
    finally:
        svc.close()


def alert(i: int, r: dict[str, Any]) -> dict[str, Any]:
    m = marking(r)
    from argus.records import utcnow

    now = utcnow()
    hit = {
        "matched_entity_id": f"per{i:03d}x",
        "matched": f"person ANAME{i:03d}Q",
        "match_reason": "name and DOB",
        "path": [{"kind": "RECORD", "id": f"ev{i:03d}x", "label": f"RMS report ANAME{i:03d}Q", "relation": None}],
        "score": 55.0,
        "reasons": ["+20 listed as suspect"],
        "report_id": f"rec{i:03d}x",
        "report_agency": m.agency,
        "report_tlp": m.tlp,
        "contact": m.agency,
        "fields": {"narrative": f"ANARR{i:03d}Q", "offenses": "120 robbery"},
        "withheld": [],
        "access": FULL,
        "report_ci": m.ci,
        "report_handling": list(m.handling),
        "report_cases": list(m.cases),
        "report_recipients": list(m.recipients),
    }
    body = {
        "alert_id": f"alr{i:03d}x",
        "alert_type": "RELATED_CASE",
        "recipient_agency": r["to"],
        "recipient_unit": None,
        "recipient_officer": r["officer"],
        "created_at": now,
        "trigger_id": f"trg{i:03d}x",
        "trigger_received_at": now,
        "summary": f"MEDIUM: person ANAME{i:03d}Q is on file with {m.agency}",
        "score": 55.0,
        "level": "MEDIUM",
        "instructions": "Confirm with the owner.",
        "hits": [hit],
    }
    env = {"id": f"alr{i:03d}x", "type": "alert", "source_agency": m.agency, "source_system": "harness",
           "tlp": m.tlp, "reliability": "B", "validity": 2, "criminal_intelligence": False,
           "criminal_predicate": None, "handling": [], "review_by": None, "observed_at": now, "ingested_at": now,
           "trace_id": "t"}  # fmt: skip
    return {"envelope": env, "body": body}
