"""Programme effectiveness as Prometheus metrics: read from the product store when Prometheus
scrapes `argus api` (cached a few seconds), so every API process reports the same totals from the
system of record rather than counters that restart with the process. Labels name product types,
agencies, channels and outcomes, never people or products."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from prometheus_client import REGISTRY
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric, SummaryMetricFamily

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
TTL = 10.0


class ProductCollector:
    def __init__(self) -> None:
        self.svc: Any = None
        self._lock = threading.Lock()
        self._at = 0.0
        self._got: dict[str, Any] | None = None

    def bind(self, svc: Any) -> None:
        with self._lock:
            self.svc, self._got, self._at = svc, None, 0.0

    def _production(self) -> dict[str, Any] | None:
        with self._lock:
            if self.svc is None:
                return None
            if self._got is None or time.monotonic() - self._at > TTL:
                self._got = self.svc.products().production(EPOCH)
                self._at = time.monotonic()
            return self._got

    def collect(self) -> Iterator[Metric]:
        made = GaugeMetricFamily("argus_products", "Products by type, originating agency and state",
                                 labels=["type", "agency", "state"])  # fmt: skip
        hours = SummaryMetricFamily("argus_product_publication_hours", "Hours from request (or draft) to publication")
        sent = CounterMetricFamily("argus_product_deliveries", "Product deliveries by channel and status",
                                   labels=["channel", "status"])  # fmt: skip
        read = CounterMetricFamily("argus_product_reads", "Delivered products read, by channel", labels=["channel"])
        feedback = CounterMetricFamily("argus_product_feedback", "Feedback on products by reported outcome",
                                       labels=["outcome"])  # fmt: skip
        useful = CounterMetricFamily("argus_product_feedback_useful", "Sum of usefulness scores (1-5) by outcome",
                                     labels=["outcome"])  # fmt: skip
        actionable = CounterMetricFamily("argus_product_feedback_actionable", "Feedback saying it was actionable",
                                         labels=["outcome"])  # fmt: skip
        got = self._production()
        if got is not None:
            for p in got["products"]:
                made.add_metric([p["type"], p["agency"], p["state"]], p["count"])
            h = got["publication_hours"]
            hours.add_metric([], h["count"], h["sum"])
            for d in got["deliveries"]:
                sent.add_metric([d["channel"], d["status"]], d["count"])
                if d["status"] == "DELIVERED":
                    read.add_metric([d["channel"]], d["read"])
            for f in got["feedback"]:
                feedback.add_metric([f["outcome"]], f["count"])
                useful.add_metric([f["outcome"]], f["useful_sum"])
                actionable.add_metric([f["outcome"]], f["actionable"])
        yield from (made, hours, sent, read, feedback, useful, actionable)


PRODUCTS = ProductCollector()
REGISTRY.register(PRODUCTS)  # type: ignore[arg-type]
