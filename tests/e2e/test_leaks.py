"""Property: no API response ever contains an object, field or edge the policy denies.

Hypothesis builds random holdings (reports with random agencies, TLP markings, caveats, cases,
named recipients and criminal-intelligence flags; people who appear only in their report;
vehicles shared between reports), random agency rules (barring, communities) and random
subjects (agency, role, cases, dissemination lists). Every read endpoint is called for every
subject, and the raw response bytes are scanned for what must not be there:

- for a report the subject may not see at all: its id, its incident and person ids, the
  person's name and the narrative;
- for a report seen only redacted (AMBER view or existence only): the name and the narrative;
- for a vehicle that only hidden reports mention: its id and plate.

A person merged from two reports keeps each report's spelling of the name in that report's
source row; a reader of one report must never see the other's spelling. And a neighbourhood
shows no node it could only have reached through a hidden edge.

The holdings are written the way the sinks write them (same stores, same props), so the gate
is tested on what production data looks like.
"""

from __future__ import annotations

import itertools
import tempfile
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from argus.api.app import create_app
from argus.security.identity import Directory
from argus.security.policy import FULL, Marking, decide
from argus.stores.embedded_graph import EmbeddedGraphStore
from argus.stores.embedded_search import EmbeddedSearchStore
from argus.topology import load_topology
from tests.e2e.conftest import make_workdir

AGENCIES = ["CA0190000", "CA0430000", "NV0020000"]
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
    }
)
subject = st.fixed_dictionaries(
    {
        "agency": st.sampled_from(AGENCIES),
        "role": st.sampled_from([*READ_ROLES, "auditor"]),
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

_BASE: dict[str, Path] = {}


def _topology() -> Path:
    """One prepared topology (no pipeline runs here); each example gets its own data dir."""
    if "topo" not in _BASE:
        _BASE["topo"] = make_workdir(Path(tempfile.mkdtemp(prefix="argus-leaks-")), background=0)
    return _BASE["topo"]


def _write(data_dir: Path, reports: list[dict[str, Any]]) -> None:
    g = EmbeddedGraphStore(data_dir / "graph.db")
    s = EmbeddedSearchStore(data_dir / "search.db")
    nodes, edges, sources, docs = {}, [], [], []
    for i, r in enumerate(reports):
        rid, ev, person, veh = f"rec{i:03d}x", f"ev{i:03d}x", f"per{i:03d}x", f"veh{r['vehicle']}x"
        m = _marking(r)
        marks = m.props()
        nodes[ev] = {
            "id": ev,
            "kind": "EVENT",
            "subtype": "incident",
            "label": f"RMS {rid}",
            "props": {"agency": m.agency, "tlp": m.tlp, "record_id": rid, **marks},
        }
        nodes[person] = {
            "id": person,
            "kind": "PERSON",
            "subtype": "person",
            "label": f"NAME{i:03d}Q",
            "props": {"name": f"NAME{i:03d}Q", "dob": "1990-01-01", "sex": "M"},
        }
        nodes[veh] = {
            "id": veh,
            "kind": "OBJECT",
            "subtype": "vehicle",
            "label": f"PLATE{r['vehicle']}Q",
            "props": {"plate": f"PLATE{r['vehicle']}Q"},
        }
        mentions = [(eid, nodes[eid]["label"], nodes[eid]["props"]) for eid in (ev, person, veh)]
        if r.get("alias") and i > 0:
            # The report names the previous report's person under another spelling and entity
            # resolution merged them: the node now carries this report's spelling (the sink
            # writes the latest mention), which only readers of this report may see.
            alias = {"name": f"ALIAS{i:03d}Q", "dob": "1990-01-01", "sex": "M"}
            prev = f"per{i - 1:03d}x"
            nodes[prev] = dict(nodes[prev], label=alias["name"], props=dict(alias, keys={"name": alias["name"]}))
            mentions.append((prev, alias["name"], alias))
        for eid, label, attrs in mentions:
            sources.append(
                {
                    "entity_id": eid,
                    "record_id": rid,
                    "agency": m.agency,
                    "tlp": m.tlp,
                    "method": "new",
                    "score": 1.0,
                    "reason": f"NAME{i:03d}Q in {rid}",
                    "label": label,
                    "attrs": {k: str(x) for k, x in attrs.items()},
                    **marks,
                }
            )
        for dst, rel in ((person, "suspect"), (veh, "vehicle")):
            edges.append(
                {
                    "id": f"{ev}-{dst}",
                    "src": ev,
                    "dst": dst,
                    "rel": rel,
                    "props": {
                        "reason": f"NAME{i:03d}Q named in {rid}",
                        "record_id": rid,
                        "agency": m.agency,
                        "tlp": m.tlp,
                        **marks,
                    },
                }
            )
        if r.get("link") and i > 0:
            # A relationship the report asserts between entities other reports brought in (STIX
            # relationships do this): both ends may be visible while the edge is not.
            edges.append(
                {
                    "id": f"lnk{i:03d}x",
                    "src": f"per{i - 1:03d}x",
                    "dst": veh,
                    "rel": "ASSOCIATED_WITH",
                    "props": {"reason": f"NARR{i:03d}Q", "record_id": rid, "agency": m.agency, "tlp": m.tlp, **marks},
                }
            )
        docs.append(
            {
                "id": rid,
                "kind": "rms.incident",
                "agency": m.agency,
                "tlp": m.tlp,
                "occurred_at": f"2026-11-{1 + i % 28:02d}T10:00:00+00:00",
                "title": f"RMS report {rid}",
                "text": f"NARR{i:03d}Q narrative NAME{i:03d}Q PLATE{r['vehicle']}Q",
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
    g.upsert_nodes(list(nodes.values()))
    g.upsert_edges(edges)
    g.add_sources(sources)  # type: ignore[arg-type]
    g.commit()
    for i, r in enumerate(reports):
        if r.get("alias") and i > 0:  # the merge entity resolution recorded, with its reason
            g.upsert_nodes([{"id": f"als{i:03d}x", "kind": "PERSON", "subtype": "person", "label": "", "props": {}}])
            g.commit()
            g.merge(f"per{i - 1:03d}x", f"als{i:03d}x", f"record rec{i:03d}x: ALIAS{i:03d}Q, same DOB", 0.95)
            g.commit()
    s.upsert(docs)  # type: ignore[arg-type]
    s.commit()
    g.close()
    s.close()


def _marking(r: dict[str, Any]) -> Marking:
    nfd = ("NO_FURTHER_DISSEMINATION",) if r["nfd"] else ()
    return Marking(r["agency"], r["tlp"], r["ci"], nfd, tuple(r["cases"]), tuple(r["recipients"]))


def _connected_by_shown_edges(res: dict[str, Any], path: str) -> None:
    """A neighbourhood must not show a node it reached through an edge it may not show: that
    would reveal the hidden relationship by its existence."""
    reach, frontier = {res["center"]}, {res["center"]}
    for _ in range(res["hops"]):
        frontier = {
            b for e in res["edges"] for a, b in ((e["src"], e["dst"]), (e["dst"], e["src"])) if a in frontier
        } - reach
        reach |= frontier
    stray = {n["id"] for n in res["nodes"]} - reach
    assert not stray, f"{path} shows {stray}, reached only through edges it does not show"


def _r(agency: str, tlp: str, vehicle: int = 0, **kw: Any) -> dict[str, Any]:
    base = {"agency": agency, "tlp": tlp, "ci": False, "nfd": False, "cases": [], "recipients": [], "vehicle": vehicle}
    return base | {"link": True, "alias": True} | kw


def _s(agency: str, role: str = "analyst", **kw: Any) -> dict[str, Any]:
    return {"agency": agency, "role": role, "cases": [], "lists": []} | kw


NO_RULES: dict[str, Any] = {"barred": {}, "community": {}}
A, B, C = AGENCIES


# Every level of the policy at least once, whatever hypothesis draws: AMBER seen from another
# agency (redacted), AMBER on the case (full), AMBER+STRICT and NO_FURTHER_DISSEMINATION
# (existence only), RED named and not named, criminal intelligence to a partner, a barred
# agency and one outside the owner's community.
@example(
    reports=[_r(A, "AMBER"), _r(A, "AMBER", 1, cases=["ROB-1"]), _r(A, "AMBER_STRICT", 2), _r(A, "GREEN", nfd=True)],
    subjects=[_s(B), _s(B, "patrol_officer", cases=["ROB-1"]), _s(C, "supervisor")],
    agency_rules=NO_RULES,
)
@example(
    reports=[_r(A, "RED", recipients=["user:s0"]), _r(A, "RED", 1), _r(B, "RED", 2, recipients=["list:task-force"])],
    subjects=[_s(B), _s(C, lists=["task-force"]), _s(A, "auditor")],
    agency_rules=NO_RULES,
)
@example(
    reports=[_r(A, "CLEAR", ci=True), _r(A, "GREEN", 1), _r(B, "GREEN", 2)],
    subjects=[_s(A, "private_sector_partner"), _s(C), _s(B, "terrorism_liaison_officer")],
    agency_rules={"barred": {A: C}, "community": {A: "north", B: "north", C: "south"}},
)
@example(  # a RED relationship between two entities the subject sees through a GREEN report
    reports=[_r(A, "GREEN"), _r(A, "RED"), _r(C, "AMBER_STRICT")],
    subjects=[_s(B), _s(C, "patrol_officer")],
    agency_rules=NO_RULES,
)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    reports=st.lists(report, min_size=2, max_size=8),
    subjects=st.lists(subject, min_size=2, max_size=3),
    agency_rules=rules,
)
def test_no_response_contains_what_the_policy_denies(
    reports: list[dict[str, Any]], subjects: list[dict[str, Any]], agency_rules: dict[str, Any]
) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="argus-leak-"))
    _write(data_dir, reports)
    d = Directory.for_data_dir(data_dir)
    for ori in AGENCIES:
        d.add_agency(ori, ori, community=agency_rules["community"].get(ori))
    for owner, barred in agency_rules["barred"].items():
        if barred != owner:
            d.set_barred(owner, [barred])
    d.add_agency("PS0000001", "partner", law_enforcement=False)
    keys = []
    for n, sj in enumerate(subjects):
        agency = "PS0000001" if sj["role"] == "private_sector_partner" else sj["agency"]
        d.add_subject(f"s{n}", agency, [sj["role"]])
        for c in sj["cases"]:
            d.add_member(f"s{n}", "case", c)
        for li in sj["lists"]:
            d.add_member(f"s{n}", "list", li)
        keys.append((f"s{n}", d.create_key(f"s{n}")))

    topo = load_topology(_topology(), data_dir)
    ids = [f"{p}{i:03d}x" for i in range(len(reports)) for p in ("ev", "per")] + [f"veh{k}x" for k in range(3)]
    with TestClient(create_app(topo)) as client:
        for sid, key in keys:
            who = d.recipient(sid)
            forbidden: set[bytes] = set()
            seen_vehicles: set[int] = set()
            views = [decide(_marking(r), who, d.rules) for r in reports]
            for i, (r, v) in enumerate(zip(reports, views, strict=True)):
                if v is None:
                    forbidden |= {f"{p}{i:03d}x".encode() for p in ("rec", "ev", "lnk")}
                    aliased = i + 1 < len(reports) and reports[i + 1]["alias"] and views[i + 1] is not None
                    if not aliased:  # the person is also the next report's, under its spelling
                        forbidden.add(f"per{i:03d}x".encode())
                else:
                    seen_vehicles.add(r["vehicle"])
                if v is None or v.level != FULL:
                    forbidden |= {f"NAME{i:03d}Q".encode(), f"NARR{i:03d}Q".encode(), f"ALIAS{i:03d}Q".encode()}
            for k in {r["vehicle"] for r in reports} - seen_vehicles:
                forbidden |= {f"veh{k}x".encode(), f"PLATE{k}Q".encode()}
            h = {"X-API-Key": key}
            paths = ["/api/v1/search?limit=100", "/api/v1/search?q=narrative&limit=100", "/api/v1/geo"]
            paths += [f"/api/v1/search?q=NAME{i:03d}Q" for i in range(len(reports))]
            for e in ids:
                paths += [
                    f"/api/v1/entities/{e}",
                    f"/api/v1/entities/{e}/neighbours?hops=2",
                    f"/api/v1/entities/{e}/timeline",
                ]
            paths += [f"/api/v1/paths?from={a}&to={b}" for a, b in itertools.combinations(ids[:6], 2)]
            for p in paths:
                resp = client.get(p, headers=h)
                assert resp.status_code in (200, 403, 404), (p, resp.status_code, resp.text)
                body = resp.content
                if resp.status_code != 200:  # "no entity X you may see" echoes the caller's own X
                    for asked in ids:
                        if asked in p:
                            body = body.replace(asked.encode(), b"")
                leaked = [f.decode() for f in forbidden if f in body]
                assert not leaked, f"{sid} ({who.agency}, {who.role}) got {leaked} from {p}"
                if resp.status_code == 200 and "/neighbours" in p:
                    _connected_by_shown_edges(resp.json(), p)
            # Counts do not betray hidden reports either.
            total = client.get("/api/v1/search?limit=100", headers=h).json().get("total")
            if total is not None:
                visible = sum(v is not None for v in views)
                assert total == visible, (sid, total, visible)
    d.close()
