"""Messages: a case's thread and direct messages between two users of any agencies, each message
under its own marking, with read receipts and mentions; live on a server-sent event stream.

Every list, search and stream asks the store only for what the policy admits the reader to in
full (decided inside the query), so a message a member may not see is never in their bytes."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Path, Query
from sse_starlette import EventSourceResponse, ServerSentEvent

from argus.api.case_models import MAX_INT, DirectForm, Listing, MessageForm, ReadForm
from argus.api.case_service import act, actor, casework, message_json, messaging
from argus.api.deps import Caller, Reader, Submitter, bounded, dumps, json
from argus.api.models import PROBLEMS, answers
from argus.api.routes.cases import CaseId
from argus.records import utcnow
from argus.workflows.case_model import dm_thread
from argus.workflows.messaging import Draft

router = APIRouter(tags=["messages"])
Other = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9.\-]+$")]
_MSG = {
    "seq": 7,
    "id": "MSG-5f0c2a9e1b7d4c3a",
    "thread": "case:CASE-5f0c2a9e1b7d4c3a",
    "author": "det.lee",
    "agency": "CA0190000",
    "text": "@sgt.diaz the van was seen at the rail yard",
    "at": "2026-12-06T09:00:00+00:00",
    "tlp": "AMBER",
    "criminal_intelligence": False,
    "caveats": [],
    "mentions": ["sgt.diaz"],
    "attachments": [],
    "read_by": [{"subject": "sgt.diaz", "at": "2026-12-06T09:01:00+00:00"}],
}


def page(c: Caller, thread: str, after: int, limit: int, words: str | None = None) -> list[dict[str, Any]]:
    got = messaging(c).read(thread, c.subject, c.gate.audience, after, limit, words)
    read = c.svc.cases().receipts([m.id for _, m in got])
    return [message_json(s, m, read[m.id]) for s, m in got]


@router.post(
    "/api/v1/cases/{case_id}/messages",
    status_code=201,
    responses=answers(Listing, _MSG, 201),
    summary="Post to the case's thread",
)
async def post_case(c: Submitter, case_id: CaseId, form: MessageForm) -> Any:
    """A message to the case's thread under its own marking (default the case's); mentions must name
    members, attachments must be the case's files the author sees."""
    d = Draft(
        form.text,
        form.tlp,
        form.criminal_intelligence,
        tuple(form.caveats),
        tuple(form.named),
        tuple(form.mentions),
        tuple(form.attachments),
    )

    def run() -> dict[str, Any]:
        case = act(c, casework(c).writable, case_id, actor(c), c.who)
        seq, m = act(c, messaging(c).post_case, case, actor(c), d, c.gate.audience)
        return message_json(seq, m)

    out = await bounded(c, run)
    wake(out["thread"])
    return json(out, 201)


@router.get(
    "/api/v1/cases/{case_id}/messages",
    responses=answers(Listing, {"messages": [_MSG]}),
    summary="The case's messages you may see, after a sequence number; `q` searches their text",
)
async def case_messages(
    c: Reader,
    case_id: CaseId,
    after: Annotated[int, Query(ge=0, le=MAX_INT)] = 0,
    q: Annotated[str | None, Query(min_length=2, max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Any:
    """Only the messages the caller sees in full under each one's marking, decided in the store's
    query, so a search never matches one they may not see."""

    def run() -> list[dict[str, Any]]:
        act(c, casework(c).get, case_id, actor(c), c.who)
        return page(c, f"case:{case_id}", after, limit, q)

    got = await bounded(c, run)
    c.audited("read", f"case:{case_id} messages", count=len(got))
    return json({"messages": got})


@router.get(
    "/api/v1/cases/{case_id}/messages/stream",
    summary="The case's thread, live (server-sent events)",
    responses={200: {"content": {"text/event-stream": {"example": "event: message\ndata: {...}\n\n"}}}, **PROBLEMS},
)
async def case_stream(
    c: Reader,
    case_id: CaseId,
    after: Annotated[int, Query(ge=0, le=MAX_INT)] = 0,
    heartbeat: Annotated[float, Query(ge=0.05, le=60)] = 15.0,
) -> EventSourceResponse:
    """Server-sent events: each message the caller may see as it is posted (event `message`, id its
    sequence number); a comment says when the backlog has been sent."""
    await bounded(c, lambda: act(c, casework(c).get, case_id, actor(c), c.who))
    return _stream(c, f"case:{case_id}", after, heartbeat)


# The streams of this API process waiting on each thread: a message posted here wakes them at
# once; one posted through another API process is found within POLL_S.
_WAITING: dict[str, set[asyncio.Event]] = {}
POLL_S = 1.0


def wake(thread: str) -> None:
    for e in _WAITING.get(thread, ()):
        e.set()


def _stream(c: Caller, thread: str, after: int, heartbeat: float) -> EventSourceResponse:
    async def events() -> AsyncIterator[ServerSentEvent]:
        pos, behind, ev = after, True, asyncio.Event()
        _WAITING.setdefault(thread, set()).add(ev)
        try:
            yield ServerSentEvent(comment="argus messages")
            while True:
                ev.clear()
                got = await anyio.to_thread.run_sync(page, c, thread, pos, 100)
                for m in got:
                    pos = m["seq"]
                    yield ServerSentEvent(dumps(m).decode(), event="message", id=str(pos))
                if got:
                    continue
                if behind:  # what was there when the stream opened has all been sent
                    behind = False
                    yield ServerSentEvent(comment="caught up")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(ev.wait(), POLL_S)
        finally:
            _WAITING[thread].discard(ev)

    return EventSourceResponse(
        events(), ping=heartbeat, sep="\n", ping_message_factory=lambda: ServerSentEvent(comment="keep-alive")
    )


@router.post(
    "/api/v1/messages/direct",
    status_code=201,
    responses=answers(Listing, _MSG, 201),
    summary="A direct message to a user of any agency (RED: the two of you)",
)
async def direct(c: Submitter, form: DirectForm) -> Any:
    """A direct message to a user of any agency: TLP:RED to the two of them, never seen by anyone else."""
    d = Draft(form.text, None, form.criminal_intelligence)
    seq, m = await bounded(c, lambda: act(c, messaging(c).post_direct, actor(c), form.to, d))
    wake(m.thread)
    return json(message_json(seq, m), 201)


@router.get(
    "/api/v1/messages/direct",
    responses=answers(Listing, {"threads": ["dm:det.lee|sgt.diaz"]}),
    summary="Your direct-message threads",
)
async def threads(c: Reader) -> Any:
    """The direct-message threads the caller is one of the two people of."""
    got = await bounded(c, c.svc.cases().threads_of, c.subject, 200)
    return json({"threads": got})


@router.get(
    "/api/v1/messages/direct/{other}",
    responses=answers(Listing, {"messages": [_MSG]}),
    summary="Your direct messages with one user",
)
async def with_user(
    c: Reader,
    other: Other,
    after: Annotated[int, Query(ge=0, le=MAX_INT)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Any:
    """The caller's direct messages with one user, oldest first, after a sequence number."""
    got = await bounded(c, page, c, dm_thread(c.subject, other), after, limit)
    c.audited("read", "direct messages", count=len(got))
    return json({"messages": got})


@router.get(
    "/api/v1/messages/direct/{other}/stream",
    summary="Your direct messages with one user, live",
    responses={200: {"content": {"text/event-stream": {"example": "event: message\ndata: {...}\n\n"}}}, **PROBLEMS},
)
async def direct_stream(
    c: Reader,
    other: Other,
    after: Annotated[int, Query(ge=0, le=MAX_INT)] = 0,
    heartbeat: Annotated[float, Query(ge=0.05, le=60)] = 15.0,
) -> EventSourceResponse:
    """Server-sent events: the caller's direct messages with one user as they are posted."""
    return _stream(c, dm_thread(c.subject, other), after, heartbeat)


@router.post(
    "/api/v1/messages/read",
    responses=answers(Listing, {"read": 3}),
    summary="Mark a thread's messages read up to a sequence number (read receipts)",
)
async def mark_read(c: Reader, form: ReadForm) -> Any:
    """Read receipts: every message of the thread the caller may see, up to the sequence number, marked
    read by them."""

    def run() -> int:
        if form.thread.startswith("case:"):
            act(c, casework(c).get, form.thread[5:], actor(c), c.who)
        now = utcnow().isoformat()
        seen = [m for s, m in messaging(c).read(form.thread, c.subject, c.gate.audience, 0, 10_000) if s <= form.upto]
        for m in seen:
            c.svc.cases().mark_read(m.id, c.subject, now)
        return len(seen)

    return json({"read": await bounded(c, run)})
