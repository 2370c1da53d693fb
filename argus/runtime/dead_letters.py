"""Dead letters: the record a node could not take, why, and where it came from. The value is the
dead_letter.v1 contract; the headers let an operator's tools read why without an Avro decoder."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from argus.records import deterministic_id


def dead_letter_value(
    node: str,
    *,
    reason: str,
    error_type: str,
    original: bytes,
    failed_at: datetime,
    topic: str | None = None,
    partition: int = -1,
    offset: int = -1,
    source: str | None = None,
    attempts: int = 1,
) -> dict[str, Any]:
    """A dead_letter.v1 value; its id is deterministic in (node, where), so a replayed failure
    is one dead letter, not two."""
    where = source if source is not None else f"{topic}/{partition}/{offset}"
    return {
        "id": deterministic_id("deadletter", node, where),
        "node": node,
        "topic": topic,
        "partition": partition,
        "offset": offset,
        "source": source,
        "reason": reason[:4000],
        "error_type": error_type,
        "attempts": attempts,
        "original": original,
        "failed_at": failed_at,
    }


def dead_letter_headers(value: dict[str, Any]) -> list[tuple[str, bytes]]:
    """The Kafka headers of a dead letter: an operator's tool (kcat, a console consumer) shows why
    and where without an Avro decoder, and the original bytes ride along untouched."""
    where = (
        value["source"] if value["source"] is not None else f"{value['topic']}/{value['partition']}/{value['offset']}"
    )
    return [
        ("argus.dlq.node", value["node"].encode()),
        ("argus.dlq.reason", value["reason"].encode()),
        ("argus.dlq.error_type", value["error_type"].encode()),
        ("argus.dlq.source", where.encode()),
        ("argus.dlq.attempts", str(value["attempts"]).encode()),
        ("argus.dlq.original", value["original"]),
    ]
