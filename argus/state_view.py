"""A node's committed state read through from where the bus keeps it, with only the keys last read
or written held in memory: a node's state grows with what it has seen (every report, entity and
alias), so a view that mirrored all of it would grow with the log.

Sound because the runtime folds a batch into the committed view only once the bus has made it
durable (argus/state.py): any key let go of can be read back as it was. Absent keys are held
too (entity resolution looks up many keys that are not there), and a fold overwrites either.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any

import orjson

from argus.env import whole_number


# Keys held per node (ARGUS_STATE_KEYS): a few tens of MB at the pipeline's value sizes. A key not
# held costs a lookup on the bus (about 8 µs alone, 30 µs in a busy pipeline).
def _keep() -> int:
    return whole_number("ARGUS_STATE_KEYS", 20_000, "keys")


KEEP = _keep()
_ABSENT = object()  # held: the key is not there
_UNKNOWN = object()  # not held: ask the bus


class StateView:
    """The committed layer of a NodeState (what `get` falls back to), read through `load`. Like
    the rest of a node's state it is read and folded into on the scheduling thread only."""

    def __init__(
        self,
        load: Callable[[str], bytes | None],
        count: Callable[[], int],
        keep: int | None = None,
        load_many: Callable[[list[str]], dict[str, bytes]] | None = None,
    ) -> None:
        self._load, self._count, self._load_many = load, count, load_many
        self.keep = KEEP if keep is None else keep
        self._held: OrderedDict[str, Any] = OrderedDict()  # O(1) to let the oldest go, unlike a dict

    def get(self, key: str, default: Any = None) -> Any:
        v = self._held.get(key, _UNKNOWN)
        if v is _UNKNOWN:
            raw = self._load(key)
            v = _ABSENT if raw is None else orjson.loads(raw)
            self._hold(key, v)
        return default if v is _ABSENT else v

    def prefetch(self, keys: Iterable[str]) -> None:
        """Look the keys not held up in one round trip (a miss alone costs one each)."""
        held = self._held
        unknown = [k for k in dict.fromkeys(keys) if k not in held]
        if not unknown:
            return
        if self._load_many is None or len(unknown) == 1:
            for k in unknown:
                self.get(k)
            return
        found = self._load_many(unknown)
        for k in unknown:
            raw = found.get(k)
            self._hold(k, _ABSENT if raw is None else orjson.loads(raw))

    def __setitem__(self, key: str, value: Any) -> None:
        self._hold(key, value)

    def pop(self, key: str, default: Any = None) -> Any:
        self._hold(key, _ABSENT)
        return default

    def __len__(self) -> int:
        return self._count()

    def held(self) -> int:
        return len(self._held)

    def _hold(self, key: str, value: Any) -> None:
        held = self._held
        held[key] = value
        held.move_to_end(key)  # the keys held longest are let go of first
        while len(held) > self.keep:
            held.popitem(last=False)
