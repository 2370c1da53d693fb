"""Logging in to the workbench through a real identity provider (Keycloak): the authorization
code flow with PKCE run by the API, the session cookie it ends in, and who is refused."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from argus.demo import OFFICER_AGENCY
from argus.demo.ui import AGENCIES, Running, launched
from tests.browser.conftest import open_tab
from tests.servers import free_port
from tests.servers.keycloak import CLIENT, Keycloak, keycloak_server

# directory users (the demo's analyst and patrol officer); a Keycloak user Argus does not know
ENROLLED, OFFICER, STRANGER = "an-clovis", "4471", "not-enrolled"


@pytest.fixture(scope="module")
def idp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Running, Keycloak]]:
    port = free_port()
    callback = f"http://127.0.0.1:{port}/api/v1/session/oidc/callback"
    with keycloak_server(callback, [ENROLLED, OFFICER, STRANGER]) as kc:
        oidc = {"issuer": kc.issuer, "client_id": CLIENT, "subject_claim": "preferred_username", "label": "Keycloak"}
        secret = {"ARGUS_OIDC_CLIENT_SECRET": kc.client_secret}
        with launched(tmp_path_factory.mktemp("oidc"), port, api={"oidc": oidc}, env=secret) as wb:
            yield wb, kc


def _keycloak_login(tab: Any, kc: Keycloak, user: str) -> None:
    page = tab.page
    page.goto(tab.origin)
    page.get_by_test_id("oidc-login").click()
    page.wait_for_url(f"{kc.url}/**")
    page.fill("#username", user)
    page.fill("#password", kc.passwords[user])
    page.click("#kc-login")


def test_an_enrolled_user_logs_in_through_keycloak(idp: tuple[Running, Keycloak], browser: Any) -> None:
    wb, kc = idp
    tab = open_tab(browser, wb.url)
    _keycloak_login(tab, kc, ENROLLED)
    tab.page.wait_for_selector("nav[aria-label=Views]")
    who = tab.page.inner_text("[data-testid=who]")
    assert "A. Moreno" in who and AGENCIES[OFFICER_AGENCY] in who and "analyst" in who
    cookies = {c["name"]: c for c in tab.page.context.cookies(wb.url)}
    session = cookies["argus_session"]
    assert session["httpOnly"] and session["sameSite"] == "Strict"
    assert "argus_oidc" not in cookies  # the pending login is gone
    # no token reached the browser: only the session cookie came back from the callback
    assert not any(b"id_token" in body or b"access_token" in body for _, body in tab.bodies)
    # the workbench works with that session (the policy is the directory's, not the token's)
    tab.page.goto(wb.url + "#/search?q=8ABC123")
    tab.page.wait_for_selector("[data-testid=hit]")
    assert not [u for u in tab.off_origin() if not u.startswith(kc.url)]
    # logging out ends the session: the cookie is refused afterwards
    tab.page.get_by_role("button", name="Log out").click()
    tab.page.wait_for_selector("#apikey")
    r = tab.page.context.request.get(wb.url + "api/v1/search", headers={"Cookie": f"argus_session={session['value']}"})
    assert r.status == 401


def test_the_officer_logs_in_through_keycloak_and_runs_the_demo_plate(
    idp: tuple[Running, Keycloak], browser: Any
) -> None:
    wb, kc = idp
    tab = open_tab(browser, wb.url, width=375, height=812)
    _keycloak_login(tab, kc, OFFICER)
    page = tab.page
    page.wait_for_selector("[data-testid=stream-state]:has-text('live')")  # the inbox, on the session
    page.fill("input[name=plate]", "8ABC123")
    page.click("form[aria-label='plate query'] button[type=submit]")  # a change: CSRF-checked
    assert "HIT" in page.inner_text("[data-testid=answer]", timeout=15_000)
    assert "Confirm with" in page.locator("[data-testid=alert]").first.inner_text()
    got = tab.snapshot().encode() + b"".join(b for _, b in tab.bodies)
    assert b"NTF-2026-0031" not in got and b"Two suspects entered the Shaw Ave pharmacy" not in got


def test_a_keycloak_user_not_in_the_directory_is_refused(idp: tuple[Running, Keycloak], browser: Any) -> None:
    wb, kc = idp
    tab = open_tab(browser, wb.url)
    _keycloak_login(tab, kc, STRANGER)
    tab.page.wait_for_selector("[role=alert]:has-text('not accepted')")
    assert "argus_session" not in {c["name"] for c in tab.page.context.cookies(wb.url)}


def test_a_forged_callback_is_refused(idp: tuple[Running, Keycloak], browser: Any) -> None:
    wb, _ = idp
    tab = open_tab(browser, wb.url)
    # a callback this browser did not start (no pending login, wrong state): no session
    tab.page.goto(wb.url + "api/v1/session/oidc/callback?code=stolen&state=guess")
    tab.page.wait_for_selector("[role=alert]:has-text('not accepted')")
    assert "argus_session" not in {c["name"] for c in tab.page.context.cookies(wb.url)}
