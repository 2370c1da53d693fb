"""The risk store: the latest risk score of each subject (a person or a crime series) for each
agency it was computed for (processors/risk_scoring.py computes it over only what that agency
sees in full), and the notices of scores that crossed the threshold. An agency reads its own rows
and nobody else's."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any


class RiskStore(ABC):
    """Every backend answers the same contract (tests/contract/test_risk_store.py)."""

    @abstractmethod
    def put(self, scores: Sequence[dict[str, Any]]) -> None:
        """Keep risk_score.v1 bodies: the higher `seq` of a subject and agency wins (a replay
        cannot roll a score back); a crossed score is a notice, once."""

    @abstractmethod
    def forget(self, record_id: str) -> None:
        """A purged report: every score and notice that names it goes (a score published again
        without it follows on the topic)."""

    @abstractmethod
    def get(self, subject: str, agency: str) -> dict[str, Any] | None: ...

    @abstractmethod
    def top(self, agency: str, category: str | None, kind: str | None, limit: int) -> list[dict[str, Any]]:
        """The agency's highest scores (in `category`'s score when given), highest first."""

    @abstractmethod
    def notices(self, agency: str, limit: int) -> list[dict[str, Any]]:
        """Scores that crossed the threshold for the agency, newest first."""

    @abstractmethod
    def close(self) -> None: ...
