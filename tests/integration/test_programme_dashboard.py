"""The programme-effectiveness dashboard against a real Prometheus: the product metrics as
`argus api` exports them (from a product store with published products, deliveries, reads and
feedback) are scraped by Debian's Prometheus, and every panel's query answers with data, the
read rate and outcomes with the values the store holds."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry, generate_latest

from argus.api.product_metrics import ProductCollector
from argus.security.policy import Marking
from argus.stores.products import Delivery, Feedback
from argus.stores.sql_products import EmbeddedProducts
from argus.workflows.product_model import Product
from tests.servers import free_port

OPS = Path(__file__).resolve().parents[2] / "ops"
T0 = datetime.now(UTC) - timedelta(days=2)


def prometheus() -> str:
    tool = shutil.which("prometheus")
    if tool is None:
        if os.environ.get("CI") == "true":
            pytest.fail("prometheus not found: apt-get install prometheus (Debian)")
        pytest.skip("prometheus not found: apt-get install prometheus (Debian)")
    return tool


class _Svc:
    def __init__(self, store: EmbeddedProducts) -> None:
        self.store = store

    def products(self) -> EmbeddedProducts:
        return self.store


def holdings(tmp: Path) -> EmbeddedProducts:
    s = EmbeddedProducts(tmp / "products.db")
    for i, kind in enumerate(("bolo", "bolo", "situational_awareness")):
        m = Marking("CAFC00000", "GREEN")
        s.create(Product(id=f"p{i}", series=f"p{i}", revision=1, type=kind, title="t", marking=m, author="an",
                         created_at=T0, state="PUBLISHED", published_at=T0 + timedelta(hours=3)))  # fmt: skip
    at = T0 + timedelta(hours=4)
    s.deliver([Delivery("p0", "o1", "CA0190000", "field", "DELIVERED", "unit", 0, at, read_at=at),
               Delivery("p0", "o2", "CA0190000", "field", "DELIVERED", "unit", 0, at),
               Delivery("p0", "o3", "CA0200000", "field", "WITHHELD", "barred", 0, at)])  # fmt: skip
    s.put_feedback(Feedback("p0", "o1", "CA0190000", 5, True, "arrest", "", at))
    s.put_feedback(Feedback("p0", "o2", "CA0190000", 3, False, "none", "", at))
    return s


@pytest.fixture
def exporter(tmp_path: Path) -> Iterator[int]:
    registry = CollectorRegistry()
    collector = ProductCollector()
    collector.bind(_Svc(holdings(tmp_path)))
    registry.register(collector)  # type: ignore[arg-type]

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = generate_latest(registry)
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    port = free_port()
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield port
    server.shutdown()


def test_every_programme_panel_answers_from_a_real_prometheus(exporter: int, tmp_path: Path) -> None:
    tool = prometheus()
    cfg = tmp_path / "prometheus.yml"
    cfg.write_text(json.dumps({"global": {"scrape_interval": "1s"}, "scrape_configs": [
        {"job_name": "argus-api", "static_configs": [{"targets": [f"127.0.0.1:{exporter}"]}]}]}))  # fmt: skip
    port = free_port()
    proc = subprocess.Popen([tool, f"--config.file={cfg}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                             f"--web.listen-address=127.0.0.1:{port}"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)  # fmt: skip
    url = f"http://127.0.0.1:{port}/api/v1/query"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                # Prometheus answers 503 "Service Unavailable" until its TSDB has opened.
                resp = httpx.get(url, params={"query": "argus_products"}, timeout=2)
                if resp.status_code == 200 and resp.json()["data"]["result"]:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "Prometheus never scraped the product metrics"
            time.sleep(0.3)
        dash = json.loads((OPS / "grafana" / "argus-programme.json").read_text())
        answers: dict[str, list[dict[str, Any]]] = {}
        for panel in dash["panels"]:
            for t in panel["targets"]:
                r = httpx.get(url, params={"query": t["expr"]}, timeout=5).json()
                assert r["status"] == "success" and r["data"]["result"], (panel["title"], r)
                answers[panel["title"]] = r["data"]["result"]
    finally:
        proc.terminate()
        proc.wait(10)
    assert float(answers["Read rate"][0]["value"][1]) == 0.5
    assert float(answers["Hours from request to publication (mean)"][0]["value"][1]) == 3.0
    reported = next(v for k, v in answers.items() if k.startswith("Reported"))
    outcomes = {x["metric"]["outcome"]: float(x["value"][1]) for x in reported}
    assert outcomes == {"arrest": 1.0, "none": 1.0}
