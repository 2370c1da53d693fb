"""`python -m bench audit`: what recording an audit entry costs the API, on the embedded trail
(SQLite, fsync per entry) and on the shared OpenSearch trail (started from the test fixtures), one
writer and four at once (four API processes, possibly on different hosts), with dedup keys (an
alert's dissemination) and without. The embedded trail in the same run is the baseline.

Every API request appends at least one entry, so its p50/p99 is added to each request's latency.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from argus.backends import open_url
from argus.security.audit import AuditTrail


def _run(open_trail: Callable[[], AuditTrail], writers: int, n: int, dedup: bool) -> dict[str, Any]:
    """`writers` handles appending `n` entries each at once: entries/s and per-append latency."""
    handles = [open_trail() for _ in range(writers)]
    lat: list[float] = []
    lock = threading.Lock()

    def work(i: int) -> None:
        mine = []
        for j in range(n):
            t = time.perf_counter()
            handles[i].record(
                "disseminate" if dedup else "read",
                actor=f"bench-{i}",
                agency="CA0190000",
                object=f"r{j}",
                recipient="CA0430000" if dedup else None,
                detail={"returned": j},
                dedup=f"alert{j}|r{j}|bench-{i}" if dedup else None,
            )
            mine.append(time.perf_counter() - t)
        with lock:
            lat.extend(mine)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(writers)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    took = time.perf_counter() - start
    v = handles[0].verify()
    assert v.ok, v
    for h in handles:
        h.close()
    lat.sort()
    return {
        "entries_per_s": round(writers * n / took, 1),
        "p50_ms": round(statistics.median(lat) * 1000, 2),
        "p99_ms": round(lat[int(len(lat) * 0.99) - 1] * 1000, 2),
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--entries", type=int, default=500, help="per writer")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    from tests.servers import opensearch_server

    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp, opensearch_server() as url:
        for writers in (1, 4):
            for dedup in (False, True):
                case = f"{writers} writer(s){', dedup' if dedup else ''}"
                for backend, at in (
                    ("embedded", f"embedded://{Path(tmp) / uuid.uuid4().hex}.db"),
                    ("opensearch", f"{url}?audit_index=bench{uuid.uuid4().hex[:8]}"),
                ):
                    out[f"{backend}, {case}"] = _run(lambda at=at: open_url("audit", at), writers, args.entries, dedup)
                e, o = out[f"embedded, {case}"], out[f"opensearch, {case}"]
                o["vs_embedded"] = round(o["entries_per_s"] / e["entries_per_s"], 2)
    for k, v in out.items():
        print(f"{k:40s} {v}")
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
