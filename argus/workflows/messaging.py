"""Messages: a thread per case and direct messages between two users of any agencies, each
message under its own marking. A reader gets only the messages the one policy admits them to in
full, decided inside the store's query (so a message a member may not see never matches a search,
a count or a page), and a direct-message thread only when they are one of its two people.
Mentions name members of the case; attachments are the case's files, fetched through the evidence
chain of custody. Read receipts are kept per reader."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime

from argus.records import utcnow
from argus.security.audit import AuditTrail
from argus.security.identity import IdentityDirectory, IdentityError
from argus.security.policy import Marking
from argus.stores.cases import CaseStore
from argus.stores.search import Audience
from argus.workflows.case_model import Case, Message, dm_thread, new_id
from argus.workflows.cases import CaseRefused
from argus.workflows.sar_review import Actor


@dataclasses.dataclass(frozen=True)
class Draft:
    text: str
    tlp: str | None = None
    ci: bool = False
    handling: tuple[str, ...] = ()
    named: tuple[str, ...] = ()  # for RED: the users (user:<id>) or agencies that may read it
    mentions: tuple[str, ...] = ()
    attachments: tuple[str, ...] = ()


@dataclasses.dataclass
class Messaging:
    store: CaseStore
    directory: IdentityDirectory
    audit: AuditTrail
    clock: Callable[[], datetime] = utcnow

    def post_case(self, case: Case, actor: Actor, d: Draft, audience: Audience) -> tuple[int, Message]:
        """`case` as the author may write to it (Casework.writable)."""
        strangers = [m for m in d.mentions if case.member(m) is None]
        if strangers:
            raise CaseRefused(422, "mentions", f"{strangers[0]!r} is not a member of the case")
        seen = {f.id for f in self.store.files(case.id, audience)}
        missing = [a for a in d.attachments if a not in seen]
        if missing:
            raise CaseRefused(422, "attachments", f"no file {missing[0]!r} of the case you may see")
        m = Marking(
            actor.agency,
            d.tlp or case.tlp,
            d.ci or case.ci,
            tuple(sorted({*case.handling, *d.handling})),
            (case.id,),
            d.named,
        )
        return self._post(f"case:{case.id}", actor, d, m)

    def post_direct(self, actor: Actor, to: str, d: Draft) -> tuple[int, Message]:
        if to == actor.subject:
            raise CaseRefused(422, "to", "a direct message goes to someone else")
        try:
            self.directory.subject(to)
        except IdentityError:
            raise CaseRefused(422, "to", f"no user {to!r} in the directory") from None
        if d.attachments:
            raise CaseRefused(422, "attachments", "files are shared inside a case")
        m = Marking(actor.agency, "RED", d.ci, d.handling, (), (f"user:{actor.subject}", f"user:{to}"))
        return self._post(dm_thread(actor.subject, to), actor, d, m)

    def _post(self, thread: str, actor: Actor, d: Draft, m: Marking) -> tuple[int, Message]:
        msg = Message(
            new_id("MSG"),
            thread,
            actor.subject,
            actor.agency,
            d.text,
            self.clock().isoformat(),
            m,
            d.mentions,
            d.attachments,
        )
        seq = self.store.add_message(msg)
        self.audit.record(
            "disseminate",
            actor=actor.subject,
            agency=actor.agency,
            object=msg.id,
            source=actor.source,
            recipient=thread,
            reason=f"message (TLP:{m.tlp})",
        )
        return seq, msg

    @staticmethod
    def may_read(thread: str, subject: str) -> bool:
        """A direct-message thread is its two people's; a case thread is checked on the case."""
        return not thread.startswith("dm:") or subject in thread[3:].split("|")

    def read(
        self, thread: str, subject: str, audience: Audience, after: int, limit: int, words: str | None = None
    ) -> list[tuple[int, Message]]:
        if not self.may_read(thread, subject):
            return []
        return self.store.messages(thread, audience, after, limit, words)
