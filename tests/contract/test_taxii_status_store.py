"""The TAXII status store contract, on every backend (embedded SQLite, OpenSearch): a status
written by the API process that took a POST is read by any other at once, and only by the agency
that POSTed."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from argus.stores.taxii_status import StatusStore

Opener = Callable[[], StatusStore]


def test_a_status_is_read_by_another_handle_and_only_by_its_agency(status_stores: Opener) -> None:
    took_post, polled = status_stores(), status_stores()
    sid = str(uuid.uuid4())
    body = {"id": sid, "status": "complete", "total_count": 2, "success_count": 1, "failure_count": 1,
            "failures": [{"id": "indicator--x", "message": "no TLP marking"}], "pending_count": 0}  # fmt: skip
    took_post.put("CA0190000", body)
    assert polled.get(sid, "CA0190000") == body
    assert polled.get(sid, "CA0430000") is None  # another agency's status: as if it did not exist
    assert polled.get(str(uuid.uuid4()), "CA0190000") is None
    assert polled.get("x" * 600, "CA0190000") is None
