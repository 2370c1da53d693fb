"""TAXII 2.1 status resources: what became of each POSTed envelope, for the agency that POSTed.

Whichever API process took the POST, any answers the GET: the embedded store is a SQLite file the
API processes of one host share (`<data_dir>/taxii.db`); argus/stores/opensearch_taxii.py keeps
them on OpenSearch for several hosts (`ARGUS_TAXII`). A status is written when the POST is
answered and updated as the pipeline stores the objects it lists as pending.
"""

from __future__ import annotations

import sqlite3
import threading
from abc import ABC, abstractmethod
from typing import Any

import orjson


class StatusStore(ABC):
    """Status resources of POSTed envelopes: whichever API process took the POST, any answers the
    GET (`<data_dir>/taxii.db` by default; OpenSearch with `ARGUS_TAXII`, for several hosts)."""

    @abstractmethod
    def put(self, agency: str, body: dict[str, Any]) -> None: ...

    @abstractmethod
    def update(self, agency: str, body: dict[str, Any]) -> None:
        """Replace a status of `agency`'s (pending objects found stored since)."""

    @abstractmethod
    def get(self, sid: str, agency: str) -> dict[str, Any] | None:
        """The status, if it is there and the asking agency's."""

    @abstractmethod
    def close(self) -> None: ...


class Statuses(StatusStore):
    """The embedded status store (SQLite, shared by the API processes of one host)."""

    def __init__(self, path: Any) -> None:
        self._db = sqlite3.connect(path, check_same_thread=False)
        self._db.execute("CREATE TABLE IF NOT EXISTS status(id TEXT PRIMARY KEY, agency TEXT, body BLOB)")
        self._db.commit()
        self._lock = threading.Lock()

    def put(self, agency: str, body: dict[str, Any]) -> None:
        with self._lock:
            self._db.execute("INSERT INTO status VALUES(?,?,?)", (body["id"], agency, orjson.dumps(body)))
            self._db.commit()

    def update(self, agency: str, body: dict[str, Any]) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE status SET body=? WHERE id=? AND agency=?", (orjson.dumps(body), body["id"], agency)
            )
            self._db.commit()

    def get(self, sid: str, agency: str) -> dict[str, Any] | None:
        with self._lock:
            r = self._db.execute("SELECT body FROM status WHERE id=? AND agency=?", (sid, agency)).fetchone()
        return orjson.loads(r[0]) if r else None

    def close(self) -> None:
        self._db.close()
