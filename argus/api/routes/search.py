"""Search and geography: full text with filters, paging, and points with clusters for a map.

The store is given the caller's audience and matches, filters, sorts and counts only on what that
caller may see of each document (argus.stores.search), so neither a hit, a total nor an order
tells anything about a withheld field.
"""

from __future__ import annotations

import math
from datetime import UTC
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from argus.api.deps import Caller, Problem, Reader, bounded, json
from argus.api.models import EXAMPLES, Facets, GeoAnswer, SearchPage, answers
from argus.records import InvalidRecord, parse_time

router = APIRouter(tags=["analyst"])
TLPS = ("CLEAR", "GREEN", "AMBER", "AMBER_STRICT", "RED")


def _floats(raw: str, n: int, name: str, form: str) -> list[float]:
    try:
        vals = [float(x) for x in raw.split(",")]
    except ValueError:
        vals = []
    if len(vals) != n or not all(math.isfinite(v) for v in vals):
        raise Problem(400, f"Bad {name}", f"{name} is {form}")
    return vals


def parse_box(bbox: str | None) -> tuple[float, float, float, float] | None:
    if not bbox:
        return None
    a, b, c, d = _floats(bbox, 4, "bbox", "min_lat,min_lon,max_lat,max_lon")
    if not (-90 <= a <= c <= 90 and -180 <= b <= d <= 180):
        raise Problem(400, "Bad bbox", "bbox is min_lat,min_lon,max_lat,max_lon with min <= max")
    return (a, b, c, d)


def parse_near(near: str | None) -> tuple[float, float, float] | None:
    if not near:
        return None
    lat, lon, km = _floats(near, 3, "near", "lat,lon,radius_km")
    if not (-90 <= lat <= 90 and -180 <= lon <= 180 and 0 < km <= 2000):
        raise Problem(400, "Bad near", "near is lat,lon,radius_km with 0 < radius <= 2000")
    return (lat, lon, km)


def parse_instant(value: str | None, name: str) -> str | None:
    """An ISO 8601 instant as the stores compare it (UTC, microseconds), or a 400 naming `name`."""
    if not value:
        return None
    try:
        return parse_time(value, name).astimezone(UTC).isoformat()
    except (InvalidRecord, OverflowError, ValueError) as exc:
        raise Problem(400, f"Bad {name}", f"{name}: {exc}") from None


class SearchArgs(BaseModel):
    q: str | None = None
    kinds: list[str] | None = None
    agencies: list[str] | None = None
    tlps: list[str] | None = None
    offenses: list[str] | None = None
    behaviors: list[str] | None = None
    since: str | None = None
    until: str | None = None
    bbox: tuple[float, float, float, float] | None = None
    near: tuple[float, float, float] | None = None


def search_args(
    q: Annotated[str | None, Query(max_length=500, description="Words; the last one matches as a prefix")] = None,
    type: Annotated[
        list[str] | None, Query(description="rms.incident, cad.incident, sar, stix, ttp (ATT&CK matches)")
    ] = None,
    agency: Annotated[list[str] | None, Query(description="Originating agency ORI")] = None,
    tlp: Annotated[list[str] | None, Query(description="CLEAR, GREEN, AMBER, AMBER_STRICT, RED")] = None,
    offense: Annotated[list[str] | None, Query(max_length=20, description="NIBRS offense code, e.g. 120")] = None,
    behavior: Annotated[list[str] | None, Query(max_length=20, description="ISE-SAR behaviour category")] = None,
    since: Annotated[str | None, Query(max_length=64, description="ISO 8601")] = None,
    until: Annotated[str | None, Query(max_length=64, description="ISO 8601")] = None,
    bbox: Annotated[str | None, Query(max_length=200, description="min_lat,min_lon,max_lat,max_lon")] = None,
    near: Annotated[str | None, Query(max_length=200, description="lat,lon,radius_km")] = None,
) -> SearchArgs:
    for t in tlp or []:
        if t not in TLPS:
            raise Problem(400, "Bad tlp", f"tlp: unknown TLP {t!r}; one of {', '.join(TLPS)}")
    return SearchArgs(
        q=q,
        kinds=type,
        agencies=agency,
        tlps=tlp,
        offenses=[o[:8] for o in offense] if offense else None,
        behaviors=[b[:32] for b in behavior] if behavior else None,
        since=parse_instant(since, "since"),
        until=parse_instant(until, "until"),
        bbox=parse_box(bbox),
        near=parse_near(near),
    )


Filters = Annotated[SearchArgs, Depends(search_args)]


def run_search(c: Caller, a: SearchArgs, limit: int, offset: int, ids: list[str] | None = None) -> dict[str, Any]:
    gate = c.gate
    res = c.svc.search().search(
        a.q,
        kinds=a.kinds,
        agencies=a.agencies,
        tlps=a.tlps,
        offenses=a.offenses,
        behaviors=a.behaviors,
        since=a.since,
        until=a.until,
        bbox=a.bbox,
        near=a.near,
        ids=ids,
        visible_to=gate.audience,
        limit=limit,
        offset=offset,
    )
    hits = [h for h in (gate.hit(x) for x in res["hits"]) if h is not None]
    return {"total": res["total"], "limit": limit, "offset": offset, "hits": hits}


def _search(c: Caller, a: SearchArgs, limit: int, offset: int) -> dict[str, Any]:
    res = run_search(c, a, limit, offset)
    c.audited("read", "search", query=a.model_dump(exclude_none=True), returned=[h["id"] for h in res["hits"]])
    return res


@router.get(
    "/api/v1/search",
    summary="Full-text search with filters, geo and paging",
    responses=answers(SearchPage, EXAMPLES["search"]),
)
async def search(
    c: Reader,
    f: Filters,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=10_000)] = 0,
) -> Any:
    """Reports matching every word (the last as a prefix), filtered by kind, agency, TLP, time,
    box or radius. Words match only what the caller may read of each report; records seen only
    as "restricted, contact <agency>" are counted but never matched by words, dates or places."""
    return json(await bounded(c, _search, c, f, limit, offset))


KINDS = ("rms.incident", "cad.incident", "sar", "stix", "ttp")
MAX_AGENCY_FACETS = 60


def _facets(c: Caller, a: SearchArgs) -> dict[str, dict[str, int]]:
    """For each value of type, agency and TLP, how many results the search would have with that
    value chosen (the facet's own filter left out, the others kept). Each count is the search's
    own total through the same policy-bound query, so a facet never counts what the search would
    not."""
    agencies = sorted(x["ori"] for x in c.svc.directory().agencies())[:MAX_AGENCY_FACETS]
    out: dict[str, dict[str, int]] = {}
    for name, field, values in (("type", "kinds", KINDS), ("agency", "agencies", agencies), ("tlp", "tlps", TLPS)):
        counts = {}
        for v in values:
            n = run_search(c, a.model_copy(update={field: [v]}), 1, 0)["total"]
            if n:
                counts[v] = n
        out[name] = counts
    c.audited("read", "search-facets", query=a.model_dump(exclude_none=True))
    return out


@router.get(
    "/api/v1/search/facets",
    summary="How many results each type, agency and TLP would give",
    responses=answers(
        Facets, {"type": {"rms.incident": 12, "sar": 3}, "agency": {"CA0190000": 9}, "tlp": {"AMBER": 4}}
    ),
)
async def facets(c: Reader, f: Filters) -> Any:
    """Counts for the filters of a search (the same words and filters as /api/v1/search): for
    each value of a facet, the total the search would have with that value chosen. Counted by the
    same policy-bound query as the search, so a record the caller may not know of is never in a
    count."""
    return json(await bounded(c, _facets, c, f))


def _geo(c: Caller, a: SearchArgs, cell_km: float, limit: int) -> dict[str, Any]:
    res = run_search(c, a, limit, 0)
    c.audited("read", "geo", query=a.model_dump(exclude_none=True), returned=len(res["hits"]))
    pts = [
        {"id": h["id"], "lat": h["lat"], "lon": h["lon"], "occurred_at": h.get("occurred_at"), "kind": h["kind"]}
        for h in res["hits"]
        if h.get("lat") is not None and h.get("lon") is not None
    ]
    return {"total": res["total"], "points": pts, "clusters": clusters(pts, cell_km)}


@router.get(
    "/api/v1/geo", summary="Points and clusters for a set of events", responses=answers(GeoAnswer, EXAMPLES["geo"])
)
async def geo(
    c: Reader,
    f: Filters,
    cell_km: Annotated[float, Query(ge=0.01, le=500, description="Cluster cell size in km")] = 1.0,
    limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
) -> Any:
    """The located events a search selects, and grid clusters of them (hot spots). Only what the
    caller sees in full has coordinates."""
    return json(await bounded(c, _geo, c, f, cell_km, limit))


def clusters(points: list[dict[str, Any]], cell_km: float) -> list[dict[str, Any]]:
    """Grid clustering: points binned into cells of about `cell_km`, each cluster at the mean of
    its points. Deterministic and linear; what a map needs to draw hot spots at a zoom level."""
    cells: dict[tuple[int, int], list[dict[str, Any]]] = {}
    dlat = cell_km / 111.195
    for p in points:
        dlon = cell_km / max(1e-6, 111.195 * math.cos(math.radians(p["lat"])))
        cells.setdefault((math.floor(p["lat"] / dlat), math.floor(p["lon"] / dlon)), []).append(p)
    out = [
        {
            "lat": sum(p["lat"] for p in ps) / len(ps),
            "lon": sum(p["lon"] for p in ps) / len(ps),
            "count": len(ps),
            "ids": sorted(p["id"] for p in ps),
        }
        for ps in cells.values()
    ]
    return sorted(out, key=lambda c: (-c["count"], c["ids"][0]))
