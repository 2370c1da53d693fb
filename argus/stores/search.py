"""The search store interface: report documents, full text plus filters.

Every document carries the version of the report it was built from (the source's integer
version, or a STIX object's `modified` in microseconds). A write never replaces a newer version
with an older one, so a replay after a crash, or a late duplicate, cannot roll a report back;
an equal version is rewritten (a same-version correction, or the replay of the same write).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from typing import Any, NamedTuple, NotRequired, TypedDict

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
    # What a reader with the AMBER view may match: the title, offenses, series and vehicles;
    # never the narrative, names, dates of birth or places (argus.security.policy).
    amber_text: NotRequired[str]


class Audience(NamedTuple):
    """Who is reading, as a store needs to know it to apply the one policy inside its query
    (argus.security.policy.decide, written again as SQL and as OpenSearch DSL), so that nothing
    matches, filters, sorts or counts on a field the reader may not see:

    - visible at all: own agency's, TLP:CLEAR, or not barred by the originating agency and either
      not RED or naming the reader; criminal intelligence only for law-enforcement readers;
    - in full (`full`): own, CLEAR, named, or GREEN / case-member AMBER without a
      NO_FURTHER_DISSEMINATION caveat: words match the whole text, places and dates filter;
    - the AMBER view (`amber`): other AMBER: words match only `amber_text`, dates filter,
      places do not;
    - existence only (AMBER+STRICT, NO_FURTHER_DISSEMINATION): counted, filtered by kind,
      agency and TLP, never matched by words, dates or places, and sorted after the rest;
    - a STIX object is seen whole or not at all, as export and TAXII release it."""

    agency: str
    law_enforcement: bool = True
    principals: tuple[str, ...] = ()
    barred: tuple[str, ...] = ()
    cases: tuple[str, ...] = ()
    ci_cleared: bool | None = None  # None: as law_enforcement (a reader whose 28 CFR 23 training lapsed: False)

    @property
    def ci_ok(self) -> bool:
        return self.law_enforcement if self.ci_cleared is None else self.ci_cleared


def recipients_column(fields: dict[str, Any], key: str = "recipients") -> str:
    """Named recipients (or cases) as one space-delimited string, for a store to match whole tokens."""
    names = fields.get(key) or []
    return f" {' '.join(names)} " if names else ""


def no_further(fields: dict[str, Any]) -> bool:
    return "NO_FURTHER_DISSEMINATION" in (fields.get("handling") or ())


WHOLE_KINDS = ("stix",)  # seen whole or not at all


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
        offenses: list[str] | None = None,
        behaviors: list[str] | None = None,
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
        the search to these documents (an entity's or a case's reports). offenses (NIBRS codes)
        and behaviors (ISE-SAR categories) filter only where the reader sees them: in full or in
        the AMBER view, never an existence-only document."""

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
