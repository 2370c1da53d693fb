"""The leak harness's generators for the product and risk routes (registered with the others in
tests/leak/routes.py)."""

from __future__ import annotations

import re
from typing import Any

import httpx

from tests.leak.holdings import product_for_partners
from tests.leak.routes import Ask, Call, Check, Generator, _full, route, total_is


# --- intelligence products -------------------------------------------------------------------------
def _product_seen(a: Ask, i: int) -> bool:
    return _full(a, i) and (a.who.law_enforcement or product_for_partners(i))


def _product_ids(a: Ask) -> list[str]:
    return [f"prd{i:03d}x" for i in range(len(a.world.reports))] + ["prd999x"]


def _some_products(a: Ask) -> list[str]:
    """For the routes behind the same look-up as GET /api/v1/products/{pid} (which tries every
    product): the first three, each marking drawn, and one that is none."""
    return [*_product_ids(a)[:3], "prd999x"]


def _generated_products(body: bytes) -> set[str]:
    return {m.decode() for m in re.findall(rb"prd\d{3}x", body)}


def _product_form() -> dict[str, Any]:
    return {"type": "situational_awareness", "title": "harness", "sections": {"summary": [{"text": "harness"}]}}


def _shown_iff_seen(ok: int = 200) -> Check:
    def check(r: httpx.Response, a: Ask) -> None:
        pid = re.search(r"prd\d{3}x", str(r.request.url.path))
        i = int(pid.group(0)[3:6]) if pid else -1
        assert (r.status_code == ok) == _product_seen(a, i), (a.sid, r.request.url.path, r.status_code)

    return check


@route("GET", "/api/v1/product/templates")
def _product_templates(a: Ask) -> list[Call]:
    return [Call("GET", "/api/v1/product/templates")]


@route("POST", "/api/v1/products")
def _product_draft(a: Ask) -> list[Call]:
    return [Call("POST", "/api/v1/products", json=_product_form())]


@route("GET", "/api/v1/products")
def _product_library(a: Ask) -> list[Call]:
    def exactly_seen(r: httpx.Response, a: Ask) -> None:
        if r.status_code == 200:
            want = {f"prd{i:03d}x" for i in range(len(a.world.reports)) if _product_seen(a, i)}
            assert _generated_products(r.content) == want, (a.sid, r.content[:300])

    return [Call("GET", "/api/v1/products", {"limit": 500}, check=exactly_seen),
            Call("GET", "/api/v1/products", {"q": "prdp000q"}, check=total_is(lambda a: 0))]  # fmt: skip


@route("GET", "/api/v1/products/{pid}")
def _product_one(a: Ask) -> list[Call]:
    return [Call("GET", f"/api/v1/products/{p}", echoes=(p,), check=_shown_iff_seen()) for p in _product_ids(a)]


@route("PUT", "/api/v1/products/{pid}")
def _product_edit(a: Ask) -> list[Call]:
    return [Call("PUT", f"/api/v1/products/{p}", json=_product_form(), echoes=(p,)) for p in _product_ids(a)[:2]]


def _product_step(how: str, body: dict[str, Any]) -> Generator:
    def gen(a: Ask) -> list[Call]:
        return [Call("POST", f"/api/v1/products/{p}/{how}", json=body, echoes=(p,)) for p in _product_ids(a)[:2]]

    return gen


for _how, _body in (("submit", {"reason": "harness"}), ("review", {"reason": "harness", "outcome": "PASS"}),
                    ("approval", {"reason": "harness", "outcome": "APPROVE"}), ("publish", {"reason": "harness"}),
                    ("revise", {"reason": "harness"}), ("withdraw", {"reason": "harness"})):  # fmt: skip
    route("POST", f"/api/v1/products/{{pid}}/{_how}")(_product_step(_how, _body))


@route("GET", "/api/v1/products/{pid}/html")
def _product_html(a: Ask) -> list[Call]:
    return [Call("GET", f"/api/v1/products/{p}/html", echoes=(p,), check=_shown_iff_seen()) for p in _some_products(a)]


@route("GET", "/api/v1/products/{pid}/pdf")
def _product_pdf(a: Ask) -> list[Call]:  # compressed: the status is what is checked (the HTML is the same copy)
    return [Call("GET", f"/api/v1/products/{p}/pdf", echoes=(p,), check=_shown_iff_seen()) for p in _product_ids(a)[:1]]


@route("GET", "/api/v1/products/{pid}/stix")
def _product_stix(a: Ask) -> list[Call]:
    return [Call("GET", f"/api/v1/products/{p}/stix", echoes=(p,), check=_shown_iff_seen()) for p in _some_products(a)]


def _home_decider(a: Ask) -> Check:
    def check(r: httpx.Response, a: Ask) -> None:
        i = int(re.search(r"prd(\d{3})x", str(r.request.url.path)).group(1))  # type: ignore[union-attr]
        home = i < len(a.world.reports) and a.world.reports[i]["agency"] == a.who.agency
        assert (r.status_code == 200) == (home and a.who.may("decide") and _product_seen(a, i)), (a.sid, i)

    return check


@route("GET", "/api/v1/products/{pid}/deliveries")
def _product_deliveries(a: Ask) -> list[Call]:
    return [Call("GET", f"/api/v1/products/{p}/deliveries", echoes=(p,), check=_home_decider(a))
            for p in _some_products(a)]  # fmt: skip


@route("GET", "/api/v1/products/{pid}/feedback")
def _product_feedback_list(a: Ask) -> list[Call]:
    return [Call("GET", f"/api/v1/products/{p}/feedback", echoes=(p,), check=_home_decider(a))
            for p in _some_products(a)]  # fmt: skip


@route("POST", "/api/v1/products/{pid}/receipt")
def _product_receipt(a: Ask) -> list[Call]:
    return [Call("POST", f"/api/v1/products/{p}/receipt", echoes=(p,), check=_shown_iff_seen(204))
            for p in _some_products(a)]  # fmt: skip


@route("POST", "/api/v1/products/{pid}/feedback")
def _product_feedback(a: Ask) -> list[Call]:
    body = {"outcome": "none", "useful": 3, "comment": "harness"}
    return [Call("POST", f"/api/v1/products/{p}/feedback", json=body, echoes=(p,), says_back=True,
                 check=_shown_iff_seen()) for p in _some_products(a)]  # fmt: skip


@route("GET", "/api/v1/product/inbox")
def _product_inbox(a: Ask) -> list[Call]:
    def own_and_seen(r: httpx.Response, a: Ask) -> None:
        if r.status_code == 200:
            want = {f"prd{i:03d}x" for i in range(len(a.world.reports)) if a.sid == "s0" and _product_seen(a, i)}
            assert _generated_products(r.content) == want, (a.sid, r.content[:300])

    return [Call("GET", "/api/v1/product/inbox", check=own_and_seen)]


@route("GET", "/api/v1/product/metrics")
def _product_metrics(a: Ask) -> list[Call]:
    def own_agency(r: httpx.Response, a: Ask) -> None:
        if r.status_code == 200:
            assert {x["agency"] for x in r.json()["products"]} <= {a.who.agency}, (a.sid, r.json()["products"])

    return [Call("GET", "/api/v1/product/metrics", check=own_agency)]


# --- risk ----------------------------------------------------------------------------------------------
def _own_risk(r: httpx.Response, a: Ask) -> None:
    if r.status_code == 200:
        got = r.json()
        rows = got.get("scores", [got]) if "scores" in got or "recipient_agency" in got else []
        assert all(x["recipient_agency"] == a.who.agency for x in rows), (a.sid, rows[:1])


@route("GET", "/api/v1/risk")
def _risk_top(a: Ask) -> list[Call]:
    return [Call("GET", "/api/v1/risk", check=_own_risk), Call("GET", "/api/v1/risk", {"category": "violent_crime"},
                                                               check=_own_risk)]  # fmt: skip


@route("GET", "/api/v1/risk/notices")
def _risk_notices(a: Ask) -> list[Call]:
    return [Call("GET", "/api/v1/risk/notices", check=_own_risk)]


@route("GET", "/api/v1/risk/{subject}")
def _risk_one(a: Ask) -> list[Call]:
    return [Call("GET", f"/api/v1/risk/{s}", echoes=(s,), check=_own_risk) for s in ("rskallx", "rsknonex")]


@route("POST", "/api/v1/risk/{subject}/assessment")
def _risk_assess(a: Ask) -> list[Call]:
    """The draft quotes only the reports the caller sees in full (the tokens say the rest)."""
    return [Call("POST", f"/api/v1/risk/{s}/assessment", echoes=(s,)) for s in ("rskallx", "rsknonex")]
