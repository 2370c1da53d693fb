"""A vehicle one keystroke away: a plate or VIN with one character mistyped, matched to the one
vehicle on file that it is one character from and whose description agrees.

Exact keys (a VIN with a valid check digit, the normalised plate and state) decide most vehicles;
this is the fallback when they find nothing. Each vehicle is filed under its plate's and VIN's
one-wildcard patterns (8ABC123 under ?ABC123, 8?BC123, ...), so a mistyped plate meets the true
one in a single lookup. A near plate needs the same state (or none on file), an agreeing make and
no detail (model, colour, year) disagreeing; a near VIN needs the make not
to disagree. Two candidates make it ambiguous, and nothing is matched.
"""

from __future__ import annotations

from typing import Any, Protocol

DETAILS = ("model", "colour", "year")
CAP = 16


class State(Protocol):
    def get(self, key: str, default: Any = None) -> Any: ...
    def put(self, key: str, value: Any) -> None: ...


def near_keys(value: str) -> list[str]:
    return [value[:i] + "?" + value[i + 1 :] for i in range(len(value))]


def _same(a: Any, b: Any) -> bool | None:
    if a in (None, "") or b in (None, ""):
        return None
    return str(a).upper() == str(b).upper()


def plate_agrees(mine: dict[str, Any], theirs: dict[str, Any]) -> str | None:
    """Why a near plate's description says the same vehicle, or None."""
    if _same(mine.get("make"), theirs.get("make")) is not True:
        return None
    checks = {d: _same(mine.get(d), theirs.get(d)) for d in DETAILS}
    if False in checks.values():
        return None
    return " and ".join(["same make", *(d for d, ok in checks.items() if ok)])


def near(
    state: State, pk: str | None, plate_state: str | None, vin: str | None, attrs: dict[str, Any]
) -> tuple[str, str] | None:
    """The one vehicle this plate or VIN is a keystroke from, with why; None if none or several."""
    found: dict[str, str] = {}
    if vin and len(vin) == 17:
        for k in near_keys(vin):
            for e in state.get(f"vw:{k}", []):
                theirs = state.get(f"va:{e}") or {}
                if _same(attrs.get("make"), theirs.get("make")) is not False:
                    found[e] = f"VIN one character from one on file ({k.index('?') + 1}th position), make agrees"
    if pk and not found:
        # Filed with its state, or without one where no report gave it ("-").
        spaces = [plate_state, "-"] if plate_state else ["-"]
        for k in (f"pw:{sp}:{x}" for sp in spaces for x in near_keys(pk)):
            for e in state.get(k, []):
                why = plate_agrees(attrs, state.get(f"va:{e}") or {})
                if why:
                    found[e] = f"plate one character from one on file, {why}"
    return next(iter(found.items())) if len(found) == 1 else None


def file_near(state: State, eid: str, pk: str | None, plate_state: str | None, vin: str | None,
              attrs: dict[str, Any]) -> None:  # fmt: skip
    """File a vehicle under its one-wildcard patterns and keep its description."""
    keep = {k: attrs.get(k) for k in ("make", *DETAILS) if attrs.get(k) not in (None, "")}
    old = state.get(f"va:{eid}") or {}
    if {**keep, **old} != old:
        state.put(f"va:{eid}", {**keep, **old})
    keys = [f"vw:{k}" for k in near_keys(vin)] if vin and len(vin) == 17 else []
    keys += [f"pw:{plate_state or '-'}:{k}" for k in near_keys(pk)] if pk else []
    for k in keys:
        lst = state.get(k) or []
        if eid not in lst:
            state.put(k, [*lst, eid][-CAP:])
