"""Speed targets, measured against baselines in the same run (`python -m bench`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from argus.synthetic import Generator


def generator(n: int, seed: int) -> Generator:
    """The synthetic holdings every bench draws from, sized for `n` records."""
    return Generator(
        seed=seed,
        persons=max(50, n // 5),
        vehicles=max(40, n // 7),
        places=max(20, n // 12),
        anchor=datetime.now(UTC).replace(microsecond=0),
    )


def cpu_calibration() -> float:
    """Seconds for a fixed pure-Python loop. This machine's speed changes by half from one hour
    to the next (one embedded run: 23-25 s, then 37 s, same code); printed beside a benchmark's
    figures so runs taken on different days or hours can be told apart. Ratios within one run
    are what compare."""
    import time

    t = time.perf_counter()
    s = 0
    for i in range(5_000_000):
        s += i
    return round(time.perf_counter() - t, 3)


def report(checks: list[tuple[str, float, float, str]], digits: int = 1) -> None:
    """One line per target: MET or MISS, what was measured, what was asked."""
    for name, got, want, op in checks:
        ok: Any = got >= want if op == ">=" else got <= want
        print(f"{'MET ' if ok else 'MISS'} {name}: {got:,.{digits}f} (target {op} {want:,})")
