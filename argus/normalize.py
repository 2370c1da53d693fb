"""Normalised keys for POLE matching: what two agencies' spellings of one thing have in common."""

from __future__ import annotations

import re
from dataclasses import dataclass

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
    """NCIC style 'LAST, FIRST MIDDLE' when there is a comma; otherwise 'First [Middle] Last'."""
    s = _NAME_DROP.sub("", raw.upper().replace(".", ""))
    if "," in s:
        last, _, rest = s.partition(",")
        parts = rest.split()
        last_parts = [p for p in last.split() if p not in _SUFFIXES]
    else:
        words = [p for p in s.split() if p not in _SUFFIXES]
        last_parts, parts = words[-1:], words[:-1]
    parts = [p for p in parts if p not in _SUFFIXES]
    last = " ".join(last_parts).replace("'", "").replace("-", " ").strip()
    first = parts[0].replace("'", "") if parts else ""
    middle = " ".join(parts[1:])
    return PersonName(last=last, first=first, middle=middle)


def formal_names(first: str) -> tuple[str, ...]:
    return (first, *_NICKNAMES.get(first, ()))


def first_names_compatible(a: str, b: str) -> bool:
    """Same person's given name written two ways: a nickname or an initial."""
    if a == b:
        return True
    if (len(a) == 1 and b.startswith(a)) or (len(b) == 1 and a.startswith(b)):
        return True
    return bool(set(formal_names(a)) & set(formal_names(b)))


def soundex(name: str) -> str:
    """American Soundex: surnames that sound alike share a blocking key despite typos."""
    s = re.sub(r"[^A-Z]", "", name.upper())
    if not s:
        return "0000"
    codes = {
        **dict.fromkeys("BFPV", "1"),
        **dict.fromkeys("CGJKQSXZ", "2"),
        **dict.fromkeys("DT", "3"),
        "L": "4",
        **dict.fromkeys("MN", "5"),
        "R": "6",
    }
    out = s[0]
    prev = codes.get(s[0], "")
    for ch in s[1:]:
        code = codes.get(ch, "")
        if code and code != prev:
            out += code
        if ch not in "HW":
            prev = code
    return (out + "000")[:4]


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
    "NORTH": "N",
    "SOUTH": "S",
    "EAST": "E",
    "WEST": "W",
    "SUITE": "STE",
    "APARTMENT": "APT",
    "CIRCLE": "CIR",
    "TERRACE": "TER",
    "FREEWAY": "FWY",
}


def address_key(address: str | None) -> str | None:
    if not address:
        return None
    words = re.sub(r"[^A-Z0-9 ]", " ", address.upper()).split()
    return " ".join(_STREET.get(w, w) for w in words) or None


def geo_key(lat: float | None, lon: float | None) -> str | None:
    """About 11 m cells: two reports of one address geocoded slightly differently still meet."""
    if lat is None or lon is None:
        return None
    return f"{round(lat, 4):.4f},{round(lon, 4):.4f}"
