"""Workbench sessions on OpenSearch, for API processes on several hosts (the embedded store,
argus/security/sessions.py, is a SQLite file one host's processes share).

One document per session, its id the token's SHA-256; looked up with a real-time GET, so a
logout on one host is refused by every host's next request.

URL: `http(s)://host:port?sessions_index=NAME` (default `argus-sessions`); as a store URL:
`ARGUS_SESSIONS=http://host:9200?sessions_index=argus-sessions`.
"""

from __future__ import annotations

from dataclasses import asdict

from argus.security.sessions import Session, SessionStore
from argus.stores.opensearch_search import SMALL_INDEX, connect, create_index

try:
    from opensearchpy import NotFoundError
except ImportError as exc:  # pragma: no cover - the registry reports the pip extra
    raise ImportError("sessions on OpenSearch need opensearch-py: pip install 'argus-fusion[opensearch]'") from exc

_KW = {"type": "keyword"}
MAPPINGS = {
    "dynamic": "strict",
    "properties": {
        **{k: _KW for k in ("id", "subject", "role", "method", "csrf")},
        "created": {"type": "double"},
        "seen": {"type": "double"},
        "ended": {"type": "boolean"},
    },
}


class OpenSearchSessions(SessionStore):
    def __init__(self, url: str) -> None:
        self.client, q = connect(url)
        self.index = q.get("sessions_index", "argus-sessions")
        create_index(self.client, self.index, {"settings": SMALL_INDEX, "mappings": MAPPINGS})

    def _put(self, s: Session) -> None:
        self.client.index(index=self.index, id=s.id, body=asdict(s), op_type="create", refresh="wait_for")

    def _get(self, sid: str) -> Session | None:
        try:
            src = self.client.get(index=self.index, id=sid)["_source"]
        except NotFoundError:
            return None
        return Session(**src)

    def _update(self, sid: str, doc: dict[str, object]) -> bool:
        try:
            self.client.update(index=self.index, id=sid, body={"doc": doc}, retry_on_conflict=5)
        except NotFoundError:
            return False
        return True

    def _seen(self, sid: str, when: float) -> None:
        self._update(sid, {"seen": when})

    def _end(self, sid: str) -> bool:
        s = self._get(sid)
        return s is not None and not s.ended and self._update(sid, {"ended": True})

    def _end_subject(self, subject: str) -> int:
        # a search then updates by id: the servers Argus is tested on ship without the reindex
        # module that _update_by_query needs; a subject has a handful of live sessions at most
        self.client.indices.refresh(index=self.index)
        q = {"bool": {"filter": [{"term": {"subject": subject}}, {"term": {"ended": False}}]}}
        hits = self.client.search(index=self.index, body={"query": q, "size": 1000, "_source": False})["hits"]["hits"]
        return sum(self._update(h["_id"], {"ended": True}) for h in hits)

    def close(self) -> None:
        self.client.close()
