"""One generator per route: the calls the harness makes on it over generated holdings, and what
it checks beyond the bytes (statuses, totals, whose entries, whose feeds).

Every operation of the OpenAPI (the API, TAXII, the SSE stream) and every other route of the app
must be enrolled here: tests/leak/test_enrolment.py fails on a route without a generator, so a
new endpoint cannot ship without being tried by every generated subject.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson

from argus.security.policy import AMBER_VIEW, FULL, Recipient, ReportView
from tests.leak.holdings import AGENCIES, World, sar_submitter, stix_id
from tests.leak.holdings_joint import addressee

TAXII = "application/taxii+json;version=2.1"
COLLECTION = "8f1b5e2c-3a47-4d1e-9c0b-6e2f4a9d7c31"  # topology.yaml's shared collection
COLL = f"/argus/collections/{COLLECTION}"


@dataclass
class Ask:
    """Who asks, over what."""

    world: World
    sid: str
    who: Recipient
    views: list[ReportView | None]

    @property
    def key(self) -> str:
        return dict(self.world.keys)[self.sid]

    def count(self, *levels: str) -> int:
        return sum(v is not None and v.level in levels for v in self.views)


Check = Callable[[httpx.Response, Ask], None]


@dataclass
class Call:
    method: str
    url: str
    params: dict[str, Any] | None = None
    json: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    stream: bool = False
    echoes: tuple[str, ...] = ()  # the caller's own input, which a refusal may say back
    says_back: bool = False  # a write whose answer lists what was sent, whatever its status
    # The audit trail names what its agency's people asked for and who received its records:
    # ids of every kind, legitimately. Its entries are checked for whose they are instead.
    scan: bool = True
    check: Check | None = None


Generator = Callable[[Ask], list[Call]]
GENERATORS: dict[tuple[str, str], Generator] = {}


def route(method: str, path: str) -> Callable[[Generator], Generator]:
    def register(fn: Generator) -> Generator:
        GENERATORS[(method, path)] = fn
        return fn

    return register


def total_is(expected: Callable[[Ask], int]) -> Check:
    def check(r: httpx.Response, a: Ask) -> None:
        if r.status_code == 200:
            assert r.json()["total"] == expected(a), (r.request.url, r.json()["total"], expected(a))

    return check


# --- search and geography -----------------------------------------------------------------------
@route("GET", "/api/v1/search")
def _search(a: Ask) -> list[Call]:
    n = len(a.world.reports)
    seen, dated, whole = (FULL, AMBER_VIEW, "existence"), (FULL, AMBER_VIEW), (FULL,)
    calls = [
        Call("GET", "/api/v1/search", {"limit": 100}, check=total_is(lambda a: a.count(*seen))),
        Call("GET", "/api/v1/search", {"q": "narrative", "limit": 100}, check=total_is(lambda a: a.count(*whole))),
        Call("GET", "/api/v1/search", {"q": "robbery", "limit": 100}, check=total_is(lambda a: a.count(*dated))),
        Call("GET", "/api/v1/search", {"bbox": "36,-120,37,-119"}, check=total_is(lambda a: a.count(*whole))),
        Call("GET", "/api/v1/search", {"since": "2026-10-01T00:00:00Z"}, check=total_is(lambda a: a.count(*dated))),
        # every report is a robbery (NIBRS 120): the offense filters only where the reader sees it
        Call("GET", "/api/v1/search", {"offense": "120", "limit": 100}, check=total_is(lambda a: a.count(*dated))),
    ]
    for i in range(n):  # a name matches only where the reader sees the report in full
        full = int(a.views[i] is not None and a.views[i].level == FULL)  # type: ignore[union-attr]
        calls.append(Call("GET", "/api/v1/search", {"q": f"NAME{i:03d}Q"}, check=total_is(lambda _, f=full: f)))
    return calls


@route("GET", "/api/v1/geo")
def _geo(a: Ask) -> list[Call]:
    everything = total_is(lambda a: a.count(FULL, AMBER_VIEW, "existence"))
    return [Call("GET", "/api/v1/geo", {"cell_km": 5}, check=everything)]


# --- entities and links -------------------------------------------------------------------------
@route("GET", "/api/v1/entities/{entity_id}")
def _entity(a: Ask) -> list[Call]:
    return [Call("GET", f"/api/v1/entities/{e}", echoes=(e,)) for e in a.world.entity_ids]


@route("POST", "/api/v1/entities/{entity_id}/unmerge")
def _unmerge(a: Ask) -> list[Call]:
    ids = [*a.world.entity_ids, *(f"als{i:03d}x" for i in range(len(a.world.reports)))]
    return [Call("POST", f"/api/v1/entities/{e}/unmerge", json={"reason": "harness"}, echoes=(e,)) for e in ids]


def _full(a: Ask, i: int) -> bool:
    return 0 <= i < len(a.views) and a.views[i] is not None and a.views[i].level == FULL  # type: ignore[union-attr]


def _decidable(a: Ask) -> list[str]:
    """The possible matches a caller may see: the raising record (i) and both persons in full;
    person i-1 is also told by report i when report i names it under an alias."""
    reports, out = a.world.reports, []
    for i, r in enumerate(reports):
        if not (r.get("link") and i > 0):
            continue
        me = _full(a, i) or (i + 1 < len(reports) and reports[i + 1].get("alias") and _full(a, i + 1))
        other = _full(a, i - 1) or (r.get("alias") and _full(a, i))
        if _full(a, i) and me and other:
            out.append(f"pm{i:03d}x")
    return out


def _queue_is_exactly_decidable(r: httpx.Response, a: Ask) -> None:
    if r.status_code == 200:
        assert sorted(m["id"] for m in r.json()["matches"]) == sorted(_decidable(a)), r.request.url


@route("GET", "/api/v1/matches")
def _matches(a: Ask) -> list[Call]:
    return [Call("GET", "/api/v1/matches", {"limit": 200}, check=_queue_is_exactly_decidable)]


@route("GET", "/api/v1/matches/{match_id}")
def _match(a: Ask) -> list[Call]:
    def shown_iff_decidable(r: httpx.Response, a: Ask) -> None:
        mid = r.request.url.path.rsplit("/", 1)[1]
        assert (r.status_code == 200) == (mid in _decidable(a)), (r.request.url, r.status_code)

    return [Call("GET", f"/api/v1/matches/{m}", echoes=(m,), check=shown_iff_decidable) for m in a.world.match_ids]


@route("POST", "/api/v1/matches/{match_id}/decision")
def _match_decision(a: Ask) -> list[Call]:
    body = {"verdict": "APART", "reason": "harness"}
    return [Call("POST", f"/api/v1/matches/{m}/decision", json=body, echoes=(m,)) for m in a.world.match_ids]


def _connected_by_shown_edges(r: httpx.Response, a: Ask) -> None:
    """A neighbourhood must not show a node it reached through an edge it may not show."""
    if r.status_code != 200:
        return
    res = r.json()
    reach, frontier = {res["center"]}, {res["center"]}
    for _ in range(res["hops"]):
        frontier = {b for e in res["edges"] for x, b in ((e["src"], e["dst"]), (e["dst"], e["src"])) if x in frontier}
        frontier -= reach
        reach |= frontier
    stray = {n["id"] for n in res["nodes"]} - reach
    assert not stray, f"{r.request.url} shows {stray}, reached only through edges it does not show"


def _degree_counts_shown_edges(r: httpx.Response, a: Ask) -> None:
    """A node's degree (a chart's "+N") counts the links the caller may follow, no more: from the
    centre, exactly the edges one hop shows."""
    _connected_by_shown_edges(r, a)
    if r.status_code != 200 or r.json()["truncated"]:
        return
    res = r.json()
    centre = next(n for n in res["nodes"] if n["id"] == res["center"])
    touching = {e["id"] for e in res["edges"] if res["center"] in (e["src"], e["dst"])}
    assert centre["degree"] == len(touching), (r.request.url, centre["degree"], touching)


@route("GET", "/api/v1/entities/{entity_id}/neighbours")
def _neighbours(a: Ask) -> list[Call]:
    return (
        [
            Call("GET", f"/api/v1/entities/{e}/neighbours", {"hops": 2}, echoes=(e,), check=_connected_by_shown_edges)
            for e in a.world.entity_ids
        ]
        + [
            Call(
                "GET",
                f"/api/v1/entities/{e}/neighbours",
                {"degree": "true"},
                echoes=(e,),
                check=_degree_counts_shown_edges,
            )
            for e in a.world.entity_ids
        ]
        + [
            Call("GET", f"/api/v1/entities/{e}/neighbours", {"rel": ["SUSPECT_VEHICLE"], "hops": 2}, echoes=(e,))
            for e in a.world.entity_ids[:3]
        ]
    )


@route("GET", "/api/v1/paths")
def _paths(a: Ask) -> list[Call]:
    pairs = itertools.combinations(a.world.entity_ids[:6], 2)
    return [Call("GET", "/api/v1/paths", {"from": x, "to": y}, echoes=(x, y)) for x, y in pairs]


@route("GET", "/api/v1/entities/{entity_id}/timeline")
def _timeline(a: Ask) -> list[Call]:
    return [Call("GET", f"/api/v1/entities/{e}/timeline", echoes=(e,)) for e in a.world.entity_ids]


@route("GET", "/api/v1/cases/{series}/timeline")
def _case_timeline(a: Ask) -> list[Call]:
    return [Call("GET", f"/api/v1/cases/{s}/timeline") for s in ("ROB-1", "NONE-1")]


# --- the field ------------------------------------------------------------------------------------
@route("POST", "/api/v1/field/query")
def _field(a: Ask) -> list[Call]:
    return [Call("POST", "/api/v1/field/query", {"wait": 0}, json={"query_id": "LQ-1", "plate": "PLATE0Q"})]


@route("GET", "/api/v1/field/alerts/stream")
def _stream(a: Ask) -> list[Call]:
    replay = {"Last-Event-ID": "0:-1,1:-1,2:-1,3:-1"}  # every alert ever written, again
    return [Call("GET", "/api/v1/field/alerts/stream", {"heartbeat": 0.05}, headers=replay, stream=True)]


@route("POST", "/api/v1/submissions")
def _submit(a: Ask) -> list[Call]:
    sar = {
        "kind": "sar",
        "behavior": "SURVL",
        "occurred_at": "2026-11-20T10:00:00Z",
        "submitted_by": "harness",
        "narrative": "photographing the substation fence",
        "tlp": "TLP:AMBER",
        "reliability": "C",
        "validity": 3,
    }
    return [Call("POST", "/api/v1/submissions", json=sar), Call("POST", "/api/v1/submissions", json={"kind": "x"})]


# --- audit ----------------------------------------------------------------------------------------
def _own_entries(r: httpx.Response, a: Ask) -> None:
    if r.status_code == 200:
        for e in r.json()["entries"]:
            assert a.who.agency in (e["agency"], e["recipient"]), e


@route("GET", "/api/v1/audit")
def _audit(a: Ask) -> list[Call]:
    return [Call("GET", "/api/v1/audit", {"limit": 1000}, check=_own_entries, scan=False)]


# --- STIX and ATT&CK --------------------------------------------------------------------------------
@route("GET", "/api/v1/stix/bundle")
def _export(a: Ask) -> list[Call]:
    ids = [stix_id(i) for i in range(len(a.world.reports))]
    return [
        Call("GET", "/api/v1/stix/bundle"),
        Call("GET", "/api/v1/stix/bundle", {"q": "STIX"}),
        *(Call("GET", "/api/v1/stix/bundle", {"id": x}, echoes=(x,)) for x in ids),
    ]


@route("POST", "/api/v1/stix/bundle")
def _import(a: Ask) -> list[Call]:
    planted = {"type": "indicator", "spec_version": "2.1", "id": stix_id(0), "created": "2026-11-01T10:00:00.000Z",
               "modified": "2030-01-01T00:00:00.000Z", "name": "planted", "pattern_type": "stix",
               "pattern": "[ipv4-addr:value = '203.0.113.9']", "valid_from": "2026-11-01T10:00:00Z"}  # fmt: skip
    bundle = {"type": "bundle", "objects": [planted]}
    return [Call("POST", "/api/v1/stix/bundle", json=bundle, echoes=(stix_id(0),), says_back=True)]


@route("GET", "/api/v1/attack/techniques")
def _techniques(a: Ask) -> list[Call]:
    return [Call("GET", "/api/v1/attack/techniques"), Call("GET", "/api/v1/attack/techniques", {"q": "STIX"})]


@route("GET", "/api/v1/attack/matches")
def _matches(a: Ask) -> list[Call]:
    return [Call("GET", "/api/v1/attack/matches", {"technique": "T0884"})]


@route("GET", "/api/v1/attack/{kind}")
def _attack(a: Ask) -> list[Call]:
    return [Call("GET", f"/api/v1/attack/{k}") for k in ("groups", "software", "mitigations", "tactics", "campaigns")]


# --- feeds ----------------------------------------------------------------------------------------
def _own_feeds(r: httpx.Response, a: Ask) -> None:
    if r.status_code == 200:
        assert all(f["agency"] == a.who.agency for f in r.json()["feeds"]), r.text


@route("GET", "/api/v1/feeds")
def _feeds(a: Ask) -> list[Call]:
    return [Call("GET", "/api/v1/feeds", check=_own_feeds)]


@route("POST", "/api/v1/feeds")
def _feed_add(a: Ask) -> list[Call]:
    spec = {"name": "harness", "url": "http://169.254.169.254/latest/", "collection": "c1"}
    return [
        Call("POST", "/api/v1/feeds", json=spec),
        Call("POST", "/api/v1/feeds", json={**spec, "url": "https://taxii.example/x/", "agency": "NV0020000"}),
    ]


def _not_others(name: str) -> Check:
    def check(r: httpx.Response, a: Ask) -> None:
        if name != f"feed{a.who.agency.lower()}":
            assert r.status_code in (403, 404), (name, r.status_code)

    return check


@route("DELETE", "/api/v1/feeds/{name}")
def _feed_remove(a: Ask) -> list[Call]:
    names = [f"feed{o.lower()}" for o in AGENCIES if o != a.who.agency]  # its own stays, for the next subject
    return [Call("DELETE", f"/api/v1/feeds/{n}", echoes=(n,), check=_not_others(n)) for n in names]


# --- TAXII ------------------------------------------------------------------------------------------
def _taxii(method: str, url: str, params: dict[str, Any] | None = None, **kw: Any) -> Call:
    return Call(method, url, params, headers={"Accept": TAXII} | kw.pop("headers", {}), **kw)


@route("GET", "/taxii2/")
def _discovery(a: Ask) -> list[Call]:
    return [_taxii("GET", "/taxii2/")]


@route("GET", "/argus/")
def _root(a: Ask) -> list[Call]:
    return [_taxii("GET", "/argus/")]


@route("GET", "/argus/collections/")
def _collections(a: Ask) -> list[Call]:
    return [_taxii("GET", "/argus/collections/")]


@route("GET", "/argus/collections/{cid}/")
def _collection(a: Ask) -> list[Call]:
    return [_taxii("GET", f"{COLL}/")]


def _stix_ids(a: Ask) -> list[str]:
    return [stix_id(i) for i in range(len(a.world.reports))]


@route("GET", "/argus/collections/{cid}/objects/")
def _objects(a: Ask) -> list[Call]:
    calls = [_taxii("GET", f"{COLL}/objects/"), _taxii("GET", f"{COLL}/objects/", {"limit": 1})]
    calls += [_taxii("GET", f"{COLL}/objects/", {"match[id]": x}, echoes=(x,)) for x in _stix_ids(a)]
    return calls


@route("POST", "/argus/collections/{cid}/objects/")
def _add_objects(a: Ask) -> list[Call]:
    planted = _import(a)[0].json["objects"]
    body = orjson.dumps({"objects": planted})
    return [
        Call(
            "POST",
            f"{COLL}/objects/",
            json=orjson.loads(body),
            echoes=(stix_id(0),),
            says_back=True,
            headers={"Accept": TAXII, "Content-Type": TAXII},
        )
    ]


@route("GET", "/argus/collections/{cid}/manifest/")
def _manifest(a: Ask) -> list[Call]:
    return [_taxii("GET", f"{COLL}/manifest/")]


@route("GET", "/argus/collections/{cid}/objects/{object_id}/")
def _object(a: Ask) -> list[Call]:
    return [_taxii("GET", f"{COLL}/objects/{x}/", echoes=(x,)) for x in _stix_ids(a)]


@route("DELETE", "/argus/collections/{cid}/objects/{object_id}/")
def _delete_object(a: Ask) -> list[Call]:
    owned = {stix_id(i): r["agency"] for i, r in enumerate(a.world.reports)}

    def check_for(x: str) -> Check:
        def check(r: httpx.Response, a: Ask) -> None:
            if owned[x] != a.who.agency:
                assert r.status_code in (401, 403, 404), (x, r.status_code)

        return check

    return [_taxii("DELETE", f"{COLL}/objects/{x}/", echoes=(x,), check=check_for(x)) for x in _stix_ids(a)]


@route("GET", "/argus/collections/{cid}/objects/{object_id}/versions/")
def _versions(a: Ask) -> list[Call]:
    return [_taxii("GET", f"{COLL}/objects/{x}/versions/", echoes=(x,)) for x in _stix_ids(a)]


def _own_status(ori: str) -> Check:
    def check(r: httpx.Response, a: Ask) -> None:
        if ori != a.who.agency:
            assert r.status_code in (403, 404), (ori, r.status_code)

    return check


@route("GET", "/argus/status/{sid}/")
def _status(a: Ask) -> list[Call]:
    return [_taxii("GET", f"/argus/status/st{o.lower()}/", echoes=(f"st{o.lower()}",), check=_own_status(o))
            for o in AGENCIES]  # fmt: skip


# --- the rest of the app ----------------------------------------------------------------------------
@route("GET", "/healthz")
def _health(a: Ask) -> list[Call]:
    return [Call("GET", "/healthz")]


@route("GET", "/openapi.json")
def _openapi(a: Ask) -> list[Call]:
    return [Call("GET", "/openapi.json")]


@route("GET", "/docs")
def _docs(a: Ask) -> list[Call]:
    return [Call("GET", "/docs")]


@route("GET", "/metrics")
def _metrics(a: Ask) -> list[Call]:
    return [Call("GET", "/metrics")]  # route templates and counts only: no id, name or agency


@route("GET", "/docs/assets")
def _docs_assets(a: Ask) -> list[Call]:
    return [Call("GET", "/docs/assets/swagger-ui-bundle.js"), Call("GET", "/docs/assets/../../openapi.json")]


# --- the workbench ---------------------------------------------------------------------------------
@route("POST", "/api/v1/session")
def _login(a: Ask) -> list[Call]:
    return [
        Call("POST", "/api/v1/session", json={"api_key": a.key}, check=_is_me),
        Call(
            "POST",
            "/api/v1/session",
            json={"api_key": a.key, "role": "supervisor" if a.who.role != "supervisor" else "auditor"},
        ),
        Call("POST", "/api/v1/session", json={"api_key": a.key[:-2] + "zz"}),
        Call("POST", "/api/v1/session", json={"id_token": "eyJhbGciOiJub25lIn0.e30."}),
        Call("POST", "/api/v1/session", json={"api_key": a.key, "id_token": "x"}),
    ]


def _is_me(r: httpx.Response, a: Ask) -> None:
    if r.status_code == 200:
        body = r.json()
        assert (body["subject"], body["agency"], body["role"]) == (a.sid, a.who.agency, a.who.role), body


@route("GET", "/api/v1/session")
def _whoami(a: Ask) -> list[Call]:
    return [Call("GET", "/api/v1/session", check=_is_me)]


@route("DELETE", "/api/v1/session")
def _logout(a: Ask) -> list[Call]:
    return [Call("DELETE", "/api/v1/session")]  # with a key: nothing to end; with the cookie: run last


@route("POST", "/api/v1/field/alerts/{alert_id}/ack")
def _ack(a: Ask) -> list[Call]:
    ids = [f"alr{i:03d}x" for i in range(len(a.world.reports))]
    return [Call("POST", f"/api/v1/field/alerts/{x}/ack", echoes=(x,)) for x in ids]


@route("GET", "/api/v1/field/alerts/acks")
def _acks(a: Ask) -> list[Call]:
    # the caller's own acknowledgements: ids the caller sent, said back
    mine = tuple(f"alr{i:03d}x" for i in range(len(a.world.reports)))
    return [Call("GET", "/api/v1/field/alerts/acks", echoes=mine, says_back=True)]


@route("GET", "/api/v1/audit/verify")
def _verify(a: Ask) -> list[Call]:
    return [Call("GET", "/api/v1/audit/verify")]


@route("GET", "/")
def _workbench(a: Ask) -> list[Call]:
    return [Call("GET", "/")]


@route("GET", "/assets")
def _workbench_assets(a: Ask) -> list[Call]:
    return [Call("GET", "/assets/index.js"), Call("GET", "/assets/../../openapi.json"), Call("GET", "/assets/x.js")]


@route("GET", "/api/v1/ops/board")
def _board(a: Ask) -> list[Call]:
    return [Call("GET", "/api/v1/ops/board", check=_counts_only)]


def _counts_only(r: httpx.Response, a: Ask) -> None:
    if r.status_code == 200:
        body = r.json()
        assert set(body) == {"lag", "dead_letters", "stages", "sars", "joint"}
        # the seeded RFIs are all past due: those the agency asked or was asked
        mine = [r for r in a.world.reports if a.who.agency in (r["agency"], addressee(r))]
        assert body["joint"]["rfis_overdue"] == len(mine), (body["joint"], len(mine))
        assert isinstance(body["joint"]["conflicts_24h"], int)
        assert all(isinstance(v, int) for v in body["lag"].values()) and isinstance(body["dead_letters"], int)
        # SARs waiting: the generated ones still open (even-numbered) that the supervisor sees in full,
        # less those the harness's own review calls may have moved on by now
        written = set(_some_sars(a))
        waiting = sum(_full(a, i) for i in range(0, len(a.world.reports), 2) if f"sar{i:03d}x" not in written)
        assert body["sars"]["open"] >= waiting and body["sars"]["breached"] <= body["sars"]["open"]


# --- administration: an administrator's own agency only -------------------------------------------
def _only_my_agency(r: httpx.Response, a: Ask) -> None:
    if r.status_code in (200, 201) and "subjects" in r.json():
        assert {s["agency"] for s in r.json()["subjects"]} <= {a.who.agency}, r.json()["subjects"]


@route("GET", "/api/v1/admin/people")
def _people(a: Ask) -> list[Call]:
    return [Call("GET", "/api/v1/admin/people", scan=False, check=_only_my_agency)]


@route("POST", "/api/v1/admin/users")
def _add_user(a: Ask) -> list[Call]:
    body = {"id": f"new-{a.sid}", "name": "New", "roles": ["analyst"]}
    return [
        Call("POST", "/api/v1/admin/users", json=body, scan=False, check=_only_my_agency),
        Call("POST", "/api/v1/admin/users", json=body | {"agency": "X"}),  # no choosing the agency
    ]


def _others(a: Ask) -> list[str]:
    return [sid for sid, _ in a.world.keys if sid != a.sid]


@route("POST", "/api/v1/admin/users/{subject_id}/roles")
def _set_roles(a: Ask) -> list[Call]:
    # the roles they hold already: the world the harness checks against stays as drawn
    roles = {s: a.world.directory.subject(s)["roles"] for s in _others(a)}
    return [
        Call(
            "POST",
            f"/api/v1/admin/users/{s}/roles",
            json={"roles": roles[s]},
            scan=False,
            check=_not_another_agency(s),
        )
        for s in _others(a)
    ]


@route("POST", "/api/v1/admin/users/{subject_id}/disable")
def _disable(a: Ask) -> list[Call]:
    return [Call("POST", "/api/v1/admin/users/nobody-here/disable", scan=False)]


@route("POST", "/api/v1/admin/users/{subject_id}/keys")
def _new_key(a: Ask) -> list[Call]:
    return [Call("POST", f"/api/v1/admin/users/{s}/keys", scan=False, check=_not_another_agency(s)) for s in _others(a)]


@route("DELETE", "/api/v1/admin/keys/{key_id}")
def _revoke(a: Ask) -> list[Call]:
    return [Call("DELETE", "/api/v1/admin/keys/0123456789ab")]


def _not_another_agency(subject: str) -> Check:
    def check(r: httpx.Response, a: Ask) -> None:
        theirs = a.world.directory.subject(subject)["agency"]
        if theirs != a.who.agency or not a.who.may("manage"):
            assert r.status_code in (403, 404), (r.request.url, r.status_code, r.text[:200])

    return check


@route("GET", "/api/v1/session/methods")
def _methods(a: Ask) -> list[Call]:
    return [Call("GET", "/api/v1/session/methods")]


@route("GET", "/api/v1/session/oidc/login")
def _oidc_login(a: Ask) -> list[Call]:
    return [Call("GET", "/api/v1/session/oidc/login")]  # the leak topology has no identity provider: 404


@route("GET", "/api/v1/session/oidc/callback")
def _oidc_callback(a: Ask) -> list[Call]:
    return [
        Call("GET", "/api/v1/session/oidc/callback", {"code": "x", "state": "y"}),
        Call("GET", "/api/v1/session/oidc/callback", {"error": "access_denied"}),
    ]


def facets_sum_to(expected: Callable[[Ask], int]) -> Check:
    """Every result has one TLP and one agency: a facet's counts add up to the search's total, so
    none counts a record the search would not."""

    def check(r: httpx.Response, a: Ask) -> None:
        if r.status_code == 200:
            body = r.json()
            for facet in ("tlp", "agency"):
                assert sum(body[facet].values()) == expected(a), (r.request.url, facet, body[facet], expected(a))

    return check


@route("GET", "/api/v1/search/facets")
def _facets(a: Ask) -> list[Call]:
    seen, dated = (FULL, AMBER_VIEW, "existence"), (FULL, AMBER_VIEW)
    return [
        Call("GET", "/api/v1/search/facets", check=facets_sum_to(lambda a: a.count(*seen))),
        Call("GET", "/api/v1/search/facets", {"q": "robbery"}, check=facets_sum_to(lambda a: a.count(*dated))),
        Call("GET", "/api/v1/search/facets", {"q": "narrative"}, check=facets_sum_to(lambda a: a.count(FULL))),
    ]


@route("POST", "/api/v1/admin/users/{subject_id}/memberships")
def _membership(a: Ask) -> list[Call]:
    # removing a membership nobody holds: the world the harness checks against stays as drawn
    body = {"kind": "case", "name": "ZZ-NONE", "member": False}
    return [
        Call("POST", f"/api/v1/admin/users/{s}/memberships", json=body, scan=False, check=_not_another_agency(s))
        for s in _others(a)
    ] + [Call("POST", f"/api/v1/admin/users/{a.sid}/memberships", json=body | {"kind": "agency"})]


@route("POST", "/api/v1/admin/agency/barred")
def _barred(a: Ask) -> list[Call]:
    held = next(x for x in a.world.directory.agencies() if x["ori"] == a.who.agency)["barred"]
    return [
        Call("POST", "/api/v1/admin/agency/barred", json={"barred": held}, scan=False, check=_only_my_agency),
        Call("POST", "/api/v1/admin/agency/barred", json={"barred": ["not an ori"]}),
    ]


# --- suspicious activity reports ----------------------------------------------------------------
def _sar_reviewable(a: Ask) -> set[str]:
    if not a.who.may("decide"):
        return set()
    return {f"sar{i:03d}x" for i in range(len(a.world.reports)) if _full(a, i)}


def _generated_sars(body: bytes) -> set[str]:
    return {m.decode() for m in re.findall(rb"sar\d{3}x", body)}


def _sar_form(a: Ask) -> dict[str, Any]:  # long past: outside every trend's weeks
    return {"behavior": "PHOTO", "occurred_at": "2020-01-02T10:00:00+00:00", "where": {"address": "harness"},
            "narrative": "harness: someone photographed the gate for an hour", "contact": {"name": "Harness"},
            "protected_activity": False}  # fmt: skip


def _some_sars(a: Ask) -> list[str]:
    """For the writes: the first SARs (each state, each marking drawn) and one that is none."""
    return [*a.world.sar_ids[:3], a.world.sar_ids[-1]]


@route("GET", "/api/v1/sar/categories")
def _sar_categories(a: Ask) -> list[Call]:
    return [Call("GET", "/api/v1/sar/categories")]


@route("POST", "/api/v1/sars")
def _sar_submit(a: Ask) -> list[Call]:
    return [Call("POST", "/api/v1/sars", json=_sar_form(a))]


@route("GET", "/api/v1/sars")
def _sar_queue(a: Ask) -> list[Call]:
    """Every generated SAR the caller may review, and no other (SARs posted by the harness
    itself carry other ids)."""

    def exactly_reviewable(r: httpx.Response, a: Ask) -> None:
        if r.status_code == 200:
            assert _generated_sars(r.content) == _sar_reviewable(a), (a.sid, r.content[:300])

    states = {"state": ["SUBMITTED", "ACCEPTED", "RETURNED", "ISE_SAR", "LOCAL", "CLOSED"], "limit": 500}
    return [Call("GET", "/api/v1/sars", states, check=exactly_reviewable)]


@route("GET", "/api/v1/sars/mine")
def _sar_mine(a: Ask) -> list[Call]:
    def exactly_own(r: httpx.Response, a: Ask) -> None:
        if r.status_code == 200:
            own = {f"sar{i:03d}x" for i, rep in enumerate(a.world.reports)
                   if sar_submitter(i) == a.sid and rep["agency"] == a.who.agency}  # fmt: skip
            assert _generated_sars(r.content) == own, (a.sid, r.content[:300])

    return [Call("GET", "/api/v1/sars/mine", check=exactly_own)]


@route("GET", "/api/v1/sars/{sar}")
def _sar_one(a: Ask) -> list[Call]:
    def shown_iff_reviewable(r: httpx.Response, a: Ask) -> None:
        sar = r.request.url.path.rsplit("/", 1)[1]
        assert (r.status_code == 200) == (sar in _sar_reviewable(a)), (a.sid, sar, r.status_code)

    return [Call("GET", f"/api/v1/sars/{s}", echoes=(s,), check=shown_iff_reviewable) for s in a.world.sar_ids]


@route("POST", "/api/v1/sars/{sar}/review")
def _sar_review(a: Ask) -> list[Call]:
    body = {"outcome": "RETURN", "reason": "harness", "questions": ["where exactly?"], "feedback": "harness"}
    return [Call("POST", f"/api/v1/sars/{s}/review", json=body, echoes=(s,)) for s in _some_sars(a)]


@route("POST", "/api/v1/sars/{sar}/vetting")
def _sar_vetting(a: Ask) -> list[Call]:
    body = {"outcome": "LOCAL", "reason": "harness", "feedback": "harness"}
    return [Call("POST", f"/api/v1/sars/{s}/vetting", json=body, echoes=(s,)) for s in _some_sars(a)]


@route("POST", "/api/v1/sars/{sar}/priority")
def _sar_priority(a: Ask) -> list[Call]:
    body = {"score": 99, "reason": "harness"}
    return [Call("POST", f"/api/v1/sars/{s}/priority", json=body, echoes=(s,)) for s in _some_sars(a)]


@route("POST", "/api/v1/sars/{sar}/answers")
def _sar_answers(a: Ask) -> list[Call]:
    body = {"answers": "harness answers"}
    return [Call("POST", f"/api/v1/sars/{s}/answers", json=body, echoes=(s,)) for s in _some_sars(a)]


@route("POST", "/api/v1/tips")
def _tip(a: Ask) -> list[Call]:
    body = {k: v for k, v in _sar_form(a).items() if k not in ("contact",)}
    return [Call("POST", "/api/v1/tips", json=body, headers={"X-API-Key": "", "Cookie": ""})]


def _full_count(a: Ask, agency: str | None = None) -> int:
    return sum(_full(a, i) for i, r in enumerate(a.world.reports) if agency is None or r["agency"] == agency)


@route("GET", "/api/v1/sar/patterns")
def _sar_patterns(a: Ask) -> list[Call]:
    def shown_iff_every_sar_in_full(r: httpx.Response, a: Ask) -> None:
        if r.status_code == 200:
            every = _full_count(a) == len(a.world.reports)
            assert [p["pattern_id"] for p in r.json()["patterns"]] == ([f"pat{a.who.agency.lower()}"] if every else [])

    return [Call("GET", "/api/v1/sar/patterns", check=shown_iff_every_sar_in_full)]


@route("GET", "/api/v1/sar/trends")
def _sar_trends(a: Ask) -> list[Call]:
    def counts_only_what_is_seen_in_full(r: httpx.Response, a: Ask) -> None:
        if r.status_code == 200:
            assert sum(sum(s["counts"]) for s in r.json()["series"]) == _full_count(a), (a.sid, r.json())

    return [Call("GET", "/api/v1/sar/trends", check=counts_only_what_is_seen_in_full)]


@route("GET", "/api/v1/sar/quality")
def _sar_quality(a: Ask) -> list[Call]:
    """Another agency's row counts exactly its SARs the caller sees in full (SARs the harness
    posts are its poster's agency's, AMBER, seen in full only there)."""

    def counts_only_what_is_seen_in_full(r: httpx.Response, a: Ask) -> None:
        if r.status_code != 200:
            return
        rows = {x["agency"]: x["submitted"] for x in r.json()["agencies"]}
        for agency in AGENCIES:
            want = _full_count(a, agency)
            if agency == a.who.agency:
                assert rows.get(agency, 0) >= want, (a.sid, rows)
            else:
                assert rows.get(agency, 0) == want, (a.sid, agency, rows)

    return [Call("GET", "/api/v1/sar/quality", check=counts_only_what_is_seen_in_full)]


# --- the TLO network -------------------------------------------------------------------------------
@route("GET", "/api/v1/tlos")
def _tlos(a: Ask) -> list[Call]:
    def own_agency_only(r: httpx.Response, a: Ask) -> None:
        if r.status_code == 200:
            assert {t["agency"] for t in r.json()["tlos"]} <= {a.who.agency}, r.json()

    return [Call("GET", "/api/v1/tlos", check=own_agency_only)]


@route("GET", "/api/v1/tlos/{subject}")
def _tlo(a: Ask) -> list[Call]:
    def shown_iff_own(r: httpx.Response, a: Ask) -> None:
        ori = r.request.url.path.rsplit("-", 1)[1].upper()
        assert (r.status_code == 200) == (ori == a.who.agency and a.who.may("decide")), (a.sid, ori, r.status_code)

    return [Call("GET", f"/api/v1/tlos/tlo-{o.lower()}", echoes=(f"tlo-{o.lower()}",), check=shown_iff_own)
            for o in AGENCIES]  # fmt: skip


@route("POST", "/api/v1/tlos")
def _tlo_register(a: Ask) -> list[Call]:
    body = {"subject": "s0", "name": "Harness", "sector": "water", "area": "county", "trained_until": "2030-01-01"}
    return [Call("POST", "/api/v1/tlos", json=body, echoes=("s0",))]


# --- requirements, gaps and taskings -----------------------------------------------------------------
def _req_form() -> dict[str, Any]:
    return {"code": "PIR-H", "title": "harness", "questions": ["who?"], "keywords": ["harness"]}


@route("POST", "/api/v1/requirements")
def _req_create(a: Ask) -> list[Call]:
    return [Call("POST", "/api/v1/requirements", json=_req_form())]


@route("GET", "/api/v1/requirements")
def _req_list(a: Ask) -> list[Call]:
    def exactly_full(r: httpx.Response, a: Ask) -> None:
        if r.status_code == 200:
            got = {x["id"] for x in r.json()["requirements"] if re.fullmatch(r"req(\d{3}|all)x", x["id"])}
            assert got == {f"req{i:03d}x" for i in range(len(a.world.reports)) if _full(a, i)} | {"reqallx"}, got

    return [Call("GET", "/api/v1/requirements", check=exactly_full)]


@route("GET", "/api/v1/requirements/gaps")
def _req_gaps(a: Ask) -> list[Call]:
    def counts_only_full(r: httpx.Response, a: Ask) -> None:
        if r.status_code == 200:
            (row,) = [x for x in r.json()["requirements"] if x["id"] == "reqallx"]
            assert row["answered"] == _full_count(a), (a.sid, row["answered"])

    return [Call("GET", "/api/v1/requirements/gaps", check=counts_only_full)]


@route("GET", "/api/v1/requirements/{rid}/reporting")
def _req_reporting(a: Ask) -> list[Call]:
    def only_full(r: httpx.Response, a: Ask) -> None:
        rid = r.request.url.path.split("/")[-2]
        if rid == "reqallx" and r.status_code == 200:
            got = {x["report_id"] for x in r.json()["reports"]}
            assert got == {f"rec{i:03d}x" for i in range(len(a.world.reports)) if _full(a, i)}, got
        elif rid != "reqallx":
            assert (r.status_code == 200) == (a.who.may("decide") and _full(a, int(rid[3:6]))), (a.sid, rid)

    ids = ["reqallx", *(f"req{i:03d}x" for i in range(len(a.world.reports)))]
    return [Call("GET", f"/api/v1/requirements/{x}/reporting", echoes=(x,), check=only_full) for x in ids]


@route("POST", "/api/v1/requirements/{rid}/taskings")
def _req_task(a: Ask) -> list[Call]:
    body = {"question": "harness question", "to_agency": AGENCIES[1], "due": "2030-01-01T00:00:00+00:00"}
    return [Call("POST", f"/api/v1/requirements/{x}/taskings", json=body, echoes=(x,)) for x in ("reqallx", "req000x")]


@route("GET", "/api/v1/taskings/mine")
def _taskings_mine(a: Ask) -> list[Call]:
    def own_only(r: httpx.Response, a: Ask) -> None:
        if r.status_code == 200:
            got = {x["id"] for x in r.json()["taskings"] if x["id"].startswith("tsk")}
            own = {f"tsk{a.who.agency.lower()}"} if a.who.agency in AGENCIES else set()
            assert got == own, (a.sid, got)

    return [Call("GET", "/api/v1/taskings/mine", check=own_only)]


@route("POST", "/api/v1/taskings/{tid}/answer")
def _tasking_answer(a: Ask) -> list[Call]:
    def own_only(r: httpx.Response, a: Ask) -> None:
        tid = r.request.url.path.split("/")[-2]
        assert (r.status_code == 200) == (tid == f"tsk{a.who.agency.lower()}" and a.who.may("submit")), (a.sid, tid)

    return [Call("POST", f"/api/v1/taskings/tsk{o.lower()}/answer", json={"answer": "harness answer"},
                 echoes=(f"tsk{o.lower()}",), check=own_only) for o in AGENCIES]  # fmt: skip


# The product, risk and joint-operations routes' generators register themselves on import.
from tests.leak import routes_joint, routes_playbooks, routes_products  # noqa: E402, F401
