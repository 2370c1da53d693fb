"""A harder generator for entity resolution: the error classes real records carry that the base
generator (argus/synthetic.py) does not, at rates seen in records systems.

On top of the base generator's nicknames, surname typos, missing DOBs and day-month swaps, a
person mention may have its given name and surname swapped, its given name missing, its given
name replaced by an unrelated one (a typist's error, or a nickname no table knows), two adjacent
digits of its DOB transposed (1904-01-18 as 1904-10-18), or its birth year's last two digits
swapped (1991 as 1919). The truth is kept as in the base generator, so a bench can score a
resolver on each class.
"""

from __future__ import annotations

from typing import Any

from argus.synthetic import FIRST_F, FIRST_M, Generator

# per mention, after the base generator's errors
RATES = {"swap": 0.04, "no_given": 0.03, "unrelated_given": 0.03, "dob_adjacent": 0.02, "dob_year": 0.01}


def transpose_adjacent(dob: str, i: int) -> str:
    """Swap the digits at positions i and i+1 of the DOB's eight digits (separators kept)."""
    digits = [c for c in dob if c.isdigit()]
    digits[i], digits[i + 1] = digits[i + 1], digits[i]
    return f"{''.join(digits[:4])}-{''.join(digits[4:6])}-{''.join(digits[6:])}"


def valid_date(dob: str) -> bool:
    from datetime import date

    try:
        date.fromisoformat(dob)
    except ValueError:
        return False
    return True


class HardGenerator(Generator):
    def __init__(self, *args: Any, rates: dict[str, float] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rates = RATES | (rates or {})
        self.errors: dict[str, int] = dict.fromkeys(self.rates, 0)

    def person_mention(self, p: dict[str, Any], role: str) -> dict[str, Any]:
        m = super().person_mention(p, role)
        rng, r = self.rng, self.rates
        first, last = p["first"], p["last"]
        if rng.random() < r["unrelated_given"]:
            pool = [x for x in (FIRST_M if p["sex"] == "M" else FIRST_F) if x != first]
            m["name"] = f"{last}, {rng.choice(pool)}"
            self.errors["unrelated_given"] += 1
        elif rng.random() < r["swap"]:
            m["name"] = f"{first}, {last}"  # "LAST, FIRST" written the wrong way round
            self.errors["swap"] += 1
        elif rng.random() < r["no_given"]:
            m["name"] = f"{last},"
            self.errors["no_given"] += 1
        if m["dob"] and rng.random() < r["dob_adjacent"]:
            for _ in range(10):
                cand = transpose_adjacent(m["dob"], rng.randrange(4, 7))  # month and day digits
                if cand != m["dob"] and valid_date(cand):
                    m["dob"] = cand
                    self.errors["dob_adjacent"] += 1
                    break
        elif m["dob"] and rng.random() < r["dob_year"]:
            cand = transpose_adjacent(m["dob"], 2)
            if cand != m["dob"] and valid_date(cand):
                m["dob"] = cand
                self.errors["dob_year"] += 1
        return m
