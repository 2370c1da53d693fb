"""OpenSearch answering 429 (write queue full): the store retries with backoff, then raises
Backpressure; the sink keeps every document and a later flush lands them all. A small proxy in
front of the real server refuses bulk requests on command."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from argus.contracts import Backpressure, Context
from argus.state import NodeState
from tests.contract.test_search_store import doc

pytestmark = pytest.mark.integration
REFUSAL = b'{"error":{"type":"rejected_execution_exception","reason":"write queue full"},"status":429}'


class Refusing:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.refuse = 0  # how many more bulk requests to answer 429
        self.bulk_calls = 0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a: object) -> None:
                pass

            def _forward(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if "_bulk" in self.path:
                    proxy.bulk_calls += 1
                    if proxy.refuse > 0:
                        proxy.refuse -= 1
                        msg = REFUSAL
                        self.send_response(429)
                        self.send_header("Content-Type", "application/json")
                        self.send_header("Content-Length", str(len(msg)))
                        self.end_headers()
                        self.wfile.write(msg)
                        return
                headers = {k: v for k, v in self.headers.items() if k.lower() in ("content-type", "accept")}
                r = httpx.request(self.command, proxy.upstream + self.path, content=body, headers=headers, timeout=30)
                self.send_response(r.status_code)
                for k in ("content-type",):
                    if k in r.headers:
                        self.send_header(k, r.headers[k])
                self.send_header("Content-Length", str(len(r.content)))
                self.end_headers()
                self.wfile.write(r.content)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _forward

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def proxy(opensearch_url: str) -> Iterator[Refusing]:
    p = Refusing(opensearch_url)
    yield p
    p.server.shutdown()


def test_429_is_retried_with_backoff(proxy: Refusing) -> None:
    from argus.stores.opensearch_search import OpenSearchStore

    store = OpenSearchStore(f"{proxy.url}?index=bp{uuid.uuid4().hex[:8]}&bulk_retries=4&backoff=0.01")
    proxy.refuse, proxy.bulk_calls = 2, 0
    store.upsert([doc(f"d{i}", f"robbery report {i}") for i in range(50)])
    store.commit()
    assert proxy.bulk_calls == 3 and store.count() == 50
    store.close()


def test_a_cluster_that_keeps_refusing_pauses_the_sink_and_loses_nothing(proxy: Refusing) -> None:
    from argus.stores.opensearch_search import OpenSearchStore
    from sinks.search import SearchSink
    from tests.conftest import rms_record
    from tests.unit.test_sinks import resolved

    store = OpenSearchStore(f"{proxy.url}?index=bp{uuid.uuid4().hex[:8]}&bulk_retries=1&backoff=0.01")
    sink = SearchSink(name="search_sink")
    sink.setup(Context("search_sink", NodeState(), stores={"search": store}))
    recs = resolved(*(rms_record(report_id=f"R-{i}") for i in range(20)))
    for r in recs:
        sink.add(r)
    proxy.refuse = 10**6
    with pytest.raises(Backpressure) as bp:
        sink.flush()
    assert bp.value.retry_after > 0 and store.count() == 0
    proxy.refuse = 0  # the cluster drains its queue; the runtime flushes again
    sink.flush()
    assert store.count() == len({r.envelope["id"] for r in recs})
    store.close()
