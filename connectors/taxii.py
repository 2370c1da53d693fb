"""TAXII 2.1 poller: partners' collections, paged, resumed exactly, backed off politely.

The cursor of a feed is `{"after": A, "skip": k}`: of the objects the server lists with
`added_after=A` (in date_added order), the first k have been yielded. It is set before each
object is yielded, so the runtime commits it with the records (Connector contract): a restart
asks again with `added_after=A` and skips k, and neither skips nor repeats anything. While a
poll pages with `next`, the cursor moves on to a page's `X-TAXII-Date-Added-Last` only once the
following page starts strictly later; servers stamp every object of one POST with the same
date_added, and resuming from a timestamp inside such a batch would skip the rest of it.

HTTP runs in a worker thread: `run()` only starts a fetch and later yields the page it got, so a
slow partner never holds up a field query in the scheduler.
"""

from __future__ import annotations

import logging
import random
import ssl
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import orjson
from pydantic import Field

from argus import metrics
from argus.contracts import Connector, Context, DeadLetterRecord, NodeConfig
from argus.feeds import FeedError, FeedSpec, FeedStore
from argus.netguard import Forbidden, check_url
from argus.records import InvalidRecord, Record, as_bytes
from connectors.stix_file import stix_record

log = logging.getLogger("argus.taxii")

TAXII_MEDIA = "application/taxii+json;version=2.1"
MAX_PAGE_BYTES = 256 * 1024 * 1024


class TaxiiConfig(NodeConfig):
    feeds: list[FeedSpec] = Field(default_factory=list, description="Feeds declared in topology.yaml")
    registry: bool = Field(default=True, description="Also poll feeds analysts added (argus feed add, API)")
    registry_refresh: float = Field(default=5.0, gt=0, le=3600)
    poll_interval: float = Field(default=0.2, gt=0, le=60, description="How often fetched pages are looked for")
    workers: int = Field(default=4, ge=1, le=64, description="Feeds fetched at the same time")
    feed_allow: list[str] = Field(
        default_factory=list,
        description="Where analyst-added feeds may point besides public addresses: networks (CIDR) or host "
        "names an administrator allows. Loopback, private, link-local (cloud metadata) and other special "
        "addresses are refused otherwise (argus.netguard); feeds declared here are the administrator's own",
    )


@dataclass
class Page:
    objects: list[Any]
    more: bool
    next: str | None
    first: str | None
    last: str | None


class Retryable(Exception):
    """429, 5xx, a network failure: try again later, after Retry-After if the server gave one."""

    def __init__(self, reason: str, kind: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.kind = kind
        self.retry_after = retry_after


class Refused(Exception):
    """A status that will not change by retrying soon (401, 403, 404, 406, a bad page)."""

    def __init__(self, reason: str, kind: str, original: bytes = b"") -> None:
        super().__init__(reason)
        self.kind = kind
        self.original = original


class NextExpired(Exception):
    """The server no longer knows our `next` token (it restarted, or the session timed out)."""


def retry_after(value: str | None, now: float | None = None) -> float | None:
    """Retry-After as seconds: either delta-seconds or an HTTP-date (RFC 9110 10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - (now if now is not None else time.time()))


def ssl_context(spec: FeedSpec) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=spec.verify if isinstance(spec.verify, str) else None)
    if spec.verify is False:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if spec.cert:
        ctx.load_cert_chain(spec.cert, spec.key)
    return ctx


def open_client(spec: FeedSpec) -> httpx.Client:
    auth: httpx.Auth | None = None
    headers = {"Accept": TAXII_MEDIA, "User-Agent": "argus-taxii/0.1"}
    if spec.username is not None:
        auth = httpx.BasicAuth(spec.username, spec.secret("password") or "")
    token = spec.secret("token")
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if spec.verify is False and spec.url.startswith("https:"):
        log.warning("feed %s: TLS verification is off", spec.name)
    return httpx.Client(
        auth=auth, headers=headers, verify=ssl_context(spec), timeout=spec.timeout, follow_redirects=False
    )


def fetch_page(client: httpx.Client, spec: FeedSpec, added_after: str | None, next_token: str | None) -> Page:
    """One GET of the collection's objects. With `next`, the other filters are sent again unchanged
    (a TAXII server ties a `next` token to the query that made it)."""
    params: dict[str, Any] = {"limit": spec.page_size, "match[version]": "all"}
    if added_after:
        params["added_after"] = added_after
    if spec.types:
        params["match[type]"] = ",".join(spec.types)
    if next_token:
        params["next"] = next_token
    url = f"{spec.url}collections/{spec.collection}/objects/"
    try:
        with client.stream("GET", url, params=params) as r:
            chunks, size = [], 0
            for chunk in r.iter_bytes():
                size += len(chunk)
                if size > MAX_PAGE_BYTES:
                    raise Refused(f"page over {MAX_PAGE_BYTES} bytes", "oversized", b"".join(chunks)[:65536])
                chunks.append(chunk)
            body = b"".join(chunks)
    except httpx.TransportError as exc:
        raise Retryable(f"{type(exc).__name__}: {exc}", "network") from None
    status = r.status_code
    if status == 429 or status >= 500:
        raise Retryable(f"HTTP {status}", str(status), retry_after(r.headers.get("Retry-After")))
    if status == 400 and next_token:
        raise NextExpired(body[:200].decode("utf-8", "replace"))
    if status != 200:
        raise Refused(f"HTTP {status}: {body[:200].decode('utf-8', 'replace')}", str(status))
    ctype = r.headers.get("Content-Type", "").replace(" ", "").lower()
    if not ctype.startswith("application/taxii+json"):
        raise Refused(f"Content-Type {ctype!r}, expected {TAXII_MEDIA}", "media-type", body[:65536])
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise Refused(f"malformed JSON page: {exc}", "malformed", body[:65536]) from None
    objects = doc.get("objects", []) if isinstance(doc, dict) else None
    if not isinstance(objects, list):
        raise Refused("a TAXII envelope must be an object with an 'objects' list", "malformed", body[:65536])
    nxt = doc.get("next")
    return Page(
        objects=objects,
        more=bool(doc.get("more", False)),
        next=nxt if isinstance(nxt, str) and nxt else None,
        first=r.headers.get("X-TAXII-Date-Added-First"),
        last=r.headers.get("X-TAXII-Date-Added-Last"),
    )


def _instant(ts: str) -> datetime:
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))


@dataclass
class _Sequence:
    """One poll in progress: the query it started with, and where we are in its answer."""

    params_after: str | None  # added_after of the first request (repeated with every `next`)
    base: str | None  # the cursor's `after`
    pos: int  # objects of the answer for `base` consumed so far
    to_skip: int  # of those, still to pass over (yielded before a restart)
    cursor: dict[str, Any]
    next: str | None = None
    prev_last: str | None = None


@dataclass
class _Feed:
    spec: FeedSpec
    client: httpx.Client
    future: Future[Page] | None = None
    due: float = 0.0
    failures: int = 0
    error: str | None = None  # the last failure, while failures > 0
    guarded: bool = False  # an analyst's feed: its address is checked before every fetch (argus.netguard)
    seq: _Sequence | None = None
    caught_up: float = field(default_factory=time.time)

    @property
    def key(self) -> str:
        return f"feed:{self.spec.name}"


class TaxiiConnector(Connector):
    Config = TaxiiConfig
    config: TaxiiConfig
    emits = ("stix_object.v1",)
    stores = ("feeds",)

    def setup(self, ctx: Context) -> None:
        self._pool = ThreadPoolExecutor(max_workers=self.config.workers, thread_name_prefix=f"taxii-{self.name}")
        self._feeds: dict[str, _Feed] = {}
        self._registry: FeedStore | None = ctx.stores.get("feeds") if self.config.registry else None
        self._refreshed = -1e9
        self._refresh()

    def stop(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        for f in self._feeds.values():
            f.client.close()
        self._feeds.clear()

    # --- subscriptions ------------------------------------------------------------------------
    def _refresh(self) -> None:
        self._refreshed = time.monotonic()
        specs = {s.name: s for s in self.config.feeds}
        if self._registry is not None:
            for s in self._registry.list():
                if s.name in specs:
                    log.warning("feed %s: declared in topology.yaml and added by an analyst; using topology", s.name)
                    continue
                specs[s.name] = s
        for name in list(self._feeds):
            if name not in specs or specs[name] != self._feeds[name].spec:
                old = self._feeds.pop(name)
                if old.future is not None:
                    old.future.cancel()
                old.client.close()
        declared = {s.name for s in self.config.feeds}
        for name, spec in specs.items():
            if name not in self._feeds:
                try:
                    self._feeds[name] = _Feed(spec, open_client(spec), guarded=name not in declared)
                except (FeedError, OSError, ssl.SSLError) as exc:
                    log.error("feed %s cannot start: %s", name, exc)
                    metrics.TAXII_ERRORS.labels(name, "config").inc()
                    continue
                feed = self._feeds[name]
                metrics.feed_at_zero(name)
                metrics.TAXII_LAG.labels(name).set_function(lambda f=feed: time.time() - f.caught_up)

    def pending(self) -> bool:
        """A fetch in flight, or a poll with more pages to come (not a feed backing off)."""
        return any(f.future is not None or (f.seq is not None and not f.failures) for f in self._feeds.values())

    def feeds(self) -> list[FeedSpec]:
        return [f.spec for f in self._feeds.values()]

    # --- polling ------------------------------------------------------------------------------
    def problems(self) -> list[str]:
        """Feeds whose last poll failed: what keeps them from delivering."""
        return [f"feed {f.spec.name}: {f.error}" for f in self._feeds.values() if f.failures and f.error]

    def run(self, ctx: Context) -> Any:
        if time.monotonic() - self._refreshed >= self.config.registry_refresh:
            self._refresh()
        for feed in list(self._feeds.values()):
            yield from self._poll(feed, ctx)
            self._status(feed, ctx)

    def _status(self, feed: _Feed, ctx: Context) -> None:
        """How the feed's last poll went, kept with its cursor for `argus feed list` and the API."""
        key = f"status:{feed.spec.name}"
        have = ctx.state.get(key) or {}
        now = {"ok": not feed.failures, "failures": feed.failures, "error": feed.error if feed.failures else None}
        if {k: have.get(k) for k in now} != now:
            ctx.state.put(key, now | {"at": datetime.now(UTC).isoformat(timespec="seconds")})

    def _poll(self, feed: _Feed, ctx: Context) -> Any:
        spec = feed.spec
        cursor = ctx.state.get(feed.key) or {"after": spec.added_after, "skip": 0}
        now = time.monotonic()
        if feed.future is None:
            if now < feed.due:
                return
            if feed.seq is not None and feed.seq.cursor != cursor:
                feed.seq = None  # what we yielded was not committed (rolled back): start again from the cursor
            if feed.seq is None:
                feed.seq = _Sequence(cursor["after"], cursor["after"], 0, int(cursor["skip"]), cursor)
            if feed.guarded:
                try:
                    check_url(spec.url, self.config.feed_allow)
                except Forbidden as exc:
                    feed.failures, feed.error, feed.due = feed.failures + 1, str(exc), now + spec.poll_interval
                    metrics.TAXII_ERRORS.labels(spec.name, "forbidden").inc()
                    log.error("feed %s: %s", spec.name, exc)
                    return
            feed.future = self._pool.submit(fetch_page, feed.client, spec, feed.seq.params_after, feed.seq.next)
            return
        if not feed.future.done():
            return
        fut, feed.future = feed.future, None
        seq = feed.seq
        assert seq is not None
        try:
            page = fut.result()
        except NextExpired:
            log.info("feed %s: the server forgot our page token; asking again from the cursor", spec.name)
            feed.seq = None
            return
        except Retryable as exc:
            feed.failures += 1
            feed.error = f"{exc} (timeout {spec.timeout:g}s)" if exc.kind == "network" else str(exc)
            backoff = min(spec.max_backoff, 2.0 ** min(feed.failures - 1, 20)) * (0.5 + random.random() / 2)
            delay = min(spec.max_backoff, exc.retry_after) if exc.retry_after is not None else backoff
            feed.due = now + delay
            metrics.TAXII_ERRORS.labels(spec.name, exc.kind).inc()
            log.warning("feed %s: %s; retrying in %.1fs", spec.name, exc, delay)
            return
        except Refused as exc:
            feed.failures += 1
            feed.error = str(exc)
            feed.due = now + spec.poll_interval
            feed.seq = None
            metrics.TAXII_ERRORS.labels(spec.name, exc.kind).inc()
            log.error("feed %s: %s; next poll in %.0fs", spec.name, exc, spec.poll_interval)
            if exc.original:
                yield DeadLetterRecord(f"TAXII feed {spec.name}: {exc}", exc.original, spec.url)
            return
        except Exception as exc:  # a bug or an unexpected library error: keep the other feeds going
            feed.failures += 1
            feed.error = f"{type(exc).__name__}: {exc}"
            feed.due = now + spec.poll_interval
            feed.seq = None
            metrics.TAXII_ERRORS.labels(spec.name, "error").inc()
            log.exception("feed %s: fetch failed: %s", spec.name, exc)
            return
        feed.failures = 0
        metrics.TAXII_PAGES.labels(spec.name).inc()
        if seq.prev_last and page.first and _later(page.first, seq.prev_last):
            seq.base, seq.pos = seq.prev_last, 0  # everything up to prev_last is behind us
        n = len(page.objects)
        for i, raw in enumerate(page.objects):
            seq.pos += 1
            if seq.to_skip > 0:
                seq.to_skip -= 1
                continue
            if i == n - 1 and not page.more and page.last:
                seq.cursor = {"after": page.last, "skip": 0}
            else:
                seq.cursor = {"after": seq.base, "skip": seq.pos}
            ctx.state.put(feed.key, seq.cursor)
            metrics.TAXII_OBJECTS.labels(spec.name).inc()
            yield self._record(raw, spec, ctx)
        seq.prev_last = page.last or seq.prev_last
        if page.more and page.next:
            seq.next = page.next
            feed.due = 0.0
            return
        if page.last and seq.cursor != {"after": page.last, "skip": 0}:
            # the whole answer was consumed (or skipped): resume after its last object
            seq.cursor = {"after": page.last, "skip": 0}
            ctx.state.put(feed.key, seq.cursor)
        feed.seq = None
        if page.more:  # a server that pages without `next`: go on from the last timestamp
            feed.due = 0.0
            return
        feed.due = time.monotonic() + spec.poll_interval
        feed.caught_up = time.time()
        metrics.TAXII_LAST_SUCCESS.labels(spec.name).set(feed.caught_up)

    def _record(self, raw: Any, spec: FeedSpec, ctx: Context) -> Record | DeadLetterRecord:
        try:
            return stix_record(
                raw,
                ctx,
                self.name,
                agency=spec.agency,
                default_tlp=spec.default_tlp,
                default_reliability=spec.default_reliability,
                default_validity=spec.default_validity,
            )
        except Exception as exc:  # one object's failure, whatever it is, is that object's alone
            sid = raw.get("id") if isinstance(raw, dict) else None
            why = str(exc) if isinstance(exc, InvalidRecord) else f"{type(exc).__name__}: {str(exc)[:300]}"
            return DeadLetterRecord(f"TAXII feed {spec.name}: {why}", as_bytes(raw), f"{spec.name}:{str(sid)[:120]}")


def _later(a: str, b: str) -> bool:
    try:
        return _instant(a) > _instant(b)
    except ValueError:
        return False
