"""Prometheus metrics per node. Labels carry node and topic names only, never personal data."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram, start_http_server

RECORDS_IN = Counter("argus_records_in_total", "Records a node consumed", ["node", "topic"])
RECORDS_OUT = Counter("argus_records_out_total", "Records a node emitted", ["node", "topic"])
ERRORS = Counter("argus_errors_total", "Processing attempts that raised", ["node"])
DEAD_LETTERS = Counter("argus_dead_letters_total", "Records sent to the dead-letter topic", ["node"])
BATCH_SECONDS = Histogram(
    "argus_batch_seconds",
    "Time to process and commit one batch",
    ["node"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
# The bus's commit alone (Kafka: one transaction's round trips): what a Kafka worker mostly waits
# on; slow ones point at the broker.
COMMIT_SECONDS = Histogram(
    "argus_commit_seconds",
    "Time for the bus to commit one batch (on Kafka, one transaction)",
    ["node"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 30, 90),
)
# The thread CPU clock around each of a task's turns: reading, decoding, processing, encoding,
# and committing, on whichever thread commits. Not counted: the Kafka client's own threads
# (fetching, compressing, sending) and a task's recovery when it is taken over.
TASK_CPU = Counter("argus_task_cpu_seconds_total", "CPU time spent running a task's batches", ["task"])
RECORD_LATENCY = Histogram(
    "argus_record_latency_seconds",
    "From a record's append to the commit of the node that read it",
    ["node"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30),
)
QUERY_TO_ALERT = Histogram(
    "argus_query_to_alert_seconds",
    "From a field query's arrival to its alert's commit",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2),
)
BUS_CLEANED = Counter(
    "argus_bus_records_cleaned_total",
    "Records the embedded bus deleted by a topic's retention or compaction (its log cleaner)",
    ["topic"],
)
CONSUMER_LAG = Gauge("argus_consumer_lag_records", "Records waiting for a node", ["node", "topic"])

# Tasks (argus/runtime/tasks.py): what this process runs. Summed over a group's workers, every
# task should be held exactly once; a sum short of the plan is work no one is doing.
TASKS_PLANNED = Gauge("argus_tasks_planned", "Tasks the topology splits into (each worker of a group reports the same)")
TASKS_OWNED = Gauge("argus_tasks_owned", "1 for each task this process runs", ["task"])
TASK_TAKEOVER_SECONDS = Histogram(
    "argus_task_takeover_seconds",
    "Per assignment: fencing the tasks' previous owners and reading back their state and offsets",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
)
GROUP_EVENTS = Counter(
    "argus_group_events_total",
    "Group events this worker went through: assigned, revoked, lost, fenced (a task's commit refused)",
    ["event"],
)


def start_at_zero(node: str, inputs: list[str], outputs: list[str]) -> None:
    """Create a node's labelled counters at 0, so a dashboard shows 0, not "No data", and a rate
    or increase over them is defined from the start."""
    ERRORS.labels(node)
    DEAD_LETTERS.labels(node)
    for t in inputs:
        RECORDS_IN.labels(node, t)
    for t in outputs:
        RECORDS_OUT.labels(node, t)


def feed_at_zero(feed: str) -> None:
    """A TAXII feed's counters at 0 from the moment it is polled."""
    TAXII_OBJECTS.labels(feed)
    TAXII_PAGES.labels(feed)
    for kind in ("network", "timeout", "forbidden", "error", "malformed"):
        TAXII_ERRORS.labels(feed, kind)


def serve(port: int, host: str = "127.0.0.1") -> None:
    """Expose /metrics (prometheus_client's own threaded server) on `host`: loopback on a laptop,
    every interface (0.0.0.0) where Prometheus scrapes from another container or host."""
    start_http_server(port, addr=host)


# TAXII feeds (connectors/taxii.py): labelled by the feed's configured name only.
TAXII_OBJECTS = Counter("argus_taxii_objects_total", "STIX objects fetched from a TAXII feed", ["feed"])
TAXII_PAGES = Counter("argus_taxii_pages_total", "TAXII pages fetched", ["feed"])
TAXII_ERRORS = Counter(
    "argus_taxii_errors_total", "Failed TAXII fetches by kind (HTTP status, network)", ["feed", "kind"]
)
TAXII_LAST_SUCCESS = Gauge(
    "argus_taxii_last_success_timestamp_seconds", "When a feed was last read to its end", ["feed"]
)
TAXII_LAG = Gauge("argus_taxii_lag_seconds", "Seconds since a feed was last read to its end", ["feed"])
