"""The TAXII 2.1 poller against a real TAXII server (medallion, the OASIS reference server):
paging with `next` across many pages whose date_added ties straddle page boundaries, resuming
exactly after a SIGKILL and after the server itself restarts (forgetting its paging sessions),
backing off on 429/503 with Retry-After, refusing bad credentials, and feeds added at run time."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import yaml
from prometheus_client import REGISTRY

from argus.feeds import FeedRegistry, FeedSpec
from argus.runtime.core import Runtime
from argus.topology import load_topology
from connectors.taxii import retry_after
from tests.e2e.conftest import argus
from tests.servers.taxii import COLLECTION, PASSWORD, USER, Medallion, indicators

PARTNER = "USDHS0000"
N, PER_STAMP, PAGE = 173, 7, 20  # 9 pages; 7 objects per timestamp, so ties cross page boundaries


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Medallion]:
    m = Medallion(tmp_path_factory.mktemp("medallion"), indicators(N, PER_STAMP), PAGE).start()
    yield m
    m.stop()


def feed(url: str, name: str = "partner", **over: Any) -> dict[str, Any]:
    spec = {
        "name": name,
        "url": url,
        "collection": COLLECTION,
        "agency": PARTNER,
        "username": USER,
        "password": PASSWORD,
        "page_size": PAGE,
        "poll_interval": 3600,
    }
    spec.update(over)
    return spec


def topology(
    root: Path, feeds: list[dict[str, Any]], batch_size: int = 7, allow: tuple[str, ...] = ("127.0.0.0/8",)
) -> Path:
    doc = {
        "name": "taxii-test",
        "data_dir": "data",
        "dead_letter_topic": "deadletters",
        "topics": {
            "stix.objects": {"schema": "stix_object.v1", "partitions": 2},
            "purges": {"schema": "purge.v1", "partitions": 1, "external": True},
            "deadletters": {"schema": "dead_letter.v1", "partitions": 1},
        },
        "nodes": {
            "partners": {
                "use": "taxii",
                "outputs": ["stix.objects"],
                "batch_size": batch_size,  # many commits, so a restart lands mid-page
                # the test partner is on loopback, which analysts' feeds may reach only if allowed
                "config": {"feeds": feeds, "poll_interval": 0.01, "feed_allow": list(allow)},
            },
            "stix_sink": {"use": "stix_store", "inputs": ["stix.objects", "purges"]},
        },
    }
    root.mkdir(parents=True, exist_ok=True)
    path = root / "topology.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def drive(rt: Runtime, until: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not until():
        assert time.monotonic() < deadline, "timed out"
        if rt.step() == 0:
            time.sleep(0.005)


def ids_on_topic(rt: Runtime) -> list[str]:
    return [r.body["stix_id"] for r in rt.read_topic("stix.objects")]


def expected_ids() -> set[str]:
    return {o["id"] for o, _ in indicators(N, PER_STAMP)}


def metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_pages_through_the_collection_once_and_resumes_after_the_last_date_added(
    server: Medallion, tmp_path: Path
) -> None:
    topo = load_topology(topology(tmp_path, [feed(server.url, "once")]))
    before = metric("argus_taxii_pages_total", feed="once")
    with Runtime(topo).open() as rt:
        rt.run_until_idle(max_seconds=60)
        got = ids_on_topic(rt)
        assert len(got) == N and set(got) == expected_ids()
        assert rt.hosts["partners"].state.get("feed:once") == {
            "after": indicators(N, PER_STAMP)[-1][1],
            "skip": 0,
        }
        rec = rt.read_topic("stix.objects")[0]
        assert rec.value["envelope"]["source_agency"] == PARTNER and rec.value["envelope"]["tlp"] == "GREEN"
    assert metric("argus_taxii_pages_total", feed="once") - before == -(-N // PAGE)
    assert metric("argus_taxii_last_success_timestamp_seconds", feed="once") > time.time() - 120

    # the next poll asks only for what was added after the last committed date_added
    with Runtime(topo).open() as rt:
        rt.run_until_idle(max_seconds=30)
        assert len(ids_on_topic(rt)) == N
    log = server.log.read_text().splitlines()
    assert any(f"added_after={indicators(N, PER_STAMP)[-1][1]}" in line for line in log[-3:])


def test_sigkill_mid_page_neither_skips_nor_repeats(server: Medallion, tmp_path: Path) -> None:
    path = topology(tmp_path, [feed(server.url, "killed")])
    killed = argus("run", "--until-idle", "-t", str(path), "--metrics-port", "0", fault="partners:before_commit:5")
    assert killed.returncode == -9, killed.stderr[-2000:]
    with Runtime(load_topology(path)).open() as rt:
        partial = ids_on_topic(rt)
        assert 0 < len(partial) < N  # four commits of 7 landed, the fifth died with the process
        rt.run_until_idle(max_seconds=60)
        got = ids_on_topic(rt)
    assert len(got) == N and set(got) == expected_ids()


def test_server_restart_mid_paging_resumes_from_the_committed_cursor(server: Medallion, tmp_path: Path) -> None:
    topo = load_topology(topology(tmp_path, [feed(server.url, "restarted")]))
    with Runtime(topo).open() as rt:
        drive(rt, lambda: len(ids_on_topic(rt)) >= 60)
        server.restart()  # its `next` sessions are gone; the poller asks again from its cursor
        rt.run_until_idle(max_seconds=60)
        got = ids_on_topic(rt)
    assert len(got) == N and set(got) == expected_ids()


class Flaky:
    """A real HTTP hop in front of the server that answers 429 (with Retry-After) and 503 on
    chosen requests, and records when each request came."""

    def __init__(self, upstream: str, faults: dict[int, tuple[int, dict[str, str]]]) -> None:
        self.times: list[float] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.times.append(time.monotonic())
                n = len(outer.times)
                if n in faults:
                    status, headers = faults[n]
                    self.send_response(status)
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                fwd = {k: self.headers[k] for k in ("Authorization", "Accept")}
                r = httpx.get(upstream + self.path, headers=fwd)
                self.send_response(r.status_code)
                for k in ("Content-Type", "X-TAXII-Date-Added-First", "X-TAXII-Date-Added-Last"):
                    if k in r.headers:
                        self.send_header(k, r.headers[k])
                self.send_header("Content-Length", str(len(r.content)))
                self.end_headers()
                self.wfile.write(r.content)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()


def test_backs_off_on_429_and_503_honouring_retry_after(server: Medallion, tmp_path: Path) -> None:
    upstream = f"http://127.0.0.1:{server.port}"
    flaky = Flaky(upstream, {2: (429, {"Retry-After": "1"}), 4: (503, {}), 5: (502, {})})
    try:
        topo = load_topology(topology(tmp_path, [feed(flaky.url + "/api1/", "flaky")]))
        with Runtime(topo).open() as rt:
            drive(rt, lambda: len(ids_on_topic(rt)) >= N)
            got = ids_on_topic(rt)
        t = flaky.times
        assert t[2] - t[1] >= 0.95  # the server said one second
        assert t[4] - t[3] >= 0.45 and t[5] - t[4] >= 0.9  # exponential, jittered: 1 s then 2 s at least halved
    finally:
        flaky.close()
    assert len(got) == N and set(got) == expected_ids()
    assert metric("argus_taxii_errors_total", feed="flaky", kind="429") == 1
    assert metric("argus_taxii_errors_total", feed="flaky", kind="503") == 1


def test_wrong_credentials_are_refused_and_nothing_is_read(server: Medallion, tmp_path: Path) -> None:
    topo = load_topology(topology(tmp_path, [feed(server.url, "denied", password="wrong")]))
    with Runtime(topo).open() as rt:
        drive(rt, lambda: metric("argus_taxii_errors_total", feed="denied", kind="401") >= 1, timeout=20)
        assert ids_on_topic(rt) == []
        assert rt.hosts["partners"].state.get("feed:denied") is None


def test_a_feed_added_at_run_time_is_polled_without_a_restart(server: Medallion, tmp_path: Path) -> None:
    topo = load_topology(topology(tmp_path, []))
    with Runtime(topo).open() as rt:
        rt.run_until_idle(max_seconds=5)
        assert ids_on_topic(rt) == []
        reg = FeedRegistry(topo.data_dir / "feeds.db")
        reg.add(FeedSpec(**feed(server.url, "added", types=["indicator"], password="env:PARTNER_PW")), "analyst")
        reg.close()
        node = rt.hosts["partners"].node
        node._refreshed = -1e9  # type: ignore[attr-defined]  # do not wait for the 5 s refresh
        os.environ["PARTNER_PW"] = PASSWORD
        try:
            drive(rt, lambda: len(ids_on_topic(rt)) >= N)
        finally:
            del os.environ["PARTNER_PW"]
    assert set(ids_on_topic_after(topo)) == expected_ids()


def test_an_analysts_feed_to_an_inside_address_is_never_fetched(server: Medallion, tmp_path: Path) -> None:
    """Server-side request forgery: without the administrator's allow-list the poller refuses an
    analyst's feed to loopback before any request, and says so (until-idle, feed list)."""
    topo = load_topology(topology(tmp_path, [], allow=()))
    reg = FeedRegistry(topo.data_dir / "feeds.db")
    reg.add(FeedSpec(**feed(server.url, "inside")), "analyst")
    reg.close()
    with Runtime(topo).open() as rt:
        rt.run_until_idle(max_seconds=5)
        assert ids_on_topic(rt) == []
        problems = rt.source_problems()
        assert any("inside" in p and "administrator must allow" in p for p in problems), problems
        state = rt.bus.load_state("partners")  # type: ignore[union-attr]
    assert state["status:inside"]["ok"] is False and "loopback" in state["status:inside"]["error"]


def ids_on_topic_after(topo: Any) -> list[str]:
    with Runtime(topo).open() as rt:
        return ids_on_topic(rt)


def test_retry_after_reads_seconds_and_http_dates() -> None:
    assert retry_after("120") == 120.0
    assert retry_after("Wed, 25 Nov 2026 12:00:30 GMT", now=1795608000.0) == 30.0
    assert retry_after("soon") is None and retry_after(None) is None


def test_feed_specs_check_what_they_can() -> None:
    with pytest.raises(ValueError, match="username and password"):
        FeedSpec(**{**feed("https://x.example/api1/"), "password": None})
    with pytest.raises(ValueError, match="http"):
        FeedSpec(**feed("ftp://x.example/api1/"))
    s = FeedSpec(**feed("https://x.example/api1", token="env:T", username=None, password=None))
    assert s.url.endswith("/") and s.verify is True
    assert s.public()["token"] == "env:T"
    assert FeedSpec(**feed("https://x.example/")).public()["password"] == "***"


def test_an_analyst_subscribes_through_the_api_and_the_running_pipeline_polls_it(
    server: Medallion, tmp_path: Path
) -> None:
    from argus.stores.stix import EmbeddedStixStore
    from tests.e2e.conftest import make_workdir
    from tests.e2e.test_api import Live

    topo = make_workdir(tmp_path, background=5)
    doc = yaml.safe_load(topo.read_text())
    doc["nodes"]["partner_feeds"]["config"]["feed_allow"] = ["127.0.0.0/8"]  # the test partner is on loopback
    topo.write_text(yaml.safe_dump(doc))
    live = Live(topo)
    try:
        spec = feed(server.url, "api-added", poll_interval=60, agency="CA0190000")
        officer = live.client("CA0190000", "patrol_officer")
        assert officer.post("/api/v1/feeds", json=spec).status_code == 403
        analyst = live.client("CA0190000", "analyst")
        r = analyst.post("/api/v1/feeds", json=spec)
        assert r.status_code == 201, r.text
        assert r.json()["password"] == "***" and PASSWORD not in r.text
        assert analyst.post("/api/v1/feeds", json=spec).status_code == 409
        bad = analyst.post("/api/v1/feeds", json={**spec, "name": "x", "url": "file:///etc/passwd"})
        assert bad.status_code == 422
        # another agency's name, and addresses inside the fusion centre, are refused
        assert analyst.post("/api/v1/feeds", json={**spec, "name": "y", "agency": "NV0020000"}).status_code == 403
        for inside in ("http://169.254.169.254/latest/", "http://10.0.0.5/api1/", "http://[::1]:9200/"):
            r = analyst.post("/api/v1/feeds", json={**spec, "name": "z", "url": inside})
            assert r.status_code == 422 and "administrator must allow" in r.json()["detail"], r.text
        other = live.client("NV0020000", "analyst")
        assert other.delete("/api/v1/feeds/api-added").status_code == 404  # not theirs to remove
        assert all(f["name"] != "api-added" for f in other.get("/api/v1/feeds").json()["feeds"])
        store = EmbeddedStixStore(live.topo.data_dir / "stix.db")
        deadline = time.monotonic() + 60
        while store.count() < N:
            assert time.monotonic() < deadline, f"only {store.count()} objects arrived"
            time.sleep(0.1)
        store.close()
        listed = analyst.get("/api/v1/feeds").json()["feeds"]
        mine = next(f for f in listed if f["name"] == "api-added")
        assert mine["source"] == "registry" and mine["cursor"] == {"after": indicators(N, PER_STAMP)[-1][1], "skip": 0}
        assert PASSWORD not in analyst.get("/api/v1/feeds").text
        assert analyst.delete("/api/v1/feeds/api-added").status_code == 204
        assert analyst.delete("/api/v1/feeds/api-added").status_code == 404
    finally:
        live.close()


def test_feed_cli_adds_lists_without_secrets_and_removes(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from argus.cli import app as cli
    from argus.security.audit import AuditLog
    from tests.e2e.conftest import make_workdir

    topo = make_workdir(tmp_path, background=1)
    t = ["-t", str(topo)]
    run = CliRunner().invoke
    args = ["feed", "add", "nb", "--url", "https://taxii.nb.example/api1", "--collection", COLLECTION]
    r = run(cli, [*args, "--agency", "CA0430000", "--by", "admin1", "--username", "u", "--password", "pw1", *t])
    assert r.exit_code == 0, r.output
    r = run(cli, [*args, "--agency", "CA0430000", "--by", "admin1", *t])
    assert r.exit_code == 2 and "exists" in r.output
    r = run(cli, ["feed", "list", "--json", *t])
    listed = [orjson.loads(line) for line in r.output.splitlines()]
    assert [(f["name"], f["source"], f["password"]) for f in listed] == [("nb", "registry", "***")]
    assert "pw1" not in r.output
    assert run(cli, ["feed", "remove", "nb", "--by", "admin1", *t]).exit_code == 0
    assert run(cli, ["feed", "list", *t]).output == ""
    data = load_topology(topo).data_dir
    assert [e["object"] for e in AuditLog.for_data_dir(data).query(action="admin", limit=10)] == ["feed:nb", "feed:nb"]


def _requests(server: Medallion) -> int:
    return server.log.read_text(errors="replace").count("GET /api1/collections/")


def test_a_hostile_object_on_a_feed_is_dead_lettered_and_the_partner_not_flooded(tmp_path: Path) -> None:
    objs = indicators(3, 1)
    objs[1][0]["x_deep"] = "__DEEP__"  # nested 300 deep once served
    (tmp_path / "partner").mkdir()
    m = Medallion(tmp_path / "partner", objs, PAGE)
    data = tmp_path / "partner" / "data.json"
    data.write_bytes(data.read_bytes().replace(b'"__DEEP__"', b'{"x":' * 300 + b"1" + b"}" * 300))
    m.start()
    try:
        topo = load_topology(topology(tmp_path / "argus", [feed(m.url, "deep", poll_interval=3600)]))
        with Runtime(topo).open() as rt:
            rt.run_until_idle(max_seconds=20)
            t0 = time.monotonic()
            while time.monotonic() - t0 < 3:  # the pipeline keeps running: the partner is not asked again
                if rt.step() == 0:
                    time.sleep(0.01)
            assert sorted(ids_on_topic(rt)) == sorted([objs[0][0]["id"], objs[2][0]["id"]])
            dead = [r.value for r in rt.read_topic("deadletters")]
            assert len(dead) == 1 and "levels deep" in dead[0]["reason"] and objs[1][0]["id"] in dead[0]["source"]
            assert rt.source_problems() == []
        assert _requests(m) <= 2, m.log.read_text()[-2000:]
    finally:
        m.stop()


def test_a_partner_that_never_answers_is_seen_failing_and_backed_off(tmp_path: Path) -> None:
    """A poll that times out shows: the feed's status, the runtime's problems (so `run
    --until-idle` exits non-zero), the error metric; and the partner is asked again only after a
    growing wait, never in a tight loop."""
    import socket
    import threading

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted: list[socket.socket] = []

    def hold() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            accepted.append(conn)  # never answered

    threading.Thread(target=hold, daemon=True).start()
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/api1/"
    topo = load_topology(topology(tmp_path, [feed(url, "silent", timeout=0.3, max_backoff=60)]))
    try:
        with Runtime(topo).open() as rt:
            rt.run_until_idle(max_seconds=10)
            problems = rt.source_problems()
            assert any("silent" in p and "timeout 0.3s" in p for p in problems), problems
            t0 = time.monotonic()
            while time.monotonic() - t0 < 4:
                if rt.step() == 0:
                    time.sleep(0.01)
            state = rt.bus.load_state("partners")  # type: ignore[union-attr]
        assert state["status:silent"]["ok"] is False and state["status:silent"]["failures"] >= 1
        assert metric("argus_taxii_errors_total", feed="silent", kind="network") >= 1
        assert 1 <= len(accepted) <= 4, len(accepted)  # backed off: 1 s, 2 s, 4 s... not 80 a second
    finally:
        listener.close()
        for c in accepted:
            c.close()
