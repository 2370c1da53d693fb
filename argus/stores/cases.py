"""The casework store: joint case workspaces (cases with their members, tasks, timeline entries
and files' chain of custody), messages with their read receipts, requests for information, and
training records. A system of record for state machines several agencies edit at once: every
versioned row is written against the version its editor read.

Messages keep their marking beside them so the one policy is pushed into the query: a message a
reader may not see in full never matches, counts or pages for them."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

from argus.stores.search import Audience
from argus.workflows.case_model import Case, Custody, Entry, EvidenceFile, Message, Task


class StaleRow(Exception):
    """The row changed since the editor read it (or its id is taken)."""


class CaseStore(ABC):
    """Every backend answers the same contract (tests/contract/test_case_store.py)."""

    @abstractmethod
    def put_case(self, case: Case, expected: int | None) -> Case:
        """Insert (`expected` None) or update that version; the stored copy, one version up."""

    @abstractmethod
    def case(self, case_id: str) -> Case | None: ...

    @abstractmethod
    def cases_of(self, subject: str, limit: int) -> list[Case]:
        """The cases `subject` is a member of, newest first."""

    @abstractmethod
    def put_task(self, task: Task, expected: int | None) -> Task: ...

    @abstractmethod
    def tasks(self, case_id: str) -> list[Task]: ...

    @abstractmethod
    def add_entry(self, entry: Entry) -> None: ...

    @abstractmethod
    def entries(self, case_id: str, limit: int) -> list[Entry]:
        """The case's own events, oldest first."""

    @abstractmethod
    def add_file(self, f: EvidenceFile) -> None: ...

    @abstractmethod
    def file(self, file_id: str) -> EvidenceFile | None: ...

    @abstractmethod
    def files(self, case_id: str, audience: Audience) -> list[EvidenceFile]:
        """The case's files the reader sees in full."""

    @abstractmethod
    def add_custody(self, c: Custody) -> None: ...

    @abstractmethod
    def custody(self, file_id: str) -> list[Custody]: ...

    @abstractmethod
    def add_message(self, m: Message) -> int:
        """Keep it; its sequence number (the order every reader pages by)."""

    @abstractmethod
    def messages(self, thread: str, audience: Audience, after: int, limit: int,
                 words: str | None = None) -> list[tuple[int, Message]]:  # fmt: skip
        """The thread's messages after `after` that the reader sees in full (`words`: only those
        whose text holds them), oldest first."""

    @abstractmethod
    def threads_of(self, subject: str, limit: int) -> list[str]:
        """The direct-message threads `subject` is in."""

    @abstractmethod
    def mark_read(self, message_id: str, subject: str, at: str) -> None: ...

    @abstractmethod
    def receipts(self, message_ids: Sequence[str]) -> dict[str, list[tuple[str, str]]]:
        """Who read each message, and when."""

    @abstractmethod
    def put_rfi(self, rfi: dict[str, Any], expected: int | None) -> dict[str, Any]: ...

    @abstractmethod
    def rfi(self, rfi_id: str) -> dict[str, Any] | None: ...

    @abstractmethod
    def rfis(self, agency: str | None, status: Sequence[str], limit: int) -> list[dict[str, Any]]:
        """RFIs an agency asked or was asked (None: all), due soonest first."""

    @abstractmethod
    def put_training(self, subject: str, course: str, completed: str, expires: str) -> None: ...

    @abstractmethod
    def training(self, subject: str) -> list[dict[str, str]]:
        """The subject's latest record per course."""

    @abstractmethod
    def training_due(self, before: str, limit: int) -> list[dict[str, str]]:
        """Latest records expiring before `before` (reminders)."""

    @abstractmethod
    def put_partner(self, partner: dict[str, Any], expected: int | None) -> dict[str, Any]: ...

    @abstractmethod
    def partner(self, partner_id: str) -> dict[str, Any] | None: ...

    @abstractmethod
    def partners(self, owner: str, limit: int) -> list[dict[str, Any]]:
        """The partner organisations an agency keeps, by name."""

    @abstractmethod
    def add_engagement(self, partner_id: str, engagement: dict[str, Any]) -> None: ...

    @abstractmethod
    def engagements(self, partner_id: str, since: str, until: str) -> list[dict[str, Any]]:
        """A partner's meetings, outreach and feedback in [since, until), oldest first."""

    @abstractmethod
    def close(self) -> None: ...
