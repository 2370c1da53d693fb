"""The search store on OpenSearch, through opensearch-py.

An index template of explicit mappings (keyword for ids, agencies and markings; text for titles
and narratives, analysed by the standard analyser over accent-folded copies, so JOSÉ finds
Jose as it does in the embedded store; date; geo_point), a versioned index
(`<name>-v1`) behind an alias (`<name>`) so a mapping change is a reindex and an alias swap, bulk
writes with external versioning (`external_gte`: a replay never overwrites a newer version,
the conflict it gets back is the proof), and a refresh at commit() so what a sink flushed is
searchable when its offsets commit.

Backpressure: a bulk answered 429 (the cluster's write queue or indexing pressure is full) is
retried with exponential backoff; if the cluster is still refusing after that, upsert() raises
`Backpressure`, the runtime waits and flushes again, and nothing is acknowledged meanwhile.

Queries never parse user syntax: words are matched with `match_bool_prefix` (all words, the
last one as a prefix), as the embedded store does.

URL: `http(s)://host:port[?index=NAME&bulk_retries=4&backoff=0.2]` (default index
`argus-reports`; backoff in seconds, doubled on each 429 retry).
"""

from __future__ import annotations

import unicodedata
from typing import Any
from urllib.parse import parse_qs, urlparse, urlunparse

import orjson

from argus.contracts import Backpressure
from argus.stores.search import Audience, SearchDoc, SearchStore

try:
    from opensearchpy import JSONSerializer, NotFoundError, OpenSearch, helpers
except ImportError as exc:  # pragma: no cover - the registry reports the pip extra
    raise ImportError("the OpenSearch store needs opensearch-py: pip install 'argus-fusion[opensearch]'") from exc

# Argus refreshes at each sink flush (so a flushed batch is searchable when its offsets commit);
# the periodic refresh would only add segment churn under a heavy load.
SETTINGS = {"number_of_shards": 1, "number_of_replicas": 0, "refresh_interval": "30s"}
MAPPINGS = {
    "dynamic": "strict",
    "properties": {
        "kind": {"type": "keyword"},
        "agency": {"type": "keyword"},
        "tlp": {"type": "keyword"},
        "occurred_at": {"type": "date"},
        "ci": {"type": "boolean"},
        "recipients": {"type": "keyword"},
        # Accents are folded here, in Python, before the standard analyser (which lowercases)
        # sees the text: the asciifolding filter lives in the analysis-common module, which not
        # every distribution carries (the integration-test one does not). `raw` keeps originals.
        "title": {"type": "text", "analyzer": "standard"},
        "text": {"type": "text", "analyzer": "standard"},
        "raw": {"type": "object", "enabled": False},
        "location": {"type": "geo_point"},
        "fields": {"type": "object", "enabled": False},
    },
}


class _Orjson(JSONSerializer):
    """Bulk bodies are serialised per action: orjson does it several times faster than json."""

    def dumps(self, data: Any) -> str:
        if isinstance(data, str):
            return data
        return orjson.dumps(data, default=self.default).decode()


def fold(text: str) -> str:
    """Strip diacritics (NFKD, drop combining marks), as FTS5's unicode61 tokenizer does."""
    if text.isascii():
        return text
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


FIELDS = ["title", "text"]


SMALL_INDEX = {"number_of_shards": 1, "number_of_replicas": 0}  # a store's own small indices


def connect(url: str, timeout: float = 30) -> tuple[OpenSearch, dict[str, str]]:
    """A client for a store URL (`http(s)://host:port?param=value...`) and the URL's parameters,
    which name the store's index and tune it, not the connection."""
    u = urlparse(url)
    params = {k: v[-1] for k, v in parse_qs(u.query).items()}
    client = OpenSearch(urlunparse(u._replace(query="")), timeout=timeout, max_retries=3, retry_on_timeout=True)
    return client, params


def create_index(client: OpenSearch, name: str, body: dict[str, Any]) -> None:
    """Create a plain index unless it exists (another process may be creating it at the same time)."""
    if client.indices.exists(index=name):
        return
    try:
        client.indices.create(index=name, body=body)
    except Exception as exc:
        if "resource_already_exists" not in str(exc):
            raise


class OpenSearchStore(SearchStore):
    def __init__(self, url: str) -> None:
        u = urlparse(url)
        q = {k: v[-1] for k, v in parse_qs(u.query).items()}
        self.alias = q.get("index", "argus-reports")
        self.client = OpenSearch(
            urlunparse(u._replace(query="")), timeout=60, max_retries=3, retry_on_timeout=True, serializer=_Orjson()
        )
        self.bulk_retries = int(q.get("bulk_retries", 4))
        self.backoff = float(q.get("backoff", 0.2))
        # The template holds the mappings for every version of the index; the alias is what
        # readers and writers name, so v2 is built beside v1 and swapped in atomically.
        self.client.indices.put_index_template(
            name=f"{self.alias}-template",
            body={"index_patterns": [f"{self.alias}-v*"], "template": {"settings": SETTINGS, "mappings": MAPPINGS}},
        )
        if not self.client.indices.exists_alias(name=self.alias):
            alias = {self.alias: {"is_write_index": True}}
            self.client.indices.create(index=f"{self.alias}-v1", body={"aliases": alias})
        else:  # fields added since the index was made (only additions: the mapping is strict)
            self.client.indices.put_mapping(index=self.alias, body={"properties": MAPPINGS["properties"]})
        self._pending = False

    def upsert(self, docs: list[SearchDoc]) -> None:
        actions = []
        for d in docs:
            src: dict[str, Any] = {
                "kind": d["kind"],
                "agency": d["agency"],
                "tlp": d["tlp"],
                "occurred_at": d["occurred_at"],
                "title": fold(d["title"]),
                "text": fold(d["text"]),
                "raw": {"title": d["title"], "text": d["text"]},
                "ci": bool(d["fields"].get("criminal_intelligence")),
                "recipients": d["fields"].get("recipients") or [],
                "fields": d["fields"],
            }
            if d["lat"] is not None and d["lon"] is not None:
                src["location"] = {"lat": d["lat"], "lon": d["lon"]}
            actions.append(
                {
                    "_op_type": "index",
                    "_index": self.alias,
                    "_id": d["id"],
                    "_source": src,
                    "version": d["version"],
                    "version_type": "external_gte",
                }
            )
        self._bulk(actions)

    def delete(self, ids: list[str]) -> None:
        self._bulk([{"_op_type": "delete", "_index": self.alias, "_id": i} for i in ids])

    def _bulk(self, actions: list[dict[str, Any]]) -> None:
        if not actions:
            return
        self._pending = True
        refused, failed = 0, []
        for ok, item in helpers.streaming_bulk(
            self.client,
            actions,
            chunk_size=5000,
            max_chunk_bytes=50 * 1024 * 1024,
            max_retries=self.bulk_retries,
            initial_backoff=self.backoff,  # type: ignore[arg-type]
            max_backoff=5,
            raise_on_error=False,
            raise_on_exception=False,
        ):
            if ok:
                continue
            info = next(iter(item.values()))
            status = info.get("status")
            if status == 409 or (status == 404 and info.get("result") == "not_found"):
                continue  # a newer version is already held; deleting what is gone is fine
            if status == 429:
                refused += 1
            else:
                failed.append(info)
        if failed:
            eg = failed[0]
            raise RuntimeError(f"OpenSearch refused {len(failed)} document(s), e.g. {eg.get('_id')}: {eg.get('error')}")
        if refused:
            raise Backpressure(self.backoff * 2**self.bulk_retries, f"OpenSearch answered 429 to {refused} document(s)")

    def commit(self) -> None:
        if self._pending:
            self.client.indices.refresh(index=self.alias)
            self._pending = False

    def search(
        self,
        query: str | None = None,
        *,
        kinds: list[str] | None = None,
        agencies: list[str] | None = None,
        tlps: list[str] | None = None,
        since: str | None = None,
        until: str | None = None,
        bbox: tuple[float, float, float, float] | None = None,
        near: tuple[float, float, float] | None = None,
        ids: list[str] | None = None,
        visible_to: Audience | None = None,
        limit: int = 20,
        offset: int = 0,
    ) -> dict[str, Any]:
        filters: list[dict[str, Any]] = []
        for field, vals in (("kind", kinds), ("agency", agencies), ("tlp", tlps)):
            if vals:
                filters.append({"terms": {field: vals}})
        if since or until:
            filters.append({"range": {"occurred_at": {k: v for k, v in (("gte", since), ("lte", until)) if v}}})
        if bbox:
            filters.append(
                {
                    "geo_bounding_box": {
                        "location": {
                            "top_left": {"lat": bbox[2], "lon": bbox[1]},
                            "bottom_right": {"lat": bbox[0], "lon": bbox[3]},
                        }
                    }
                }
            )
        if near:
            filters.append({"geo_distance": {"distance": f"{near[2]}km", "location": {"lat": near[0], "lon": near[1]}}})
        if ids is not None:
            filters.append({"ids": {"values": ids}})
        if visible_to is not None:
            v = visible_to
            not_red_or_named: list[dict[str, Any]] = [{"bool": {"must_not": {"term": {"tlp": "RED"}}}}]
            if v.principals:
                not_red_or_named.append({"terms": {"recipients": list(v.principals)}})
            others: list[dict[str, Any]] = [{"bool": {"should": not_red_or_named, "minimum_should_match": 1}}]
            if v.barred:
                others.append(
                    {
                        "bool": {
                            "should": [
                                {"term": {"tlp": "CLEAR"}},
                                {"bool": {"must_not": {"terms": {"agency": list(v.barred)}}}},
                            ],
                            "minimum_should_match": 1,
                        }
                    }
                )
            own_or_allowed = [{"term": {"agency": v.agency}}, {"bool": {"filter": others}}]
            filters.append({"bool": {"should": own_or_allowed, "minimum_should_match": 1}})
            if not visible_to.law_enforcement:
                filters.append({"bool": {"must_not": {"term": {"ci": True}}}})
        must: list[dict[str, Any]] = []
        if query:
            must.append(
                {"multi_match": {"query": fold(query), "type": "bool_prefix", "operator": "and", "fields": FIELDS}}
            )
        body: dict[str, Any] = {
            "query": {"bool": {"must": must or [{"match_all": {}}], "filter": filters}},
            "from": offset,
            "size": limit,
            "track_total_hits": True,
            "sort": ["_score"] if query else [{"occurred_at": "desc"}],
            "highlight": {"fields": {"text": {}}, "pre_tags": ["["], "post_tags": ["]"], "fragment_size": 120},
        }
        res = self.client.search(index=self.alias, body=body)
        hits = []
        for h in res["hits"]["hits"]:
            s = h["_source"]
            loc = s.get("location") or {}
            hits.append(
                {
                    "id": h["_id"],
                    "kind": s["kind"],
                    "agency": s["agency"],
                    "tlp": s["tlp"],
                    "occurred_at": s["occurred_at"],
                    "title": s["raw"]["title"],
                    "lat": loc.get("lat"),
                    "lon": loc.get("lon"),
                    "fields": s["fields"],
                    "score": h.get("_score") or 0.0,
                    "snippet": " … ".join(h.get("highlight", {}).get("text", [])),
                }
            )
        return {"total": res["hits"]["total"]["value"], "hits": hits}

    def get(self, doc_id: str) -> SearchDoc | None:
        try:
            got = self.client.get(index=self.alias, id=doc_id)
        except NotFoundError:
            return None
        s = got["_source"]
        loc = s.get("location") or {}
        return {
            "id": doc_id,
            "kind": s["kind"],
            "agency": s["agency"],
            "tlp": s["tlp"],
            "occurred_at": s["occurred_at"],
            "title": s["raw"]["title"],
            "text": s["raw"]["text"],
            "lat": loc.get("lat"),
            "lon": loc.get("lon"),
            "fields": s["fields"],
            "version": int(got["_version"]),
        }

    def count(self) -> int:
        return int(self.client.count(index=self.alias)["count"])

    def close(self) -> None:
        self.commit()
        self.client.close()
