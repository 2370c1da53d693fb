"""Validating the persons, vehicles and locations every source may carry."""

from __future__ import annotations

from typing import Any

from argus.records import MAX_TEXT, InvalidRecord, clean_text, parse_dob

MAX_ITEMS = 50


def _items(raw: Any, name: str) -> list[dict[str, Any]]:
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(x, dict) for x in raw):
        raise InvalidRecord(f"{name}: expected a list of objects")
    if len(raw) > MAX_ITEMS:
        raise InvalidRecord(f"{name}: {len(raw)} entries, over the limit of {MAX_ITEMS}")
    return raw


def persons(raw: Any) -> list[dict[str, Any]]:
    out = []
    for i, p in enumerate(_items(raw, "persons")):
        w = f"persons[{i}]"
        sex = clean_text(p.get("sex"), f"{w}.sex", 1)
        if sex is not None and sex.upper() not in ("M", "F", "U"):
            raise InvalidRecord(f"{w}.sex: expected M, F or U, got {sex!r}")
        out.append(
            {
                "role": clean_text(p.get("role"), f"{w}.role", 32) or "other",
                "name": clean_text(p.get("name"), f"{w}.name", 128, required=True),
                "dob": parse_dob(p.get("dob"), f"{w}.dob"),
                "sex": sex.upper() if sex else None,
                "race": clean_text(p.get("race"), f"{w}.race", 8),
            }
        )
    return out


def vehicles(raw: Any) -> list[dict[str, Any]]:
    out = []
    for i, v in enumerate(_items(raw, "vehicles")):
        w = f"vehicles[{i}]"
        plate = clean_text(v.get("plate"), f"{w}.plate", 16)
        vin = clean_text(v.get("vin"), f"{w}.vin", 24)
        if not plate and not vin:
            raise InvalidRecord(f"{w}: a vehicle needs a plate or a VIN")
        year = v.get("year")
        if year is not None and (isinstance(year, bool) or not isinstance(year, int) or not 1900 <= year <= 2100):
            if isinstance(year, str) and year.isdigit() and 1900 <= int(year) <= 2100:
                year = int(year)
            else:
                raise InvalidRecord(f"{w}.year: expected a year, got {year!r}")
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
