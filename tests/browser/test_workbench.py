"""Each role's work in the workbench, in a real browser, and nothing the policy denies in the DOM
or in any response the browser received (the SSE stream's messages included)."""

from __future__ import annotations

import time
import urllib.request
from pathlib import Path
from typing import Any

import orjson
import pytest

from argus.demo import OFFICER_AGENCY, OWNER
from argus.demo.ui import FUSION_CENTRE
from tests.browser.conftest import SHOTS, Tab, Workbench, open_tab

# What the demo's officer and the officer's agency's analyst may never receive: the TLP:RED
# task-force record (not even that it exists), the AMBER robbery report's narrative, names, dates
# of birth and addresses, and everything of the third agency's AMBER+STRICT report but its contact.
DENIED = (
    b"NTF-2026-0031",
    b"Confidential informant",
    b"stash house",
    b"Narcotics Task Force",
    b"Two suspects entered the Shaw Ave pharmacy",
    b"REYES, MARCUS",
    b"1994-11-19",
    b"NGUYEN, LINDA",
    b"2200 W Shaw",
    b"Witness saw a grey Honda Civic",
    b"Road 26",
)


def assert_clean(tab: Tab) -> None:
    tab.snapshot()
    got = tab.received()
    leaked = [d.decode() for d in DENIED if d in got]
    assert not leaked, f"the browser received {leaked}"
    assert not tab.off_origin(), tab.off_origin()
    assert not tab.console_errors, tab.console_errors


def until(cond: Any, seconds: float = 10.0) -> None:
    """Poll from Python: the workbench's CSP refuses the string evaluation wait_for_function uses."""
    deadline = time.monotonic() + seconds
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.05)


def shot(tab: Tab, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    tab.page.screenshot(path=str(SHOTS / f"{name}.png"))


def api_post(wb: Workbench, key: str, path: str, body: dict[str, Any]) -> Any:
    req = urllib.request.Request(
        wb.url.rstrip("/") + path,
        data=orjson.dumps(body),
        method="POST",
        headers={"X-API-Key": key, "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=30) as r:
        return orjson.loads(r.read())


def test_officer_runs_the_plate_sees_alerts_live_and_acknowledges(workbench: Workbench, browser: Any) -> None:
    tab = open_tab(browser, workbench.url, width=375, height=812)  # a mobile data terminal
    key = workbench.key_of("patrol_officer")
    tab.login(key)
    page = tab.page
    page.wait_for_selector("text=Run a query")
    page.wait_for_selector("[data-testid=stream-state]:has-text('live')")
    page.fill("input[name=plate]", "8ABC123")
    page.click("form[aria-label='plate query'] button[type=submit]")
    assert "HIT" in page.inner_text("[data-testid=answer]", timeout=15_000)
    card = page.locator("[data-testid=alert]").first
    assert "Confirm with" in card.inner_text() and "Officer safety" in card.inner_text()
    assert "Withheld by the record's marking" in card.inner_text()
    assert "restricted" not in card.inner_text() or "CA0200000" in card.inner_text()
    shot(tab, "officer")

    # The same officer's terminal runs the plate again through CAD: the browser's inbox shows the
    # new alert live, within a second of the alert being committed (the API answered with it).
    ans = api_post(
        workbench, key, "/api/v1/field/query?wait=5", {"query_id": "CAD-LIVE-1", "plate": "8ABC123", "state": "CA"}
    )
    committed = time.monotonic()
    alert_id = ans["alerts"][0]["alert_id"]
    page.wait_for_selector(f"[data-alert-id='{alert_id}']", timeout=5_000)
    live_s = time.monotonic() - committed
    assert live_s < 1.0, f"the alert took {live_s:.2f}s to show"

    new = page.locator(f"[data-alert-id='{alert_id}']")
    new.get_by_role("button", name="Acknowledge").click()
    new.get_by_role("button", name="Acknowledged").wait_for()
    page.reload()
    page.locator(f"[data-alert-id='{alert_id}']").get_by_role("button", name="Acknowledged").wait_for(timeout=10_000)
    # nothing wider than the screen: the officer never scrolls sideways
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    assert_clean(tab)


def test_analyst_searches_opens_the_entity_and_works_the_link_chart(workbench: Workbench, browser: Any) -> None:
    tab = open_tab(browser, workbench.url)
    tab.login(workbench.key_of("analyst", OFFICER_AGENCY))
    page = tab.page
    page.goto(workbench.url + "#/search?q=8ABC123")
    page.wait_for_selector("[data-testid=hit]")
    assert page.locator("mark").count() > 0  # highlights
    assert "redacted" in page.inner_text(".hits")  # the AMBER robbery reports, seen redacted
    page.wait_for_selector("[data-testid=facets] a")
    facets = page.inner_text("[data-testid=facets]")
    assert "AMBER (2)" in facets and "RED" not in facets  # the RED record is not even counted
    page.goto(workbench.url + "#/search?behavior=SURVL")
    page.wait_for_selector("[data-testid=hit]")
    assert "SAR-2026-0107" in page.inner_text(".hits")
    shot(tab, "analyst-search")
    vehicle = _vehicle_id(workbench)
    page.goto(workbench.url + f"#/entity/{vehicle}")
    page.wait_for_selector("#entity-h")
    assert "8ABC123" in page.inner_text("#entity-h")
    assert "withheld by marking" in page.inner_text("table.sources")

    page.locator("nav.actions").get_by_role("link", name="Link analysis").click()
    nodes = page.locator("[data-testid=node-list] li")
    nodes.first.wait_for()
    start = nodes.count()
    restricted = page.locator("[data-testid=node-list] li.restricted")
    assert restricted.count() >= 1 and "restricted, contact CA0200000" in restricted.first.inner_text()
    # expand the neighbours through their "+N" badges (the chart then holds the robbery's people,
    # seen as the AMBER marking lets another agency see them), then undo the last expansion
    badges = page.locator("[data-testid=node-list] .badge")
    for _ in range(4):
        if not badges.count():
            break
        label = badges.first.get_attribute("aria-label")
        badges.first.click()
        gone = page.locator(f"[data-testid=node-list] .badge[aria-label='{label}']")
        until(lambda g=gone: g.count() == 0)
    grown = nodes.count()
    assert grown > start
    page.get_by_role("button", name="Undo").click()
    until(lambda: nodes.count() < grown)
    tab.snapshot()
    # a path between two entities, with the reason for each edge
    names = page.locator("[data-testid=node-list] li:not(.restricted) > button:first-child")
    names.nth(0).click()
    names.nth(1).click()
    page.get_by_role("button", name="Find path").click()
    page.wait_for_selector("[data-testid=paths] li")
    shot(tab, "analyst-graph")
    with page.expect_download() as d:
        page.get_by_role("button", name="STIX").click()
    bundle = orjson.loads(Path(d.value.path()).read_bytes())
    assert bundle["type"] == "bundle" and all(o["spec_version"] == "2.1" for o in bundle["objects"])
    assert not any("restricted-" in o["id"] for o in bundle["objects"])  # an existence-only record is not exported
    with page.expect_download() as d:
        page.get_by_role("button", name="PNG").click()
    assert Path(d.value.path()).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    page.goto(workbench.url + f"#/timeline/entity/{vehicle}")
    page.wait_for_selector("[data-testid=timeline] li")
    page.goto(workbench.url + "#/map?q=civic")
    page.wait_for_selector(".leaflet-overlay-pane canvas")
    until(lambda: any("states-10m" in u for u, b in tab.bodies if b))  # the shipped basemap, from the origin
    page.wait_for_selector("[data-testid=map-summary]:has-text('event(s) you may see')")
    shot(tab, "analyst-map")
    assert_clean(tab)


def test_the_owning_agencys_analyst_gets_a_geographic_profile_of_the_series(workbench: Workbench, browser: Any) -> None:
    tab = open_tab(browser, workbench.url)
    tab.login(workbench.key_of("analyst", OWNER))
    page = tab.page
    page.goto(workbench.url + "#/map")
    page.fill("form[aria-label='Geographic profile'] input >> nth=0", "ROB-2026-014")
    page.get_by_role("button", name="Geographic profile").click()
    page.wait_for_selector("text=peak at")
    assert page.locator(".leaflet-image-layer").count() == 1  # the probability surface
    assert "f=1.2, g=1.2, B=1 km" in page.inner_text("[data-testid=map-summary]")
    shot(tab, "analyst-profile")
    assert not tab.off_origin() and not tab.console_errors


def test_analysts_review_possible_matches_each_seeing_only_what_they_may(workbench: Workbench, browser: Any) -> None:
    """Each analyst's queue holds the possible matches whose record and both persons they see in
    full, with each field's part in the weight; nothing the policy denies reaches the browser,
    and a decision is applied by the pipeline (the pair leaves the queue)."""
    for agency in (OFFICER_AGENCY, OWNER):
        key = workbench.key_of("analyst", agency)
        want = api_get(workbench, key, "/api/v1/matches?limit=100")
        assert want["total"] >= 1  # the demo's background reports leave some undecided
        tab = open_tab(browser, workbench.url)
        tab.login(key)
        page = tab.page
        page.goto(workbench.url + "#/review")
        page.locator("[data-testid=match]").first.wait_for(timeout=15_000)
        shown = [page.locator("[data-testid=match]").nth(i).get_attribute("data-id") for i in range(want["total"])]
        assert shown == [m["id"] for m in want["matches"]]
        first = page.locator("[data-testid=match]").first
        assert "Match weight" in first.inner_text() and "surname" in first.inner_text()
        if agency == OFFICER_AGENCY:  # DENIED is what the officer's agency may never receive
            assert_clean(tab)
    shot(tab, "analyst-review")
    decided = want["matches"][0]["id"]
    first.locator("input").fill("different people: the DOBs on file differ")
    first.get_by_role("button", name="Different people").click()
    page.wait_for_selector("text=Rejected: kept apart")
    assert not tab.console_errors
    ids = lambda: {m["id"] for m in api_get(workbench, key, "/api/v1/matches?limit=100")["matches"]}  # noqa: E731
    until(lambda: decided not in ids(), 20)


SAR_WORDS = "A man in a grey hoodie paced the substation fence and sketched the gate layout"


def test_a_sar_submitted_in_the_form_is_reviewed_by_the_centre_and_its_submitter_told(
    workbench: Workbench, browser: Any
) -> None:
    """Clovis's analyst files a SAR with the form (the category explained in plain words); the
    fusion centre's reviewer finds it in the queue and takes it through initial review and
    vetting; Fresno's analyst, not named on it, receives nothing of it; the submitter sees the
    outcome and the feedback; the public tip page works without logging in."""
    tab = open_tab(browser, workbench.url)
    tab.login(workbench.key_of("analyst", OFFICER_AGENCY))
    page = tab.page
    page.goto(workbench.url + "#/report")
    page.select_option("[data-testid=behavior]", "SURVL")
    assert "watches a site" in page.inner_text("[data-testid=plain]")
    page.fill("input[type=datetime-local]", "2026-11-30T21:15")
    page.fill("textarea[name=narrative]", SAR_WORDS)
    page.fill("input[name=address]", "Herndon Ave substation, Clovis")
    page.fill("input[name=name]", "A. Moreno")
    page.get_by_role("button", name="Send").click()
    sar_id = page.inner_text("[data-testid=received]").split(": ")[1].split(".")[0]
    assert sar_id.startswith("SAR-") and not tab.console_errors

    centre = open_tab(browser, workbench.url)
    centre.login(workbench.key_of("analyst", FUSION_CENTRE))
    cp = centre.page
    cp.goto(workbench.url + "#/sars")
    row = cp.locator("[data-testid=sar-queue] tr", has_text=sar_id)
    row.wait_for(timeout=15_000)
    row.get_by_role("button", name=sar_id).click()
    cp.wait_for_selector(f"[data-testid=sar-detail]:has-text('{SAR_WORDS[:30]}')")
    cp.check("[data-testid=basis]")
    cp.fill("form[aria-label='Initial review'] input[required]", "complete; surveillance of a site")
    cp.fill("form[aria-label='Initial review'] input >> nth=-1", "Thank you: specific and timely.")
    cp.get_by_role("button", name="Record decision").click()
    cp.wait_for_selector("[data-testid=sar-detail][data-state=ACCEPTED] form[aria-label=Vetting]")
    cp.fill("form[aria-label=Vetting] input[required]", "no nexus established yet")
    cp.get_by_role("button", name="Record decision").click()
    cp.wait_for_selector("[data-testid=sar-detail][data-state=LOCAL]")
    cp.goto(workbench.url + "#/search")
    cp.goto(workbench.url + "#/sars")
    cp.wait_for_selector(f"[data-testid=sar-quality] tr:has-text('{OFFICER_AGENCY}')")
    cp.wait_for_selector("[data-testid=sar-trends] tr:has-text('SURVL')")
    shot(centre, "sar-review")
    assert not centre.console_errors

    fresno = open_tab(browser, workbench.url)
    fresno.login(workbench.key_of("analyst", OWNER))
    fresno.page.goto(workbench.url + "#/sars")
    fresno.page.wait_for_selector("[data-testid=sar-queue], [data-testid=no-sars]")
    fresno.snapshot()
    assert SAR_WORDS.encode() not in fresno.received() and sar_id.encode() not in fresno.received()

    page.goto(workbench.url + "#/search")
    page.goto(workbench.url + "#/report")
    page.wait_for_selector(f"[data-testid=my-sars] li:has-text('{sar_id}')")
    assert "Thank you: specific and timely." in page.inner_text("[data-testid=my-sars]")
    assert "no nexus" not in tab.snapshot()

    public = open_tab(browser, workbench.url)
    public.page.goto(workbench.url + "#/tip")
    public.page.select_option("[data-testid=behavior]", "AVIATION")
    public.page.fill("input[type=datetime-local]", "2026-11-30T22:00")
    public.page.fill("textarea[name=narrative]", "A drone circled the water tower twice after dark.")
    public.page.fill("input[name=address]", "Clovis water tower")
    public.page.get_by_role("button", name="Send").click()
    assert "Received: SAR-" in public.page.inner_text("[data-testid=received]")
    assert not public.off_origin() and not public.console_errors


def api_get(wb: Workbench, key: str, path: str) -> Any:
    req = urllib.request.Request(wb.url.rstrip("/") + path, headers={"X-API-Key": key})
    with urllib.request.urlopen(req, timeout=30) as r:
        return orjson.loads(r.read())


def test_watch_officer_sees_the_shift(workbench: Workbench, browser: Any) -> None:
    tab = open_tab(browser, workbench.url)
    tab.login(workbench.key_of("supervisor"))
    page = tab.page
    page.wait_for_selector("text=Watch board")
    page.wait_for_selector("[data-testid=stream-state]:has-text('live')")
    until(lambda: int(page.inner_text("[data-testid=count-HIGH]")) > 0)
    # The board's figures come from their own request, which may answer after the first alert.
    until(lambda: page.inner_text("[data-testid=dead-letters]") != "…")
    assert page.inner_text("[data-testid=dead-letters]") == "3"  # the demo's three bad records
    shot(tab, "watch")
    assert_clean(tab)


def test_auditor_sees_the_views_just_made_and_the_chain_intact(workbench: Workbench, browser: Any) -> None:
    tab = open_tab(browser, workbench.url)
    tab.login(workbench.key_of("auditor"))
    page = tab.page
    page.wait_for_selector("[data-testid=audit-entries]")
    page.fill("form[aria-label='Audit filters'] input >> nth=0", "an-clovis")
    page.get_by_role("button", name="Filter").click()
    until(lambda: "neighbours" in page.inner_text("[data-testid=audit-entries]"))
    text = page.inner_text("[data-testid=audit-entries]")
    assert "login" in text and "entity" in text
    page.get_by_role("button", name="Verify chain").click()
    assert "Chain intact" in page.inner_text("[data-testid=verdict]", timeout=10_000)
    shot(tab, "auditor")
    assert not tab.off_origin() and not tab.console_errors


def test_administrator_adds_a_user_whose_new_key_logs_in(workbench: Workbench, browser: Any) -> None:
    tab = open_tab(browser, workbench.url)
    tab.login(workbench.key_of("administrator"))
    page = tab.page
    form = page.locator("form[aria-label='Add a user']")
    form.locator("input >> nth=0").fill("an-new")
    form.locator("input >> nth=1").fill("N. Newcomer")
    form.get_by_role("button", name="Add user").click()
    row = page.locator("[data-testid=users] tr", has_text="an-new")
    page.once("dialog", lambda d: d.accept("case:ROB-2026-014"))  # need-to-know for the series
    row.get_by_role("button", name="add").click()
    row.get_by_text("case ROB-2026-014").wait_for()
    row.get_by_role("button", name="New key").click()
    key = page.inner_text("[data-testid=new-key]").split(": ", 1)[1]
    assert all(b"REYES" not in b for _, b in tab.bodies)  # an administrator reads no holdings
    shot(tab, "admin")
    other = open_tab(browser, workbench.url)
    other.login(key)
    assert "N. Newcomer" in other.page.inner_text("[data-testid=who]")
    # a member of the series' case reads its AMBER report whole: the membership took effect
    other.page.goto(workbench.url + "#/search?q=pharmacy")
    other.page.wait_for_selector("[data-testid=hit]")
    assert "RPT-2026-0412" in other.page.inner_text(".hits")


def _vehicle_id(wb: Workbench) -> str:
    req = urllib.request.Request(
        wb.url + "api/v1/search?q=8ABC123&type=sar", headers={"X-API-Key": wb.key_of("analyst", OFFICER_AGENCY)}
    )
    with urllib.request.urlopen(req) as r:
        hits = orjson.loads(r.read())["hits"]
    ids = hits[0]["fields"]["entities"]
    for i in ids:
        req = urllib.request.Request(
            wb.url + f"api/v1/entities/{i}", headers={"X-API-Key": wb.key_of("analyst", OFFICER_AGENCY)}
        )
        with urllib.request.urlopen(req) as r:
            if orjson.loads(r.read())["entity"]["subtype"] == "vehicle":
                return str(i)
    pytest.fail("no vehicle entity in the demo's SAR")


BOLO_WORDS = "Grey Honda Civic seen leaving the Herndon pharmacy lot at speed"


def test_a_bolo_is_drafted_approved_published_and_reaches_the_terminal_live(workbench: Workbench, browser: Any) -> None:
    """Clovis's analyst drafts a BOLO in the editor from its template; the watch officer passes
    review, approves and publishes it; the Clovis officer's terminal shows it live with the plate;
    Fresno's analyst, not on its list and not named, receives nothing of it."""
    tab = open_tab(browser, workbench.url)
    tab.login(workbench.key_of("analyst", OFFICER_AGENCY))
    page = tab.page
    page.goto(workbench.url + "#/product-new?type=bolo")
    page.wait_for_selector("form[aria-label='New product']")
    page.fill("form[aria-label='New product'] label:has-text('Title') input", "Grey Honda Civic, CA 8ABC123")
    page.fill("label:has-text('plate') input", "8ABC123")
    page.fill("[aria-label='Subject or vehicle paragraph 1']", BOLO_WORDS)
    page.fill("[aria-label='Officer safety paragraph 1']", "Suspects displayed a handgun.")
    page.fill("[aria-label='On contact paragraph 1']", "Identify occupants; call Robbery.")
    page.get_by_role("button", name="Save draft").click()
    page.wait_for_selector("[data-testid=banner]")
    assert "TLP:AMBER // LES // ORIGINATOR CA0430000" in page.inner_text("[data-testid=banner]")
    pid = page.url.rsplit("/", 1)[1]
    page.get_by_role("link", name="Edit draft").click()
    page.wait_for_selector("form[aria-label='Edit product']")
    page.fill("form[aria-label='Edit product'] label:has-text('Title') input", "Grey Honda Civic, CA 8ABC123 (armed)")
    page.get_by_role("button", name="Save draft").click()
    page.wait_for_selector("h2:has-text('(armed)')")
    page.get_by_role("button", name="Submit for peer review").click()
    page.wait_for_selector("text=Waiting for a peer")

    officer = open_tab(browser, workbench.url, width=375, height=812)
    officer.login(workbench.key_of("patrol_officer"))
    officer.page.wait_for_selector("[data-testid=stream-state]:has-text('live')")
    watch = open_tab(browser, workbench.url)
    watch.login(workbench.key_of("supervisor"))
    wp = watch.page
    wp.goto(workbench.url + f"#/product/{pid}")
    then = {"Pass review": "Approve", "Approve": "Publish", "Publish": "New revision"}
    for button, next_one in then.items():
        wp.get_by_role("button", name=button).click()
        wp.wait_for_selector(f"button:has-text('{next_one}')")
    published = time.monotonic()
    card = officer.page.locator("[data-testid=bolo]", has_text="8ABC123")
    card.wait_for(timeout=5_000)
    assert time.monotonic() - published < 3.0 and BOLO_WORDS in card.inner_text()
    wp.wait_for_selector("[data-testid=deliveries]")
    card.get_by_role("button", name="Useful").click()
    officer.page.wait_for_selector("text=feedback recorded")

    fresno = open_tab(browser, workbench.url)
    fresno.login(workbench.key_of("analyst", OWNER))
    fresno.page.goto(workbench.url + f"#/product/{pid}")
    fresno.page.wait_for_selector("[role=alert]")
    fresno.page.goto(workbench.url + "#/products")
    fresno.page.wait_for_selector("[data-testid=library]")
    time.sleep(0.5)
    fresno.snapshot()
    assert BOLO_WORDS.encode() not in fresno.received()
    assert not officer.off_origin() and not officer.console_errors

    # Fresno's analyst: the robbery suspect's risk from Fresno's own reports, and a threat
    # assessment drafted from it in one step
    fp = fresno.page
    fp.goto(workbench.url + "#/threats")
    row = fp.locator("[data-testid=risk] tr", has_text="SMITH")
    row.first.wait_for(timeout=15_000)
    assert "violent crime" in row.first.inner_text()
    row.first.get_by_role("button", name="Draft threat assessment").click()
    fp.wait_for_selector("[data-testid=banner]")
    assert "Threat assessment: SMITH" in fp.inner_text("h2") and "LES" in fp.inner_text("[data-testid=banner]")


AXE = Path(__file__).resolve().parents[2] / "web" / "node_modules" / "axe-core" / "axe.min.js"
VIEWS = {  # role (agency) -> the views it works in
    ("patrol_officer", None): ["#/field"],
    ("analyst", OFFICER_AGENCY): ["#/search?q=civic", "#/graph", "#/map", "#/timeline/series/ROB-2026-014", "#/report"],
    ("analyst", FUSION_CENTRE): [
        "#/sars",
        "#/requirements",
        "#/taskings",
        "#/products",
        "#/product-new?type=bolo",
        "#/programme",
        "#/inbox",
        "#/cases",
        "#/rfis",
        "#/operations",
        "#/partners",
        "#/messages",
        "#/playbooks",
    ],
    ("supervisor", None): ["#/watch", "#/handoff"],
    ("auditor", None): ["#/audit"],
    ("administrator", None): ["#/admin"],
}


def api_put(wb: Workbench, key: str, path: str, body: dict[str, Any]) -> Any:
    req = urllib.request.Request(
        wb.url.rstrip("/") + path,
        data=orjson.dumps(body),
        method="PUT",
        headers={"X-API-Key": key, "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=30) as r:
        return orjson.loads(r.read())


def test_two_agencies_share_a_case_and_a_lapsed_member_never_receives_its_ci(
    workbench: Workbench, browser: Any
) -> None:
    """Fresno's analyst opens a case in the workbench and names Clovis's analyst; a criminal-
    intelligence message never reaches Clovis's analyst, whose 28 CFR 23 training has lapsed: not
    in the DOM, not in any response, not on the live stream; the ordinary message arrives live."""
    secret = b"Informant RIVERA-7 says Friday"
    admin = workbench.key_of("administrator")
    training = "/api/v1/admin/training/an-clovis/28cfr23"
    api_put(workbench, admin, training, {"completed": "2024-01-01T00:00:00Z", "expires": "2025-01-01T00:00:00Z"})
    lead = open_tab(browser, workbench.url)
    lead.login(workbench.key_of("analyst", OWNER))
    lp = lead.page
    lp.goto(workbench.url + "#/cases")
    lp.fill("form[aria-label='Open a case'] label:has-text('Title') input", "Pharmacy robbery series")
    lp.get_by_role("button", name="Open").click()
    lp.wait_for_selector("form[aria-label='Add a member']")
    case_url = lp.url
    lp.fill("form[aria-label='Add a member'] input", "an-clovis")
    lp.get_by_role("button", name="Add member").click()
    lp.wait_for_selector("[data-testid=members] li:has-text('an-clovis')")
    member = open_tab(browser, workbench.url)
    member.login(workbench.key_of("analyst", OFFICER_AGENCY))
    member.page.goto(case_url)
    member.page.wait_for_selector("form[aria-label='Post a message']")
    for text, ci in ((secret.decode(), True), ("Briefing at 0600, Shaw Ave lot", False)):
        lp.fill("form[aria-label='Post a message'] textarea", text)
        lp.locator("form[aria-label='Post a message'] input[type=checkbox]").set_checked(ci)
        lp.get_by_role("button", name="Send").click()
        lp.wait_for_selector(f"[data-testid=messages] li:has-text('{text[:20]}')")
    member.page.wait_for_selector("[data-testid=messages] li:has-text('Briefing at 0600')", timeout=10_000)
    assert secret.decode() in lp.inner_text("[data-testid=messages]")
    shot(lead, "case")
    member.snapshot()
    assert secret not in member.received()
    assert any(b"Briefing at 0600" in b for u, b in member.bodies if u == "sse")  # it came live
    lp.goto(workbench.url + f"#/entity/{_vehicle_id(workbench)}")  # the Civic, into the case from its profile
    lp.get_by_role("button", name="Add to case").click()
    lp.wait_for_selector(".to-case [role=status]:has-text('Done')")
    lp.goto(case_url)
    lp.wait_for_selector("[data-testid=activity] li:has-text('link:entity')")
    api_put(workbench, admin, training, {"completed": "2026-01-01T00:00:00Z", "expires": "2030-01-01T00:00:00Z"})


def test_axe_finds_no_serious_violations_in_any_view(workbench: Workbench, browser: Any) -> None:
    if not AXE.is_file():
        pytest.fail("web/node_modules/axe-core is missing: npm ci in web/")
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)  # to inject axe-core only
    page = ctx.new_page()
    found = []
    for (role, agency), views in VIEWS.items():
        page.goto(workbench.url)
        page.wait_for_selector("#apikey, nav[aria-label=Views]")
        if page.locator("#apikey").count() == 0:
            page.get_by_role("button", name="Log out").click()
        page.fill("#apikey", workbench.key_of(role, agency))
        page.click("form[aria-label='Log in'] button[type=submit]")
        page.wait_for_selector("nav[aria-label=Views]")
        for view in views:
            page.goto(workbench.url + view)
            page.wait_for_selector("#main > *")
            time.sleep(0.5)
            page.add_script_tag(path=str(AXE))
            result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
            found += [
                (role, view, v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
                for v in result["violations"]
                if v["impact"] in ("serious", "critical")
            ]
    ctx.close()
    assert not found, found


def test_a_manual_playbook_step_is_answered_in_the_workbench(workbench: Workbench, browser: Any) -> None:
    """The analyst runs a playbook whose step asks the supervisor; the supervisor answers it in the
    workbench and the trace shows it done. Another agency's RED playbook never reaches them."""
    from argus.playbooks.samples import Builder, block_ip

    red = block_ip("https://fw.example.org/.well-known/openc2", tlp="RED", name="REDBOOK-FRESNO-ONLY")
    api_post(workbench, workbench.key_of("analyst", OWNER), "/api/v1/playbooks", red)
    b = Builder("Approve the perimeter block").var("__approved__", "bool", "false")
    sup = b.agent("group", "supervisor")
    end = b.step("end", "end")
    ask = b.step(
        "action",
        "approve the block",
        agent=sup,
        out_args=["__approved__"],
        on_completion=end,
        commands=[{"type": "manual", "command": "Approve blocking 198.51.100.7 at the perimeter"}],
    )
    doc = b.build(b.step("start", "start", on_completion=ask))
    analyst = workbench.key_of("analyst", OFFICER_AGENCY)
    api_post(workbench, analyst, "/api/v1/playbooks", doc)
    ex = api_post(workbench, analyst, f"/api/v1/playbooks/{doc['id']}/executions", {"variables": {}})
    tab = open_tab(browser, workbench.url)
    tab.login(workbench.key_of("supervisor"))
    page = tab.page
    page.goto(workbench.url + "#/playbooks")
    page.wait_for_selector("[data-testid=tasks] >> text=Approve blocking 198.51.100.7", timeout=15000)
    page.check("[data-testid=tasks] input[type=checkbox]")
    shot(tab, "playbook-task")
    page.click("[data-testid=tasks] button[type=submit]")
    page.goto(workbench.url + f"#/execution/{ex['id']}")
    page.wait_for_selector("h1 >> text=completed", timeout=15000)
    assert "approve the block" in page.inner_text("[data-testid=trace]")
    shot(tab, "playbook-trace")
    page.goto(workbench.url + "#/playbooks")
    page.wait_for_selector("[data-testid=playbooks] >> text=Approve the perimeter block")
    page.click("[data-testid=playbooks] >> text=Approve the perimeter block")
    page.wait_for_selector(".workflow[aria-label='The workflow: 3 steps'] canvas")
    shot(tab, "playbook")
    assert b"REDBOOK-FRESNO-ONLY" not in tab.received() and "REDBOOK" not in page.content()
    assert_clean(tab)
