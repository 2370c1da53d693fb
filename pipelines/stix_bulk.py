"""Bulk STIX import: a big bundle (an ATT&CK release, a partner's backfill) into the STIX, graph
and search stores in chunks, by the same functions the streaming pipeline runs.

The stream takes one object at a time through the bus (Avro, a commit per batch, dedup state,
entity resolution, the sinks), about 500 objects/s on the embedded default. Reference data does
not need the log's replay: here each chunk is converted and checked like a connector does
(`stix_record`: identifier, deterministic SCO id, required properties, TLP), versioned by the
STIX store's put (newer current, equal duplicate, older history), and only new current
versions are resolved (`stix_resolved`) and written by the graph and search sinks. Objects that
fail are returned with their reason for the caller's dead-letter topic. No `stix2` objects are
built: bench/stix_import.py measures this path against `stix2.parse` alone.

With `processes` > 1 (the CLI uses every core, up to 4) the objects are shared out by a hash of
their id among forked processes, each running this same path into the same stores: every
version of one object stays in one process, in bundle order, so what is current, history or a
duplicate is decided exactly as in one process. The stores serialise their writers (a write
transaction per chunk), and a STIX store's `date_added` keeps rising with its sequence whoever
writes, so TAXII paging by `added_after` still sees every object.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing as mp
import os
import threading
import time
import uuid
import zlib
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from multiprocessing.connection import Connection
from typing import Any

import orjson

from argus.contracts import Context
from argus.linkage.records import stix_resolved
from argus.records import InvalidRecord, Record, utcnow
from argus.security.policy import Marking
from argus.state import NodeState
from argus.stix.markings import to_tlp2
from argus.stores.stix import StixItem
from connectors.stix_file import stix_record
from sinks.graph import GraphSink
from sinks.search import SearchSink


def foreign(stix_id: str, rec: Record) -> str:
    return (
        f"{stix_id} belongs to another agency: a version from {rec.envelope['source_agency']} is refused "
        "(an object is its producer's; share a new object that refers to it instead)"
    )


@dataclass
class BulkResult:
    added: int = 0
    duplicates: int = 0
    history: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    processes: int = 1  # how many processes shared the work

    @property
    def total(self) -> int:
        return self.added + self.duplicates + self.history + len(self.rejected)

    def add(self, other: BulkResult) -> None:
        self.added += other.added
        self.duplicates += other.duplicates
        self.history += other.history
        self.rejected.extend(other.rejected)


def objects_of(data: bytes) -> list[Any]:
    """The objects of a bundle (or a bare list of objects), parsed once with orjson."""
    doc = orjson.loads(data)
    if isinstance(doc, dict) and doc.get("type") == "bundle":
        objs = doc.get("objects", [])
    elif isinstance(doc, list):
        objs = doc
    else:
        raise InvalidRecord("expected a STIX bundle or a list of STIX objects")
    if not isinstance(objs, list):
        raise InvalidRecord("bundle.objects: expected a list")
    return objs


class StoreOpener:
    """Opens a topology's stores (in a forked process: connections are never shared across fork)."""

    def __init__(self, topo: Any, kinds: tuple[str, ...] = ("stix", "graph", "search")) -> None:
        self.topo, self.kinds = topo, kinds

    def __call__(self) -> dict[str, Any]:
        from argus.backends import open_store

        return {k: open_store(self.topo, k) for k in self.kinds}


@dataclass(frozen=True)
class _Settings:
    agency: str
    source: str
    default_tlp: str
    default_reliability: str
    default_validity: int
    chunk: int
    clock: Callable[[], datetime]
    trace: str
    tally: Callable[[int], None] = lambda n: None  # objects done, reported per chunk


class _Tally:
    """Objects done across every process of one import: a counter in shared memory, made before
    the fork. Only the process that made it reports: a child drawing on the terminal would
    scribble over the parent's display."""

    def __init__(self, report: Callable[[int], None] | None, shared: bool) -> None:
        self.report, self.owner, self.local = report, os.getpid(), 0
        self.count = mp.get_context("fork").Value("q", 0) if shared else None

    def __call__(self, k: int) -> None:
        if self.count is None:
            self.local += k
        else:
            with self.count.get_lock():
                self.count.value += k
        self.poll()

    def poll(self) -> None:
        if self.report is not None and os.getpid() == self.owner:
            self.report(self.local if self.count is None else self.count.value)


def _share(raw: Any, n: int) -> int:
    sid = raw.get("id") if isinstance(raw, dict) else None
    return zlib.crc32(sid.encode()) % n if isinstance(sid, str) else 0


def _import(objects: Iterable[tuple[int, Any]], stores: dict[str, Any], cfg: _Settings) -> BulkResult:
    """One process's share: convert, version in the STIX store, resolve what is new and current,
    write graph and search. Each store commits in its own thread (SQLite and the servers' clients
    release the GIL) while the next chunk is converted."""
    ctx = Context(cfg.source, NodeState(), clock=cfg.clock, ids=lambda: cfg.trace, stores=stores)
    sinks: list[GraphSink | SearchSink] = []
    if "graph" in stores:
        sinks.append(GraphSink(name=f"{cfg.source}_graph"))
    if "search" in stores:
        sinks.append(SearchSink(name=f"{cfg.source}_search"))
    for s in sinks:
        s.setup(ctx)
    stix = stores["stix"]
    res = BulkResult()
    batch: list[tuple[Record, dict[str, Any], bool, int]] = []  # (record, object, as sent, index)
    pool = ThreadPoolExecutor(max_workers=1 + len(sinks), thread_name_prefix="stix-bulk")
    writing: list[Future[None]] = []

    def wait() -> None:
        for f in writing:
            f.result()
        writing.clear()

    def drain() -> None:
        items = []
        props: dict[Marking, dict[str, Any]] = {}  # one dict per distinct marking: the store encodes each once
        for rec, obj, as_sent, _ in batch:
            m = Marking.from_envelope(rec.envelope)
            items.append(
                StixItem(
                    obj,
                    rec.envelope["id"],
                    m.agency,
                    m.tlp,
                    props.get(m) or props.setdefault(m, m.props()),
                    rec.body["object_json"].encode() if as_sent else None,  # the record's JSON is the object's
                )
            )
        wait()  # the previous chunk is durable and the sinks are free
        outcomes = stix.put(items)
        writing.append(pool.submit(stix.commit))
        for (rec, obj, _, i), outcome in zip(batch, outcomes, strict=True):
            if outcome == "added":
                res.added += 1
                resolved = stix_resolved(rec, obj)
                resolved.value["body"]["report"] = rec.body  # as the Avro union decodes it
                for s in sinks:
                    s.add(resolved, obj) if isinstance(s, SearchSink) else s.add(resolved)
            elif outcome == "duplicate":
                res.duplicates += 1
            elif outcome == "foreign":
                res.rejected.append({"index": i, "id": obj["id"], "problem": foreign(obj["id"], rec)})
            else:
                res.history += 1
        writing.extend(pool.submit(s.flush) for s in sinks)
        batch.clear()

    seen = 0
    try:
        for i, raw in objects:
            seen += 1
            if seen % cfg.chunk == 0:
                cfg.tally(cfg.chunk)
            try:
                rec = stix_record(
                    raw,
                    ctx,
                    cfg.source,
                    agency=cfg.agency,
                    default_tlp=cfg.default_tlp,
                    default_reliability=cfg.default_reliability,
                    default_validity=cfg.default_validity,
                )
            except Exception as exc:  # one object's failure, whatever it is, is that object's alone
                sid = raw.get("id") if isinstance(raw, dict) else None
                why = str(exc) if isinstance(exc, InvalidRecord) else f"{type(exc).__name__}: {str(exc)[:300]}"
                res.rejected.append({"index": i, "id": str(sid)[:120] if sid else None, "problem": why})
                continue
            obj = to_tlp2(raw)
            batch.append((rec, obj, obj is raw, i))
            if len(batch) >= cfg.chunk:
                drain()
        if batch:
            drain()
        wait()
        cfg.tally(seen % cfg.chunk)
    finally:
        pool.shutdown(wait=True)
    return res


def _child(
    conn: Connection, objs: list[Any], share: int, n: int, opener: Callable[[], dict[str, Any]], cfg: _Settings
) -> None:
    """A forked process's share, into stores it opens itself; its result (or its error) goes back
    through the pipe. It never touches the connections it inherited from the parent."""
    try:
        stores = opener()
        try:
            res = _import(((i, o) for i, o in enumerate(objs) if _share(o, n) == share), stores, cfg)
        finally:
            for st in stores.values():
                st.close()
        conn.send_bytes(orjson.dumps({"ok": asdict(res)}))
    except BaseException as exc:
        conn.send_bytes(orjson.dumps({"error": f"{type(exc).__name__}: {exc}"}))
    finally:
        conn.close()


def bulk_import(
    objects: Iterable[Any],
    stores: dict[str, Any],
    *,
    agency: str,
    source: str = "stix_bulk",
    default_tlp: str = "TLP:GREEN",
    default_reliability: str = "C",
    default_validity: int = 3,
    chunk: int = 4000,
    clock: Callable[[], datetime] = utcnow,
    processes: int = 1,
    opener: Callable[[], dict[str, Any]] | None = None,
    progress: Callable[[int], None] | None = None,
) -> BulkResult:
    """`stores` holds "stix" and, optionally, "graph" and "search" (left out: STIX store only).
    With `processes` > 1 and an `opener` for the same stores, the work is shared with forked
    processes (only where fork is safe: nothing else runs threads in this process; otherwise it
    all runs here). `progress` hears how many objects every process has done, chunk by chunk."""
    cfg = _Settings(
        agency, source, default_tlp, default_reliability, default_validity, chunk, clock, str(uuid.uuid4())
    )  # one import, one trace
    with _no_cycle_collection():
        return _bulk(objects, stores, cfg, processes, opener, progress)


@contextlib.contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """The import allocates millions of small acyclic containers (records, rows, documents); the
    cyclic collector would re-scan every live one again and again for cycles there are none of
    (a fifth of the import's time with a large bundle in memory). Reference counting still frees
    everything; the collector is back as it was when the import ends."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _bulk(
    objects: Iterable[Any],
    stores: dict[str, Any],
    cfg: _Settings,
    processes: int,
    opener: Callable[[], dict[str, Any]] | None,
    progress: Callable[[int], None] | None = None,
) -> BulkResult:
    started = time.perf_counter()
    n = processes if opener is not None and _fork_is_safe() else 1
    tally = _Tally(progress, shared=n > 1)
    cfg = replace(cfg, tally=tally)
    if n <= 1:
        res = _import(enumerate(objects), stores, cfg)
        res.seconds = time.perf_counter() - started
        return res
    objs = objects if isinstance(objects, list) else list(objects)
    fork = mp.get_context("fork")
    children: list[tuple[Connection, Any]] = []
    try:
        for share in range(1, n):
            mine, theirs = fork.Pipe(duplex=False)
            proc = fork.Process(target=_child, args=(theirs, objs, share, n, opener, cfg), daemon=True)
            proc.start()
            theirs.close()
            children.append((mine, proc))
        res = _import(((i, o) for i, o in enumerate(objs) if _share(o, n) == 0), stores, cfg)
    finally:
        answers = []
        for conn, proc in children:  # even when this process failed: no child is left behind
            try:
                while not conn.poll(0.2):  # the others' progress, while they finish
                    tally.poll()
                answers.append(orjson.loads(conn.recv_bytes()))
            except (EOFError, OSError):
                answers.append({"error": f"a bulk import process died (exit code {proc.exitcode})"})
            proc.join(timeout=60)
            conn.close()
        tally.poll()
    errors = [a["error"] for a in answers if "error" in a]
    if errors:
        raise RuntimeError(f"STIX bulk import: {'; '.join(errors)}")
    for a in answers:
        res.add(BulkResult(**{k: v for k, v in a["ok"].items() if k not in ("seconds", "processes")}))
    res.rejected.sort(key=lambda r: r["index"])
    res.processes = n
    res.seconds = time.perf_counter() - started
    return res


def _fork_is_safe() -> bool:
    """A child forked while another thread holds a lock (logging, a client's pool) can hang on
    it: fork only from a single-threaded process, which is what the CLI is."""
    return "fork" in mp.get_all_start_methods() and threading.active_count() == 1 and os.name == "posix"
