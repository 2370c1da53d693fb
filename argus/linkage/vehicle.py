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

from typing import Any

from argus.contracts import State
from argus.linkage.records import entity
from argus.linkage.resolver import apart_key, canonical
from argus.normalize import plate_folded, plate_key, vin_normal, vin_valid
from argus.records import deterministic_id

DETAILS = ("model", "colour", "year")
CAP = 16


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


def _keys_read(pk: str | None, state: str | None, vin: str | None, good_vin: str | None) -> list[str]:
    """The keys a mention reads before it knows its entity (exact keys, one-keystroke patterns):
    looked up together, one round trip instead of one each."""
    keys = [f"vin:{good_vin}"] if good_vin else []
    if pk:
        keys += [f"pn:{pk}", *([f"pl:{state}:{pk}"] if state else [])]
        keys += [f"pw:{sp}:{x}" for sp in ([state, "-"] if state else ["-"]) for x in near_keys(pk)]
    if vin and len(vin) == 17:
        keys += [f"vw:{x}" for x in near_keys(vin)]
    return keys


def _s(v: Any) -> str:
    return "" if v is None else str(v)


def _add(lst: list[str] | None, item: str, cap: int) -> list[str]:
    out = list(lst or [])
    if item not in out:
        out = [*out, item][-cap:]
    return out


class VehicleResolver:
    """Vehicles by their keys over a node's state: `vin:`/`vv:` the VIN and its entity, `pl:`
    plate and state, `pn:` plate alone, `vs:` an entity's state, `va:`/`vw:`/`pw:` the
    one-keystroke fallback, `alias:` merges, `apart:` pairs an analyst split."""

    def __init__(self, state: State) -> None:
        self.state = state

    def decide(self, decision: dict[str, Any]) -> None:
        """An analyst undid a vehicle merge: split the alias and never merge the pair again. The
        merged entity's keys stay with the survivor (the index answers for the newest holder of a
        plate); records already resolved keep the ids they were given."""
        merged, other = decision["entity_id"], decision["other_id"]
        if self.state.get(f"alias:{merged}") is not None:
            self.state.delete(f"alias:{merged}")
        self.state.put(apart_key(merged, other), decision["reason"])

    def candidates(self, plate: str | None, state: str | None, vin: str | None) -> list[tuple[str, str, float]]:
        """(entity id, reason, score) in order of strength: VIN, plate+state, plate alone."""
        out: list[tuple[str, str, float]] = []
        if vin and vin_valid(vin):
            e = self.state.get(f"vin:{vin}")
            if e:
                out.append((canonical(self.state, e), f"same VIN {vin} (check digit valid)", 1.0))
        pk = plate_key(plate)
        if pk:
            fold = " after folding O/0 and I/1" if plate and plate_folded(plate) else ""
            shown = f"plate {plate!r} normalised to {pk}{fold}"
            if state:
                e = self.state.get(f"pl:{state}:{pk}")
                if e:
                    out.append((canonical(self.state, e), f"{shown}, state {state}: exact", 1.0 if not fold else 0.97))
                else:  # on file only from reports that gave no state
                    ids = {canonical(self.state, e) for e in self.state.get(f"pn:{pk}", [])}
                    ids = {e for e in ids if self.state.get(f"vs:{e}") is None}
                    if len(ids) == 1:
                        out.append((ids.pop(), f"{shown}; on file only without a state", 0.9))
            else:
                ids = {canonical(self.state, e) for e in self.state.get(f"pn:{pk}", [])}
                if len(ids) == 1:
                    out.append((ids.pop(), f"{shown}; state missing, one vehicle on file with it", 0.9))
        return out

    def resolve(self, v: dict[str, Any], record_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """The vehicle's entity and the merges the mention caused (a VIN and a plate entity
        found to be one)."""
        merges: list[dict[str, Any]] = []
        vin = vin_normal(v.get("vin"))
        good_vin = vin if vin and vin_valid(vin) else None
        state = v.get("plate_state")
        pk = plate_key(v.get("plate"))
        self.state.prefetch(_keys_read(pk, state, vin, good_vin))
        cands = self.candidates(v.get("plate"), state, vin)
        # A plate moves between vehicles over time: a plate hit whose VIN differs is another car.
        if good_vin:
            cands = [c for c in cands if self.state.get(f"vv:{c[0]}") in (None, good_vin)]
        note = "" if not vin or good_vin else f"; VIN {vin} fails its check digit"
        attrs = {k: v.get(k) for k in ("make", "model", "colour", "year")}
        if not cands:  # a plate or VIN mistyped by one character?
            hit = near(self.state, pk, state, good_vin or vin, attrs)
            if hit and (good_vin is None or self.state.get(f"vv:{canonical(self.state, hit[0])}") in (None, good_vin)):
                cands = [(canonical(self.state, hit[0]), hit[1], 0.9)]
        if not cands:
            eid = (
                deterministic_id("vehicle", good_vin)
                if good_vin
                else deterministic_id("vehicle", state or "??", pk or "")
            )
            method, score, reason = "new", 1.0, "no vehicle on file with this VIN or plate" + note
        else:
            eid, reason, score = cands[0]
            method = "exact" if score >= 1.0 else "fuzzy"
            reason += note
            for other, why, sc in cands[1:]:
                if other != eid and self.state.get(apart_key(eid, other)) is None:
                    merges.append(
                        {
                            "survivor_id": eid,
                            "merged_id": other,
                            "score": sc,
                            "reason": f"record {record_id}: {reason} and {why}",
                        }
                    )
                    self.state.put(f"alias:{other}", eid)
        if good_vin:
            self.state.put(f"vin:{good_vin}", eid)
            self.state.put(f"vv:{eid}", good_vin)
        if pk:
            if state:
                self.state.put(f"pl:{state}:{pk}", eid)
                if self.state.get(f"vs:{eid}") is None:
                    self.state.put(f"vs:{eid}", state)
            self.state.put(f"pn:{pk}", _add(self.state.get(f"pn:{pk}"), eid, 16))
        file_near(self.state, eid, pk, state, good_vin, attrs)
        desc = " ".join(x for x in (_s(v.get("colour")), _s(v.get("year")), _s(v.get("make")), _s(v.get("model"))) if x)
        plate_txt = f"{state or '??'} {pk}" if pk else f"VIN {vin}"
        ent = entity(
            eid,
            "OBJECT",
            "vehicle",
            f"{plate_txt} {desc}".strip(),
            v["role"],
            {"plate_key": pk, "plate_state": state, "vin": good_vin},
            {
                "plate": v.get("plate"),
                "plate_state": state,
                "vin": vin,
                "year": v.get("year"),
                "make": v.get("make"),
                "model": v.get("model"),
                "colour": v.get("colour"),
            },
            method,
            score,
            reason,
        )
        return ent, merges
