"""The shift store: watch-officer shifts with their staff, the shift log, and the handoff
briefing (generated at the end of a shift, edited by the outgoing watch officer, acknowledged by
the incoming one). Rows are written against the version their editor read."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any


class StaleShift(Exception):
    """The shift changed since the editor read it (or its id is taken)."""


class ShiftStore(ABC):
    """Every backend answers the same contract (tests/contract/test_shift_store.py)."""

    @abstractmethod
    def put(self, shift: dict[str, Any], expected: int | None) -> dict[str, Any]:
        """Insert (`expected` None) or update that version; the stored copy, one version up."""

    @abstractmethod
    def get(self, shift_id: str) -> dict[str, Any] | None: ...

    @abstractmethod
    def of_agency(self, agency: str, limit: int) -> list[dict[str, Any]]:
        """The agency's shifts, latest start first."""

    @abstractmethod
    def log(self, shift_id: str, entry: dict[str, Any]) -> None: ...

    @abstractmethod
    def entries(self, shift_id: str) -> list[dict[str, Any]]:
        """The shift's log, oldest first."""

    @abstractmethod
    def close(self) -> None: ...
