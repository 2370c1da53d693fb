"""Validating the persons, vehicles and locations every source may carry."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from argus.identifiers import (
    IDENTIFIER_KINDS,
    ISSUED,
    SHORTHAND,
    email_address,
    height_cm,
    identifier_value,
    phone_digits,
    weight_kg,
)
from argus.records import MAX_TEXT, InvalidRecord, clean_text, parse_dob

T = TypeVar("T")

MAX_ITEMS = 50


def _items(raw: Any, name: str) -> list[dict[str, Any]]:
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(x, dict) for x in raw):
        raise InvalidRecord(f"{name}: expected a list of objects")
    if len(raw) > MAX_ITEMS:
        raise InvalidRecord(f"{name}: {len(raw)} entries, over the limit of {MAX_ITEMS}")
    return raw


class Invalid:
    """The fields of one mention that could not be read, each with its reason: kept beside the
    record (argus.InvalidField) instead of losing the report."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.fields: list[dict[str, str]] = []

    def read(self, fn: Callable[[], T], field: str, raw: Any) -> T | None:
        try:
            return fn()
        except InvalidRecord as exc:
            reason = str(exc).removeprefix(f"{self.where}.{field}: ")
            shown = "".join(ch for ch in str(raw)[:64] if ch.isprintable())
            self.fields.append({"field": field, "value": shown, "reason": reason})
            return None


def _strings(raw: Any, name: str, limit: int, cap: int = 10) -> list[str]:
    if raw is None:
        return []
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list):
        raise InvalidRecord(f"{name}: expected a list of strings")
    out = [clean_text(x, f"{name}[{i}]", limit) for i, x in enumerate(raw[:cap])]
    return [x for x in out if x]


def _sex(p: dict[str, Any], w: str) -> str:
    sex = clean_text(p.get("sex"), f"{w}.sex", 1)
    if sex is not None and sex.upper() not in ("M", "F", "U"):
        raise InvalidRecord(f"{w}.sex: expected M, F or U, got {sex!r}")
    return sex.upper() if sex else None  # type: ignore[return-value]


def _identifiers(p: dict[str, Any], w: str, bad: Invalid) -> list[dict[str, Any]]:
    """Listed ({kind, value, issuer}) or in an export's shorthand columns (ssn, dl_number +
    dl_state, ...); one that cannot be read is kept as an invalid field."""
    listed = [x for x in _items(p.get("identifiers"), f"{w}.identifiers")]
    for key, (kind, issuer_key) in SHORTHAND.items():
        if p.get(key) not in (None, ""):
            listed.append({"kind": kind, "value": p[key], "issuer": p.get(issuer_key) if issuer_key else None})
    out = []
    for i, ident in enumerate(listed[:MAX_ITEMS]):
        f = f"identifiers[{i}]"
        kind = (clean_text(ident.get("kind"), f"{w}.{f}.kind", 16) or "OTHER").upper()
        if kind not in IDENTIFIER_KINDS:
            kind = "OTHER"
        raw = clean_text(str(ident.get("value", "")), f"{w}.{f}.value", 64) or ""
        value = bad.read(lambda k=kind, r=raw: identifier_value(k, r), f"{f}.value", raw)
        issuer = clean_text(ident.get("issuer"), f"{w}.{f}.issuer", 3)
        if value and not any(x["kind"] == kind and x["value"] == value for x in out):
            out.append({"kind": kind, "value": value, "issuer": issuer.upper() if issuer and kind in ISSUED else None})
    return out


def _addresses(p: dict[str, Any], w: str) -> list[dict[str, str]]:
    out = []
    for kind in ("residence", "work"):
        a = clean_text(p.get(f"{kind}_address"), f"{w}.{kind}_address", 256)
        if a:
            out.append({"kind": kind, "address": a})
    for i, a in enumerate(_items(p.get("addresses"), f"{w}.addresses")):
        text = clean_text(a.get("address"), f"{w}.addresses[{i}].address", 256)
        kind = (clean_text(a.get("kind"), f"{w}.addresses[{i}].kind", 16) or "other").lower()
        if text:
            out.append({"kind": kind if kind in ("residence", "work") else "other", "address": text})
    return out


# The fields beyond name, DOB, sex and race; most mentions carry none, and skip their parsing.
EXTRA = frozenset({
    "given", "middle", "surname", "suffix", "aliases", "height", "height_cm", "weight", "weight_kg", "eye_colour",
    "eyes", "hair_colour", "hair", "descriptors", "smt", "identifiers", "phones", "phone", "emails", "email",
    "addresses", "residence_address", "work_address", *SHORTHAND,
    *(k for _, k in SHORTHAND.values() if k),
})  # fmt: skip
NO_EXTRA: dict[str, Any] = {
    "given": None, "middle": None, "surname": None, "suffix": None, "aliases": [], "height_cm": None,
    "weight_kg": None, "eye_colour": None, "hair_colour": None, "descriptors": [], "identifiers": [], "phones": [],
    "emails": [], "addresses": [],
}  # fmt: skip


def person(p: dict[str, Any], w: str) -> dict[str, Any]:
    """One person mention. A value that cannot be one (a DOB with month 21, an SSN of 000-...)
    is kept as an invalid field with its reason, and the report goes on; a hostile or oversized
    value still refuses the record."""
    bad = Invalid(w)
    dob_raw = clean_text(p.get("dob"), f"{w}.dob", 32)
    out = {
        "role": clean_text(p.get("role"), f"{w}.role", 32) or "other",
        "name": clean_text(p.get("name"), f"{w}.name", 128, required=True),
        "dob": bad.read(lambda: parse_dob(dob_raw, f"{w}.dob"), "dob", dob_raw),
        "sex": bad.read(lambda: _sex(p, w), "sex", p.get("sex")),
        "race": clean_text(p.get("race"), f"{w}.race", 8),
    }
    if EXTRA.isdisjoint(p):
        out.update({k: [] if isinstance(v, list) else v for k, v in NO_EXTRA.items()})
    else:
        out.update(_extra(p, w, bad))
    out["invalid"] = bad.fields
    return out


def _extra(p: dict[str, Any], w: str, bad: Invalid) -> dict[str, Any]:
    """Name parts, aliases, body, identifiers, phones, e-mail and addresses, where given."""
    phones = [bad.read(lambda x=x: phone_digits(x), f"phones[{i}]", x) for i, x in enumerate(
        _strings(p.get("phones", p.get("phone")), f"{w}.phones", 32))]  # fmt: skip
    emails = [bad.read(lambda x=x: email_address(x), f"emails[{i}]", x) for i, x in enumerate(
        _strings(p.get("emails", p.get("email")), f"{w}.emails", 254))]  # fmt: skip
    height, weight = p.get("height_cm", p.get("height")), p.get("weight_kg", p.get("weight"))
    pounds = "weight_kg" not in p  # NCIC writes pounds
    return {
        **{k: clean_text(p.get(k), f"{w}.{k}", 64) for k in ("given", "middle", "surname")},
        "suffix": clean_text(p.get("suffix"), f"{w}.suffix", 8),
        "aliases": _strings(p.get("aliases"), f"{w}.aliases", 128),
        "height_cm": bad.read(lambda: height_cm(height), "height", height) if height not in (None, "") else None,
        "weight_kg": bad.read(lambda: weight_kg(weight, pounds), "weight", weight)
        if weight not in (None, "")
        else None,
        "eye_colour": clean_text(p.get("eye_colour", p.get("eyes")), f"{w}.eye_colour", 16),
        "hair_colour": clean_text(p.get("hair_colour", p.get("hair")), f"{w}.hair_colour", 16),
        "descriptors": _strings(p.get("descriptors", p.get("smt")), f"{w}.descriptors", 128, cap=20),
        "identifiers": _identifiers(p, w, bad),
        "phones": sorted({x for x in phones if x}),
        "emails": sorted({x for x in emails if x}),
        "addresses": _addresses(p, w),
    }


def persons(raw: Any) -> list[dict[str, Any]]:
    return [person(p, f"persons[{i}]") for i, p in enumerate(_items(raw, "persons"))]


def _year(year: Any, name: str) -> int | None:
    if year is None or year == "":
        return None
    if isinstance(year, str) and year.strip().isdigit():
        year = int(year)
    if isinstance(year, bool) or not isinstance(year, int) or not 1900 <= year <= 2100:
        raise InvalidRecord(f"expected a year between 1900 and 2100, got {str(year)[:16]!r}")
    return year


def vehicles(raw: Any) -> list[dict[str, Any]]:
    out = []
    for i, v in enumerate(_items(raw, "vehicles")):
        w = f"vehicles[{i}]"
        plate = clean_text(v.get("plate"), f"{w}.plate", 16)
        vin = clean_text(v.get("vin"), f"{w}.vin", 24)
        if not plate and not vin:
            raise InvalidRecord(f"{w}: a vehicle needs a plate or a VIN")
        bad = Invalid(w)
        year = bad.read(lambda v=v: _year(v.get("year"), "year"), "year", v.get("year"))
        plate_year = bad.read(lambda v=v: _year(v.get("plate_year"), "plate_year"), "plate_year", v.get("plate_year"))
        state = clean_text(v.get("state", v.get("plate_state")), f"{w}.state", 2)
        out.append(
            {
                "role": clean_text(v.get("role"), f"{w}.role", 32) or "other",
                "plate": plate,
                "plate_state": state.upper() if state else None,
                "vin": vin,
                "year": year,
                "make": clean_text(v.get("make"), f"{w}.make", 24),
                "model": clean_text(v.get("model"), f"{w}.model", 32),
                "colour": clean_text(v.get("colour", v.get("color")), f"{w}.colour", 16),
                "plate_year": plate_year,
                "style": clean_text(v.get("style"), f"{w}.style", 16),
                "invalid": bad.fields,
            }
        )
    return out


def _coord(value: Any, name: str, bound: float) -> float | None:
    if value is None or value == "":
        return None
    try:
        f = float(value)
    except (TypeError, ValueError):
        raise InvalidRecord(f"{name}: expected a number, got {value!r}") from None
    if not -bound <= f <= bound:
        raise InvalidRecord(f"{name}: {f} out of range")
    return f


def location(loc: dict[str, Any], where: str) -> dict[str, Any]:
    out = {
        "role": clean_text(loc.get("role"), f"{where}.role", 32) or "other",
        "address": clean_text(loc.get("address"), f"{where}.address", 256),
        "lat": _coord(loc.get("lat"), f"{where}.lat", 90),
        "lon": _coord(loc.get("lon"), f"{where}.lon", 180),
    }
    if out["address"] is None and (out["lat"] is None or out["lon"] is None):
        raise InvalidRecord(f"{where}: a location needs an address or both lat and lon")
    return out


def locations(raw: Any) -> list[dict[str, Any]]:
    return [location(loc, f"locations[{i}]") for i, loc in enumerate(_items(raw, "locations"))]


def narrative(raw: Any) -> str:
    return clean_text(raw, "narrative", MAX_TEXT) or ""


def mentions(raw: dict[str, Any]) -> dict[str, Any]:
    """The narrative and POLE mentions every report kind carries, validated."""
    return {
        "narrative": narrative(raw.get("narrative")),
        "persons": persons(raw.get("persons")),
        "vehicles": vehicles(raw.get("vehicles")),
        "locations": locations(raw.get("locations")),
    }


def require_object(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise InvalidRecord(f"expected a JSON object, got {type(raw).__name__}")
    return raw
