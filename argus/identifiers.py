"""Person identifiers, phones, e-mail and body measures as records systems write them, normalised
so two agencies' spellings of one value compare equal, and refused with a reason when a value
cannot be one (an SSN of 000-..., a phone of four digits). Connectors keep a refused value as an
invalid field of the record; entity resolution never uses it as evidence."""

from __future__ import annotations

import re

from argus.records import InvalidRecord

# NCIC / N-DEx person identifiers. DL and SID are issued by a state, PASSPORT by a country.
IDENTIFIER_KINDS = ("SSN", "DL", "SID", "FBI", "UCN", "PASSPORT", "OTHER")
ISSUED = ("DL", "SID", "PASSPORT")
# The shorthand keys an RMS export uses for one identifier each: key -> (kind, issuer key).
SHORTHAND = {
    "ssn": ("SSN", None),
    "dl_number": ("DL", "dl_state"),
    "oln": ("DL", "ols"),
    "state_id": ("SID", "sid_state"),
    "fbi_number": ("FBI", None),
    "ucn": ("UCN", None),
    "passport": ("PASSPORT", "passport_country"),
}
_ALNUM = re.compile(r"[^A-Z0-9]")
_DIGITS = re.compile(r"\D")
_EMAIL = re.compile(r"^[a-z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-z0-9-]+(\.[a-z0-9-]+)+$")


def identifier_value(kind: str, value: str) -> str:
    """Upper case, no spaces, dashes or dots; an SSN must be one the SSA could have issued."""
    v = _ALNUM.sub("", value.upper())
    if not v:
        raise InvalidRecord("empty after removing spaces and punctuation")
    if len(v) > 32:
        raise InvalidRecord(f"{len(v)} characters, over the limit of 32")
    if kind == "SSN":
        if len(v) != 9 or not v.isdigit():
            raise InvalidRecord("an SSN has nine digits")
        if v[:3] in ("000", "666") or v[0] == "9" or v[3:5] == "00" or v[5:] == "0000":
            raise InvalidRecord("not a number the SSA issues (area 000, 666 or 9xx, group 00 or serial 0000)")
    return v


def phone_digits(value: str) -> str:
    """Digits only; a North American number loses its leading 1 so 1-555-... and (555) ... meet."""
    d = _DIGITS.sub("", value)
    if len(d) == 11 and d[0] == "1":
        d = d[1:]
    if not 7 <= len(d) <= 15:
        raise InvalidRecord(f"{len(d)} digits; a phone number has 7 to 15")
    return d


def email_address(value: str) -> str:
    v = value.strip().lower()
    if len(v) > 254 or not _EMAIL.match(v):
        raise InvalidRecord("not an e-mail address")
    return v


def height_cm(value: object) -> int:
    """Centimetres from centimetres, or from NCIC's feet-and-inches (510 = 5 ft 10 in, 5'10")."""
    if isinstance(value, bool):
        raise InvalidRecord("expected a height")
    if isinstance(value, (int, float)):
        cm = round(value)
    else:
        s = str(value).strip().replace('"', "")
        m = re.fullmatch(r"(\d)'\s*(\d{1,2})?", s) or re.fullmatch(r"(\d)(\d{2})", s)
        if m:
            cm = round((int(m.group(1)) * 12 + int(m.group(2) or 0)) * 2.54)
        elif s.isdigit():
            cm = int(s)
        else:
            raise InvalidRecord(f"expected centimetres or feet and inches (510, 5'10), got {s[:16]!r}")
    if not 40 <= cm <= 275:
        raise InvalidRecord(f"{cm} cm is not a person's height")
    return cm


def weight_kg(value: object, pounds: bool) -> int:
    """Kilograms, from kilograms or from NCIC's pounds."""
    if isinstance(value, bool):
        raise InvalidRecord("expected a weight")
    try:
        w = float(str(value).strip())
    except ValueError:
        raise InvalidRecord(f"expected a number, got {str(value)[:16]!r}") from None
    kg = round(w * 0.45359237) if pounds else round(w)
    if not 2 <= kg <= 400:
        raise InvalidRecord(f"{kg} kg is not a person's weight")
    return kg
