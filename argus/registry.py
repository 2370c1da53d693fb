"""Finding node classes and backends by name, imported only when a topology needs them."""

from __future__ import annotations

import importlib
from functools import cache
from importlib.metadata import entry_points
from typing import Any

from argus.contracts import Connector, Node, Processor, Sink


class RegistryError(LookupError):
    pass


ROLES: dict[str, type[Node]] = {"connector": Connector, "processor": Processor, "sink": Sink}

# Backends by URL scheme: "module:Class", with the pip extra that brings its dependency.
BACKENDS: dict[str, dict[str, tuple[str, str | None]]] = {
    "bus": {"embedded": ("argus.bus.embedded:EmbeddedBus", None), "kafka": ("argus.bus.kafka:KafkaBus", "kafka")},
    "graph": {
        "embedded": ("argus.stores.embedded_graph:EmbeddedGraphStore", None),
        "neo4j": ("argus.stores.neo4j_graph:Neo4jGraphStore", "neo4j"),
        "bolt": ("argus.stores.neo4j_graph:Neo4jGraphStore", "neo4j"),
    },
    "search": {
        "embedded": ("argus.stores.embedded_search:EmbeddedSearchStore", None),
        "http": ("argus.stores.opensearch_search:OpenSearchStore", "opensearch"),
        "https": ("argus.stores.opensearch_search:OpenSearchStore", "opensearch"),
    },
    "stix": {
        "embedded": ("argus.stores.stix:EmbeddedStixStore", None),
        "http": ("argus.stores.opensearch_stix:OpenSearchStixStore", "opensearch"),
        "https": ("argus.stores.opensearch_stix:OpenSearchStixStore", "opensearch"),
    },
    "feeds": {
        "embedded": ("argus.feeds:FeedRegistry", None),
        "http": ("argus.stores.opensearch_feeds:OpenSearchFeedRegistry", "opensearch"),
        "https": ("argus.stores.opensearch_feeds:OpenSearchFeedRegistry", "opensearch"),
    },
    "audit": {
        "embedded": ("argus.security.audit:AuditLog", None),
        "http": ("argus.stores.opensearch_audit:OpenSearchAuditLog", "opensearch"),
        "https": ("argus.stores.opensearch_audit:OpenSearchAuditLog", "opensearch"),
    },
    "identity": {
        "embedded": ("argus.stores.sqlite_identity:Directory", None),
        "http": ("argus.stores.opensearch_identity:OpenSearchDirectory", "opensearch"),
        "https": ("argus.stores.opensearch_identity:OpenSearchDirectory", "opensearch"),
    },
    "sessions": {
        "embedded": ("argus.security.sessions:Sessions", None),
        "http": ("argus.stores.opensearch_sessions:OpenSearchSessions", "opensearch"),
        "https": ("argus.stores.opensearch_sessions:OpenSearchSessions", "opensearch"),
    },
    "sar_reviews": {
        "embedded": ("argus.stores.sql_sar_reviews:EmbeddedSarReviews", None),
        "postgresql": ("argus.stores.sql_sar_reviews:PostgresSarReviews", "postgres"),
        "postgres": ("argus.stores.sql_sar_reviews:PostgresSarReviews", "postgres"),
    },
    "requirements": {
        "embedded": ("argus.stores.sql_requirements:EmbeddedRequirements", None),
        "postgresql": ("argus.stores.sql_requirements:PostgresRequirements", "postgres"),
        "postgres": ("argus.stores.sql_requirements:PostgresRequirements", "postgres"),
    },
    "products": {
        "embedded": ("argus.stores.sql_products:EmbeddedProducts", None),
        "postgresql": ("argus.stores.sql_products:PostgresProducts", "postgres"),
        "postgres": ("argus.stores.sql_products:PostgresProducts", "postgres"),
    },
    "cases": {
        "embedded": ("argus.stores.sql_cases:EmbeddedCases", None),
        "postgresql": ("argus.stores.sql_cases:PostgresCases", "postgres"),
        "postgres": ("argus.stores.sql_cases:PostgresCases", "postgres"),
    },
    "evidence": {
        "embedded": ("argus.stores.evidence:FileEvidence", None),
        "file": ("argus.stores.evidence:FileEvidence", None),
        "s3": ("argus.stores.s3_evidence:S3Evidence", "s3"),
    },
    "shifts": {
        "embedded": ("argus.stores.sql_shifts:EmbeddedShifts", None),
        "postgresql": ("argus.stores.sql_shifts:PostgresShifts", "postgres"),
        "postgres": ("argus.stores.sql_shifts:PostgresShifts", "postgres"),
    },
    "playbooks": {
        "embedded": ("argus.stores.sql_playbooks:EmbeddedPlaybooks", None),
        "postgresql": ("argus.stores.sql_playbooks:PostgresPlaybooks", "postgres"),
        "postgres": ("argus.stores.sql_playbooks:PostgresPlaybooks", "postgres"),
    },
    "operations": {
        "embedded": ("argus.stores.sql_operations:EmbeddedOperations", None),
        "postgresql": ("argus.stores.sql_operations:PostgresOperations", "postgres"),
        "postgres": ("argus.stores.sql_operations:PostgresOperations", "postgres"),
    },
    "risk": {
        "embedded": ("argus.stores.sql_risk:EmbeddedRisk", None),
        "postgresql": ("argus.stores.sql_risk:PostgresRisk", "postgres"),
        "postgres": ("argus.stores.sql_risk:PostgresRisk", "postgres"),
    },
    "taxii": {
        "embedded": ("argus.stores.taxii_status:Statuses", None),
        "http": ("argus.stores.opensearch_taxii:OpenSearchStatuses", "opensearch"),
        "https": ("argus.stores.opensearch_taxii:OpenSearchStatuses", "opensearch"),
    },
}


def import_object(spec: str) -> Any:
    module, _, attr = spec.partition(":")
    if not module or not attr:
        raise RegistryError(f"{spec!r} is not of the form 'module:Class'")
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        raise RegistryError(f"cannot import {module!r} for {spec!r}: {exc}") from exc
    try:
        return getattr(mod, attr)
    except AttributeError:
        raise RegistryError(f"module {module!r} has no {attr!r}") from None


@cache
def node_names() -> dict[str, str]:
    """Read once per process: a scan of the installed distributions' metadata takes ~10 ms, and
    topology checks, the order planner and every task start ask for node classes (213 scans, 2.3 s
    of a 5,000-record run before this was cached). Installing a plugin means a new process."""
    return {ep.name: ep.value for ep in entry_points(group="argus.nodes")}


def node_class(use: str) -> type[Node]:
    """`use` is an entry-point name (e.g. "entity_resolution") or "module:Class"."""
    spec = use if ":" in use else node_names().get(use)
    if spec is None:
        known = ", ".join(sorted(node_names())) or "(none installed: run `pip install -e .`)"
        raise RegistryError(f"unknown node type {use!r}; known: {known}")
    cls = import_object(spec)
    if not (isinstance(cls, type) and issubclass(cls, Node)):
        raise RegistryError(f"{spec!r} is not a Connector, Processor or Sink")
    return cls


def role_of(cls: type[Node]) -> str:
    for role, base in ROLES.items():
        if issubclass(cls, base):
            return role
    raise RegistryError(f"{cls.__name__} is not a Connector, Processor or Sink")


def backend_class(kind: str, url: str) -> Any:
    scheme = url.split(":", 1)[0].lower()
    table = BACKENDS[kind]
    if scheme not in table:
        raise RegistryError(
            f"{kind}: no backend for URL scheme {scheme!r} in {url!r}; available: " + ", ".join(sorted(table))
        )
    spec, extra = table[scheme]
    try:
        return import_object(spec)
    except RegistryError as exc:
        hint = f" (install it with: pip install 'argus-fusion[{extra}]')" if extra else ""
        raise RegistryError(f"{kind} backend {scheme!r}: {exc}{hint}") from exc
