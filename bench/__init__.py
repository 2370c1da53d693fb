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


def report(checks: list[tuple[str, float, float, str]], digits: int = 1) -> None:
    """One line per target: MET or MISS, what was measured, what was asked."""
    for name, got, want, op in checks:
        ok: Any = got >= want if op == ">=" else got <= want
        print(f"{'MET ' if ok else 'MISS'} {name}: {got:,.{digits}f} (target {op} {want:,})")
