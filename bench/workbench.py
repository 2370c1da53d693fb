"""`python -m bench workbench`: the workbench in Debian's Chromium (headless), on the demo's
holdings over a running pipeline, as `argus demo --ui` serves them.

- First meaningful render: from navigation start to the officer's view ready (query form drawn
  and the alert inbox's stream live) and to the analyst's first search results drawn, with a
  session already logged in. Baseline in the same run: the same browser loading the API's
  /healthz (a page with no script: the floor of a navigation to this server). Target: under 1 s.
- The link chart with N nodes (default 2,000) on screen: the workbench's own chart code draws an
  answer of N entities (the browser's request for the neighbourhood is answered by the bench),
  then the chart is dragged (panned) for two seconds while every frame's time is kept. Baseline:
  the same drag over a chart of 20 nodes. Target: frames under 50 ms (p95 reported).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from argus.demo import OFFICER_AGENCY
from argus.demo.ui import Running, launched

FRAMES = """() => { window.__frames = []; let last = performance.now(); window.__run = true;
  const f = (t) => { window.__frames.push(t - last); last = t; if (window.__run) requestAnimationFrame(f); };
  requestAnimationFrame(f); }"""


def _browser(p: Any) -> Any:
    import shutil

    return p.chromium.launch(executable_path=shutil.which("chromium") or "chromium", args=["--no-sandbox"])


def _logged_in(browser: Any, run: Running, key: str, **ctx: Any) -> Any:
    c = browser.new_context(**ctx)
    r = c.request.post(run.url + "api/v1/session", data={"api_key": key})
    assert r.ok, r.text()
    return c


def _render_ms(browser: Any, run: Running, key: str, view: str, ready: str, runs: int) -> list[float]:
    out = []
    ctx = _logged_in(browser, run, key, viewport={"width": 1280, "height": 900})
    for _ in range(runs):
        page = ctx.new_page()
        page.goto(run.url + view)
        page.wait_for_selector(ready)
        out.append(page.evaluate("() => performance.now()"))
        page.close()
    ctx.close()
    return out


def _baseline_ms(browser: Any, run: Running, runs: int) -> list[float]:
    page = browser.new_page()
    out = []
    for _ in range(runs):
        page.goto(run.url + "healthz")
        out.append(page.evaluate("() => performance.now()"))
    page.close()
    return out


def _neighbourhood(n: int) -> dict[str, Any]:
    ids = [str(uuid.uuid5(uuid.NAMESPACE_URL, f"bench-{i}")) for i in range(n)]
    kinds = ["PERSON", "OBJECT", "LOCATION", "EVENT"]
    nodes = [
        {"id": x, "kind": kinds[i % 4], "subtype": "x", "label": f"entity {i}", "props": {}, "access": "full",
         "degree": 3}
        for i, x in enumerate(ids)
    ]  # fmt: skip
    edges = [
        {"id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"e-{i}")), "src": ids[(i - 1) // 3], "dst": ids[i], "rel": "LINKED",
         "props": {"reason": "bench"}}
        for i in range(1, n)
    ]  # fmt: skip
    return {"center": ids[0], "hops": 1, "truncated": False, "nodes": nodes, "edges": edges}


def _drag(browser: Any, run: Running, key: str, n: int) -> dict[str, float]:
    ctx = _logged_in(browser, run, key, viewport={"width": 1400, "height": 900})
    page = ctx.new_page()
    answer = json.dumps(_neighbourhood(n))
    page.route("**/api/v1/entities/*/neighbours*", lambda r: r.fulfill(body=answer, content_type="application/json"))
    page.route("**/api/v1/entities/bench", lambda r: r.fulfill(
        body=json.dumps({"entity": {}, "requested_id": "bench", "merged_from": [], "sources": []}),
        content_type="application/json"))  # fmt: skip
    t = time.perf_counter()
    page.goto(run.url + "#/graph/bench")
    while page.locator("[data-testid=node-list] li").count() < n:
        time.sleep(0.05)
    drawn_s = time.perf_counter() - t
    box = page.locator("[data-testid=chart]").bounding_box()
    x0, y0 = box["x"] + 20, box["y"] + 20  # a corner: the background, so the drag pans the chart
    page.evaluate(FRAMES)
    page.mouse.move(x0, y0)
    page.mouse.down()
    end = time.perf_counter() + 2.0
    step = 0
    while time.perf_counter() < end:
        step += 1
        page.mouse.move(x0 + (step % 200) * 2, y0 + (step % 100) * 2)
    page.mouse.up()
    frames = page.evaluate("() => { window.__run = false; return window.__frames.slice(2); }")
    ctx.close()
    frames.sort()
    return {
        "nodes": n,
        "drawn_s": round(drawn_s, 2),
        "frames": len(frames),
        "p50_ms": round(statistics.median(frames), 1),
        "p95_ms": round(frames[int(len(frames) * 0.95)], 1),
        "max_ms": round(frames[-1], 1),
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--nodes", type=int, default=2000)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    from playwright.sync_api import sync_playwright

    from tests.servers import free_port

    with tempfile.TemporaryDirectory() as tmp, launched(Path(tmp), free_port()) as run, sync_playwright() as p:
        browser = _browser(p)
        base = _baseline_ms(browser, run, args.runs)
        officer = _render_ms(
            browser, run, run.key_of("patrol_officer"), "#/field",
            "[data-testid=stream-state]:has-text('live')", args.runs,
        )  # fmt: skip
        analyst = _render_ms(
            browser, run, run.key_of("analyst", OFFICER_AGENCY), "#/search?q=civic", "[data-testid=hit]", args.runs
        )
        small = _drag(browser, run, run.key_of("analyst", OFFICER_AGENCY), 20)
        large = _drag(browser, run, run.key_of("analyst", OFFICER_AGENCY), args.nodes)
        browser.close()
    med = statistics.median
    out = {
        "baseline_healthz_ms": round(med(base), 1),
        "officer_first_render_ms": round(med(officer), 1),
        "analyst_first_render_ms": round(med(analyst), 1),
        "officer_ratio_to_baseline": round(med(officer) / med(base), 1),
        "analyst_ratio_to_baseline": round(med(analyst) / med(base), 1),
        "drag_small": small,
        "drag_large": large,
        "drag_p95_ratio_large_to_small": round(large["p95_ms"] / small["p95_ms"], 2),
    }
    print(json.dumps(out, indent=2))
    for name, got, target in (
        ("officer view first render ms", out["officer_first_render_ms"], 1000),
        ("analyst view first render ms", out["analyst_first_render_ms"], 1000),
        (f"frame time while dragging {args.nodes} nodes, p95 ms", large["p95_ms"], 50),
    ):
        print(f"{'MET ' if got <= target else 'MISS'} {name}: {got} (target <= {target})")
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))
