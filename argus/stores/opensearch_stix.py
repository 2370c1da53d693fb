"""The STIX object store on OpenSearch: every version of every object, for exports and TAXII.

One document per version (`<id>|<version micros>`), with `last` and `first` flags kept on the
current and the earliest version, so "the current versions of these types" is one filtered
query, sorted by `seq`. The object itself is kept as its JSON text (not indexed: nothing is
lost or reinterpreted, whatever custom properties it carries).

TAXII paging needs `seq` and `date_added` to rise together and a reader never to see seq N+1
before N. OpenSearch has no transactions, so writers take turns: a writer document in
`<index>-writer` holds the next seq, the last date_added and a lease (owner, expiry), claimed and
released by compare-and-set on its sequence number. A writer claims it on its first write, takes
its seqs there before writing (a writer that dies mid-batch leaves a gap, never a reused seq),
and at commit() refreshes the index and only then lets go: whatever the next writer adds becomes
visible after everything before it. A lease not renewed for `lease` seconds (a dead writer) is
taken over.

URL: `http(s)://host:port?stix_index=NAME[&lease=60]` (default index `argus-stix`); as a store
URL: `ARGUS_STIX=http://host:9200?stix_index=argus-stix`.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import orjson
from tenacity import Retrying, retry_if_result, stop_after_delay, wait_exponential

from argus.stores.graph import MARK_KEYS
from argus.stores.opensearch_search import SMALL_INDEX, connect, create_index
from argus.stores.stix import Outcome, StixItem, StixStore, StoredObject, Versions, decide, instant, stamp

try:
    from opensearchpy import ConflictError, NotFoundError, helpers
except ImportError as exc:  # pragma: no cover - the registry reports the pip extra
    raise ImportError("the OpenSearch STIX store needs opensearch-py: pip install 'argus-fusion[opensearch]'") from exc

# One shard: a bulk is applied in order, so a refresh in the middle of one shows a prefix of it
# (seq order), never a later seq without the earlier ones.
SETTINGS = {"number_of_shards": 1, "number_of_replicas": 0, "refresh_interval": "-1"}
MAPPINGS = {
    "dynamic": "strict",
    "properties": {
        "id": {"type": "keyword"},
        "type": {"type": "keyword"},
        "version": {"type": "long"},
        "modified": {"type": "keyword", "index": False},
        "spec_version": {"type": "keyword"},
        "seq": {"type": "long"},
        "added": {"type": "keyword"},  # RFC 3339 UTC, fixed width: sorts as it reads
        "record_id": {"type": "keyword"},
        "agency": {"type": "keyword"},
        "tlp": {"type": "keyword"},
        "marks": {"type": "object", "enabled": False},
        "json": {"type": "text", "index": False},
        "last": {"type": "boolean"},
        "first": {"type": "boolean"},
    },
}
WRITER = "writer"


class WriterBusy(TimeoutError):
    """Another writer held the STIX store for longer than we would wait."""


def _doc_id(stix_id: str, version: int) -> str:
    return f"{stix_id}|{version}"


def _stored(src: dict[str, Any]) -> StoredObject:
    return StoredObject(
        src["id"],
        src["type"],
        src["modified"],
        src["spec_version"],
        src["seq"],
        src["added"],
        src["record_id"],
        src["agency"],
        src["tlp"],
        src["marks"],
        src["json"].encode(),
    )


class OpenSearchStixStore(StixStore):
    def __init__(self, url: str) -> None:
        self.client, q = connect(url, timeout=60)
        self.index = q.get("stix_index", "argus-stix")
        self.meta = f"{self.index}-writer"
        self.lease = float(q.get("lease", 60))
        create_index(self.client, self.index, {"settings": SETTINGS, "mappings": MAPPINGS})
        create_index(self.client, self.meta, {"settings": SMALL_INDEX})
        self.me = str(uuid.uuid4())
        self._held: tuple[int, int] | None = None  # (seq_no, primary_term) of our claim
        self._next_seq = 0
        self._last_added = 0
        self._pending = False

    # --- the writer lease ---------------------------------------------------------------------
    def _claim(self, wait: float = 120.0) -> None:
        """Take the writer lease, asking again (10 ms, doubling to 200 ms) while another writer
        holds it, for up to `wait` seconds."""
        if self._held is not None:
            return
        holder: list[str | None] = [None]
        claim = Retrying(
            retry=retry_if_result(lambda got: got is False),
            stop=stop_after_delay(wait),
            wait=wait_exponential(multiplier=0.01, max=0.2),
            retry_error_callback=lambda _: False,
        )
        if claim(self._try_claim, holder) is False:
            raise WriterBusy(f"the STIX store {self.index} is held by writer {holder[0]}")

    def _try_claim(self, holder: list[str | None]) -> bool:
        """One attempt at the lease; False (with who holds it) when another writer's is current."""
        now = time.time()
        try:
            got = self.client.get(index=self.meta, id=WRITER)
            src, cas = got["_source"], {"if_seq_no": got["_seq_no"], "if_primary_term": got["_primary_term"]}
        except NotFoundError:
            src, cas = {"seq": 0, "added": 0, "owner": None, "expires": 0.0}, None
        holder[0] = src.get("owner")
        if src.get("owner") is not None and src.get("expires", 0) >= now:
            return False
        claim = {**src, "owner": self.me, "expires": now + self.lease}
        try:
            if cas is None:
                r = self.client.index(index=self.meta, id=WRITER, body=claim, op_type="create", refresh=False)
            else:
                r = self.client.index(index=self.meta, id=WRITER, body=claim, refresh=False, **cas)
        except ConflictError:
            return False  # someone else claimed it between our read and write
        self._held = (r["_seq_no"], r["_primary_term"])
        self._next_seq, self._last_added = int(src["seq"]), int(src["added"])
        return True

    def _save(self, owner: str | None) -> None:
        """Move the writer document on (our seq and date_added), keeping or dropping the lease."""
        assert self._held is not None
        body = {
            "seq": self._next_seq,
            "added": self._last_added,
            "owner": owner,
            "expires": time.time() + self.lease if owner else 0.0,
        }
        try:
            r = self.client.index(
                index=self.meta, id=WRITER, body=body, if_seq_no=self._held[0], if_primary_term=self._held[1]
            )
        except ConflictError:
            self._held = None
            raise WriterBusy(
                f"lost the STIX store {self.index} to another writer (lease {self.lease:.0f}s expired)"
            ) from None
        self._held = (r["_seq_no"], r["_primary_term"]) if owner else None

    # --- writes -------------------------------------------------------------------------------
    def _bulk(self, actions: list[dict[str, Any]]) -> None:
        if not actions:
            return
        for ok, item in helpers.streaming_bulk(self.client, actions, raise_on_error=False, chunk_size=2000):
            if not ok:
                raise RuntimeError(f"STIX store {self.index}: a write failed: {orjson.dumps(item).decode()[:500]}")
        self._pending = True

    def _refresh(self) -> None:
        """Make what this writer wrote searchable (its reads must see it; so must readers, at commit)."""
        if self._pending:
            self.client.indices.refresh(index=self.index)
            self._pending = False

    def _holdings(self, ids: list[str]) -> list[dict[str, Any]]:
        """Every version held for these ids (id, version, last, first), what this writer put
        since its last refresh included."""
        self._refresh()
        out: list[dict[str, Any]] = []
        for i in range(0, len(ids), 1000):
            query = {
                "query": {"terms": {"id": ids[i : i + 1000]}},
                "_source": ["id", "version", "last", "first", "agency", "seq"],
            }
            out += [h["_source"] for h in helpers.scan(self.client, index=self.index, query=query, size=5000)]
        return out

    def put(self, items: list[StixItem], now_us: int | None = None) -> list[Outcome]:
        self._claim()
        held: set[tuple[str, int]] = set()
        latest: dict[str, list[int]] = {}  # id -> [last, first]
        owners: dict[str, str] = {}
        for h in sorted(self._holdings(list({it.obj["id"] for it in items})), key=lambda h: h["seq"]):
            held.add((h["id"], h["version"]))
            owners.setdefault(h["id"], h["agency"])
            cur = latest.setdefault(h["id"], [h["version"], h["version"]])
            cur[0], cur[1] = max(cur[0], h["version"]), min(cur[1], h["version"])
        before = {k: list(v) for k, v in latest.items()}
        now = now_us if now_us is not None else int(datetime.now(UTC).timestamp() * 1_000_000)
        out: list[Outcome] = []
        docs: list[dict[str, Any]] = []
        marked: dict[int, Any] = {}
        for it, version, text, outcome in decide(items, held, latest, owners):
            out.append(outcome)
            if outcome in ("duplicate", "foreign"):
                continue
            o = it.obj
            self._next_seq += 1
            self._last_added = max(now, self._last_added + 1)
            if id(it.marks) not in marked:  # items of one feed share their marks
                marked[id(it.marks)] = {k: it.marks[k] for k in MARK_KEYS if k in it.marks}
            docs.append(
                {
                    "_index": self.index,
                    "_id": _doc_id(o["id"], version),
                    "_op_type": "create",
                    "_source": {
                        "id": o["id"],
                        "type": o["type"],
                        "version": version,
                        "modified": text,
                        "spec_version": o.get("spec_version", "2.1"),
                        "seq": self._next_seq,
                        "added": stamp(self._last_added),
                        "record_id": it.record_id,
                        "agency": it.agency,
                        "tlp": it.tlp,
                        "marks": marked[id(it.marks)],
                        "json": (it.json if it.json is not None else orjson.dumps(o)).decode(),
                        "last": False,
                        "first": False,
                    },
                }
            )
        if not docs:
            return out
        self._save(self.me)  # the seqs are ours before any document carries them
        flags = self._flags(latest, before)
        new = {d["_id"]: d for d in docs}
        for doc_id, fl in list(flags.items()):
            if doc_id in new:
                new[doc_id]["_source"].update(fl)
                del flags[doc_id]
        self._bulk(docs + [{"_op_type": "update", "_index": self.index, "_id": k, "doc": v} for k, v in flags.items()])
        return out

    @staticmethod
    def _flags(latest: dict[str, list[int]], before: dict[str, list[int]]) -> dict[str, dict[str, bool]]:
        """The `last`/`first` changes that take `before` to `latest`, by document id."""
        flags: dict[str, dict[str, bool]] = {}
        for oid, (last, first) in latest.items():
            was = before.get(oid)
            if was is not None and was[0] != last:
                flags.setdefault(_doc_id(oid, was[0]), {})["last"] = False
            if was is not None and was[1] != first:
                flags.setdefault(_doc_id(oid, was[1]), {})["first"] = False
            if was is None or was[0] != last:
                flags.setdefault(_doc_id(oid, last), {})["last"] = True
            if was is None or was[1] != first:
                flags.setdefault(_doc_id(oid, first), {})["first"] = True
        return flags

    def delete_record(self, record_id: str) -> int:
        self._claim()
        self._refresh()
        # Found then deleted by _id: _delete_by_query lives in the reindex module, which not every
        # distribution carries (the integration-test one does not).
        query = {"query": {"term": {"record_id": record_id}}, "_source": ["id"]}
        hits = list(helpers.scan(self.client, index=self.index, query=query))
        if not hits:
            return 0
        self._bulk([{"_op_type": "delete", "_index": self.index, "_id": h["_id"]} for h in hits])
        ids = sorted({h["_source"]["id"] for h in hits})
        left: dict[str, list[dict[str, Any]]] = {}
        for h in self._holdings(ids):
            left.setdefault(h["id"], []).append(h)
        updates = []
        for versions in left.values():
            last, first = max(v["version"] for v in versions), min(v["version"] for v in versions)
            for v in versions:
                want = {"last": v["version"] == last, "first": v["version"] == first}
                if want != {"last": v["last"], "first": v["first"]}:
                    updates.append(
                        {"_op_type": "update", "_index": self.index, "_id": _doc_id(v["id"], v["version"]), "doc": want}
                    )
        self._bulk(updates)
        return len(hits)

    def commit(self) -> None:
        if self._held is None:
            return
        self._refresh()
        self._save(None)  # visible first, then the next writer may add after it

    def close(self) -> None:
        try:
            self.commit()
        finally:
            self.client.close()

    # --- reads --------------------------------------------------------------------------------
    def count(self) -> int:
        return int(self.client.count(index=self.index, body={"query": {"term": {"last": True}}})["count"])

    def versions(self, stix_id: str) -> list[StoredObject]:
        query = {"query": {"term": {"id": stix_id}}, "sort": [{"version": "asc"}], "size": 10_000}
        return [_stored(h["_source"]) for h in self.client.search(index=self.index, body=query)["hits"]["hits"]]

    def scan(
        self,
        *,
        after_seq: int = 0,
        added_after: str | None = None,
        ids: list[str] | None = None,
        types: list[str] | None = None,
        versions: Versions = "last",
        spec_versions: list[str] | None = None,
        record_ids: list[str] | None = None,
        batch: int = 1000,
    ) -> Iterator[StoredObject]:
        must: list[dict[str, Any]] = [{"range": {"seq": {"gt": after_seq}}}]
        if added_after:
            must.append({"range": {"added": {"gt": stamp(instant(added_after))}}})
        for name, vals in (("id", ids), ("type", types), ("spec_version", spec_versions), ("record_id", record_ids)):
            if vals:
                must.append({"terms": {name: list(vals)}})
        if versions == "last":
            must.append({"term": {"last": True}})
        elif versions == "first":
            must.append({"term": {"first": True}})
        elif versions != "all":
            must.append({"terms": {"version": [instant(v) for v in versions]}})
        body: dict[str, Any] = {"query": {"bool": {"filter": must}}, "sort": [{"seq": "asc"}], "size": batch}
        while True:
            hits = self.client.search(index=self.index, body=body)["hits"]["hits"]
            for h in hits:
                yield _stored(h["_source"])
            if len(hits) < batch:
                return
            body["search_after"] = hits[-1]["sort"]
