"""The search store on OpenSearch, through opensearch-py.

An index template of explicit mappings (keyword for ids, agencies and markings; text for titles
and narratives; date; geo_point), a versioned index (`<name>-v1`) behind an alias (`<name>`) so
a mapping change is a reindex and an alias swap, bulk writes, and a refresh at commit() so what
a sink flushed is searchable when its offsets commit. Queries never parse user syntax: words are
matched with `match_bool_prefix` (all words, the last one as a prefix), as the embedded store does.

URL: `http(s)://host:port[?index=NAME]` (default index name `argus-reports`).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlparse, urlunparse

from argus.stores.search import SearchDoc, SearchStore

try:
    from opensearchpy import NotFoundError, OpenSearch, helpers
except ImportError as exc:  # pragma: no cover - the registry reports the pip extra
    raise ImportError("the OpenSearch store needs opensearch-py: pip install 'argus-fusion[opensearch]'") from exc

MAPPINGS = {
    "dynamic": "strict",
    "properties": {
        "kind": {"type": "keyword"},
        "agency": {"type": "keyword"},
        "tlp": {"type": "keyword"},
        "occurred_at": {"type": "date"},
        "title": {"type": "text"},
        "text": {"type": "text"},
        "location": {"type": "geo_point"},
        "fields": {"type": "object", "enabled": False},
    },
}


class OpenSearchStore(SearchStore):
    def __init__(self, url: str) -> None:
        u = urlparse(url)
        q = {k: v[-1] for k, v in parse_qs(u.query).items()}
        self.alias = q.get("index", "argus-reports")
        self.client = OpenSearch(urlunparse(u._replace(query="")), timeout=30, max_retries=3, retry_on_timeout=True)
        if not self.client.indices.exists_alias(name=self.alias):
            index = f"{self.alias}-v1"
            self.client.indices.create(
                index=index,
                body={
                    "settings": {"number_of_shards": 1, "number_of_replicas": 0},
                    "mappings": MAPPINGS,
                    "aliases": {self.alias: {}},
                },
            )
        self._pending = False

    def upsert(self, docs: list[SearchDoc]) -> None:
        actions = []
        for d in docs:
            src: dict[str, Any] = {
                "kind": d["kind"],
                "agency": d["agency"],
                "tlp": d["tlp"],
                "occurred_at": d["occurred_at"],
                "title": d["title"],
                "text": d["text"],
                "fields": d["fields"],
            }
            if d["lat"] is not None and d["lon"] is not None:
                src["location"] = {"lat": d["lat"], "lon": d["lon"]}
            actions.append({"_op_type": "index", "_index": self.alias, "_id": d["id"], "_source": src})
        if actions:
            helpers.bulk(self.client, actions)
            self._pending = True

    def delete(self, ids: list[str]) -> None:
        actions = [{"_op_type": "delete", "_index": self.alias, "_id": i} for i in ids]
        if actions:
            helpers.bulk(self.client, actions, raise_on_error=False)  # deleting what is gone is fine
            self._pending = True

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
        must: list[dict[str, Any]] = []
        if query:
            must.append(
                {"multi_match": {"query": query, "type": "bool_prefix", "operator": "and", "fields": ["title", "text"]}}
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
                    "title": s["title"],
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
            s = self.client.get(index=self.alias, id=doc_id)["_source"]
        except NotFoundError:
            return None
        loc = s.get("location") or {}
        return {
            "id": doc_id,
            "kind": s["kind"],
            "agency": s["agency"],
            "tlp": s["tlp"],
            "occurred_at": s["occurred_at"],
            "title": s["title"],
            "text": s["text"],
            "lat": loc.get("lat"),
            "lon": loc.get("lon"),
            "fields": s["fields"],
        }

    def count(self) -> int:
        return int(self.client.count(index=self.alias)["count"])

    def close(self) -> None:
        self.commit()
        self.client.close()
