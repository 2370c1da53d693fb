"""The search store interface: report documents, full text plus filters.

Every document carries the version of the report it was built from (the source's integer
version, or a STIX object's `modified` in microseconds). A write never replaces a newer version
with an older one, so a replay after a crash, or a late duplicate, cannot roll a report back;
an equal version is rewritten (a same-version correction, or the replay of the same write).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from typing import Any, NamedTuple, TypedDict

EARTH_KM = 6371.0088


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
    version: int


class Audience(NamedTuple):
    """Who is reading, as far as a store can filter for them before counting and paging, so
    that neither a total nor a page boundary betrays a record the reader may not know of:
    another agency's TLP:RED unless the reader is a named recipient, any non-CLEAR record of
    an agency whose rules bar the reader, and criminal intelligence for a non-law-enforcement
    reader. The finer decisions (AMBER views, need-to-know) are the policy's, per hit."""

    agency: str
    law_enforcement: bool = True
    principals: tuple[str, ...] = ()
    barred: tuple[str, ...] = ()


def recipients_column(fields: dict[str, Any]) -> str:
    """Named recipients as one space-delimited string, for a store to match whole tokens."""
    names = fields.get("recipients") or []
    return f" {' '.join(names)} " if names else ""


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
        near: tuple[float, float, float] | None = None,
        ids: list[str] | None = None,
        visible_to: Audience | None = None,
        limit: int = 20,
        offset: int = 0,
    ) -> dict[str, Any]:
        """{"total": n, "hits": [{"id", "score", "snippet", ...doc fields}]}.

        bbox is (min_lat, min_lon, max_lat, max_lon); near is (lat, lon, radius_km); ids limits
        the search to these documents (an entity's or a case's reports)."""

    @abstractmethod
    def get(self, doc_id: str) -> SearchDoc | None: ...

    @abstractmethod
    def count(self) -> int: ...

    @abstractmethod
    def close(self) -> None: ...


def km_between(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine, mean Earth radius), as OpenSearch's geo_distance uses."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_KM * math.asin(min(1.0, math.sqrt(a)))


def radius_bbox(lat: float, lon: float, km: float) -> tuple[float, float, float, float]:
    """A box that contains the circle: the index prefilter for a radius search."""
    dlat = math.degrees(km / EARTH_KM)
    dlon = 180.0 if abs(lat) + dlat >= 90 else math.degrees(km / (EARTH_KM * math.cos(math.radians(lat))))
    return (lat - dlat, lon - dlon, lat + dlat, lon + dlon)
