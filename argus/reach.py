"""Whether the servers a topology names answer, asked quickly and quietly before anything starts.

Without this, a Kafka broker that is not there shows as half a minute of librdkafka log lines and
then a traceback, and a missing OpenSearch or Neo4j as a client's stack. A process asks each
distinct server once with a short timeout and, if one does not answer, says so in one line naming
the URL and what to check, and exits with EX_UNAVAILABLE (69).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

EX_UNAVAILABLE = 69
HINTS = {
    "kafka": "is the broker running, and is its advertised listener reachable from this host?",
    "neo4j": "is Neo4j running with Bolt on that port, and are ARGUS_NEO4J_USER/_PASSWORD right?",
    "opensearch": "is OpenSearch running on that port (and TLS/credentials as the URL says)?",
}


@dataclass(frozen=True)
class Unreachable:
    kind: str  # the store kind (bus, graph, search, ...)
    url: str
    why: str
    server: str

    def line(self) -> str:
        return f"cannot reach {self.server} for the {self.kind} at {self.url}: {self.why}; {HINTS[self.server]}"


def _kafka(url: str, timeout: float) -> None:
    from confluent_kafka.admin import AdminClient

    quiet = logging.getLogger("argus.reach.kafka")
    quiet.setLevel(logging.CRITICAL)  # librdkafka's own retries would fill the terminal
    quiet.propagate = False
    admin = AdminClient({"bootstrap.servers": urlsplit(url).netloc, "logger": quiet, "log_level": 0})
    admin.list_topics(timeout=timeout)


def _neo4j(url: str, timeout: float) -> None:
    import os

    from neo4j import GraphDatabase

    user = os.environ.get("ARGUS_NEO4J_USER")
    auth = (user, os.environ.get("ARGUS_NEO4J_PASSWORD", "")) if user else None
    base = url.split("?", 1)[0]
    with GraphDatabase.driver(base, auth=auth, connection_timeout=timeout, max_connection_lifetime=timeout) as d:
        d.verify_connectivity()


def _opensearch(url: str, timeout: float) -> None:
    import httpx

    parts = urlsplit(url)
    r = httpx.get(f"{parts.scheme}://{parts.netloc}/", timeout=timeout, verify=False)  # reachability only
    if r.status_code >= 500:
        raise ConnectionError(f"HTTP {r.status_code}")


PROBES = {"kafka": ("kafka", _kafka), "neo4j": ("neo4j", _neo4j), "bolt": ("neo4j", _neo4j),
          "http": ("opensearch", _opensearch), "https": ("opensearch", _opensearch)}  # fmt: skip


def probe(kind: str, url: str, timeout: float = 5.0) -> Unreachable | None:
    """None if the server behind `url` answers (or it is embedded), else why not."""
    scheme = url.split(":", 1)[0]
    if scheme not in PROBES:
        return None
    server, ask = PROBES[scheme]
    try:
        ask(url, timeout)
    except ImportError:
        return None  # the registry reports the missing extra with its own message
    except Exception as exc:
        return Unreachable(kind, url, f"{type(exc).__name__}: {str(exc)[:160]}", server)
    return None


def servers(topo: object, kinds: tuple[str, ...] | None = None) -> list[tuple[str, str]]:
    """(kind, url) of the bus and every store the topology names, each distinct server once."""
    from argus.topology import STORE_KINDS

    pairs = [("bus", topo.bus_url)] + [(k, topo.store_url(k)) for k in STORE_KINDS]  # type: ignore[attr-defined]
    seen: set[str] = set()
    out = []
    for kind, url in pairs:
        if kinds is not None and kind not in kinds:
            continue
        key = urlsplit(url).netloc or url
        if key not in seen:
            seen.add(key)
            out.append((kind, url))
    return out


def unreachable(topo: object, timeout: float = 5.0) -> list[Unreachable]:
    return [u for kind, url in servers(topo) if (u := probe(kind, url, timeout)) is not None]
