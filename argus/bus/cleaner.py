"""The embedded bus's log cleaner: topics' retention and compaction, applied by the bus's
checkpoint thread every `MAINTAIN_EVERY` seconds (argus/bus/embedded.py), as a Kafka broker's
cleaner applies `retention.ms` and `cleanup.policy=compact`."""

from __future__ import annotations

import sqlite3

from argus.metrics import BUS_CLEANED

TOMBSTONE_KEEP_S = 24 * 3600  # Kafka's delete.retention.ms: readers get a day to see a delete


def clean(db: sqlite3.Connection, now: float) -> int:
    """Retention and compaction, as a broker's log cleaner does them. A partition's last row is
    never deleted: the next offset is one past it, and offsets are never reused (a reader's
    position stays valid, as on Kafka, where the active segment stays). Compaction keeps each
    key's latest row; tombstones (no value: a delete, a source-order mark, a purged record) go
    once TOMBSTONE_KEEP_S old, and rows without a key (purged) at once. What goes is found by
    reading, then deleted in small transactions: a commit (a field query's answer) never waits
    behind a scan of the log."""
    deleted = 0
    topics = db.execute(
        "SELECT name, partitions, compacted, retention_hours FROM topics WHERE compacted OR retention_hours IS NOT NULL"
    ).fetchall()
    for name, partitions, compacted, hours in topics:
        for part in range(partitions):
            # One partition at a time: MAX(off) of one partition is a seek; grouped by partition
            # it would walk every row of the topic, the whole log every time.
            (last,) = db.execute("SELECT MAX(off) FROM log WHERE topic=? AND part=?", (name, part)).fetchone()
            if last is None:
                continue
            victims: list[int] = []
            if hours is not None:
                # Rows are appended in commit-time order, so those past the retention are a prefix.
                cutoff = int((now - hours * 3600) * 1_000_000)  # ts is in microseconds
                (kept,) = db.execute(
                    "SELECT MIN(off) FROM log WHERE topic=? AND part=? AND ts>=?", (name, part, cutoff)
                ).fetchone()
                bound = last if kept is None else min(kept, last)
                rows = db.execute("SELECT off FROM log WHERE topic=? AND part=? AND off<?", (name, part, bound))
                victims += [o for (o,) in rows]
            if compacted:
                stale = int((now - TOMBSTONE_KEEP_S) * 1_000_000)
                latest: dict[str, int] = {}
                rows = db.execute(
                    "SELECT off, key, length(value), ts FROM log WHERE topic=? AND part=? ORDER BY off", (name, part)
                )
                for off, key, size, ts in rows.fetchall():
                    if key is None or (size == 0 and ts < stale):
                        if off != last:
                            victims.append(off)
                        continue
                    before = latest.get(key)
                    if before is not None:
                        victims.append(before)  # superseded by this row
                    latest[key] = off
            gone = sorted(set(victims))
            for i in range(0, len(gone), 2000):
                chunk = gone[i : i + 2000]
                db.execute("BEGIN IMMEDIATE")
                try:
                    n = db.executemany(
                        "DELETE FROM log WHERE topic=? AND part=? AND off=?", [(name, part, o) for o in chunk]
                    ).rowcount
                    db.execute("COMMIT")
                except BaseException:
                    db.execute("ROLLBACK")
                    raise
                deleted += n
                BUS_CLEANED.labels(name).inc(n)
    return deleted
