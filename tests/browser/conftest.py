"""The workbench in a real browser: Playwright driving Debian's Chromium against `argus api`
over a running pipeline on the demo's holdings, with one demo user per role.

Every response body the browser receives (the SSE stream's messages too, read through the
DevTools protocol) and the DOM at each step are kept, so a test can say that something the
policy denies never reached the browser at all; every request is kept, so a test can say that
none left the origin. Without Chromium (`apt-get install chromium`) or the playwright package the
tests skip with what to install, except under CI=true, where they must run.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from argus.demo.ui import Running, launched
from tests.servers import free_port

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "img"


def _need(what: str) -> None:
    msg = f"{what}: install Debian's Chromium (apt-get install chromium) and the dev extras (pip install -e '.[dev]')"
    if os.environ.get("CI"):
        pytest.fail(msg)
    pytest.skip(msg)


def chromium_path() -> str:
    path = os.environ.get("ARGUS_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        _need("chromium not found")
    return str(path)


Workbench = Running


@pytest.fixture(scope="module")  # its pipeline and API stop when the module's tests are done
def workbench(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    with launched(tmp_path_factory.mktemp("workbench"), free_port()) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _need("playwright not installed")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox"])
        yield b
        b.close()


@dataclass
class Tab:
    """A browser page with everything it received kept."""

    page: Any
    origin: str
    requests: list[str] = field(default_factory=list)
    bodies: list[tuple[str, bytes]] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    doms: list[str] = field(default_factory=list)

    def snapshot(self) -> str:
        html = self.page.content()
        self.doms.append(html)
        return html

    def received(self) -> bytes:
        return b"\n".join(b for _, b in self.bodies) + "\n".join(self.doms).encode()

    def login(self, key: str) -> None:
        self.page.goto(self.origin)
        self.page.fill("#apikey", key)
        self.page.click("form[aria-label='Log in'] button[type=submit]")
        self.page.wait_for_selector("nav[aria-label=Views]")

    def off_origin(self) -> list[str]:
        return [u for u in self.requests if not u.startswith(self.origin) and not u.startswith(("data:", "blob:"))]


def open_tab(browser: Any, origin: str, width: int = 1400, height: int = 900) -> Tab:
    ctx = browser.new_context(viewport={"width": width, "height": height}, accept_downloads=True)
    page = ctx.new_page()
    tab = Tab(page, origin)
    page.on("request", lambda r: tab.requests.append(r.url))
    page.on("console", lambda m: tab.console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: tab.console_errors.append(str(e)))

    def on_response(r: Any) -> None:
        if "text/event-stream" in (r.headers.get("content-type") or ""):
            return  # its messages come through the DevTools protocol below
        try:
            tab.bodies.append((r.url, r.body()))
        except Exception:  # a body gone with a navigation; its URL is still kept
            tab.bodies.append((r.url, b""))

    page.on("response", on_response)
    cdp = ctx.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.on("Network.eventSourceMessageReceived", lambda ev: tab.bodies.append(("sse", ev["data"].encode())))
    return tab
