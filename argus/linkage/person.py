"""A person mention's comparison with an entity, field by field, as Fellegi-Sunter levels.

Each field has ordered levels (worst first); a field missing on either side is no evidence (None).
An entity holds every spelling, DOB, identifier, phone and address its mentions gave, so each
field is judged by the best level any of them reaches. The name is judged both ways round as
well, because a given name and surname written the wrong way round is a common clerical error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rapidfuzz.distance import OSA, JaroWinkler

from argus.normalize import address_key, first_names_compatible, formal_names, name_suffix, parse_name, soundex

LEVELS: dict[str, tuple[str, ...]] = {
    "surname": ("different", "similar", "sounds alike", "near identical", "exact"),
    "given": (
        "different",
        "similar",
        "sounds alike",
        "near identical",
        "two short forms",
        "variant or initial",
        "exact",
    ),
    "dob": ("different", "same year", "one digit or adjacent digits", "day and month swapped", "exact"),
    "sex": ("different", "same"),
    "race": ("different", "same"),
    "address": ("different", "similar", "exact"),
    "identifier": ("conflict", "one character apart", "same"),
    "phone": ("different", "same"),
    "email": ("different", "same"),
}
FIELDS = tuple(LEVELS)
SWAP_PENALTY = -3.0  # bits: a swapped reading must beat the straight one by more than this
CAP = 8  # values an entity keeps per field


@dataclass(slots=True)
class Mention:
    """The features of one mention, computed once and compared with many candidates."""

    last: str
    first: str
    middle: str = ""
    dob: str | None = None
    sex: str | None = None
    race: str | None = None
    ids: list[list[Any]] = field(default_factory=list)  # [kind, value, issuer]
    phones: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    addrs: list[str] = field(default_factory=list)  # address keys
    suffix: str = ""  # JR, SR, II...: a father and son share a name and often a home

    @classmethod
    def of(cls, p: dict[str, Any]) -> Mention:
        n = parse_name(p["name"])
        last = (p.get("surname") or "").upper().strip() or n.last
        first = (p.get("given") or "").upper().strip() or n.first
        addrs = [k for a in p.get("addresses") or [] if (k := address_key(a["address"]))]
        return cls(
            last=last,
            first=first,
            middle=(p.get("middle") or "").upper().strip() or n.middle,
            dob=p.get("dob"),
            sex=p.get("sex"),
            race=p.get("race"),
            ids=[[i["kind"], i["value"], i.get("issuer")] for i in p.get("identifiers") or []],
            phones=list(p.get("phones") or []),
            emails=list(p.get("emails") or []),
            addrs=sorted(set(addrs)),
            suffix=((p.get("suffix") or "").upper().replace(".", "").strip() or name_suffix(p["name"])),
        )

    def profile(self) -> dict[str, Any]:
        """A new entity's profile: what later mentions are compared with."""
        return {
            "n": [[self.last, self.first]],
            "m": self.middle,
            "d": [self.dob] if self.dob else [],
            "s": self.sex,
            "r": self.race,
            "i": list(self.ids),
            "ph": list(self.phones),
            "em": list(self.emails),
            "a": list(self.addrs),
            "x": [self.suffix] if self.suffix else [],
        }


def _add(values: list[Any], new: list[Any]) -> list[Any]:
    out = list(values)
    for v in new:
        if v and v not in out:
            out.append(v)
    return out[-CAP:]


def absorb(prof: dict[str, Any], m: Mention, swapped: bool) -> dict[str, Any]:
    """The profile after this mention joined the entity (a swapped name filed the right way)."""
    name = [m.first, m.last] if swapped else [m.last, m.first]
    return {
        "n": _add(prof["n"], [name]),
        "m": prof.get("m") or m.middle,
        "d": _add(prof["d"], [m.dob]),
        "s": prof.get("s") or m.sex,
        "r": prof.get("r") or m.race,
        "i": _add(prof["i"], m.ids),
        "ph": _add(prof["ph"], m.phones),
        "em": _add(prof["em"], m.emails),
        "a": _add(prof["a"], m.addrs),
        "x": _add(prof.get("x", []), [m.suffix]),
    }


def merged(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """Two entities' profiles as one (an analyst's confirmation, or a record that bridges them)."""
    return {
        "n": _add(a["n"], b["n"]),
        "m": a.get("m") or b.get("m"),
        "d": _add(a["d"], b["d"]),
        "s": a.get("s") or b.get("s"),
        "r": a.get("r") or b.get("r"),
        "i": _add(a["i"], b["i"]),
        "ph": _add(a["ph"], b["ph"]),
        "em": _add(a["em"], b["em"]),
        "a": _add(a["a"], b["a"]),
        "x": _add(a.get("x", []), b.get("x", [])),
    }


def surname_level(a: str, b: str) -> int | None:
    if not a or not b:
        return None
    if a == b:
        return 4
    jw = JaroWinkler.similarity(a, b)
    if jw >= 0.94:
        return 3
    if soundex(a) == soundex(b):
        return 2
    return 1 if jw >= 0.80 else 0


def given_level(a: str, b: str) -> int | None:
    if not a or not b:
        return None
    if a == b:
        return 6
    if first_names_compatible(a, b):
        # JON for JONATHAN, or J.; two short forms of one name (BILL, WILL) say less
        return 5 if min(len(a), len(b)) == 1 or a in formal_names(b) or b in formal_names(a) else 4
    jw = JaroWinkler.similarity(a, b)
    if jw >= 0.92:
        return 3
    if soundex(a) == soundex(b):
        return 2
    return 1 if jw >= 0.80 else 0


def dob_level(a: str | None, b: str | None) -> int | None:
    if not a or not b:
        return None
    if a == b:
        return 4
    if a[:4] == b[:4] and a[5:7] == b[8:10] and a[8:10] == b[5:7]:
        return 3
    if OSA.distance(a, b) == 1:
        return 2
    return 1 if a[:4] == b[:4] else 0


def dobs_far_apart(a: str, b: str) -> bool:
    """Two DOBs no clerical error explains: a hard veto."""
    return dob_level(a, b) == 0 and abs(int(a[:4]) - int(b[:4])) > 1


def identifier_level(mine: list[list[Any]], theirs: list[list[Any]]) -> int | None:
    """Same kind (and issuer, where both give one): the same value, a one-character slip, or a
    conflict. Identifiers of kinds only one side has are no evidence."""
    best: int | None = None
    for kind, value, issuer in mine:
        for k2, v2, i2 in theirs:
            if k2 != kind or (issuer and i2 and issuer != i2):
                continue
            lvl = 2 if value == v2 else 1 if OSA.distance(value, v2) == 1 else 0
            best = lvl if best is None else max(best, lvl)
    return best


def shared_level(mine: list[str], theirs: list[str]) -> int | None:
    if not mine or not theirs:
        return None
    return 1 if set(mine) & set(theirs) else 0


def address_level(mine: list[str], theirs: list[str]) -> int | None:
    if not mine or not theirs:
        return None
    if set(mine) & set(theirs):
        return 2
    best = max(JaroWinkler.similarity(a, b) for a in mine for b in theirs)
    return 1 if best >= 0.90 else 0


def vetoed(m: Mention, prof: dict[str, Any]) -> str | None:
    """Why the two cannot be one person, whatever else agrees: the reason, or None."""
    if m.sex and prof.get("s") and m.sex != prof["s"] and "U" not in (m.sex, prof["s"]):
        return "sex differs"
    if m.dob and prof["d"] and all(dobs_far_apart(m.dob, d) for d in prof["d"]):
        return "DOBs far apart"
    if identifier_level(m.ids, prof["i"]) == 0:
        return "a different identifier of the same kind"
    if m.suffix and prof.get("x") and m.suffix not in prof["x"]:
        return "another generation (name suffix differs)"
    return None


def other_levels(m: Mention, prof: dict[str, Any]) -> dict[str, int | None]:
    """Every field but the name."""
    dob = None
    for d in prof["d"]:
        lvl = dob_level(m.dob, d)
        if lvl is not None and (dob is None or lvl > dob):
            dob = lvl
    return {
        "dob": dob,
        "sex": None if not m.sex or not prof.get("s") or "U" in (m.sex, prof["s"]) else int(m.sex == prof["s"]),
        "race": None if not m.race or not prof.get("r") else int(m.race == prof["r"]),
        "address": address_level(m.addrs, prof["a"]),
        "identifier": identifier_level(m.ids, prof["i"]),
        "phone": shared_level(m.phones, prof["ph"]),
        "email": shared_level(m.emails, prof["em"]),
    }


def name_readings(m: Mention, prof: dict[str, Any]) -> list[tuple[int | None, int | None, bool]]:
    """(surname level, given level, swapped) for each of the entity's names, both ways round."""
    out = []
    for last, first in prof["n"]:
        sl, gl = surname_level(m.last, last), given_level(m.first, first)
        out.append((sl, gl, False))
        # Read the other way round only where the straight reading fails on both parts.
        if m.first and m.last and (sl or 0) < 2 and (gl or 0) < 2:
            out.append((surname_level(m.first, last), given_level(m.last, first), True))
    return out
