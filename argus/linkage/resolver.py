"""Streaming person resolution over a node's keyed state: block, score, and decide in three bands.

A mention is compared with every entity filed under one of its blocking keys (name sound-alike
and initial, with and without birth year; exact DOB; surname and birth year; each identifier,
phone, e-mail and address), each candidate scored by the Fellegi-Sunter model. At or above the
merge weight it joins the best candidate (and a second candidate that high, which the two
entities do not forbid, is merged into it: the record bridges them); between the review and
merge weights it becomes an entity of its own with a possible match for an analyst to confirm
or reject; below, an entity of its own. An analyst's "not the same" is kept and never undone by
a later record; their "the same" merges the two.

State: `p:<id>` an entity's profile (every spelling, DOB, identifier... its mentions gave),
`alias:<id>` a merged entity's survivor, `apart:<a>|<b>` a pair kept apart, the blocking lists,
and `tf:<field>:<value>` / `tf:n` the name frequencies the model's term adjustment reads.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from argus.contracts import State
from argus.linkage.model import PersonModel, Scored
from argus.linkage.person import Mention, absorb, dobs_far_apart, identifier_level, merged
from argus.normalize import formal_names, soundex
from argus.records import deterministic_id

TF_MIN_MENTIONS = 500  # below this the holdings say too little about how common a name is
MATCH_PROBABILITY = 0.5  # under a deliberately pessimistic prior (PersonResolver); tuned on the harder generator
REVIEW_PROBABILITY = 0.1
PRIOR_ENTITIES = 10_000
RIVAL_MARGIN = 3.0  # bits the best of several people who cannot be one must lead by
POSSIBLE = 2  # possible matches kept per mention, best first
NAME_FIELDS = ("surname", "given", "name order")


@dataclass(slots=True)
class Resolution:
    entity_id: str
    method: str  # new | probabilistic
    score: float  # match probability under the model (1.0 for a new entity)
    reason: str
    evidence: list[tuple[str, str, float]] = field(default_factory=list)
    possible: list[tuple[str, Scored]] = field(default_factory=list)
    merges: list[dict[str, Any]] = field(default_factory=list)
    swapped: bool = False


def _logit(p: float) -> float:
    return math.log2(p / (1 - p))


def apart_key(a: str, b: str) -> str:
    """State key of a pair kept apart (order-free)."""
    return f"apart:{min(a, b)}|{max(a, b)}"


def canonical(state: State, eid: str) -> str:
    for _ in range(64):
        nxt = state.get(f"alias:{eid}")
        if nxt is None:
            return eid
        eid = nxt
    return eid


def profile_of(state: State, eid: str) -> dict[str, Any] | None:
    """An entity's profile; one kept as [last, first, middle, dob, sex] is read as a profile."""
    prof = state.get(f"p:{eid}")
    if isinstance(prof, list):
        last, first, middle, dob, sex = prof
        return {"n": [[last, first]], "m": middle, "d": [dob] if dob else [], "s": sex, "r": None,
                "i": [], "ph": [], "em": [], "a": []}  # fmt: skip
    return prof


@lru_cache(maxsize=65_536)  # the same names come back again and again
def name_keys(last: str, first: str) -> frozenset[str]:
    """Sound-alike surname and given initial: with a birth year, where a misspelt name meets."""
    sx = soundex(last) if last else ""
    return frozenset({f"pb:{sx}{f[0]}" for f in formal_names(first) if f} or {f"pb:{sx}"})


@lru_cache(maxsize=65_536)
def full_keys(last: str, first: str) -> frozenset[str]:
    """Sound-alike surname and the given name in each formal form (JON under JON and JONATHAN):
    where a mention without a DOB looks, a block the size of the people sharing the name."""
    sx = soundex(last) if last else ""
    return frozenset({f"pg:{sx}:{f}" for f in formal_names(first) if f} or {f"pg:{sx}:"})


def dob_keys(last: str, first: str, dob: str) -> set[str]:
    """The exact DOB with the given initial (a surname changed or misspelt) and with the
    sound-alike surname (a given name replaced): narrow enough to stay small among millions."""
    keys = {f"pd:{dob}:{first[0]}"} if first else set()
    return keys | ({f"pd:{dob}:{soundex(last)}"} if last else set())


def index_blocks(last: str, first: str, dob: str | None, m: Mention) -> set[str]:
    """Where a mention's entity is filed, for the name as filed and the mention's other keys."""
    full = full_keys(last, first)
    keys = set(full)
    if dob:
        keys.update(f"{k}:{dob[:4]}" for k in name_keys(last, first))
        keys |= dob_keys(last, first, dob)
        if last:
            keys.add(f"ps:{soundex(last)}:{dob[:4]}")
    else:
        keys.update(f"{k}:-" for k in full)
    return keys | other_blocks(m)


def other_blocks(m: Mention) -> set[str]:
    return (
        {f"pi:{k}:{v}" for k, v, _ in m.ids}
        | {f"pp:{x}" for x in m.phones}
        | {f"pe:{x}" for x in m.emails}
        | {f"pa:{x}" for x in m.addrs}
    )


def swapped_years(year: str) -> tuple[int, ...]:
    """Birth years a transposition of two adjacent digits makes (1991 as 1919)."""
    return tuple(sorted({int(t) for i in (1, 2) if (t := year[:i] + year[i + 1] + year[i] + year[i + 2 :]) != year}))


def query_blocks(m: Mention) -> list[str]:
    """Where a mention looks: its name both ways round, with the birth years a typist could have
    made of its own; the exact DOB with the given initial or the surname; surname and year when
    the given name is missing; every identifier, phone, e-mail and address. Each key holds the
    few people who share it, so cost stays near flat as holdings grow."""
    both = m.first and m.last
    full = full_keys(m.last, m.first) | (full_keys(m.first, m.last) if both else frozenset())
    keys = set(other_blocks(m))
    if not m.dob:
        keys |= full
        return sorted(keys)
    names = name_keys(m.last, m.first)  # a swapped name with a DOB is found by its DOB keys
    year = int(m.dob[:4])
    years = (year - 1, year, year + 1, *swapped_years(m.dob[:4]))
    keys |= {f"{k}:{y}" for k in names for y in years} | {f"{k}:-" for k in full}
    keys |= dob_keys(m.last, m.first, m.dob) | (dob_keys(m.first, m.last, m.dob) if both else set())
    if not m.first and m.last:
        keys |= {f"ps:{soundex(m.last)}:{y}" for y in years}
    return sorted(keys)


def profiles_conflict(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Two entities that can never be one person (for a bridging merge)."""
    if a.get("s") and b.get("s") and a["s"] != b["s"] and "U" not in (a["s"], b["s"]):
        return True
    if a["d"] and b["d"] and all(dobs_far_apart(x, y) for x in a["d"] for y in b["d"]):
        return True
    if a.get("x") and b.get("x") and not set(a["x"]) & set(b["x"]):
        return True
    return identifier_level(a["i"], b["i"]) == 0


def explain(s: Scored) -> str:
    """A reason in levels and weights only: it is shown with this record, and never quotes the
    other records' values (its reader may not be allowed to see them)."""
    parts = ", ".join(f"{f} {lvl} ({w:+.1f})" for f, lvl, w in s.evidence)
    return f"match weight {s.weight:.1f} bits: {parts}" if parts else f"match weight {s.weight:.1f} bits"


class PersonResolver:
    def __init__(self, state: State, model: PersonModel, match_p: float, review_p: float, max_candidates: int) -> None:
        self.state, self.model, self.cap = state, model, max_candidates
        # A mention is compared with every entity on file, not with one: the prior odds that a
        # given entity is this person are (the share of mentions that repeat someone on file)
        # / (the entities on file). So the same evidence is worth less as holdings grow, and a
        # full name alone, certain among a hundred people, goes to review among a million.
        # Holdings smaller than PRIOR_ENTITIES are taken to be that large, so the evidence a merge
        # needs does not depend on how early a record arrives.
        mentions, entities = max(state.get("tf:n", 0), 1), max(state.get("tf:e", 0), 1)
        repeats = (mentions - entities) / mentions if mentions > entities else 0.5
        self.prior = math.log2(max(repeats, 0.05) / max(entities, PRIOR_ENTITIES))
        self.match_weight = _logit(match_p) - self.prior
        self.review_weight = _logit(review_p) - self.prior
        self.margin = RIVAL_MARGIN

    def probability(self, weight: float) -> float:
        """The match probability a weight means among these holdings."""
        x = weight + self.prior
        return 1 / (1 + 2 ** (-x)) if x > -60 else 0.0

    def _tf(self) -> Any:
        total = self.state.get("tf:n", 0)
        if total < TF_MIN_MENTIONS:
            return None
        cache: dict[tuple[str, str], float | None] = {}

        def tf(f: str, value: str) -> float | None:
            k = (f, value)
            if k not in cache:
                n = self.state.get(f"tf:{f}:{value}", 0)
                cache[k] = max(n, 1) / total
            return cache[k]

        return tf

    def candidates(self, m: Mention, filing: bool = False) -> list[tuple[str, Scored]]:
        """Every entity filed under the mention's blocks, scored, best first; vetoed ones out.
        `filing`: the mention will be filed too (not a field query's lookup)."""
        seen: set[str] = set()
        raw: set[str] = set()
        out: list[tuple[str, Scored]] = []
        tf = self._tf()
        for e in self._filed_under(m, filing):
            if e in raw:
                continue
            raw.add(e)
            e = canonical(self.state, e)
            if e in seen:
                continue
            seen.add(e)
            prof = profile_of(self.state, e)
            if prof is None:
                continue
            s = self.model.score(m, prof, tf)
            if s.veto is None:
                out.append((e, s))
        out.sort(key=lambda x: (-x[1].weight, x[0]))
        return out

    def _filed_under(self, m: Mention, filing: bool) -> list[str]:
        """The entity ids filed under the mention's blocks (newest first in each, up to the cap),
        with every key the mention will read looked up in two round trips instead of one each
        (most are not held in memory): its blocks, and its counts and filing keys if it is to be
        filed; then its candidates' aliases and profiles."""
        blocks = query_blocks(m)
        keys = list(blocks)
        if filing:
            keys += [f"tf:{f}:{v}" for f, v in (("surname", m.last), ("given", m.first)) if v]
            keys += index_blocks(m.last, m.first, m.dob, m) | index_blocks(m.first, m.last, m.dob, m)
        self.state.prefetch(keys)
        ids = [e for b in blocks for e in reversed(self.state.get(b, [])[-self.cap :])]
        self.state.prefetch([k for e in dict.fromkeys(ids) for k in (f"alias:{e}", f"p:{e}")])
        return ids

    def resolve(self, m: Mention, record_id: str, idx: int) -> Resolution:
        scored = self.candidates(m, filing=True)
        sure = [(e, s) for e, s in scored if s.weight >= self.match_weight]
        ambiguous = False
        if sure:
            eid, best = sure[0]
            prof = profile_of(self.state, eid)
            assert prof is not None
            others = [(e, s) for e, s in sure[1:] if self.state.get(apart_key(eid, e)) is None]
            rivals = [(e, s) for e, s in others if profiles_conflict(prof, profile_of(self.state, e))]  # type: ignore[arg-type]
            # Several people this sure who cannot be one: the best is taken only if it leads
            # every rival by the margin a merge needs over a coin toss; else it is for review.
            ambiguous = any(best.weight - s.weight < self.margin for _, s in rivals)
            if not ambiguous:
                res = Resolution(eid, "probabilistic", self.probability(best.weight), explain(best),
                                 best.evidence, swapped=best.swapped)  # fmt: skip
                for other, s in others:
                    if (other, s) not in rivals:
                        res.merges.append(self._merge(eid, other, f"record {record_id} bridges them: {explain(s)}", s))
                self._file(eid, absorb(prof, m, best.swapped), m, best.swapped)
                self._count(m)
                return res
        eid = self._new_id(m, record_id, idx)
        res = Resolution(eid, "new", 1.0, "no person on file matches")
        res.possible = [(e, s) for e, s in scored if s.weight >= self.review_weight][:POSSIBLE]
        if ambiguous:
            res.reason = f"{len(sure)} people on file fit and cannot be one person; possible matches to review"
        elif res.possible:
            res.reason = "no person on file matches surely; a possible match to review"
        self._file(eid, m.profile(), m, False)
        self.state.put("tf:e", self.state.get("tf:e", 0) + 1)
        self._count(m)
        return res

    def lookup(self, m: Mention) -> list[tuple[str, Scored]]:
        """A field query: the entities at or above the merge weight (lookup only), best first."""
        return [(e, s) for e, s in self.candidates(m) if s.weight >= self.match_weight][:3]

    def _new_id(self, m: Mention, record_id: str, idx: int) -> str:
        eid = deterministic_id("person", m.last, m.first, m.dob) if m.dob else ""
        if not eid or self.state.get(f"p:{eid}") is not None:
            # No DOB, or the natural id is taken by someone this mention is not: an id of its
            # own, still the same on every replay.
            eid = deterministic_id("person", m.last, m.first, m.dob or "", record_id, str(idx))
        return eid

    def _file(self, eid: str, prof: dict[str, Any], m: Mention, swapped: bool) -> None:
        if prof != self.state.get(f"p:{eid}"):
            self.state.put(f"p:{eid}", prof)
        last, first = (m.first, m.last) if swapped else (m.last, m.first)
        for b in index_blocks(last, first, m.dob, m):
            lst = self.state.get(b)
            if not lst or lst[-1] != eid:
                lst = [x for x in (lst or []) if x != eid] + [eid]
                self.state.put(b, lst[-4 * self.cap :])

    def _count(self, m: Mention) -> None:
        self.state.put("tf:n", self.state.get("tf:n", 0) + 1)
        for f, v in (("surname", m.last), ("given", m.first)):
            if v:
                k = f"tf:{f}:{v}"
                self.state.put(k, self.state.get(k, 0) + 1)

    def _merge(self, survivor: str, other: str, reason: str, s: Scored | None) -> dict[str, Any]:
        a, b = profile_of(self.state, survivor), profile_of(self.state, other)
        if a is not None and b is not None:
            self.state.put(f"p:{survivor}", merged(a, b))
        self.state.put(f"alias:{other}", survivor)
        score = self.probability(s.weight) if s else 1.0
        return {"survivor_id": survivor, "merged_id": other, "score": round(score, 4), "reason": reason}

    def decide(self, d: dict[str, Any]) -> None:
        """An analyst's decision: SAME merges the two (unless kept apart since); APART splits a
        merge and keeps the pair apart for good."""
        one, other = d["entity_id"], d["other_id"]
        if not any(self.state.get(f"{k}:{x}") is not None for k in ("p", "alias") for x in (one, other)):
            return  # not a person this node holds (a chain's vehicle node takes it)
        if d.get("verdict") == "SAME":
            a, b = canonical(self.state, one), canonical(self.state, other)
            if a != b and self.state.get(apart_key(a, b)) is None and profile_of(self.state, a) is not None:
                self._merge(b, a, f"confirmed by {d['analyst']} ({d['agency']}): {d['reason']}", None)
            return
        if self.state.get(f"alias:{one}") is not None:
            self.state.delete(f"alias:{one}")
        self.state.put(apart_key(one, other), d["reason"])
