"""A harder generator for entity resolution: the error classes real records carry that the base
generator (argus/synthetic.py) does not, at rates seen in records systems.

On top of the base generator's nicknames, surname typos, missing DOBs and day-month swaps, a
person mention may have its given name and surname swapped, its given name or surname missing,
either replaced by an unrelated one (a typist's error, a nickname no table knows, a marriage),
two adjacent digits of its DOB transposed (1904-01-18 as 1904-10-18), or its birth year's last
two digits swapped (1991 as 1919). People also carry what RMS exports carry, each with its own
noise: a residence address (some mentions give an old one), a driver's licence and an SSN (a
digit mistyped now and then), phones (changed over time) and e-mail. Some people share a name,
an address and a household with a relative of another generation (JR/SR), the classic false
merge when a DOB is missing. Vehicles get plate typos and VINs that fail their check digit. The
truth is kept as in the base generator, so a bench can score a resolver on each class.
"""

from __future__ import annotations

import random
import string
from datetime import date, timedelta
from typing import Any

from argus.synthetic import FIRST_F, FIRST_M, LAST, STREETS, Generator

# per mention, after the base generator's errors
RATES = {
    "swap": 0.04, "no_given": 0.03, "no_surname": 0.01, "unrelated_given": 0.03, "unrelated_surname": 0.01,
    "dob_adjacent": 0.02, "dob_year": 0.01, "old_address": 0.15, "id_typo": 0.02, "new_phone": 0.15,
    "plate_typo": 0.02, "vin_typo": 0.02,
}  # fmt: skip
# How often a mention carries each kind of evidence, when the person has it.
CARRIES = {"address": 0.45, "dl": 0.3, "ssn": 0.12, "phone": 0.25, "email": 0.08}
SUFFIX_WRITTEN = 0.5  # how often a record writes a namesake relative's JR or SR
JUNIORS = 0.03  # people with a namesake relative of another generation at the same address


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


def mistype(rng: random.Random, value: str) -> str:
    """One character of an identifier replaced by another of its kind."""
    i = rng.randrange(len(value))
    pool = "0123456789" if value[i].isdigit() else "ABCDEFGHJKLMNPRSTUVWXYZ"
    return value[:i] + rng.choice([c for c in pool if c != value[i]]) + value[i + 1 :]


class HardGenerator(Generator):
    def __init__(self, *args: Any, rates: dict[str, float] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rates = RATES | (rates or {})
        self.errors: dict[str, int] = dict.fromkeys([*self.rates, "junior"], 0)
        rng = self.rng
        # Homes apart from the incident locations: about 2.5 people to an address, as in a county.
        addresses = sorted({self._home() for _ in range(max(50, int(len(self.persons) / 2.5)))})
        for p in list(self.persons):
            p["home"] = rng.choice(addresses) if rng.random() < 0.8 else None
            p["ssn"] = self._ssn()
            dl = f"{rng.choice(string.ascii_uppercase)}{rng.randint(0, 9999999):07d}"
            p["dl"] = dl if rng.random() < 0.6 else None
            p["phones"] = [f"559{rng.randint(2000000, 9999999)}" for _ in range(rng.choice((0, 1, 1, 2)))]
            p["email"] = f"{p['first'][0]}{p['last']}{rng.randint(1, 99)}@example.net".lower()
            p["email"] = p["email"] if rng.random() < 0.3 else None
            if p["home"] and rng.random() < JUNIORS:
                dob = date.fromisoformat(p["dob"]) + timedelta(days=365 * rng.choice((-27, -24, 24, 27)))
                kin = {"id": f"P{len(self.persons)}", "dob": dob.isoformat(), "ssn": self._ssn(), "dl": None}
                kin_younger = dob > date.fromisoformat(p["dob"])
                p["suffix"] = "SR" if kin_younger else "JR"
                self.persons.append(
                    p | kin | {"phones": p["phones"][:1], "email": None, "suffix": "JR" if kin_younger else "SR"}
                )
                self.errors["junior"] += 1

    def _home(self) -> str:
        rng = self.rng
        direction = rng.choice("NSEW") + " " if rng.random() < 0.3 else ""
        return f"{rng.randint(100, 19899)} {direction}{rng.choice(STREETS)}, Fresno, CA"

    def _ssn(self) -> str:
        rng = self.rng
        return f"{rng.randint(1, 665):03d}{rng.randint(1, 99):02d}{rng.randint(1, 9999):04d}"

    def _evidence(self, p: dict[str, Any], m: dict[str, Any]) -> None:
        """What an RMS export carries beside the name and DOB, each with its own noise."""
        rng, r, c = self.rng, self.rates, CARRIES
        if p["home"] and rng.random() < c["address"]:
            home = p["home"]
            if rng.random() < r["old_address"]:
                home = self._home()
                self.errors["old_address"] += 1
            m["residence_address"] = home.replace(" St,", " Street,") if rng.random() < 0.3 else home
        for kind, value in (("dl", p["dl"]), ("ssn", p["ssn"])):
            if value and rng.random() < c[kind]:
                if rng.random() < r["id_typo"]:
                    value = mistype(rng, value)
                    self.errors["id_typo"] += 1
                if kind == "dl":
                    m["dl_number"], m["dl_state"] = value, "CA"
                else:
                    m["ssn"] = f"{value[:3]}-{value[3:5]}-{value[5:]}" if rng.random() < 0.5 else value
        if p["phones"] and rng.random() < c["phone"]:
            phone = rng.choice(p["phones"])
            if rng.random() < r["new_phone"]:
                phone = f"559{rng.randint(2000000, 9999999)}"
                self.errors["new_phone"] += 1
            m["phone"] = f"({phone[:3]}) {phone[3:6]}-{phone[6:]}" if rng.random() < 0.5 else phone
        if p["email"] and rng.random() < c["email"]:
            m["email"] = p["email"]

    def person_mention(self, p: dict[str, Any], role: str) -> dict[str, Any]:
        m = super().person_mention(p, role)
        rng, r = self.rng, self.rates
        first, last = p["first"], p["last"]
        self._evidence(p, m)
        if p.get("suffix") and rng.random() < SUFFIX_WRITTEN:
            m["suffix"] = p["suffix"]
        if rng.random() < r["unrelated_given"]:
            pool = [x for x in (FIRST_M if p["sex"] == "M" else FIRST_F) if x != first]
            m["name"] = f"{last}, {rng.choice(pool)}"
            self.errors["unrelated_given"] += 1
        elif rng.random() < r["unrelated_surname"]:
            m["name"] = f"{rng.choice([x for x in LAST if x != last])}, {first}"
            self.errors["unrelated_surname"] += 1
        elif rng.random() < r["swap"]:
            m["name"] = f"{first}, {last}"  # "LAST, FIRST" written the wrong way round
            self.errors["swap"] += 1
        elif rng.random() < r["no_given"]:
            m["name"] = f"{last},"
            self.errors["no_given"] += 1
        elif rng.random() < r["no_surname"]:
            m["name"], m["given"] = f", {first}", first
            self.errors["no_surname"] += 1
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

    def vehicle_mention(self, v: dict[str, Any], role: str) -> dict[str, Any]:
        m = super().vehicle_mention(v, role)
        rng, r = self.rng, self.rates
        if rng.random() < r["plate_typo"]:
            plate = mistype(rng, v["plate"])
            m["plate"] = plate
            self.errors["plate_typo"] += 1
        if m["vin"] and rng.random() < r["vin_typo"]:
            m["vin"] = mistype(rng, m["vin"])
            self.errors["vin_typo"] += 1
        return m
