"""Keyed node state: a view of what the bus has committed, plus uncommitted layers.

Reads are dictionary lookups (entity resolution does several per record); writes collect in a
batch layer the runtime commits with the batch's outputs and offsets, and a record layer so a
record that fails leaves no half-written state behind.

Rule for processors: treat values you `get` as immutable; build a new value and `put` it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from argus.bus.base import DELETED
from argus.state_view import StateView

_MISSING = object()


class NodeState:
    def __init__(self, committed: dict[str, Any] | StateView | None = None) -> None:
        # All of it in a dict, or read through from the bus (argus/state_view.py).
        self._committed: dict[str, Any] | StateView = committed if committed is not None else {}
        self._batch: dict[str, Any] = {}
        self._record: dict[str, Any] | None = None
        # A batch handed to the bus and not yet durable (detach/landed): read like the batch
        # layer, so the node can answer field queries from it while its commit is in flight.
        self._flying: dict[str, Any] | None = None
        # Puts and deletes so far: the runtime commits a field-query batch that wrote nothing on
        # its own, without the ingest state its node holds (argus/runtime/committer.py, _finish).
        self.writes = 0

    def get(self, key: str, default: Any = None) -> Any:
        # Unrolled over the layers: entity resolution reads dozens of keys per record.
        layer = self._record
        if layer and (v := layer.get(key, _MISSING)) is not _MISSING:
            return default if v is DELETED else v
        layer = self._batch
        if layer and (v := layer.get(key, _MISSING)) is not _MISSING:
            return default if v is DELETED else v
        layer = self._flying
        if layer and (v := layer.get(key, _MISSING)) is not _MISSING:
            return default if v is DELETED else v
        return self._committed.get(key, default)

    def prefetch(self, keys: Iterable[str]) -> None:
        """A hint: the record will read these keys. Where the committed state is read through
        (argus/state_view.py), those not yet held are looked up together, one round trip for
        all; a key the node wrote since is answered from its own layer as ever."""
        if isinstance(self._committed, StateView):
            self._committed.prefetch(keys)

    def put(self, key: str, value: Any) -> None:
        self.writes += 1
        (self._record if self._record is not None else self._batch)[key] = value

    def delete(self, key: str) -> None:
        self.writes += 1
        (self._record if self._record is not None else self._batch)[key] = DELETED

    def __len__(self) -> int:
        return len(self._committed)

    # --- used by the runtime -------------------------------------------------------------
    def begin_record(self) -> None:
        self._record = {}

    def end_record(self, keep: bool) -> None:
        if keep and self._record:
            self._batch.update(self._record)
        self._record = None

    def pending(self) -> dict[str, Any]:
        return self._batch

    def committed(self) -> None:
        """The bus has made the batch layer durable: fold it into the committed view."""
        self._fold(self._batch)
        self._batch = {}

    def _fold(self, layer: dict[str, Any]) -> None:
        for k, v in layer.items():
            if v is DELETED:
                self._committed.pop(k, None)
            else:
                self._committed[k] = v

    def detach(self) -> dict[str, Any]:
        """Hand the batch layer to a commit that completes later; writes from now on start a
        new one, so nothing written meanwhile rides along unseen."""
        assert self._flying is None, "one commit in flight at a time"
        self._flying, self._batch = self._batch, {}
        return self._flying

    def landed(self) -> None:
        """The detached batch is durable: fold it into the committed view."""
        self._fold(self._flying or {})
        self._flying = None

    def rollback(self) -> None:
        self._batch = {}
        self._record = None
        self._flying = None
