"""How every embedded store opens SQLite: one place for the settings that matter at scale."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from argus.env import whole_number


# Each connection's page cache (ARGUS_SQLITE_CACHE_MB, an upper bound grown on demand). SQLite's
# default, 2 MB, made a graph of a few hundred thousand random UUID keys read most B-tree pages
# from disk on every upsert; memory-mapped reads (the first GB of a file) serve pages already
# written without the cache holding them, so the cache is what a process keeps of its own.
def _cache_kib() -> int:
    return whole_number("ARGUS_SQLITE_CACHE_MB", 32, "MB") * 1024


CACHE_KIB = _cache_kib()
MMAP_BYTES = 1 << 30


def connect(
    path: Path,
    *,
    read_only: bool = False,
    synchronous: str = "NORMAL",
    autocommit: bool = True,
    checkpoint_pages: int = 1000,
    cache_kib: int = CACHE_KIB,
) -> sqlite3.Connection:
    """autocommit=False: writes open a transaction that lasts until commit() (the stores' flush);
    autocommit=True: the caller issues BEGIN/COMMIT itself (the bus)."""
    if read_only:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(path, isolation_level=None if autocommit else "", check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode survives a killed process (the failure Argus promises to survive);
        # FULL also survives power loss, at a cost per commit.
        db.execute(f"PRAGMA synchronous={synchronous}")
    db.execute("PRAGMA busy_timeout=5000")
    db.execute(f"PRAGMA cache_size=-{cache_kib}")
    db.execute(f"PRAGMA mmap_size={MMAP_BYTES}")
    db.execute("PRAGMA temp_store=MEMORY")
    # A purged record's bytes are zeroed in the page it leaves, not just unlinked (28 CFR 23:
    # purged means gone). FAST: only where that costs no extra I/O.
    db.execute("PRAGMA secure_delete=FAST")
    # A checkpoint (the only fsync in WAL mode with synchronous=NORMAL) runs inside the commit
    # that crosses the threshold: stores, written by the sink thread, take fewer and longer
    # ones; the bus keeps SQLite's default so no field query's commit waits on a long one.
    db.execute(f"PRAGMA wal_autocheckpoint={checkpoint_pages}")
    return db
