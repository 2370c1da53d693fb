"""The audit trail on OpenSearch, for API processes and CLIs on several hosts appending to one chain.

The embedded trail (argus/security/audit.py) is one SQLite file, so every process writing it must
share a disk. Here each entry is a document whose id is its sequence number, written with
`op_type=create`: OpenSearch refuses a second document under an id, atomically and in real time,
so two hosts cannot both append entry n. A writer that loses that race reads the winner's entry
(a real-time GET), links to its hash and tries n+1: the chain stays linear with no lock server.
A write that timed out but landed is recognised by its own hash, not appended twice.

Writes do not wait for a refresh (the field API appends on every request); readers (auditors'
queries, `argus audit verify`) refresh first, so they see every entry recorded before they ask.

Deduplicated entries (an alert's dissemination, recorded again when a stream reconnects) claim
their key first: a marker document in `<index>-dedup` created with `op_type=create`, then the
entry. A repeat within `claim_s` seconds of the claim is dropped at once; a later one looks for
the entry (a refresh and a search, then notes its sequence number in the marker, so once per key)
and records it only if it is not there: its writer died between the claim and the entry. The
marker is not completed on the way (one request fewer per dissemination; `python -m bench audit`).

Anyone with write access to the cluster can change a document; as with someone editing the SQLite
file by hand, `verify` then names the first entry whose hash does not match.

URL: `http(s)://host:port?audit_index=NAME&claim_s=60` (default index `argus-audit`); as a store
URL: `ARGUS_AUDIT=http://host:9200?audit_index=argus-audit`.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator
from typing import Any

from argus.security.audit import (
    FIELDS,
    GENESIS,
    AuditQuery,
    AuditTrail,
    MakeEntry,
    Verdict,
    audit_key,
    entry_hash,
    verify_chain,
)
from argus.stores.opensearch_search import SMALL_INDEX, connect, create_index

try:
    from opensearchpy import ConflictError
except ImportError as exc:  # pragma: no cover - the registry reports the pip extra
    raise ImportError("the OpenSearch audit trail needs opensearch-py: pip install 'argus-fusion[opensearch]'") from exc

_KW = {"type": "keyword"}
MAPPINGS = {
    "dynamic": "strict",
    "properties": {
        "seq": {"type": "long"},
        # ISO 8601 strings compared as text, as the embedded trail compares them (`since`, `until`)
        **{k: _KW for k in ("at", "actor", "agency", "action", "object", "outcome", "source", "recipient", "reason")},
        "detail": {"type": "object", "enabled": False},
        "dedup": _KW,
        "prev": _KW,
        "hash": _KW,
    },
}
CLAIMS = {
    "dynamic": "strict",
    "properties": {"dedup": _KW, "seq": {"type": "long"}, "claimed_at": {"type": "double"}},
}
_PAGE = 1000


class OpenSearchAuditLog(AuditTrail):
    def __init__(self, url: str) -> None:
        self.client, q = connect(url)
        self.index = q.get("audit_index", "argus-audit")
        self.claims = f"{self.index}-dedup"
        self.claim_s = float(q.get("claim_s", 60))
        self.key = audit_key(None)
        if self.key is None:
            raise ValueError(
                "the audit trail on OpenSearch is keyed: set ARGUS_AUDIT_KEY (hex) or ARGUS_AUDIT_KEY_FILE, "
                "the same on every host, kept apart from the cluster"
            )
        create_index(self.client, self.index, {"settings": SMALL_INDEX, "mappings": MAPPINGS})
        create_index(self.client, self.claims, {"settings": SMALL_INDEX, "mappings": CLAIMS})
        self._lock = threading.Lock()  # one append at a time from this handle; other hosts race by id
        self._last: tuple[int, str] | None = None  # (seq, hash) of the last entry this handle knows of

    # --- appending ---------------------------------------------------------------------------------
    def _append(self, make: MakeEntry, dedup: str | None) -> int | None:
        with self._lock:
            if dedup is not None and not self._claim(dedup):
                return None
            return self._create(make, dedup)

    def _claim(self, dedup: str) -> bool:
        """True: this handle records the entry. False: it is recorded, or being recorded now."""
        claim = hashlib.sha256(dedup.encode()).hexdigest()  # a document id of bounded length
        try:
            body = {"dedup": dedup, "seq": None, "claimed_at": time.time()}
            self.client.index(index=self.claims, id=claim, body=body, op_type="create")
            return True
        except ConflictError:
            pass
        got = self.client.get(index=self.claims, id=claim)
        mark = got["_source"]
        if mark["seq"] is not None or time.time() - mark["claimed_at"] < self.claim_s:
            return False
        # A claim older than claim_s: its entry is there, unless its writer died after claiming.
        self.client.indices.refresh(index=self.index)
        found = self.client.search(
            index=self.index, body={"query": {"term": {"dedup": dedup}}, "size": 1, "_source": ["seq"]}
        )["hits"]["hits"]
        if found:
            body = {"dedup": dedup, "seq": found[0]["_source"]["seq"], "claimed_at": mark["claimed_at"]}
            self.client.index(index=self.claims, id=claim, body=body)
            return False
        try:  # take it over, unless another handle just did
            self.client.index(
                index=self.claims,
                id=claim,
                body={"dedup": dedup, "seq": None, "claimed_at": time.time()},
                if_seq_no=got["_seq_no"],
                if_primary_term=got["_primary_term"],
            )
        except ConflictError:
            return False
        return True

    def _create(self, make: MakeEntry, dedup: str | None) -> int:
        last = self._last or self._head()
        while True:
            seq, prev = last[0] + 1, last[1]
            entry = make(seq)
            h = entry_hash(prev, entry, self.key, dedup)
            doc = {**entry, "dedup": dedup, "prev": prev, "hash": h}
            try:
                self.client.index(index=self.index, id=str(seq), body=doc, op_type="create")
            except ConflictError:
                theirs = self.client.get(index=self.index, id=str(seq))["_source"]
                if theirs["hash"] != h:  # another writer's entry n: link to it and try n+1
                    last = (seq, theirs["hash"])
                    continue
                # ours: a create that timed out after it landed, retried by the client
            self._last = (seq, h)
            self.checkpoint(seq, h)
            return seq

    def _head(self) -> tuple[int, str]:
        """The last entry, as a search sees it after a refresh (an entry created since is found
        by the create that collides with it)."""
        self.client.indices.refresh(index=self.index)
        hits = self.client.search(
            index=self.index, body={"size": 1, "sort": [{"seq": "desc"}], "_source": ["seq", "hash"]}
        )["hits"]["hits"]
        if not hits:
            return 0, GENESIS
        src = hits[0]["_source"]
        return int(src["seq"]), str(src["hash"])

    # --- reading -----------------------------------------------------------------------------------
    def _scan(self, filters: list[dict[str, Any]], after: int, limit: int | None) -> Iterator[dict[str, Any]]:
        """Entries with seq > after matching `filters`, in sequence order, a page at a time."""
        self.client.indices.refresh(index=self.index)
        n = 0
        while limit is None or n < limit:
            size = _PAGE if limit is None else min(_PAGE, limit - n)
            query = {"bool": {"filter": [{"range": {"seq": {"gt": after}}}, *filters]}}
            body = {"query": query, "size": size, "sort": [{"seq": "asc"}]}
            hits = self.client.search(index=self.index, body=body)["hits"]["hits"]
            for h in hits:
                src = h["_source"]
                yield {k: src.get(k) for k in (*FIELDS, "prev", "hash", "dedup")}
            n += len(hits)
            if len(hits) < size:
                return
            after = int(hits[-1]["_source"]["seq"])

    def _select(self, q: AuditQuery) -> list[dict[str, Any]]:
        filters: list[dict[str, Any]] = [{"term": {col: val}} for col, val in q.equal()]
        if q.since or q.until:
            filters.append({"range": {"at": {k: v for k, v in (("gte", q.since), ("lte", q.until)) if v}}})
        if q.visible_to_agency:
            either = [{"term": {"agency": q.visible_to_agency}}, {"term": {"recipient": q.visible_to_agency}}]
            filters.append({"bool": {"should": either, "minimum_should_match": 1}})
        with self._lock:
            return list(self._scan(filters, q.after, q.limit))

    def verify(self, expect_head: tuple[int, str] | None = None) -> Verdict:
        with self._lock:
            return verify_chain(self._scan([], 0, None), self.key, expect_head)

    def close(self) -> None:
        self.client.close()
