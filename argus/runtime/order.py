"""Source order: ordered nodes see the same records in the same order whatever the timing.

Entity resolution and correlation are order-sensitive (which of two related reports comes first
decides whose entity the other joins and whose owner is told). Sources feed the pipeline
concurrently, through partitioned stages that may run in different processes, so arrival order
at those nodes is an accident of scheduling: two embedded runs with different batch sizes, or
one and three Kafka workers, would disagree. This module makes the order a function of the input.

**Marks.** Every connector whose records reach an ordered node writes *marks* into each
partition of those output topics: a message without a value (empty on the embedded bus, null on
Kafka, like a tombstone: every reader already skips those) whose key names the connector (the
*origin*), an epoch number and whether the origin is now idle. A connector marks after every
`order_mark_every` records (a position in its own input, so the same on every run) and when it
has read everything there is (an *idle* mark); an idle connector that gets input again marks
before its first new record (a *wake* mark, not idle). A plain processor between a connector and an
ordered node (dedup) passes each mark on to the same partition of its output, and writes each
record to the partition its input came from, so on every channel (topic partition) an ordered
node reads, each origin's records and marks keep the order the origin wrote them in.

**Releases.** An ordered node buffers what it reads, per channel and origin (a *lane*). When
every origin it waits for has either a mark on each of its channels (*complete*) or is known
idle with nothing waiting, it *releases*: for each complete origin, the records before its first
mark on every channel. It processes a release sorted by (observed_at, record id, origin, position),
which depends only on what the release holds, then passes one mark per origin on to its own
ordered outputs (so the next ordered node forms the same releases). Its committed offsets stop
at the oldest message not yet consumed; which later messages are consumed per origin, and a
release still being worked through, are in the node's state, so a restart resumes exactly.

When the input is all there (a replay, a backfill, the tests' "same input"), every run forms the
same releases, so entity resolution and correlation give the same answer with one process or
many. Live, a release forms as soon as every source has caught up (they mark idle as they do),
so the cost is one hop of the slowest source's latency. The field-query lane (topics with
`priority: high`) is not ordered: a query is answered at once against what is resolved, and
queries change no state, so the ingest answer does not depend on them.

A record on an ordered channel from a writer that never marks goes with the next release; one
that names an idle source but has no mark behind it (a dead letter replayed, a submission through
the API) is released after `STRAY_SECONDS`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from argus.bus.base import Message

MARK = "argus:mark:"
UNKNOWN = "*"  # records whose origin never marks
STRAY_SECONDS = 1.0
STATE_KEY = "argus:order"  # the ordered node's own bookkeeping, beside its processor's keys

Channel = tuple[str, int]


def mark_key(origin: str, epoch: int, idle: bool) -> str:
    return f"{MARK}{origin}:{epoch}:{'i' if idle else 'p'}"


def parse_mark(key: str | None) -> tuple[str, int, bool] | None:
    if key is None or not key.startswith(MARK):
        return None
    origin, epoch, kind = key[len(MARK) :].rsplit(":", 2)
    return origin, int(epoch), kind == "i"


# --- an ordered node's input -----------------------------------------------------------------
@dataclass(slots=True)
class Item:
    msg: Message
    origin: str
    mark: tuple[str, int, bool] | None  # (origin, epoch, idle) for a mark
    error: Exception | None = None  # its envelope could not be read
    sort: tuple[Any, ...] = ()
    seen: float = 0.0

    @property
    def channel(self) -> Channel:
        return (self.msg.topic, self.msg.partition)


def sort_key(env: dict[str, Any] | None, origin: str, msg: Message) -> tuple[Any, ...]:
    if not env:
        return (0, "", origin, msg.partition, msg.offset)
    at = env.get("observed_at")
    return (at.timestamp() if at is not None else 0, env.get("id", ""), origin, msg.partition, msg.offset)


@dataclass
class Release:
    """What one release consumes: (channel, origin) -> [start, end) of that lane, the records in
    processing order, how many are done, and the marks to pass on when it completes."""

    ranges: list[tuple[Channel, str, int, int]]
    marks: dict[str, list[Any]]
    records: list[Item] = field(default_factory=list)
    done: int = 0

    def to_state(self) -> dict[str, Any]:
        return {
            "ranges": [[t, p, o, s, e] for (t, p), o, s, e in self.ranges],
            "marks": self.marks,
            "done": self.done,
        }

    @classmethod
    def from_state(cls, d: dict[str, Any]) -> Release:
        return cls([((t, p), o, s, e) for t, p, o, s, e in d["ranges"]], d["marks"], done=d["done"])


class Lane:
    """One origin's messages on one channel, past what is consumed; where its first mark is."""

    __slots__ = ("first_mark", "items")

    def __init__(self, items: list[Item] | None = None) -> None:
        self.items: list[Item] = items or []
        self.first_mark = next((i for i, it in enumerate(self.items) if it.mark is not None), -1)

    def append(self, item: Item) -> None:
        if item.mark is not None and self.first_mark < 0:
            self.first_mark = len(self.items)
        self.items.append(item)


class OrderedInput:
    """The buffer and release logic of one ordered node (see the module docstring)."""

    def __init__(
        self,
        channels: Iterable[Channel],
        origins: frozenset[str],
        reach: dict[str, frozenset[str]],
        committed: dict[Channel, int],
        saved: dict[str, Any] | None,
        envelope: Callable[[Message], dict[str, Any] | None],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`envelope`: a message's envelope (raising where it cannot be read). The buffer keeps
        messages as read, undecoded: what sorts them is their envelope alone, and the runtime
        decodes each record as its release is worked through."""
        self.channels = sorted(channels)
        self.origins = origins
        # origin -> the channels its marks arrive on (every partition of the topics it reaches)
        self.reach = {o: [c for c in self.channels if c[0] in ts] for o, ts in reach.items()}
        self.envelope = envelope
        self.clock = clock
        self.read_pos: dict[Channel, int] = {c: committed.get(c, 0) for c in self.channels}
        self.lanes: dict[Channel, dict[str, Lane]] = {c: {} for c in self.channels}
        saved = saved or {}
        # Where each origin's consumed messages end on a channel, where that is past the
        # committed offset (the oldest message some other origin has not had consumed).
        self.cursors: dict[Channel, dict[str, int]] = {
            c: dict(saved.get("cursors", {}).get(f"{c[0]}/{c[1]}", {})) for c in self.channels
        }
        self.last: dict[str, list[Any]] = dict(saved.get("last", {}))  # origin -> [epoch, idle]
        self.release: Release | None = Release.from_state(saved["release"]) if saved.get("release") else None
        self._restoring = self.release is not None
        self.changed = True
        self.strays_waiting = False  # records of an idle source without a mark, not yet old enough
        self.turn = 0  # which channel the runtime reads first (it goes round)

    def _lane(self, ch: Channel, origin: str) -> Lane:
        lane = self.lanes[ch].get(origin)
        if lane is None:
            lane = self.lanes[ch][origin] = Lane()
        return lane

    # -- reading --
    def add(self, msgs: list[Message]) -> None:
        now = self.clock()
        for msg in msgs:
            ch = (msg.topic, msg.partition)
            self.read_pos[ch] = msg.offset + 1
            mark = parse_mark(msg.key) if not msg.value else None
            if not msg.value and mark is None:
                continue  # erased by a purge
            origin = mark[0] if mark else None
            env, error = None, None
            if mark is None:
                try:
                    env = self.envelope(msg)
                except Exception as exc:  # dead-lettered when its release is processed
                    error = exc
                origin = env.get("source_system") if env else None
            if origin not in self.origins:
                if mark is not None:
                    continue  # a mark from a source this node does not wait for
                origin = UNKNOWN
            assert origin is not None
            if msg.offset < self.cursors[ch].get(origin, -1):
                continue  # consumed before a restart
            item = Item(msg, origin, mark, error, seen=now)
            if mark is None:
                item.sort = sort_key(env, origin, msg)
            self._lane(ch, origin).append(item)
            self.changed = True

    # -- releasing --
    def next_release(self) -> Release | None:
        """The release in progress, or a new one if every origin is ready, else None."""
        if self.release is not None:
            if self._restoring:
                if any(self.read_pos.get(ch, 0) < end for ch, _o, _s, end in self.release.ranges):
                    return None  # not yet read back up to where it ends
                self._restore()
            return self.release
        if not self.changed:
            return None
        self.changed = self.strays_waiting = False
        now = self.clock()
        take: list[tuple[Channel, str, int]] = []  # (channel, origin, how many items of its lane)
        marks: dict[str, list[Any]] = {}
        for o in sorted(self.origins):
            chans = self.reach.get(o, [])
            lanes = [(ch, self._lane(ch, o)) for ch in chans]
            if chans and all(lane.first_mark >= 0 for _, lane in lanes):
                first = lanes[0][1]
                mk = first.items[first.first_mark].mark
                assert mk is not None
                marks[o] = [mk[1], mk[2]]
                take.extend((ch, o, lane.first_mark + 1) for ch, lane in lanes)
                continue
            if not self.last.get(o, [0, False])[1]:
                return None  # not idle: its next mark is on the way
            if any(lane.first_mark >= 0 for _, lane in lanes):
                return None  # a mark is on some channels and not yet on others
            waiting = [(ch, lane) for ch, lane in lanes if lane.items]
            if waiting and all(now - lane.items[0].seen >= STRAY_SECONDS for _, lane in waiting):
                take.extend((ch, o, len(lane.items)) for ch, lane in waiting)  # an idle source's unmarked records
                marks[o] = list(self.last[o])
            elif waiting:
                self.changed = self.strays_waiting = True  # look again once they are old enough
                return None
        # Records of sources that never mark go with whatever releases next, up to its marks.
        for ch in self.channels:
            lane = self.lanes[ch].get(UNKNOWN)
            if lane is None or not lane.items:
                continue
            ends = [self.lanes[c][o].items[n - 1].msg.offset for c, o, n in take if c == ch]
            limit = max(ends) if ends else None
            n = len(lane.items) if limit is None else sum(1 for it in lane.items if it.msg.offset < limit)
            if n:
                take.append((ch, UNKNOWN, n))
        if not take:
            return None
        ranges: list[tuple[Channel, str, int, int]] = []
        records: list[Item] = []
        for ch, o, n in take:
            lane = self.lanes[ch][o]
            got = lane.items[:n]
            self.lanes[ch][o] = Lane(lane.items[n:])
            ranges.append((ch, o, got[0].msg.offset, got[-1].msg.offset + 1))
            records.extend(it for it in got if it.mark is None)
        if marks:  # every origin's mark is passed on, so the next node forms this release
            for o in self.origins:
                if o not in marks and o in self.last:
                    marks[o] = list(self.last[o])
        # (A release of unmarked records alone passes no marks on: the next node takes them as
        # unmarked too, and a stream of them would otherwise carry a mark per source per record.)
        for o, m in marks.items():
            self.last[o] = list(m)
        records.sort(key=lambda it: it.sort)
        self.release = Release(ranges, marks, records)
        return self.release

    def _restore(self) -> None:
        """After a restart: rebuild the release in progress from its lanes' ranges."""
        rel = self.release
        assert rel is not None
        records: list[Item] = []
        for ch, o, start, end in rel.ranges:
            lane = self._lane(ch, o)
            records.extend(it for it in lane.items if start <= it.msg.offset < end and it.mark is None)
            self.lanes[ch][o] = Lane([it for it in lane.items if it.msg.offset >= end])
        records.sort(key=lambda it: it.sort)
        rel.records = records
        self._restoring = False

    def finish(self) -> dict[Channel, int]:
        """The release is done: the offsets to commit (the oldest message any lane still holds)."""
        rel = self.release
        assert rel is not None
        for ch, o, _start, end in rel.ranges:
            self.cursors[ch][o] = max(self.cursors[ch].get(o, 0), end)
        self.release = None
        self.changed = True
        out: dict[Channel, int] = {}
        for ch in self.channels:
            heads = [lane.items[0].msg.offset for lane in self.lanes[ch].values() if lane.items]
            off = min(heads, default=self.read_pos[ch])
            # a consumed message past `off` is skipped on a restart by its origin's cursor
            self.cursors[ch] = {o: c for o, c in self.cursors[ch].items() if c > off}
            out[ch] = off
        return out

    def has_unread(self, end_offset: Callable[[Channel], int]) -> bool:
        return any(self.read_pos[ch] < end_offset(ch) for ch in self.channels)

    def buffered(self) -> int:
        return sum(len(lane.items) for lanes in self.lanes.values() for lane in lanes.values())

    def to_state(self) -> dict[str, Any]:
        return {
            "cursors": {f"{t}/{p}": dict(cur) for (t, p), cur in self.cursors.items() if cur},
            "last": self.last,
            "release": self.release.to_state() if self.release is not None else None,
        }
