"""Small exact statistics the detectors need (no SciPy in the data path)."""

from __future__ import annotations

from math import exp, lgamma, log


def poisson_sf(k: int, lam: float) -> float:
    """P(X >= k) for X ~ Poisson(lam): the chance of seeing k or more where lam are expected."""
    if k <= 0:
        return 1.0
    if lam <= 0:
        return 0.0
    below = sum(exp(i * log(lam) - lam - lgamma(i + 1)) for i in range(k))
    return max(0.0, 1.0 - below) if below < 0.999 else _tail(k, lam)


def _tail(k: int, lam: float) -> float:
    """The upper tail summed directly where 1 - CDF would lose its digits."""
    total, i = 0.0, k
    while True:
        term = exp(i * log(lam) - lam - lgamma(i + 1))
        total += term
        if term < total * 1e-12 or i > k + 1000:
            return total
        i += 1


def poisson_interval(mean: float, z: float = 1.96) -> tuple[float, float]:
    """An approximate prediction interval for a Poisson count of this mean (normal, with the
    continuity of a count kept at zero below)."""
    half = z * mean**0.5
    return max(0.0, mean - half), mean + half
