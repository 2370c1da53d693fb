"""TAXII 2.1 status resources on OpenSearch, so that a client POSTing an envelope to one API host
can poll its status on any other (the embedded store is a SQLite file one host's processes share).

One document per status, its id the status id; read back with a real-time GET, so a status is
there the moment the POST has answered. A status is only ever shown to the agency that POSTed.

URL: `http(s)://host:port?taxii_index=NAME` (default `argus-taxii-status`); as a store URL:
`ARGUS_TAXII=http://host:9200?taxii_index=argus-taxii-status`.
"""

from __future__ import annotations

from typing import Any

from argus.stores.opensearch_search import SMALL_INDEX, connect, create_index
from argus.stores.taxii_status import StatusStore

try:
    from opensearchpy import NotFoundError
except ImportError as exc:  # pragma: no cover - the registry reports the pip extra
    raise ImportError(
        "TAXII statuses on OpenSearch need opensearch-py: pip install 'argus-fusion[opensearch]'"
    ) from exc

MAPPINGS = {
    "dynamic": "strict",
    "properties": {"agency": {"type": "keyword"}, "body": {"type": "object", "enabled": False}},
}


class OpenSearchStatuses(StatusStore):
    def __init__(self, url: str) -> None:
        self.client, q = connect(url)
        self.index = q.get("taxii_index", "argus-taxii-status")
        body = {"settings": SMALL_INDEX, "mappings": MAPPINGS}
        create_index(self.client, self.index, body)

    def put(self, agency: str, body: dict[str, Any]) -> None:
        self.client.index(index=self.index, id=body["id"], body={"agency": agency, "body": body}, op_type="create")

    def update(self, agency: str, body: dict[str, Any]) -> None:
        if self.get(body["id"], agency) is not None:
            self.client.index(index=self.index, id=body["id"], body={"agency": agency, "body": body})

    def get(self, sid: str, agency: str) -> dict[str, Any] | None:
        if not sid or len(sid.encode()) > 512:  # not an id OpenSearch could hold (nor one Argus issues)
            return None
        try:
            src = self.client.get(index=self.index, id=sid)["_source"]
        except NotFoundError:
            return None
        got: dict[str, Any] = src["body"]
        return got if src["agency"] == agency else None

    def close(self) -> None:
        self.client.close()
