"""Workbench sessions: a browser logs in once and then sends an HttpOnly cookie, never a key.

Only the SHA-256 of a session token is stored, so whoever reads the store cannot act as anyone.
A session carries its subject and the role they act in (the policy still resolves the subject
through the directory on every request, so a disabled subject or a changed membership applies at
once), a CSRF token that every state-changing request must echo in `X-CSRF-Token`, and two
deadlines: idle (since the last request) and absolute (since login). Logout ends the session in
the store, so the cookie is refused by every API process from then on.

The embedded store is a SQLite file the API processes of one host share (`<data_dir>/sessions.db`);
argus/stores/opensearch_sessions.py keeps them on OpenSearch for several hosts (`ARGUS_SESSIONS`).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import sqlite3
import threading
import time
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass
from typing import Any

from argus.security.identity import AuthError

PREFIX = "ses_"
TOUCH_EVERY = 15.0  # seconds: how stale `seen` may get before a request writes it again


@dataclass(frozen=True)
class Session:
    id: str  # the SHA-256 of the token
    subject: str
    role: str
    method: str  # how the subject proved who they are at login: api_key, oidc
    csrf: str
    created: float
    seen: float
    ended: bool = False


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class SessionStore(ABC):
    """Open, resolve and end sessions; idle and absolute deadlines in seconds."""

    idle: float = 30 * 60.0
    absolute: float = 12 * 3600.0

    def limits(self, idle: float, absolute: float) -> SessionStore:
        self.idle, self.absolute = idle, absolute
        return self

    @abstractmethod
    def _put(self, s: Session) -> None: ...

    @abstractmethod
    def _get(self, sid: str) -> Session | None: ...

    @abstractmethod
    def _seen(self, sid: str, when: float) -> None: ...

    @abstractmethod
    def _end(self, sid: str) -> bool: ...

    @abstractmethod
    def _end_subject(self, subject: str) -> int: ...

    @abstractmethod
    def close(self) -> None: ...

    def open(self, subject: str, role: str, method: str, now: float | None = None) -> tuple[str, Session]:
        """A new session; the token is returned once and only its digest kept."""
        now = time.time() if now is None else now
        token = PREFIX + secrets.token_urlsafe(32)
        s = Session(digest(token), subject, role, method, secrets.token_urlsafe(24), now, now)
        self._put(s)
        return token, s

    def resolve(self, token: str, now: float | None = None) -> Session:
        """The live session the token names, its idle clock restarted; else AuthError."""
        now = time.time() if now is None else now
        if not token.startswith(PREFIX) or len(token) > 128:
            raise AuthError("malformed session token")
        s = self._get(digest(token))
        if s is None:
            raise AuthError("unknown session")
        if s.ended:
            raise AuthError("session ended", s.subject)
        if now - s.seen > self.idle:
            raise AuthError("session idle too long", s.subject)
        if now - s.created > self.absolute:
            raise AuthError("session too old", s.subject)
        if now - s.seen > TOUCH_EVERY:
            self._seen(s.id, now)
        return s

    @staticmethod
    def csrf_ok(s: Session, sent: str | None) -> bool:
        return bool(sent) and hmac.compare_digest(s.csrf.encode(), (sent or "").encode())

    def by_id(self, sid: str) -> Session | None:
        return self._get(sid)

    def end_id(self, sid: str) -> bool:
        return self._end(sid)

    def end(self, token: str) -> bool:
        return token.startswith(PREFIX) and self._end(digest(token))

    def end_subject(self, subject: str) -> int:
        """End every session of a subject (disabled, or their key revoked): the count ended."""
        return self._end_subject(subject)


class Sessions(SessionStore):
    """The embedded session store (SQLite, shared by the API processes of one host)."""

    def __init__(self, path: Any) -> None:
        self._db = sqlite3.connect(path, check_same_thread=False, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS session(id TEXT PRIMARY KEY, subject TEXT, role TEXT, method TEXT,"
            " csrf TEXT, created REAL, seen REAL, ended INTEGER)"
        )
        self._db.execute("CREATE INDEX IF NOT EXISTS session_subject ON session(subject)")
        self._db.commit()
        self._lock = threading.Lock()

    def _write(self, sql: str, args: tuple[Any, ...]) -> int:
        with self._lock:
            n = self._db.execute(sql, args).rowcount
            self._db.commit()
            return n

    def _put(self, s: Session) -> None:
        row = asdict(s)
        self._write("INSERT INTO session VALUES(:id,:subject,:role,:method,:csrf,:created,:seen,:ended)", row)  # type: ignore[arg-type]

    def _get(self, sid: str) -> Session | None:
        with self._lock:
            r = self._db.execute(
                "SELECT id, subject, role, method, csrf, created, seen, ended FROM session WHERE id=?", (sid,)
            ).fetchone()
        return None if r is None else Session(*r[:7], ended=bool(r[7]))

    def _seen(self, sid: str, when: float) -> None:
        self._write("UPDATE session SET seen=? WHERE id=? AND seen<?", (when, sid, when))

    def _end(self, sid: str) -> bool:
        return self._write("UPDATE session SET ended=1 WHERE id=? AND ended=0", (sid,)) > 0

    def _end_subject(self, subject: str) -> int:
        return self._write("UPDATE session SET ended=1 WHERE subject=? AND ended=0", (subject,))

    def close(self) -> None:
        self._db.close()
