"""The API's own metrics at /metrics: requests and latency per route template (never the path
as asked, which would carry ids), SSE subscribers, and the audit trail's write latency (recorded
by argus.security.audit for every process). Labels name routes and outcomes, never people."""

from __future__ import annotations

import time

from fastapi import FastAPI
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUESTS = Counter(
    "argus_api_requests_total", "API requests by route template, method and status", ["route", "method", "status"]
)
LATENCY = Histogram(
    "argus_api_request_seconds",
    "Time to the answer's first byte, by route template",
    ["route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
SSE_SUBSCRIBERS = Gauge("argus_api_sse_subscribers", "Alert streams open now")


class Measure:
    """Pure ASGI, as SecurityHeaders is: a `BaseHTTPMiddleware` (`@app.middleware("http")`) runs
    each request through memory streams and a task group of its own, which cost more than most
    of the API's handlers. Streams (SSE) pass through untouched; latency is to the first byte."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        answered = False

        def observe(status: int) -> None:
            route = scope.get("route")  # set by the router on this same scope
            template = getattr(route, "path", None) or "unmatched"
            REQUESTS.labels(template, scope["method"], str(status)).inc()
            LATENCY.labels(template, scope["method"]).observe(time.perf_counter() - start)

        async def send_measured(message: Message) -> None:
            nonlocal answered
            if message["type"] == "http.response.start" and not answered:
                answered = True
                observe(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_measured)
        finally:
            if not answered:
                observe(500)


def instrument(app: FastAPI) -> None:
    app.add_middleware(Measure)

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
