"""Fellegi-Sunter weights for person comparisons: m and u per level, estimated by EM, kept as JSON.

A field at level l contributes log2(m_l / u_l) bits: m_l is how often two mentions of one person
reach that level, u_l how often two mentions of different people do. u is estimated from random
pairs of the holdings (almost all of them different people); m, and the share of matches among
blocked pairs, by expectation maximisation over blocked pairs with u held fixed (the approach of
Splink). An exact name counts for less when the name is common: its u is the name's frequency
among the holdings (term-frequency adjustment), within MAX_TF_SHIFT bits of the average.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from argus.linkage.person import (
    FIELDS,
    LEVELS,
    SWAP_PENALTY,
    Mention,
    name_readings,
    other_levels,
    vetoed,
)

DEFAULT_MODEL = Path(str(resources.files("argus.linkage") / "person_model.json"))
MAX_TF_SHIFT = 4.0
M_FLOOR = 0.002
LABEL_WEIGHT = 10.0  # an analyst's "same person" outweighs EM's guess about one pair
Vector = dict[str, int | None]
TermFreq = Callable[[str, str], float | None]  # (field, value) -> share of mentions with it


@dataclass(frozen=True, slots=True)
class Scored:
    weight: float
    evidence: list[tuple[str, str, float]]  # (field, level, weight)
    swapped: bool
    veto: str | None = None


class PersonModel:
    def __init__(self, m: dict[str, list[float]], u: dict[str, list[float]], meta: dict[str, Any] | None = None):
        for f in FIELDS:
            if len(m[f]) != len(LEVELS[f]) or len(u[f]) != len(LEVELS[f]):
                raise ValueError(f"model field {f!r}: expected {len(LEVELS[f])} levels")
        self.m, self.u, self.meta = m, u, meta or {}
        self.w = {f: [math.log2(m[f][i] / u[f][i]) for i in range(len(LEVELS[f]))] for f in FIELDS}

    @classmethod
    def load(cls, path: Path | str | None = None) -> PersonModel:
        doc = json.loads(Path(path or DEFAULT_MODEL).read_text())
        return cls(doc["m"], doc["u"], doc.get("meta"))

    def save(self, path: Path | str) -> None:
        doc = {"levels": LEVELS, "m": self.m, "u": self.u, "meta": self.meta,
               "weights": {f: [round(x, 3) for x in ws] for f, ws in self.w.items()}}  # fmt: skip
        Path(path).write_text(json.dumps(doc, indent=1) + "\n")

    def _exact(self, f: str, value: str, tf: TermFreq | None) -> float:
        """An exact name's weight, adjusted for how common the name is."""
        base = self.w[f][-1]
        share = tf(f, value) if tf else None
        if not share:
            return base
        u_avg = self.u[f][-1]
        return base + max(-MAX_TF_SHIFT, min(MAX_TF_SHIFT, math.log2(u_avg / share)))

    def _name(self, m: Mention, prof: dict[str, Any], tf: TermFreq | None) -> tuple[float, list[Any], bool]:
        """The best reading of the mention's name against any of the entity's names."""
        ws, wg = self.w["surname"], self.w["given"]
        top_s, top_g = len(ws) - 1, len(wg) - 1
        best, best_reading = -math.inf, (None, None, False)
        for sl, gl, swapped in name_readings(m, prof):
            total = SWAP_PENALTY if swapped else 0.0
            if sl is not None:
                total += self._exact("surname", m.first if swapped else m.last, tf) if sl == top_s else ws[sl]
            if gl is not None:
                total += self._exact("given", m.last if swapped else m.first, tf) if gl == top_g else wg[gl]
            if total > best:
                best, best_reading = total, (sl, gl, swapped)
        if best == -math.inf:
            return 0.0, [], False
        sl, gl, swapped = best_reading
        ev: list[tuple[str, str, float]] = []
        for f, lvl, value, top, w in (("surname", sl, m.first if swapped else m.last, top_s, ws),
                                      ("given", gl, m.last if swapped else m.first, top_g, wg)):  # fmt: skip
            if lvl is not None:
                ev.append((f, LEVELS[f][lvl], self._exact(f, value, tf) if lvl == top else w[lvl]))
        if swapped:
            ev.append(("name order", "given name and surname swapped", SWAP_PENALTY))
        return best, ev, swapped

    def score(self, m: Mention, prof: dict[str, Any], tf: TermFreq | None = None) -> Scored:
        """The match weight of a mention against an entity, with each field's part."""
        veto = vetoed(m, prof)
        if veto is not None:  # no weight makes them one person: spare the comparison
            return Scored(-math.inf, [], False, veto)
        name_w, ev, swapped = self._name(m, prof, tf)
        total = name_w
        for f, lvl in other_levels(m, prof).items():
            if lvl is not None:
                w = self.w[f][lvl]
                total += w
                ev.append((f, LEVELS[f][lvl], w))
        return Scored(total, ev, swapped, veto)


def pair_vector(a: Mention, b: Mention) -> Vector:
    """Two mentions' comparison levels (the name read straight), for training."""
    prof = b.profile()
    sl, gl, _ = name_readings(a, prof)[0]
    return {"surname": sl, "given": gl, **other_levels(a, prof)}


def _counts(vectors: Iterable[Vector]) -> Counter[tuple[int, ...]]:
    return Counter(tuple(-1 if v[f] is None else v[f] for f in FIELDS) for v in vectors)  # type: ignore[misc]


def estimate_u(random_pairs: Iterable[Vector], smoothing: float = 1.0) -> dict[str, list[float]]:
    """u per level: how often pairs of (nearly always) different people reach each level."""
    c = _counts(random_pairs)
    u: dict[str, list[float]] = {}
    for j, f in enumerate(FIELDS):
        n = [smoothing] * len(LEVELS[f])
        for vec, k in c.items():
            if vec[j] >= 0:
                n[vec[j]] += k
        total = sum(n)
        u[f] = [x / total for x in n]
    return u


def estimate(
    blocked_pairs: Iterable[Vector],
    u: dict[str, list[float]],
    start: PersonModel,
    iterations: int = 30,
    exclude: tuple[str, ...] = (),
    confirmed: Iterable[Vector] = (),
) -> tuple[PersonModel, float]:
    """m and the share of matches among blocked pairs, by EM with u fixed. The fields the pairs
    were blocked on agree by construction, so they are left out (`exclude`) and keep their
    starting m: another blocking rule's session estimates them. Pairs analysts `confirmed` the
    same person count as matches for certain, LABEL_WEIGHT times each."""
    c = _counts({**v, **dict.fromkeys(exclude)} for v in blocked_pairs)
    sure = _counts({**v, **dict.fromkeys(exclude)} for v in confirmed)
    vecs, ks = list(c), list(c.values())
    m = {f: list(start.m[f]) for f in FIELDS}
    lam = 0.1
    for _ in range(iterations):
        acc = {f: [1e-6] * len(LEVELS[f]) for f in FIELDS}
        for vec, k in sure.items():
            for j, f in enumerate(FIELDS):
                if vec[j] >= 0:
                    acc[f][vec[j]] += LABEL_WEIGHT * k
        p_sum = 0.0
        for vec, k in zip(vecs, ks, strict=True):
            lm, lu = math.log(lam), math.log(1 - lam)
            for j, f in enumerate(FIELDS):
                if vec[j] >= 0:
                    lm += math.log(m[f][vec[j]])
                    lu += math.log(u[f][vec[j]])
            p = 1 / (1 + math.exp(min(700.0, lu - lm)))
            p_sum += p * k
            for j, f in enumerate(FIELDS):
                if vec[j] >= 0:
                    acc[f][vec[j]] += p * k
        for f in FIELDS:
            total = sum(acc[f])
            # A level no match reached in these pairs is rare, not impossible: a floor keeps one
            # unseen disagreement from vetoing a pair on its own.
            floored = [max(x / total, M_FLOOR) for x in acc[f]]
            m[f] = [x / sum(floored) for x in floored]
        lam = min(0.999, max(1e-6, p_sum / sum(ks)))
    return PersonModel(m, u, {"lambda_blocked": round(lam, 6), "blocked_pairs": sum(ks)}), lam


def vector_of(evidence: Iterable[dict[str, Any]]) -> Vector:
    """A possible match's stored evidence (field and level) as a comparison vector."""
    v: Vector = dict.fromkeys(FIELDS)
    for e in evidence:
        f = e["field"]
        if f in LEVELS and e["level"] in LEVELS[f]:
            v[f] = LEVELS[f].index(e["level"])
    return v
