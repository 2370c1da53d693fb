"""The search store interface: report documents, full text plus filters."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, TypedDict


class SearchDoc(TypedDict):
    id: str
    kind: str
    agency: str
    tlp: str
    occurred_at: str  # ISO 8601, UTC
    title: str
    text: str
    lat: float | None
    lon: float | None
    fields: dict[str, Any]


class SearchStore(ABC):
    @abstractmethod
    def upsert(self, docs: list[SearchDoc]) -> None: ...

    @abstractmethod
    def delete(self, ids: list[str]) -> None: ...

    @abstractmethod
    def commit(self) -> None: ...

    @abstractmethod
    def search(
        self,
        query: str | None = None,
        *,
        kinds: list[str] | None = None,
        agencies: list[str] | None = None,
        tlps: list[str] | None = None,
        since: str | None = None,
        until: str | None = None,
        bbox: tuple[float, float, float, float] | None = None,
        limit: int = 20,
        offset: int = 0,
    ) -> dict[str, Any]:
        """{"total": n, "hits": [{"id", "score", "snippet", ...doc fields}]}"""

    @abstractmethod
    def get(self, doc_id: str) -> SearchDoc | None: ...

    @abstractmethod
    def count(self) -> int: ...

    @abstractmethod
    def close(self) -> None: ...
