"""Joint case workspaces, as plain values: a case with members of several agencies, and what is
inside it (tasks, notes, linked records and entities, the saved link chart, files, messages).

A case's handling (TLP, caveats, criminal intelligence under a 28 CFR 23 predicate) is the
marking of the case and of everything in it that carries no marking of its own. Members are
named by the lead: membership is the need-to-know the one policy reads (a case member sees the
case's AMBER records in full, as a case label always has), and a member still sees of each
message and file only what the policy admits under that item's own marking.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from argus.security.policy import Marking

CASE_ROLES = ("lead", "investigator", "analyst", "read_only")
WRITERS = ("lead", "investigator", "analyst")
CASE_TYPES = ("investigation", "task_force", "threat", "event_security", "intelligence")
CASE_STATES = ("OPEN", "SUSPENDED", "CLOSED")
TASK_STATES = ("OPEN", "IN_PROGRESS", "DONE", "CANCELLED")
LINK_KINDS = ("entity", "record", "alert")


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:16]}"


@dataclass(frozen=True)
class Member:
    subject: str
    agency: str
    role: str
    added_by: str = ""
    added_at: str = ""


@dataclass(frozen=True)
class Case:
    id: str
    title: str
    type: str
    lead_agency: str
    tlp: str = "AMBER"
    handling: tuple[str, ...] = ()
    ci: bool = False
    predicate: str = ""
    status: str = "OPEN"
    summary: str = ""
    created_by: str = ""
    created_at: str = ""
    version: int = 0
    members: tuple[Member, ...] = ()
    chart: dict[str, object] = field(default_factory=dict)

    @property
    def marking(self) -> Marking:
        return Marking(self.lead_agency, self.tlp, self.ci, self.handling, (self.id,))

    def member(self, subject: str) -> Member | None:
        return next((m for m in self.members if m.subject == subject), None)


@dataclass(frozen=True)
class Task:
    id: str
    case_id: str
    title: str
    assignee: str
    due: str
    state: str = "OPEN"
    created_by: str = ""
    created_at: str = ""
    version: int = 0


@dataclass(frozen=True)
class Entry:
    """A case's own event (a note, a link, a member, a task, a file): its timeline."""

    id: str
    case_id: str
    kind: str
    at: str
    actor: str
    agency: str
    text: str = ""
    ref: str = ""
    tlp: str = ""


@dataclass(frozen=True)
class Message:
    id: str
    thread: str  # case:<id> or dm:<subject>|<subject>
    author: str
    agency: str
    text: str
    at: str
    marking: Marking
    mentions: tuple[str, ...] = ()
    attachments: tuple[str, ...] = ()


def dm_thread(a: str, b: str) -> str:
    x, y = sorted((a, b))
    return f"dm:{x}|{y}"


@dataclass(frozen=True)
class EvidenceFile:
    """A file in a case: content-addressed (its SHA-256 is where the bytes are), with its own
    marking and the chain of custody of every access."""

    id: str
    case_id: str
    sha256: str
    name: str
    content_type: str
    size: int
    marking: Marking
    added_by: str
    added_at: str
    reason: str = ""


@dataclass(frozen=True)
class Custody:
    file_id: str
    action: str  # added | viewed | downloaded | exported
    actor: str
    agency: str
    at: str
    reason: str
    hash_ok: bool
