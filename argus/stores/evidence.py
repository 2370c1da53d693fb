"""Evidence storage: a case's files, content-addressed by SHA-256 (the same bytes are kept once,
and a read can always be checked against the name it was asked by). A directory on the embedded
default (`embedded://` or `file:///path`); S3-compatible object storage as the server backend
(argus/stores/s3_evidence.py). Both answer one contract (tests/contract/test_evidence_store.py)."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from abc import ABC, abstractmethod
from pathlib import Path
from urllib.parse import urlparse

SHA256 = re.compile(r"^[0-9a-f]{64}$")


class MissingObject(KeyError):
    """No object under that digest."""


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class EvidenceStore(ABC):
    @abstractmethod
    def put(self, data: bytes) -> str:
        """Keep the bytes; their SHA-256 (writing what is already kept changes nothing)."""

    @abstractmethod
    def get(self, sha256: str) -> bytes:
        """The bytes kept under `sha256`, as stored (the caller verifies them), or MissingObject."""

    @abstractmethod
    def exists(self, sha256: str) -> bool: ...

    @abstractmethod
    def delete(self, sha256: str) -> None: ...

    @abstractmethod
    def close(self) -> None: ...

    @staticmethod
    def _check(sha256: str) -> str:
        if not SHA256.match(sha256):
            raise MissingObject(sha256)
        return sha256


class FileEvidence(EvidenceStore):
    """Files under `<dir>/<aa>/<sha256>`, written to a temporary name and renamed into place, so
    a crash never leaves a partial object under a digest."""

    def __init__(self, where: str | Path) -> None:
        path = Path(urlparse(where).path) if str(where).startswith("file:") else Path(where)
        self.root = path.with_suffix("") if path.suffix == ".db" else path  # the default store URL names a .db
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / self._check(sha256)

    def put(self, data: bytes) -> str:
        d = digest(data)
        p = self._path(d)
        if p.exists():
            return d
        p.parent.mkdir(exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=p.parent)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, p)
        return d

    def get(self, sha256: str) -> bytes:
        try:
            return self._path(sha256).read_bytes()
        except FileNotFoundError:
            raise MissingObject(sha256) from None

    def exists(self, sha256: str) -> bool:
        return SHA256.match(sha256) is not None and self._path(sha256).exists()

    def delete(self, sha256: str) -> None:
        self._path(sha256).unlink(missing_ok=True)

    def close(self) -> None:
        pass
