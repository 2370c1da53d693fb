"""The graph store interface: POLE entities, their links, where each came from, and merges.

Writes are upserts by deterministic id, and a write naming an entity that has since been
merged lands on the survivor: a replay after a crash, in any order relative to the merge,
leaves the same graph.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, TypedDict


class GraphNode(TypedDict):
    id: str
    kind: str  # PERSON | OBJECT | LOCATION | EVENT
    subtype: str
    label: str
    props: dict[str, Any]


class GraphEdge(TypedDict):
    id: str
    src: str
    dst: str
    rel: str
    props: dict[str, Any]


class SourceRow(TypedDict):
    entity_id: str
    record_id: str
    agency: str
    tlp: str
    method: str
    score: float
    reason: str


class GraphStore(ABC):
    @abstractmethod
    def upsert_nodes(self, nodes: list[GraphNode]) -> None: ...

    @abstractmethod
    def upsert_edges(self, edges: list[GraphEdge]) -> None: ...

    @abstractmethod
    def add_sources(self, rows: list[SourceRow]) -> None: ...

    @abstractmethod
    def merge(self, survivor: str, merged: str, reason: str, score: float) -> None: ...

    @abstractmethod
    def commit(self) -> None:
        """Make everything written so far durable."""

    @abstractmethod
    def node(self, node_id: str) -> GraphNode | None:
        """The node, following merges to the survivor."""

    @abstractmethod
    def neighbours(self, node_id: str, hops: int = 1, limit: int = 200) -> dict[str, list[Any]]:
        """{"nodes": [...], "edges": [...]} within `hops` of the node."""

    @abstractmethod
    def paths(self, src: str, dst: str, max_hops: int = 4, limit: int = 5) -> list[list[GraphEdge]]:
        """Shortest paths (as edge lists) between two nodes."""

    @abstractmethod
    def sources(self, entity_id: str) -> list[SourceRow]: ...

    @abstractmethod
    def merges(self, entity_id: str) -> list[dict[str, Any]]: ...

    @abstractmethod
    def counts(self) -> dict[str, int]: ...

    @abstractmethod
    def close(self) -> None: ...
