"""The API's own metrics at /metrics: requests and latency per route template (never the path
as asked, which would carry ids), SSE subscribers, and the audit trail's write latency (recorded
by argus.security.audit for every process). Labels name routes and outcomes, never people."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest

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


def instrument(app: FastAPI) -> None:
    @app.middleware("http")
    async def measure(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        start = time.perf_counter()
        status = 500
        try:
            response = await call_next(request)
            status = response.status_code
            return response
        finally:
            route = request.scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            REQUESTS.labels(template, request.method, str(status)).inc()
            LATENCY.labels(template, request.method).observe(time.perf_counter() - start)

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
