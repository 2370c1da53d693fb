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
from argus.stores.search import WHOLE_KINDS, Audience, SearchDoc, SearchStore, no_further

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
        "doc_id": {"type": "keyword"},  # a tie-break to sort by (sorting on _id needs fielddata)
        "kind": {"type": "keyword"},
        "agency": {"type": "keyword"},
        "tlp": {"type": "keyword"},
        "occurred_at": {"type": "date"},
        "ci": {"type": "boolean"},
        "recipients": {"type": "keyword"},
        "cases": {"type": "keyword"},
        "nfd": {"type": "boolean"},
        "offenses": {"type": "keyword"},  # NIBRS codes
        "behavior": {"type": "keyword"},  # a SAR's ISE-SAR category
        # Accents are folded here, in Python, before the standard analyser (which lowercases)
        # sees the text: the asciifolding filter lives in the analysis-common module, which not
        # every distribution carries (the integration-test one does not). `raw` keeps originals.
        "title": {"type": "text", "analyzer": "standard"},
        "text": {"type": "text", "analyzer": "standard"},
        "amber_text": {"type": "text", "analyzer": "standard"},
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


def _any(*queries: dict[str, Any]) -> dict[str, Any]:
    return {"bool": {"should": list(queries), "minimum_should_match": 1}}


def _term(field: str, value: Any) -> dict[str, Any]:
    return {"term": {field: value}}


class Views:
    """The one policy as OpenSearch queries for one audience (argus.stores.search.Audience),
    as the embedded store writes it in SQL: `visible`, `full` and `amber`."""

    def __init__(self, audience: Audience | None) -> None:
        self.audience = audience
        if audience is None:
            self.visible = self.full = {"match_all": {}}
            self.amber = {"bool": {"must_not": {"match_all": {}}}}
            return
        a = audience
        named = {"terms": {"recipients": list(a.principals)}} if a.principals else None
        case = {"terms": {"cases": list(a.cases)}} if a.cases else None
        ci = [] if a.ci_ok else [{"bool": {"must_not": _term("ci", True)}}]
        allowed = [{"bool": {"must_not": {"terms": {"agency": list(a.barred)}}}}] if a.barred else []
        amber_case = [_term("tlp", "AMBER"), case] if case else None
        readable = [_term("tlp", "GREEN")] + ([{"bool": {"filter": amber_case}}] if amber_case else [])
        opened = {"bool": {"filter": [_term("nfd", False), _any(*readable)]}}
        self.full = {
            "bool": {
                "filter": [
                    *ci,
                    _any(
                        _term("agency", a.agency),
                        _term("tlp", "CLEAR"),
                        {"bool": {"filter": [*allowed, _any(*([named] if named else []), opened)]}},
                    ),
                ]
            }
        }
        partial_not = [_term("agency", a.agency), {"terms": {"tlp": ["CLEAR", "RED"]}},
                       {"terms": {"kind": list(WHOLE_KINDS)}}, *([named] if named else [])]  # fmt: skip
        self.amber = {
            "bool": {
                "filter": [*ci, *allowed, _term("tlp", "AMBER"), _term("nfd", False)],
                "must_not": [*partial_not, *([case] if case else [])],
            }
        }
        existence = {
            "bool": {
                "filter": [*ci, *allowed, _any(_term("nfd", True), _term("tlp", "AMBER_STRICT"))],
                "must_not": partial_not,
            }
        }
        self.visible = _any(self.full, self.amber, existence)


def _matching(q: str, v: Views, filters: list[dict[str, Any]]) -> dict[str, Any]:
    """Words match the whole text of what the reader sees in full and only the AMBER text of
    what they see redacted; existence-only documents match no words."""

    def words(fields: list[str]) -> dict[str, Any]:
        return {"multi_match": {"query": q, "type": "bool_prefix", "operator": "and", "fields": fields}}

    branches = [{"bool": {"must": [words(FIELDS)], "filter": [v.full]}}]
    if v.audience is not None:
        branches.append({"bool": {"must": [words(["title", "amber_text"])], "filter": [v.amber]}})
    return {"bool": {"must": [{"bool": {"should": branches, "minimum_should_match": 1}}], "filter": filters}}


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
                "doc_id": d["id"],
                "kind": d["kind"],
                "agency": d["agency"],
                "tlp": d["tlp"],
                "occurred_at": d["occurred_at"],
                "title": fold(d["title"]),
                "text": fold(d["text"]),
                "raw": {"title": d["title"], "text": d["text"]},
                "amber_text": fold(d.get("amber_text", "")),
                "ci": bool(d["fields"].get("criminal_intelligence")),
                "recipients": d["fields"].get("recipients") or [],
                "cases": d["fields"].get("cases") or [],
                "nfd": no_further(d["fields"]),
                "offenses": d["fields"].get("offenses") or [],
                "behavior": d["fields"].get("behavior"),
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
        offenses: list[str] | None = None,
        behaviors: list[str] | None = None,
        since: str | None = None,
        until: str | None = None,
        bbox: tuple[float, float, float, float] | None = None,
        near: tuple[float, float, float] | None = None,
        ids: list[str] | None = None,
        visible_to: Audience | None = None,
        limit: int = 20,
        offset: int = 0,
    ) -> dict[str, Any]:
        v = Views(visible_to)
        filters: list[dict[str, Any]] = [v.visible]
        for field, vals in (("kind", kinds), ("agency", agencies), ("tlp", tlps)):
            if vals:
                filters.append({"terms": {field: vals}})
        if since or until or offenses or behaviors:  # dates, offenses, behaviour: the full and AMBER views
            filters.append(_any(v.full, v.amber))
        if since or until:
            filters.append({"range": {"occurred_at": {k: x for k, x in (("gte", since), ("lte", until)) if x}}})
        if offenses:
            filters.append({"terms": {"offenses": offenses}})
        if behaviors:
            filters.append({"terms": {"behavior": behaviors}})
        if bbox or near:  # places: only what the reader sees in full
            filters.append(v.full)
        if bbox:
            corners = {"top_left": {"lat": bbox[2], "lon": bbox[1]}, "bottom_right": {"lat": bbox[0], "lon": bbox[3]}}
            filters.append({"geo_bounding_box": {"location": corners}})
        if near:
            filters.append({"geo_distance": {"distance": f"{near[2]}km", "location": {"lat": near[0], "lon": near[1]}}})
        if ids is not None:
            filters.append({"ids": {"values": ids}})
        if query:
            return self._run(
                _matching(fold(query), v, filters),
                ["_score", {"doc_id": {"order": "asc", "missing": "_last"}}],
                limit,
                offset,
            )
        # the date orders only what the reader may see it of; existence-only documents follow, by id
        dated = {"bool": {"filter": [*filters, _any(v.full, v.amber)]}}
        undated = {"bool": {"filter": filters, "must_not": [_any(v.full, v.amber)]}}
        first = self._run(
            dated, [{"occurred_at": "desc"}, {"doc_id": {"order": "asc", "missing": "_last"}}], limit, offset
        )
        n = first["total"]
        rest_from = max(0, offset - n)
        rest = self._run(
            undated, [{"doc_id": {"order": "asc", "missing": "_last"}}], max(0, limit - len(first["hits"])), rest_from
        )
        return {"total": n + rest["total"], "hits": first["hits"] + rest["hits"]}

    def _run(self, query: dict[str, Any], sort: list[Any], limit: int, offset: int) -> dict[str, Any]:
        body: dict[str, Any] = {
            "query": query,
            "from": offset,
            "size": limit,
            "track_total_hits": True,
            "sort": sort,
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
