"""Analyst-added TAXII subscriptions on OpenSearch, for workers on several hosts.

One document per feed (its name as the id). A shared cluster is read by more people and systems
than the owner-only SQLite file of the embedded registry, so a subscription here must name its
secrets (password, token) as `env:NAME`, read by each worker from its own environment at poll
time: a literal secret is refused, never stored. Writes wait for the refresh, so a feed added
is listed (and polled) at once.

URL: `http(s)://host:port?feeds_index=NAME` (default `argus-feeds`); as a store URL:
`ARGUS_FEEDS=http://host:9200?feeds_index=argus-feeds`.
"""

from __future__ import annotations

from typing import Any

from argus.feeds import SECRET_FIELDS, FeedError, FeedSpec, FeedStore
from argus.stores.opensearch_search import SMALL_INDEX, connect, create_index

try:
    from opensearchpy import ConflictError, NotFoundError, helpers
except ImportError as exc:  # pragma: no cover - the registry reports the pip extra
    raise ImportError(
        "the OpenSearch feed registry needs opensearch-py: pip install 'argus-fusion[opensearch]'"
    ) from exc

MAPPINGS = {
    "dynamic": "strict",
    "properties": {
        "name": {"type": "keyword"},
        "spec": {"type": "object", "enabled": False},
        "added_by": {"type": "keyword"},
    },
}


class OpenSearchFeedRegistry(FeedStore):
    def __init__(self, url: str) -> None:
        self.client, q = connect(url)
        self.index = q.get("feeds_index", "argus-feeds")
        body = {"settings": SMALL_INDEX, "mappings": MAPPINGS}
        create_index(self.client, self.index, body)

    def add(self, spec: FeedSpec, added_by: str, replace: bool = False) -> None:
        for f in SECRET_FIELDS:
            v = getattr(spec, f)
            if v is not None and not v.startswith("env:"):
                raise FeedError(
                    f"feed {spec.name}: on a shared registry the {f} is given as env:NAME (read by each "
                    "worker from its environment), never stored"
                )
        doc: dict[str, Any] = {"name": spec.name, "spec": spec.model_dump(), "added_by": added_by}
        try:
            self.client.index(
                index=self.index, id=spec.name, body=doc, op_type="index" if replace else "create", refresh="wait_for"
            )
        except ConflictError:
            raise FeedError(f"a feed named {spec.name} exists") from None

    def remove(self, name: str) -> bool:
        try:
            self.client.delete(index=self.index, id=name, refresh="wait_for")
        except NotFoundError:
            return False
        return True

    def list(self) -> list[FeedSpec]:
        hits = helpers.scan(self.client, index=self.index, query={"query": {"match_all": {}}})
        return sorted((FeedSpec.model_validate(h["_source"]["spec"]) for h in hits), key=lambda s: s.name)

    def get(self, name: str) -> FeedSpec | None:
        try:
            got = self.client.get(index=self.index, id=name)
        except NotFoundError:
            return None
        return FeedSpec.model_validate(got["_source"]["spec"])

    def close(self) -> None:
        self.client.close()
