"""TAXII feed subscriptions: the partner collections the pipeline polls.

A feed belongs to the agency of the analyst who adds it: its objects enter as that agency's
intelligence, so no one may add, see or remove another agency's feeds. The URL passes the
server-side request forgery guard (argus.netguard) before it is stored, and the poller checks
it again before every fetch.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from argus.api.deps import Caller, Problem, Subscriber, bounded, json
from argus.api.models import EXAMPLES, PROBLEMS, FeedList, Listing, answers
from argus.feeds import FeedError, FeedSpec, feed_allow, feed_nodes, subscriptions
from argus.netguard import Forbidden, check_url

router = APIRouter(tags=["stix"])


class NewFeed(BaseModel):
    """A subscription as an analyst asks for it; `agency` may be omitted (it is the caller's)."""

    model_config = ConfigDict(extra="allow")
    agency: str | None = Field(default=None, max_length=9, description="Your agency's ORI (the default)")


def _feeds(c: Caller) -> dict[str, Any]:
    with c.svc.bus_lock:
        bus, _ = c.svc.bus()
        found = [f for f in subscriptions(c.svc.topo, c.svc.feeds(), bus) if f["agency"] == c.who.agency]
    c.audited("read", "feeds", returned=len(found))
    return {"total": len(found), "feeds": found}


@router.get(
    "/api/v1/feeds",
    summary="Your agency's TAXII feeds, and where each resumes",
    responses=answers(FeedList, EXAMPLES["feeds"]),
)
async def feeds_list(c: Subscriber) -> Any:
    """Declared and analyst-added feeds of the caller's agency, with each one's cursor and how
    its last poll went; secrets only as whether they are set."""
    return json(await bounded(c, _feeds, c))


def _feed_add(c: Caller, spec: FeedSpec) -> dict[str, Any]:
    if not feed_nodes(c.svc.topo):
        raise Problem(409, "No TAXII poller", "the topology has no node with `use: taxii` to read feeds")
    try:
        check_url(spec.url, feed_allow(c.svc.topo))
    except Forbidden as exc:
        c.denied(f"feed:{spec.name}", str(exc))
        raise Problem(422, "URL refused", str(exc), errors=[{"where": "body.url", "problem": str(exc)}]) from None
    try:
        c.svc.feeds().add(spec, c.subject)
    except FeedError as exc:
        raise Problem(409, "Feed exists", str(exc)) from None
    c.api.audit.record(
        "admin",
        actor=c.subject,
        agency=c.who.agency,
        object=f"feed:{spec.name}",
        source=c.source,
        detail={"action": "feed add", **spec.public()},
    )
    return spec.public()


@router.post(
    "/api/v1/feeds",
    status_code=201,
    summary="Subscribe to a partner's TAXII collection (polled within seconds)",
    responses=answers(Listing, EXAMPLES["feed"], 201),
)
async def feed_add(c: Subscriber, body: NewFeed) -> Any:
    """A feed for the caller's own agency: name, url (the API root), collection, credentials
    (`env:NAME` keeps a secret out of storage), poll_interval, timeout, page_size. Addresses
    inside the fusion centre (loopback, private, link-local) need the administrator's allow-list."""
    if body.agency not in (None, c.who.agency):
        c.denied("feeds", f"a feed in the name of {body.agency}")
        raise Problem(403, "Not your agency", f"agency: a feed is added for your own agency ({c.who.agency})")
    try:
        spec = FeedSpec.model_validate(body.model_dump() | {"agency": c.who.agency})
    except ValidationError as exc:
        errors = [{"where": "body." + ".".join(map(str, e["loc"])), "problem": e["msg"]} for e in exc.errors()]
        raise Problem(422, "Invalid request", "; ".join(f"{e['where']}: {e['problem']}" for e in errors),
                      errors=errors) from None  # fmt: skip
    return json(await bounded(c, _feed_add, c, spec), 201)


def _feed_remove(c: Caller, name: str) -> None:
    spec = c.svc.feeds().get(name)
    if spec is None or spec.agency != c.who.agency:
        raise Problem(404, "No such feed", f"no analyst-added feed of your agency named {name}")
    c.svc.feeds().remove(name)
    c.api.audit.record(
        "admin", actor=c.subject, agency=c.who.agency, object=f"feed:{name}", source=c.source,
        detail={"action": "feed remove"},
    )  # fmt: skip


@router.delete(
    "/api/v1/feeds/{name}",
    status_code=204,
    summary="Stop polling one of your agency's feeds",
    responses={204: {"description": "Removed"}, **PROBLEMS},
)
async def feed_remove(c: Subscriber, name: str) -> Response:
    """Only feeds analysts of the caller's agency added; topology feeds are the administrator's."""
    await bounded(c, _feed_remove, c, name)
    return Response(status_code=204)
