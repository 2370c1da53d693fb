"""A correlation node's holdings, through typed accessors over its keyed state: the key layout is
written here once, not spelt out at every use.

- `ent:<entity>` -> [[record id, role], ...]: the records naming an entity, oldest first
- `rep:<record id>` -> the record's summary (argus/hits.py, `summarize`)
- `ser:<series entity>` -> [record ids]: the reports of a crime series
- `alias:<entity>` -> its survivor, once merged into another
- `rc:<agency>|<agency>|<entity>` -> 1, once two agencies were told they share that subject
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from argus.contracts import State

Ref = list[str]  # [record id, role]
_MAX_ALIAS_HOPS = 64


class Holdings:
    def __init__(self, state: State) -> None:
        self.state = state

    # --- reading -----------------------------------------------------------------------------
    def canon(self, eid: str) -> str:
        """The entity `eid` was merged into, through every later merge."""
        for _ in range(_MAX_ALIAS_HOPS):
            nxt = self.state.get(f"alias:{eid}")
            if nxt is None:
                break
            eid = nxt
        return eid

    def refs(self, eid: str) -> list[Ref]:
        """The records naming entity `eid` (not followed through merges: `canon` first)."""
        return self.state.get(f"ent:{eid}", [])  # type: ignore[no-any-return]

    def summary(self, rid: str) -> dict[str, Any] | None:
        return self.state.get(f"rep:{rid}")  # type: ignore[no-any-return]

    def series(self, series_entity: str) -> list[str]:
        return self.state.get(f"ser:{series_entity}", [])  # type: ignore[no-any-return]

    def prefetch_entities(self, ids: list[str]) -> None:
        """Aliases and references of these entities in one round trip."""
        self.state.prefetch([*(f"alias:{e}" for e in ids), *(f"ent:{e}" for e in ids)])

    def prefetch_summaries(self, rids: Iterable[str]) -> None:
        self.state.prefetch(f"rep:{r}" for r in rids)

    # --- writing -----------------------------------------------------------------------------
    def keep_summary(self, rid: str, summary: dict[str, Any]) -> None:
        self.state.put(f"rep:{rid}", summary)

    def set_refs(self, eid: str, refs: list[Ref]) -> None:
        self.state.put(f"ent:{eid}", refs)

    def add_to_series(self, series_entity: str, rid: str) -> None:
        have = self.series(series_entity)
        if rid not in have:
            self.state.put(f"ser:{series_entity}", [*have, rid])

    def first_telling(self, agencies: tuple[str, str], entity: str) -> bool:
        """Whether these two agencies are told of sharing `entity` now for the first time
        (and from now on, that they were)."""
        key = "rc:" + "|".join(sorted(agencies)) + "|" + entity
        if self.state.get(key):
            return False
        self.state.put(key, 1)
        return True

    def merge(self, surv: str, gone: str) -> None:
        """`gone` becomes an alias of `surv`, and its records move to it."""
        surv = self.canon(surv)
        if surv == gone:
            return
        self.state.put(f"alias:{gone}", surv)
        moved = self.refs(gone)
        if moved:
            have = self.refs(surv)
            self.set_refs(surv, have + [x for x in moved if x not in have])
            self.state.delete(f"ent:{gone}")

    def decide(self, decision: dict[str, Any]) -> None:
        """SAME (an analyst confirmed a possible match): the two entities' holdings become one,
        in the node that holds them. APART (undo a merge): the records that named the merged
        entity go back to it, so a hit on one no longer reports the other's holdings."""
        if decision.get("verdict") == "SAME":
            gone, surv = self.canon(decision["entity_id"]), self.canon(decision["other_id"])
            if gone != surv and (self.refs(gone) or self.refs(surv)):
                self.merge(surv, gone)
            return
        gone = decision["entity_id"]
        surv = self.state.get(f"alias:{gone}")
        if surv is None:
            return
        self.state.delete(f"alias:{gone}")
        surv = self.canon(surv)
        back, keep = [], []
        for item in self.refs(surv):
            rep = self.summary(item[0]) or {}
            named = {x["entity_id"] for x in rep.get("vehicles", []) + rep.get("persons", [])}
            (back if gone in named else keep).append(item)
        self.set_refs(surv, keep)
        if back:
            self.set_refs(gone, back)

    def forget(self, rid: str) -> None:
        """A purge: the report's summary goes, and so does every reference to it, so no later
        query is answered from it."""
        s = self.summary(rid)
        if s is None:
            return
        self.state.delete(f"rep:{rid}")
        for x in s["vehicles"] + s["persons"]:
            eid = self.canon(x["entity_id"])
            have = self.refs(eid)
            keep = [y for y in have if y[0] != rid]
            if keep:
                self.set_refs(eid, keep)
            elif have:
                self.state.delete(f"ent:{eid}")
        if s["series_entity"]:
            key = f"ser:{s['series_entity']}"
            self.state.put(key, [y for y in self.series(s["series_entity"]) if y != rid])
