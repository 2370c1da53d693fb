"""Who holds the embedded bus's lock, and for how long: `python -m bench pipeline --time-bus-lock`.

Every read, commit and count on the embedded bus takes one lock; a field query's write waits for
whoever holds it. A sampled profile does not show such a wait (the waiting thread holds no
interpreter), so the bench can time the lock itself: each hold charged to the bus method that
took it, and each wait to that method and its caller. This is how a scan under the lock (a
`COUNT(*)` of a topic, 337 ms at 25,000 records) was found to be the query tail."""

from __future__ import annotations

import sys
import time
from collections import defaultdict
from typing import Any

from argus.bus.embedded import EmbeddedBus
from bench import quantile


class TimedLock:
    """The bus's own re-entrant lock, with its outermost holds recorded by holder and its waits
    by holder and caller. Only the outermost acquisition counts: a commit that reads an end
    offset inside its own hold is one hold of `commit`. It wraps the lock the bus already has,
    so a thread that took that lock before the wrapper was put on still excludes the others."""

    def __init__(self, lock: Any) -> None:
        self._lock = lock
        self._depth = 0
        self._holder = ""
        self._since = 0.0
        self.holds: dict[str, list[float]] = defaultdict(list)
        self.waits: dict[str, list[float]] = defaultdict(list)

    def __enter__(self) -> TimedLock:
        asked = time.perf_counter()
        self._lock.acquire()
        got = time.perf_counter()
        self._depth += 1
        if self._depth == 1:
            frame = sys._getframe(1)
            caller = frame.f_back.f_code.co_name if frame.f_back is not None else "?"
            self._holder, self._since = frame.f_code.co_name, got
            self.waits[f"{self._holder} from {caller}"].append(got - asked)
        return self

    def __exit__(self, *exc: object) -> None:
        self._depth -= 1
        if self._depth == 0:
            self.holds[self._holder].append(time.perf_counter() - self._since)
        self._lock.release()

    def report(self) -> dict[str, dict[str, dict[str, Any]]]:
        """Per holder (and per waiter): how many, seconds in all, p50/p99/longest in ms, how many
        over 20 ms; largest total first."""
        return {"holds": _summary(self.holds), "waits": _summary(self.waits)}


def _summary(times: dict[str, list[float]]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for name, ts in sorted(times.items(), key=lambda kv: -sum(kv[1])):
        ts = sorted(ts)
        n = len(ts)
        out[name] = {
            "count": n,
            "seconds": round(sum(ts), 3),
            "p50_ms": round(quantile(ts, 0.5) * 1000, 2),
            "p99_ms": round(quantile(ts, 0.99) * 1000, 2),
            "max_ms": round(ts[-1] * 1000, 1),
            "over_20_ms": sum(t > 0.02 for t in ts),
        }
    return out


def time_lock(bus: object) -> TimedLock | None:
    """Time an embedded bus's lock from now on; None for any other bus."""
    if not isinstance(bus, EmbeddedBus):
        return None
    timed = TimedLock(bus._lock)
    bus._lock = timed  # type: ignore[assignment]
    return timed
