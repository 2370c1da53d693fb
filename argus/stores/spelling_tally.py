"""Each entity's spelling tally as the embedded graph store keeps it: one row per entity id as
first written, its counts as {"field\\x1fvalue": n}, so merges and splits move no row and an
election (argus.stores.graph.settled) reads the tally without unpacking it."""

from __future__ import annotations

import sqlite3
from collections import Counter

import orjson

from argus.stores.graph import TOLD


def elected(counts: dict[str, int]) -> dict[str, str]:
    """winners() on a stored tally as it is kept ("field\\x1fvalue": n), without unpacking it."""
    best: dict[str, tuple[int, str]] = {}
    for k, n in counts.items():
        field, _, value = k.partition("\x1f")
        if n > 0 and field != TOLD:
            held = best.get(field)
            if held is None or (-n, value) < held:
                best[field] = (-n, value)
    return {f: v for f, (_, v) in best.items()}


def tally_counter(counts: dict[str, int]) -> Counter[tuple[str, str]]:
    out: Counter[tuple[str, str]] = Counter()
    for k, n in counts.items():
        field, _, value = k.partition("\x1f")
        out[(field, value)] += n
    return out


def held_tallies(db: sqlite3.Connection, ids: list[str]) -> dict[str, dict[str, int]]:
    """The stored tallies of these entity ids (as first written), 500 to a query."""
    out: dict[str, dict[str, int]] = {}
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        q = f"SELECT entity0, counts FROM spellings WHERE entity0 IN ({','.join('?' * len(chunk))})"
        out.update((e0, orjson.loads(c)) for e0, c in db.execute(q, chunk))
    return out
