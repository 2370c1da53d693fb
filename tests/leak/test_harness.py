"""Property: no response on any route ever carries what the policy denies its caller.

Hypothesis builds holdings (tests/leak/holdings.py: reports with random agencies, TLP markings,
caveats, cases, named recipients and criminal-intelligence flags, their people, vehicles, links,
merges, STIX objects and alerts), random agency rules (barring, communities) and random subjects
(agency, role, cases, dissemination lists). Every generator of tests/leak/routes.py (one per
route, enrolment enforced) is called as every subject, and the raw bytes of each response are
scanned for what must not be there; the generators check the metadata (totals, statuses, whose
entries and feeds). No response may be a 500.
"""

from __future__ import annotations

from typing import Any

import httpx
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from argus.api.app import create_app
from argus.security.policy import FULL, Recipient, ReportView
from tests.leak.holdings import (
    AGENCIES,
    World,
    build,
    product_for_partners,
    report,
    rules,
    sar_submitter,
    stix_id,
    subject,
)
from tests.leak.holdings_joint import joint_tokens
from tests.leak.holdings_playbooks import playbook_tokens
from tests.leak.routes import GENERATORS, Ask, Call

A, B, C = AGENCIES
NO_RULES: dict[str, Any] = {"barred": {}, "community": {}}


def forbidden(world: World, sid: str, who: Recipient, views: list[ReportView | None]) -> set[bytes]:
    """What `who` may not see anywhere, as the tokens the holdings carry."""
    out: set[bytes] = set()
    seen_vehicles: set[int] = set()
    reports = world.reports
    for i, (r, v) in enumerate(zip(reports, views, strict=True)):
        if v is None:
            out |= {f"{p}{i:03d}x".encode() for p in ("rec", "ev", "lnk", "stx")}
            aliased = i + 1 < len(reports) and reports[i + 1]["alias"] and views[i + 1] is not None
            if not aliased:  # the person is also the next report's, under its spelling
                out.add(f"per{i:03d}x".encode())
        else:
            seen_vehicles.add(r["vehicle"])
        if v is None or v.level != FULL:
            out |= {f"NAME{i:03d}Q", f"NARR{i:03d}Q", f"ALIAS{i:03d}Q", f"STIX{i:03d}Q", stix_id(i)}  # type: ignore[arg-type]
        out |= _alert_tokens(i, r, sid, who, v)
        out |= _sar_tokens(i, r, sid, who, v)
        out |= _product_tokens(i, r, who, v)
        if v is None or v.level != FULL:
            out.add(f"REQT{i:03d}Q")
    for k in {r["vehicle"] for r in reports} - seen_vehicles:
        out |= {f"veh{k}x".encode(), f"PLATE{k}Q".encode()}
    out |= {f"feed{o.lower()}".encode() for o in AGENCIES if o != who.agency}
    out |= {f"STATUSBODY{o}".encode() for o in AGENCIES if o != who.agency}
    out |= {f"TLOC{o}Q".encode() for o in AGENCIES if o != who.agency or not who.may("decide")}
    out |= {f"TSKQ{o}Q".encode() for o in AGENCIES if o != who.agency or not who.may("submit")}
    out |= {f"RISKR{o}Q".encode() for o in AGENCIES if o != who.agency or not (who.may("read") or who.may("field"))}
    out |= joint_tokens(world, sid, who)
    out |= playbook_tokens(world, sid, who)
    return {x.encode() if isinstance(x, str) else x for x in out}


def _sar_tokens(i: int, r: dict[str, Any], sid: str, who: Recipient, v: ReportView | None) -> set[Any]:
    """A SAR is shown whole to a reviewer (may decide) who sees it in full; its submitter sees
    only their own SAR's outcome and the feedback written for them."""
    reviewer = v is not None and v.level == FULL and who.may("decide")
    own = sar_submitter(i) == sid and r["agency"] == who.agency and who.may("submit")
    out: set[Any] = set()
    if not reviewer:
        out |= {f"SARN{i:03d}Q", f"SARC{i:03d}Q", f"SARR{i:03d}Q"}
        if not own:
            out |= {f"sar{i:03d}x", f"SARID{i:03d}Q", f"SARF{i:03d}Q"}
    return out


def _product_tokens(i: int, r: dict[str, Any], who: Recipient, v: ReportView | None) -> set[Any]:
    """A product is seen whole or not at all (a private-sector partner: only one marked for
    them); its RED paragraph naming no one only in its own agency; its feedback by the
    originating agency's deciders."""
    seen = v is not None and v.level == FULL and (who.law_enforcement or product_for_partners(i))
    out: set[Any] = set()
    if not seen:
        out |= {f"PRDT{i:03d}Q", f"PRDB{i:03d}Q", f"prd{i:03d}x"}
    if not seen or who.agency != r["agency"]:
        out.add(f"PRDP{i:03d}Q")
    if not seen or who.agency != r["agency"] or not who.may("decide"):
        out.add(f"PRDF{i:03d}Q")
    return out


def _alert_tokens(i: int, r: dict[str, Any], sid: str, who: Recipient, v: ReportView | None) -> set[Any]:
    """An alert reaches its addressee's agency, the named officer (or a supervisor), and then
    shows its hit only as far as the policy lets this subscriber see the report."""
    addressed = r["to"] == who.agency and (r["officer"] in (None, sid) or who.may("review"))
    delivered = addressed and (who.may("field") or who.may("read")) and v is not None
    out: set[Any] = set()
    if not delivered:
        out.add(f"alr{i:03d}x")
    if not delivered or v is None or v.level != FULL:
        out |= {f"ANARR{i:03d}Q", f"ANAME{i:03d}Q"}
    return out


def _body(client: TestClient, call: Call, headers: dict[str, str]) -> httpx.Response:
    h = {**headers, **call.headers}
    if not call.stream:
        return client.request(call.method, call.url, params=call.params, json=call.json, headers=h)
    with client.stream(call.method, call.url, params=call.params, headers=h) as r:
        if r.status_code != 200:
            r.read()
            return r
        got = b""
        for line in r.iter_lines():  # every replayed alert, until the stream says it has caught up
            got += line.encode() + b"\n"
            if line.startswith(": caught up"):
                break
        return httpx.Response(200, content=got, request=r.request)


LOGOUT = ("DELETE", "/api/v1/session")


def _session(client: TestClient, key: str) -> dict[str, str]:
    """The workbench's way in: the session cookie and the CSRF token every change echoes."""
    r = client.post("/api/v1/session", json={"api_key": key})
    assert r.status_code == 200, r.text
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" in cookie, cookie
    return {"Cookie": cookie.split(";")[0], "X-CSRF-Token": r.json()["csrf"]}


def _scan(world: World, client: TestClient, sid: str, credentials: dict[str, str]) -> None:
    who = world.directory.recipient(sid)
    views = world.views(who)
    ask = Ask(world, sid, who, views)
    denied = forbidden(world, sid, who, views)
    # the session ends last, so everything before it is asked with the cookie alive
    for (method, _path), generate in sorted(GENERATORS.items(), key=lambda kv: (kv[0] == LOGOUT, kv[0])):
        for call in generate(ask):
            r = _body(client, call, credentials)
            assert r.status_code < 500, (sid, method, call.url, r.status_code, r.text[:300])
            body = r.content
            if r.status_code >= 400 or call.says_back:  # saying back what the caller itself sent
                for asked in call.echoes:
                    body = body.replace(asked.encode(), b"")
            leaked = sorted(x.decode() for x in denied if x in body) if call.scan else []
            assert not leaked, f"{sid} ({who.agency}, {who.role}) got {leaked} from {method} {call.url} {call.params}"
            if call.check is not None:
                call.check(r, ask)


def _r(agency: str, tlp: str, vehicle: int = 0, **kw: Any) -> dict[str, Any]:
    base = {"agency": agency, "tlp": tlp, "ci": False, "nfd": False, "cases": [], "recipients": [], "vehicle": vehicle}
    return base | {"link": True, "alias": True, "to": B, "officer": None} | kw


def _s(agency: str, role: str = "analyst", **kw: Any) -> dict[str, Any]:
    return {"agency": agency, "role": role, "cases": [], "lists": []} | kw


# Every level of the policy at least once, whatever hypothesis draws: AMBER seen from another
# agency (redacted), AMBER on the case (full), AMBER+STRICT and NO_FURTHER_DISSEMINATION
# (existence only), RED named and not named, criminal intelligence to a partner, a barred
# agency and one outside the owner's community, an alert for one named officer.
@example(
    reports=[_r(A, "AMBER"), _r(A, "AMBER", 1, cases=["ROB-1"]), _r(A, "AMBER_STRICT", 2), _r(A, "GREEN", nfd=True)],
    subjects=[_s(B), _s(B, "patrol_officer", cases=["ROB-1"]), _s(C, "supervisor")],
    agency_rules=NO_RULES,
)
@example(
    reports=[_r(A, "RED", recipients=["user:s0"], officer="s0"), _r(A, "RED", 1),
             _r(B, "RED", 2, recipients=["list:task-force"])],
    subjects=[_s(B, "patrol_officer"), _s(B, "patrol_officer", lists=["task-force"]), _s(A, "auditor")],
    agency_rules=NO_RULES,
)  # fmt: skip
@example(
    reports=[_r(A, "CLEAR", ci=True, to=A), _r(A, "GREEN", 1), _r(B, "GREEN", 2)],
    subjects=[_s(A, "private_sector_partner"), _s(C), _s(B, "terrorism_liaison_officer")],
    agency_rules={"barred": {A: C}, "community": {A: "north", B: "north", C: "south"}},
)
@example(  # a RED relationship between two entities the subject sees through a GREEN report
    reports=[_r(A, "GREEN"), _r(A, "RED"), _r(C, "AMBER_STRICT")],
    subjects=[_s(B), _s(C, "patrol_officer"), _s(B, "administrator")],
    agency_rules=NO_RULES,
)
@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    reports=st.lists(report, min_size=2, max_size=6),
    subjects=st.lists(subject, min_size=2, max_size=3),
    agency_rules=rules,
)
def test_no_route_answers_with_what_the_policy_denies(
    reports: list[dict[str, Any]], subjects: list[dict[str, Any]], agency_rules: dict[str, Any]
) -> None:
    world = build(reports, subjects, agency_rules)
    try:
        with TestClient(create_app(world.topo), raise_server_exceptions=False) as client:
            for sid, key in world.keys:
                _scan(world, client, sid, {"X-API-Key": key})
            # A session is the same caller as its key (identity comes from the one directory), so
            # one subject per world is scanned again through a workbench session: whose, the
            # holdings decide, so across examples every role is.
            sid, key = world.keys[len(reports) % len(world.keys)]
            _scan(world, client, sid, _session(client, key))
    finally:
        world.directory.close()
