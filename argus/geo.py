"""Distances on the Earth's surface, for nearness tests (SAR triage, pattern detection)."""

from __future__ import annotations

from math import asin, cos, radians, sin, sqrt

EARTH_M = 6_371_008.8


def metres(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine): within 0.5% of the ellipsoid at any range a fusion
    centre's nearness rules use."""
    p1, p2 = radians(lat1), radians(lat2)
    a = sin((p2 - p1) / 2) ** 2 + cos(p1) * cos(p2) * sin(radians(lon2 - lon1) / 2) ** 2
    return 2 * EARTH_M * asin(min(1.0, sqrt(a)))


def cell(lat: float, lon: float, size_m: float) -> tuple[int, int]:
    """A grid cell about `size_m` on a side (longitude scaled at the latitude), so everything
    within `size_m` of a point is in its cell or one of the eight around it."""
    deg = size_m / 111_195.0
    return int(lat // deg), int(lon * max(cos(radians(lat)), 0.01) // deg)
