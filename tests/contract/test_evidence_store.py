"""The evidence store's contract, on a directory and on a real S3-compatible server (S3Proxy):
content-addressed, idempotent, exact bytes back, a missing or malformed digest is MissingObject."""

from __future__ import annotations

import hashlib
import os

import pytest

from argus.stores.evidence import MissingObject


def test_bytes_are_kept_under_their_sha256(evidence_store) -> None:  # type: ignore[no-untyped-def]
    s = evidence_store
    data = os.urandom(300_000) + b"\x00end"
    d = s.put(data)
    assert d == hashlib.sha256(data).hexdigest()
    assert s.put(data) == d and s.exists(d)
    assert s.get(d) == data
    assert s.put(b"") == hashlib.sha256(b"").hexdigest() and s.get(hashlib.sha256(b"").hexdigest()) == b""
    s.delete(d)
    assert not s.exists(d)
    with pytest.raises(MissingObject):
        s.get(d)
    for bad in ("../../etc/passwd", "A" * 64, ""):
        assert not s.exists(bad)
        with pytest.raises(MissingObject):
            s.get(bad)
