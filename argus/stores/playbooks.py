"""The playbook store: CACAO playbooks by id and version (`modified`), kept as the exact text
imported beside their marking columns; their executions, each step's record (so a restarted
executor resumes at the step it was in and never runs a finished one twice), manual tasks waiting
for a person, and the trigger cursors over the pipeline's topics."""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from typing import Any

from argus.security.policy import Marking
from argus.stores.search import Audience


@dataclasses.dataclass(frozen=True)
class StoredPlaybook:
    id: str
    modified: str
    name: str
    marking: Marking
    text: str  # the document exactly as imported
    imported_by: str
    imported_at: str
    triggers: tuple[dict[str, Any], ...] = ()


class PlaybookStore(ABC):
    """Every backend answers the same contract (tests/contract/test_playbook_store.py)."""

    # --- playbooks ------------------------------------------------------------------------------
    @abstractmethod
    def put(self, pb: StoredPlaybook) -> bool:
        """Store a version; False when that (id, modified) is already held (nothing changes)."""

    @abstractmethod
    def get(self, pb_id: str, modified: str | None = None) -> StoredPlaybook | None:
        """That version, or the latest when `modified` is None."""

    @abstractmethod
    def versions(self, pb_id: str) -> list[str]:
        """Every `modified` held, newest first."""

    @abstractmethod
    def listing(self, audience: Audience, limit: int) -> list[StoredPlaybook]:
        """The latest version of each playbook the audience sees in full (the policy in the query)."""

    @abstractmethod
    def set_triggers(self, pb_id: str, modified: str, triggers: list[dict[str, Any]]) -> None: ...

    @abstractmethod
    def with_triggers(self) -> list[StoredPlaybook]:
        """The latest version of every playbook that has triggers."""

    # --- executions -----------------------------------------------------------------------------
    @abstractmethod
    def start(self, execution: dict[str, Any], marking: Marking) -> bool:
        """Record a new execution; False when its id is taken (a trigger delivered twice)."""

    @abstractmethod
    def execution(self, ex_id: str) -> dict[str, Any] | None: ...

    @abstractmethod
    def executions(self, audience: Audience, limit: int, playbook: str | None = None) -> list[dict[str, Any]]:
        """The audience's agency's executions, latest first, of playbooks it still sees in full."""

    @abstractmethod
    def update(self, ex_id: str, changes: dict[str, Any]) -> None: ...

    @abstractmethod
    def unfinished(self) -> list[dict[str, Any]]:
        """Executions running or waiting when the executor stopped: what it resumes."""

    @abstractmethod
    def claim(self, ex_id: str, owner: str, now: float, lease_s: float) -> bool:
        """Take (or keep) an execution for one executor until `now + lease_s`: unowned, already its
        own, or its owner's lease lapsed (that executor died). Two executors never run one execution."""

    # --- steps ----------------------------------------------------------------------------------
    @abstractmethod
    def step(self, ex_id: str, key: str) -> dict[str, Any] | None: ...

    @abstractmethod
    def steps(self, ex_id: str) -> list[dict[str, Any]]:
        """The execution's step records in the order they began."""

    @abstractmethod
    def save_step(self, ex_id: str, key: str, record: dict[str, Any]) -> None:
        """Insert or replace a step record (begun, then finished)."""

    # --- manual tasks ---------------------------------------------------------------------------
    @abstractmethod
    def put_task(self, task: dict[str, Any]) -> None:
        """Insert once: the same task (an execution's step) raised again after a restart is kept."""

    @abstractmethod
    def task(self, task_id: str) -> dict[str, Any] | None: ...

    @abstractmethod
    def tasks(self, agency: str, state: str | None, limit: int) -> list[dict[str, Any]]: ...

    @abstractmethod
    def close_task(self, task_id: str, changes: dict[str, Any]) -> bool:
        """Answer or time out a task still open; False when it was not open any more."""

    # --- trigger cursors ------------------------------------------------------------------------
    @abstractmethod
    def cursor(self, name: str) -> str | None: ...

    @abstractmethod
    def set_cursor(self, name: str, value: str) -> None: ...

    @abstractmethod
    def close(self) -> None: ...
