"""Fitting the person model to the holdings: u from random pairs, m by EM over blocked pairs.

No labels are used: u is what unrelated people share by chance (random pairs are almost all
different people), and EM separates the blocked pairs into matches and non-matches by the
agreement patterns alone. `argus er train` runs this over the persons of a deployment's reports;
the bench runs it over the mentions it generated, before resolving them with the fitted model.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterable
from itertools import combinations
from typing import Any

from argus.linkage.model import PersonModel, Vector, estimate, estimate_u, pair_vector
from argus.linkage.person import LEVELS, Mention


def train(
    persons: Iterable[dict[str, Any]],
    start: PersonModel | None = None,
    random_pairs: int = 200_000,
    per_block: int = 50,
    seed: int = 1,
    confirmed: Iterable[Vector] = (),
) -> PersonModel:
    """A model fitted to these person mentions (dicts as connectors write them); `confirmed`:
    the comparison vectors of possible matches analysts confirmed, as labels."""
    confirmed = list(confirmed)
    rng = random.Random(seed)
    ms = [Mention.of(p) for p in persons]
    if len(ms) < 2:
        raise ValueError("at least two person mentions are needed to fit a model")
    start = start or PersonModel.load()
    # Random pairs are drawn from distinct (name, DOB) spellings: a person mentioned a hundred
    # times would otherwise make "the same DOB" look common among different people.
    distinct = list({(m.last, m.first, m.dob): m for m in ms}.values())
    rand = []
    for _ in range(random_pairs):
        a, b = rng.randrange(len(distinct)), rng.randrange(len(distinct))
        if a != b:
            rand.append(pair_vector(distinct[a], distinct[b]))
    u = estimate_u(rand)
    # Two sessions, as Splink trains: pairs sharing a DOB estimate the name fields' m, pairs
    # sharing a name key and birth year estimate the DOB's; the rest is averaged over both.
    sessions = {
        ("dob",): lambda m: [f"pb:d{m.dob}"] if m.dob else [],
        ("surname", "given"): lambda m: [f"n:{m.last}|{m.first}"] if m.last and m.first else [],
    }
    fitted: dict[tuple[str, ...], PersonModel] = {}
    lams = []
    for exclude, keys in sessions.items():
        pairs = _pairs(ms, keys, per_block, rng)
        vectors = (pair_vector(ms[a], ms[b]) for a, b in pairs)
        fitted[exclude], lam = estimate(vectors, u, start, exclude=exclude, confirmed=confirmed)
        lams.append(lam)
    by_dob, by_name = fitted[("dob",)], fitted[("surname", "given")]
    m = {f: by_dob.m[f] if f in ("surname", "given") else by_name.m[f] if f == "dob" else
         [(x + y) / 2 for x, y in zip(by_dob.m[f], by_name.m[f], strict=True)] for f in LEVELS}  # fmt: skip
    model = PersonModel(m, u, {})
    lam = sum(lams) / len(lams)
    model.meta.update(
        lambda_candidates=round(lam, 6), mentions=len(ms), random_pairs=len(rand), confirmed=len(confirmed), source="EM"
    )
    return model


def _pairs(ms: list[Mention], keys: Any, per_block: int, rng: random.Random) -> list[tuple[int, int]]:
    blocks: dict[str, list[int]] = defaultdict(list)
    for i, m in enumerate(ms):
        for k in keys(m):
            blocks[k].append(i)
    pairs: set[tuple[int, int]] = set()
    for members in blocks.values():
        if len(members) > per_block:
            members = rng.sample(members, per_block)
        pairs.update((a, b) if a < b else (b, a) for a, b in combinations(members, 2))
    return sorted(pairs)
