"""The field: a mobile data terminal's query with its answer and alerts, and the live alert
stream (Server-Sent Events) with resumption from `Last-Event-ID`.

Who asks is the authenticated subject: the officer and unit of a query and the subscriber of
the stream come from the directory, never from the request. Every alert, on every path and on
every replay, is delivered through the policy for that subscriber (`Gate.deliver`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Header, Path, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from sse_starlette import EventSourceResponse, ServerSentEvent

from argus.api.deps import Caller, Officer, Problem, dumps, json
from argus.api.models import EXAMPLES, PROBLEMS, AckList, FieldAnswer, answers
from argus.api.services import topic_or_none
from argus.api.telemetry import SSE_SUBSCRIBERS
from argus.records import utcnow
from argus.security.policy import FULL, Marking
from argus.workflows.product_model import product_view

router = APIRouter(tags=["field"])
MAX_CURSOR = 2**62  # a partition offset beyond any log


class FieldQuery(BaseModel):
    """What a mobile data terminal sends: a plate (with state) or VIN, or a name (with DOB). The
    officer and unit are the authenticated subject's, from the directory."""

    model_config = ConfigDict(extra="forbid")

    query_id: str = Field(min_length=1, max_length=64)
    plate: str | None = Field(default=None, max_length=16)
    state: str | None = Field(default=None, max_length=2)
    vin: str | None = Field(default=None, max_length=24)
    name: str | None = Field(default=None, max_length=128)
    dob: str | None = Field(default=None, max_length=10)
    reason: str = Field(default="traffic stop", max_length=128)
    location: dict[str, Any] | None = None
    issued_at: str | None = Field(default=None, max_length=64)


def delivered(c: Caller, alerts: list[dict[str, Any]], channel: str) -> None:
    """28 CFR 23.20(f): each report of another agency that reached this caller, with the
    recipient and the reason; once per alert, report and subject (a reconnecting stream does
    not record it again)."""
    for a in alerts:
        for h in a["hits"]:
            if h["report_agency"] == c.who.agency:
                continue
            c.api.audit.record(
                "disseminate",
                actor=c.subject,
                agency=h["report_agency"],
                object=h["report_id"],
                source=c.source,
                recipient=c.who.agency,
                reason=f"{a['alert_type']} alert {a['alert_id']} via {channel}",
                detail={"subject": c.subject, "unit": c.who.unit, "tlp": h["report_tlp"]},
                dedup=f"{a['alert_id']}|{h['report_id']}|{c.subject}",
            )


@router.post(
    "/api/v1/field/query",
    summary="A CAD query (plate or person): answer plus alerts",
    responses=answers(FieldAnswer, EXAMPLES["field"]),
)
async def field_query(
    c: Officer,
    q: FieldQuery,
    wait: Annotated[float, Query(ge=0, le=10, description="Seconds to wait for the pipeline")] = 2.0,
) -> Any:
    """The query takes the path a CAD terminal's does (the query connector validates it, the
    pipeline resolves and correlates it) as the authenticated officer. HIT: alerts below; NO_HIT:
    correlation has looked; PENDING: the wait ran out first."""
    raw = q.model_dump(exclude_none=True)
    # who asks, for whom the answer is, and on whose authority: the authenticated subject only
    raw["agency"] = c.who.agency
    raw["officer_id"] = c.subject
    raw["unit_id"] = c.who.unit or "unassigned"
    raw.setdefault("issued_at", utcnow().isoformat())
    desk = c.api.desk
    work = anyio.to_thread.run_sync(desk.submit, raw, wait, c.who.law_enforcement)
    res = await asyncio.wait_for(work, wait + c.api.timeout)
    shown = [c.gate.deliver(a) for a in res["alerts"]]
    res["alerts"] = [a for a in shown if a is not None]
    await anyio.to_thread.run_sync(lambda: delivered(c, res["alerts"], f"field query {q.query_id}"))
    audit_q = {"query_id": q.query_id, "status": res["status"], "record_id": res["record_id"]}
    await anyio.to_thread.run_sync(lambda: c.audited("read", res["record_id"], endpoint="field_query", **audit_q))
    return json(res)


FEEDS = ("alerts", "products", "notices")  # the stream's topics, in the order of its cursor


def parse_cursor(last_event_id: str, *partitions: int) -> list[dict[int, int]]:
    """`Last-Event-ID` as the stream wrote it: "p:o,p:o,..." for the alerts topic, then
    "|p:o,..." for the products topic and "|p:o,..." for the deconfliction notices (an empty part:
    nothing read there yet): where to go on from in each."""
    texts = last_event_id.split("|")
    if len(texts) > len(partitions):
        raise Problem(400, "Bad Last-Event-ID", f"Last-Event-ID: at most {len(partitions)} parts separated by |")
    texts += [""] * (len(partitions) - len(texts))
    return [_cursor(t, n, FEEDS[i]) if t else {} for i, (t, n) in enumerate(zip(texts, partitions, strict=True))]


def _cursor(text: str, partitions: int, what: str) -> dict[int, int]:
    out: dict[int, int] = {}
    try:
        for part in text.split(","):
            p, o = (int(x) for x in part.split(":"))
            if not (0 <= p < partitions and -1 <= o < MAX_CURSOR):
                raise ValueError
            out[p] = o + 1
    except ValueError:
        raise Problem(
            400,
            "Bad Last-Event-ID",
            f"Last-Event-ID: expected partition:offset pairs, {what} partitions 0-{partitions - 1}",
        ) from None
    return out


@router.get(
    "/api/v1/field/alerts/stream",
    summary="Server-Sent Events: the caller's alerts, live",
    responses={200: {"content": {"text/event-stream": {"example": EXAMPLES["stream"]}}}, **PROBLEMS},
)
async def alert_stream(
    c: Officer,
    last_event_id: Annotated[str | None, Header(max_length=4096)] = None,
    heartbeat: Annotated[float, Query(ge=0.05, le=60, description="Seconds between keep-alives")] = 15.0,
    recent: Annotated[
        int, Query(ge=0, le=1000, description="Look again at the newest N alerts of each partition first")
    ] = 0,
) -> EventSourceResponse:
    """Alerts addressed to the caller (their agency, unit or name; a supervisor sees the agency's),
    each shown as the policy lets this caller see it. `Last-Event-ID` (the id of the last event
    received) resumes where a dropped connection left off."""
    svc = c.svc
    topics = [c.api.desk.alerts_topic, product_topic(c), topic_or_none(svc.topo, "deconfliction_notice.v1")]
    starts = [await anyio.to_thread.run_sync(svc.end_offsets, t) if t else {} for t in topics]
    if recent:  # an inbox opened: what came in lately, still through the policy for this subscriber
        starts = [{p: max(0, o - recent) for p, o in s.items()} for s in starts]
    if last_event_id:  # resume where the terminal's connection dropped
        for s, got in zip(starts, parse_cursor(last_event_id, *(len(s) for s in starts)), strict=True):
            s.update(got)

    async def events() -> AsyncIterator[ServerSentEvent]:
        SSE_SUBSCRIBERS.inc()
        try:
            yield ServerSentEvent(comment="argus alert stream")
            async for event in _alerts(c, topics, [dict(x) for x in starts]):
                yield event
        finally:
            SSE_SUBSCRIBERS.dec()

    return EventSourceResponse(
        events(), ping=heartbeat, ping_message_factory=lambda: ServerSentEvent(comment="keep-alive"), sep="\n"
    )


async def _alerts(c: Caller, topics: list[str | None], pos: list[dict[int, int]]) -> AsyncIterator[ServerSentEvent]:
    """Alerts (event `alert`), operational products (event `product`: a BOLO, an officer safety
    alert) and deconfliction notices (event `conflict`) from `pos` on, as this subscriber may have
    them. The id is the cursor a browser sends back as Last-Event-ID when it reconnects; a comment
    says when what was missed has all been sent (a terminal's log shows a resume completed).
    Keep-alives and noticing that the client has gone are sse-starlette's."""
    svc = c.svc
    behind = True
    while True:
        read = [
            await anyio.to_thread.run_sync(svc.read_from, t, p) if t else [] for t, p in zip(topics, pos, strict=True)
        ]
        for feed, recs in enumerate(read):
            for r in recs:
                pos[feed][r.partition] = r.offset + 1
                event = await _event(c, feed, r.envelope, r.body)
                if event is not None:
                    yield ServerSentEvent(dumps(event[1]).decode(), event=event[0], id=_cursor_of(pos))
        if not any(read):
            if behind:
                behind = False
                yield ServerSentEvent(comment="caught up")
            await asyncio.sleep(0.05)


async def _event(c: Caller, feed: int, envelope: dict[str, Any], body: dict[str, Any]) -> tuple[str, Any] | None:
    """What of one record of feed `feed` this subscriber gets, and under which event name."""
    if feed == 0:
        alert = c.gate.deliver(body)
        if alert is not None:
            await anyio.to_thread.run_sync(lambda: delivered(c, [alert], "alert stream"))
            return "alert", alert
        return None
    if feed == 1:
        if not for_me(c, envelope, body):
            return None
        await anyio.to_thread.run_sync(lambda: received(c, body))
        return "product", body
    return ("conflict", body) if notice_for_me(c, body) else None


def _cursor_of(pos: list[dict[int, int]]) -> str:
    parts = [",".join(f"{p}:{o - 1}" for p, o in sorted(x.items())) for x in pos]
    while len(parts) > 1 and not parts[-1]:
        parts.pop()
    return "|".join(parts)


def notice_for_me(c: Caller, body: dict[str, Any]) -> bool:
    """A deconfliction notice reaches its contact, and the watch officers of the agency it is
    addressed to (the watch centre's notices have no contact: its watch officers)."""
    if body["recipient_agency"] != c.who.agency:
        return False
    return body.get("recipient_officer") == c.subject or c.who.may("review")


def product_topic(c: Caller) -> str | None:
    return topic_or_none(c.svc.topo, "product_delivery.v1")


def for_me(c: Caller, envelope: dict[str, Any], body: dict[str, Any]) -> bool:
    """A product delivery is this subscriber's only when it names them, and the policy still
    admits them to the whole product under its marking."""
    if body["recipient_officer"] != c.subject or body["recipient_agency"] != c.who.agency:
        return False
    v = product_view(Marking.from_envelope(envelope), c.who, c.gate.rules)
    return v is not None and v.level == FULL


def received(c: Caller, body: dict[str, Any]) -> None:
    """The terminal has it: its delivery's receipt time."""
    if body["status"] == "PUBLISHED":
        c.svc.products().mark(body["product"], c.subject, "received", utcnow())


@router.post(
    "/api/v1/field/alerts/{alert_id}/ack",
    summary="Acknowledge an alert (audited)",
    status_code=204,
    responses={204: {}, **PROBLEMS},
)
async def acknowledge(c: Officer, alert_id: Annotated[str, Path(min_length=1, max_length=128)]) -> Response:
    """The officer has seen the alert: recorded in the audit trail under their name. Acknowledging
    says nothing back about the alert, so it tells nobody whether such an alert exists."""
    await anyio.to_thread.run_sync(
        lambda: c.api.audit.record(
            "acknowledge", actor=c.subject, agency=c.who.agency, object=alert_id, source=c.source,
            detail={"unit": c.who.unit}, dedup=f"ack|{alert_id}|{c.subject}",
        )
    )  # fmt: skip
    return Response(status_code=204)


@router.get(
    "/api/v1/field/alerts/acks",
    summary="The alerts the caller has acknowledged",
    responses=answers(AckList, {"alert_ids": ["ALR-9f2c..."]}),
)
async def acknowledged(c: Officer) -> Any:
    """The caller's own acknowledgements (up to 1,000), from the audit trail."""

    def mine() -> list[str]:
        got = c.api.audit.query(actor=c.subject, action="acknowledge", visible_to_agency=c.who.agency, limit=1000)
        return [e["object"] for e in got]

    return json({"alert_ids": await anyio.to_thread.run_sync(mine)})
