"""Normalised keys for POLE matching: what two agencies' spellings of one thing have in common."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import jellyfish
from nameparser import HumanName
from nameparser.config import Constants

_PLATE_DROP = re.compile(r"[^A-Z0-9]")
# Officers and clerks confuse these when typing or reading plates; the key folds them.
_PLATE_FOLD = str.maketrans({"O": "0", "Q": "0", "I": "1"})


def plate_key(plate: str | None) -> str | None:
    """'8-ABC 123', '8abc123' and '8ABC-I23' give the same key."""
    if not plate:
        return None
    p = _PLATE_DROP.sub("", plate.upper())
    return p.translate(_PLATE_FOLD) or None


def plate_folded(plate: str) -> bool:
    """Whether the key differs from the plate beyond spacing and case (an O/0 or I/1 fold)."""
    return any(c in "OQI" for c in _PLATE_DROP.sub("", plate.upper()))


_VIN_VALUES = {
    **{str(d): d for d in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
    **dict(zip("JKLMN", range(1, 6), strict=True)),
    "P": 7,
    "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10), strict=True)),
}
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)


def vin_check_digit(vin: str) -> str:
    total = sum(_VIN_VALUES[c] * w for c, w in zip(vin, _VIN_WEIGHTS, strict=True))
    r = total % 11
    return "X" if r == 10 else str(r)


def vin_valid(vin: str | None) -> bool:
    """17 characters, no I/O/Q, and the position-9 check digit agrees (49 CFR 565)."""
    if not vin or len(vin) != 17:
        return False
    v = vin.upper()
    if any(c not in _VIN_VALUES for c in v):
        return False
    return vin_check_digit(v) == v[8]


def vin_normal(vin: str | None) -> str | None:
    return re.sub(r"[\s-]", "", vin.upper()) if vin else None


# Common English given-name variants. A name maps to the formal names it may stand for.
_NICKNAMES: dict[str, tuple[str, ...]] = {
    "JON": ("JOHN", "JONATHAN"),
    "JOHNNY": ("JOHN", "JONATHAN"),
    "JACK": ("JOHN",),
    "JONNY": ("JONATHAN", "JOHN"),
    "BILL": ("WILLIAM",),
    "BILLY": ("WILLIAM",),
    "WILL": ("WILLIAM",),
    "LIAM": ("WILLIAM",),
    "BOB": ("ROBERT",),
    "BOBBY": ("ROBERT",),
    "ROB": ("ROBERT",),
    "ROBBIE": ("ROBERT",),
    "BERT": ("ROBERT", "ALBERT"),
    "MIKE": ("MICHAEL",),
    "MIKEY": ("MICHAEL",),
    "MICK": ("MICHAEL",),
    "JIM": ("JAMES",),
    "JIMMY": ("JAMES",),
    "JAMIE": ("JAMES",),
    "DAVE": ("DAVID",),
    "DAVEY": ("DAVID",),
    "DICK": ("RICHARD",),
    "RICK": ("RICHARD", "ERIC"),
    "RICKY": ("RICHARD",),
    "RICH": ("RICHARD",),
    "TOM": ("THOMAS",),
    "TOMMY": ("THOMAS",),
    "CHRIS": ("CHRISTOPHER", "CHRISTINA", "CHRISTINE"),
    "DAN": ("DANIEL",),
    "DANNY": ("DANIEL",),
    "JOE": ("JOSEPH",),
    "JOEY": ("JOSEPH",),
    "TONY": ("ANTHONY",),
    "STEVE": ("STEVEN", "STEPHEN"),
    "ED": ("EDWARD",),
    "EDDIE": ("EDWARD",),
    "TED": ("EDWARD", "THEODORE"),
    "MATT": ("MATTHEW",),
    "ANDY": ("ANDREW",),
    "DREW": ("ANDREW",),
    "NICK": ("NICHOLAS",),
    "ALEX": ("ALEXANDER", "ALEXANDRA"),
    "SAM": ("SAMUEL", "SAMANTHA"),
    "BEN": ("BENJAMIN",),
    "CHARLIE": ("CHARLES",),
    "CHUCK": ("CHARLES",),
    "GREG": ("GREGORY",),
    "JERRY": ("GERALD", "JEROME"),
    "LARRY": ("LAWRENCE",),
    "PETE": ("PETER",),
    "RAY": ("RAYMOND",),
    "RON": ("RONALD",),
    "TIM": ("TIMOTHY",),
    "KEN": ("KENNETH",),
    "KENNY": ("KENNETH",),
    "JEFF": ("JEFFREY",),
    "GARY": ("GARRETT",),
    "LIZ": ("ELIZABETH",),
    "BETH": ("ELIZABETH",),
    "BETTY": ("ELIZABETH",),
    "ELIZA": ("ELIZABETH",),
    "KATE": ("KATHERINE", "KATHLEEN"),
    "KATIE": ("KATHERINE",),
    "KATHY": ("KATHERINE", "KATHLEEN"),
    "CATHY": ("CATHERINE",),
    "PEGGY": ("MARGARET",),
    "MAGGIE": ("MARGARET",),
    "MEG": ("MARGARET",),
    "SUE": ("SUSAN",),
    "SUSIE": ("SUSAN",),
    "JENNY": ("JENNIFER",),
    "JEN": ("JENNIFER",),
    "PATTY": ("PATRICIA",),
    "PAT": ("PATRICIA", "PATRICK"),
    "TRISH": ("PATRICIA",),
    "BECKY": ("REBECCA",),
    "DEBBIE": ("DEBORAH",),
    "DEB": ("DEBORAH",),
    "MANNY": ("MANUEL",),
    "PACO": ("FRANCISCO",),
    "PANCHO": ("FRANCISCO",),
    "LUPE": ("GUADALUPE",),
    "CHUY": ("JESUS",),
    "PEPE": ("JOSE",),
}
_SUFFIXES = {"JR", "SR", "II", "III", "IV"}
# Ranks and titles a report puts before a name ("Det. Ruiz"), beside nameparser's own list.
_TITLES = {"DR", "MR", "MRS", "MS", "MISS", "SGT", "LT", "CAPT", "CPT", "DET", "OFC", "CPL", "TRP", "DEP", "INSP"}
_NAME_CONSTANTS = Constants()
_NAME_CONSTANTS.titles.add(*(t.lower() for t in _TITLES))
_NOT_LETTER = re.compile(r"[^A-Z]")
_NAME_DROP = re.compile(r"[^A-Z ,'-]")


@dataclass(frozen=True, slots=True)
class PersonName:
    last: str
    first: str
    middle: str

    @property
    def key(self) -> str:
        return f"{self.last}|{self.first}"

    @property
    def display(self) -> str:
        return f"{self.last}, {self.first}" + (f" {self.middle}" if self.middle else "")


def parse_name(raw: str) -> PersonName:
    """NCIC style 'LAST, FIRST MIDDLE' when there is a comma; otherwise 'First [Middle] Last'.
    The two shapes every RMS export writes are read here at once; a name with a title, a
    particle ('Maria de la Cruz', 'Michael St. John') or more words goes to nameparser, so it
    gets the same key as its NCIC form (docs/libraries.md has the measurement)."""
    s = _NAME_DROP.sub("", raw.upper().replace(".", ""))
    if "," in s:
        last, _, rest = s.partition(",")
        parts = [p for p in rest.split() if p not in _SUFFIXES]
        return _name([p for p in last.split() if p not in _SUFFIXES], parts)
    words = [p for p in s.split() if p not in _SUFFIXES]
    if len(words) <= 2 and not (words and words[0] in _TITLES):
        return _name(words[-1:], words[:-1])
    return _free_form(" ".join(words))


def _name(last_parts: list[str], given: list[str]) -> PersonName:
    last = " ".join(last_parts).replace("'", "").replace("-", " ").strip()
    first = given[0].replace("'", "") if given else ""
    return PersonName(last=last, first=first, middle=" ".join(given[1:]))


@lru_cache(maxsize=65_536)  # nameparser takes ~170 us a name; the same names come back again and again
def _free_form(s: str) -> PersonName:
    h = HumanName(s, constants=_NAME_CONSTANTS)
    return _name(h.last.split(), [*h.first.split(), *h.middle.split()])


def name_suffix(raw: str) -> str:
    """The generational suffix a name carries (JR, SR, II, III, IV), or ''."""
    words = _NAME_DROP.sub(" ", raw.upper().replace(".", "").replace(",", " ")).split()
    return next((w for w in words if w in _SUFFIXES), "")


def formal_names(first: str) -> tuple[str, ...]:
    return (first, *_NICKNAMES.get(first, ()))


@lru_cache(maxsize=262_144)  # asked for every candidate a mention is compared with
def first_names_compatible(a: str, b: str) -> bool:
    """Same person's given name written two ways: a nickname or an initial."""
    if a == b:
        return True
    if (len(a) == 1 and b.startswith(a)) or (len(b) == 1 and a.startswith(b)):
        return True
    return bool(set(formal_names(a)) & set(formal_names(b)))


@lru_cache(maxsize=262_144)
def soundex(name: str) -> str:
    """American Soundex (jellyfish's): surnames that sound alike share a blocking key despite
    typos. Only the letters count; a name without any is "0000"."""
    s = _NOT_LETTER.sub("", name.upper())
    return jellyfish.soundex(s) if s else "0000"


# USPS Publication 28 street suffixes and directionals, plus the name words written both ways
# ("Saint", "Mount", ordinals): both spellings of one street give one key.
_STREET = {
    "STREET": "ST",
    "AVENUE": "AVE",
    "AV": "AVE",
    "BOULEVARD": "BLVD",
    "ROAD": "RD",
    "DRIVE": "DR",
    "LANE": "LN",
    "COURT": "CT",
    "PLACE": "PL",
    "HIGHWAY": "HWY",
    "PARKWAY": "PKWY",
    "CIRCLE": "CIR",
    "TERRACE": "TER",
    "FREEWAY": "FWY",
    "NORTH": "N",
    "SOUTH": "S",
    "EAST": "E",
    "WEST": "W",
    "NORTHEAST": "NE",
    "NORTHWEST": "NW",
    "SOUTHEAST": "SE",
    "SOUTHWEST": "SW",
    "SAINT": "ST",
    "MOUNT": "MT",
    "FORT": "FT",
    **{w: f"{i}{'ST' if i == 1 else 'ND' if i == 2 else 'RD' if i == 3 else 'TH'}" for i, w in enumerate(
        ("FIRST", "SECOND", "THIRD", "FOURTH", "FIFTH", "SIXTH", "SEVENTH", "EIGHTH", "NINTH", "TENTH"), 1
    )},
}  # fmt: skip
# Words that only say a unit number follows ("Apt 3", "Unit 3", "#3", "Suite 3"): the number is the key.
_UNIT = {"APT", "APARTMENT", "UNIT", "STE", "SUITE", "RM", "ROOM"}
_ADDRESS_DROP = re.compile(r"[^A-Z0-9 ]")


def address_key(address: str | None) -> str | None:
    """One key for the ways a report writes one street address (docs/libraries.md says why this
    is a table and not usaddress)."""
    if not address:
        return None
    words = _ADDRESS_DROP.sub(" ", address.upper()).split()
    return " ".join(_STREET.get(w, w) for w in words if w not in _UNIT) or None


def geo_key(lat: float | None, lon: float | None) -> str | None:
    """About 11 m cells: two reports of one address geocoded slightly differently still meet."""
    if lat is None or lon is None:
        return None
    return f"{round(lat, 4):.4f},{round(lon, 4):.4f}"
