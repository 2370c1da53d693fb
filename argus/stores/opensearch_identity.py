"""The identity directory on OpenSearch, for API processes on several hosts.

The embedded directory (argus/stores/sqlite_identity.py) is a SQLite file every API process must share
a disk to read. Here agencies, subjects (with their case and list memberships), API keys and JWT
issuers are documents in four indices named from one prefix; the logic (validation, key and token
checks, what a subject resolves to) is the same code as the embedded directory's.

Lookups on the request path (an API key, a subject, an agency, an issuer) are real-time GETs by
id, so a key revoked or a subject disabled on one host is refused by every host's next request.
Listings (`agencies`, `subjects`, `keys`) are searches; a change to what they list waits for the
refresh, so a listing after a change shows it (what only GETs read does not wait). Agencies'
dissemination rules are cached per handle and rebuilt when any process changes an agency (a
version document bumped on every agency write), looked at no more than once per `rules_ttl`
seconds (default 1): the policy asks for them per record read.

URL: `http(s)://host:port?identity_index=PREFIX&rules_ttl=1` (default prefix `argus-identity`);
as a store URL: `ARGUS_IDENTITY=http://host:9200?identity_index=argus-identity`.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from typing import Any

from argus.security.identity import IdentityDirectory
from argus.stores.opensearch_search import SMALL_INDEX, connect, create_index

try:
    from opensearchpy import ConflictError, NotFoundError
except ImportError as exc:  # pragma: no cover - the registry reports the pip extra
    raise ImportError("the OpenSearch directory needs opensearch-py: pip install 'argus-fusion[opensearch]'") from exc

_KW = {"type": "keyword"}
_OFF = {"type": "object", "enabled": False}
MAPPINGS: dict[str, dict[str, Any]] = {
    "agencies": {"ori": _KW, "name": _KW, "law_enforcement": {"type": "boolean"}, "community": _KW, "barred": _KW},
    "subjects": {
        **{k: _KW for k in ("id", "kind", "agency", "name", "roles", "unit", "created", "cases", "lists")},
        "disabled": {"type": "boolean"},
    },
    "keys": {k: _KW for k in ("key_id", "subject", "secret_sha256", "created", "revoked")},
    "issuers": {"issuer": _KW, "audience": _KW, "public_key": {"type": "keyword", "index": False}, "algorithms": _KW},
    "meta": {"changed": {"type": "double"}},
}
_PAGE = 1000


class OpenSearchDirectory(IdentityDirectory):
    def __init__(self, url: str) -> None:
        super().__init__()
        self.client, q = connect(url)
        prefix = q.get("identity_index", "argus-identity")
        self.rules_ttl = float(q.get("rules_ttl", 1))
        self.ix = {name: f"{prefix}-{name}" for name in MAPPINGS}
        for name, props in MAPPINGS.items():
            body = {
                "settings": SMALL_INDEX,
                "mappings": {"dynamic": "strict", "properties": props},
            }
            create_index(self.client, self.ix[name], body)
        self._version: object = None
        self._version_at = float("-inf")

    # --- helpers -----------------------------------------------------------------------------------
    def _get(self, kind: str, doc_id: str) -> dict[str, Any] | None:
        try:
            src: dict[str, Any] = self.client.get(index=self.ix[kind], id=doc_id)["_source"]
        except NotFoundError:
            return None
        return src

    def _update(self, kind: str, doc_id: str, body: dict[str, Any]) -> bool:
        try:
            self.client.update(index=self.ix[kind], id=doc_id, body=body, refresh="wait_for", retry_on_conflict=5)
        except NotFoundError:
            return False
        return True

    def _all(self, kind: str, sort: tuple[str, ...], query: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        """Every document matching `query`, ordered by `sort` (ending with a unique field, so the
        pages neither skip nor repeat), a page at a time."""
        after: list[Any] | None = None
        order = [{f: "asc"} for f in sort]
        while True:
            body: dict[str, Any] = {"query": query or {"match_all": {}}, "size": _PAGE, "sort": order}
            if after is not None:
                body["search_after"] = after
            hits = self.client.search(index=self.ix[kind], body=body)["hits"]["hits"]
            for h in hits:
                yield h["_source"]
            if len(hits) < _PAGE:
                return
            after = hits[-1]["sort"]

    @staticmethod
    def _issuer_id(issuer: str) -> str:
        return hashlib.sha256(issuer.encode()).hexdigest()

    # --- agencies ----------------------------------------------------------------------------------
    def _agencies_changed(self) -> None:
        # read by real-time GET only: no refresh to wait for
        self.client.index(index=self.ix["meta"], id="agencies", body={"changed": time.time()})
        self._version_at = float("-inf")

    def _put_agency(self, ori: str, name: str, law_enforcement: bool, community: str | None) -> None:
        fields = {"ori": ori, "name": name, "law_enforcement": law_enforcement, "community": community}
        self._update("agencies", ori, {"doc": fields, "upsert": fields | {"barred": []}})
        self._agencies_changed()

    def _put_barred(self, ori: str, barred: list[str]) -> None:
        self._update("agencies", ori, {"doc": {"barred": barred}})
        self._agencies_changed()

    def _agency_row(self, ori: str) -> dict[str, Any] | None:
        return self._get("agencies", ori)

    def agencies(self) -> list[dict[str, Any]]:
        return list(self._all("agencies", ("ori",)))

    def _agencies_version(self) -> object:
        now = time.monotonic()
        if now - self._version_at >= self.rules_ttl:
            try:
                self._version = self.client.get(index=self.ix["meta"], id="agencies")["_version"]
            except NotFoundError:
                self._version = 0
            self._version_at = now
        return self._version

    # --- subjects ----------------------------------------------------------------------------------
    def _put_subject(self, row: dict[str, Any]) -> None:
        doc = {k: row[k] for k in ("kind", "agency", "name", "roles", "unit")} | {"disabled": False}
        self._update("subjects", row["id"], {"doc": doc, "upsert": row | {"disabled": False, "cases": [], "lists": []}})

    def _update_subject(self, subject_id: str, fields: dict[str, Any]) -> bool:
        return self._update("subjects", subject_id, {"doc": fields})

    def _subject_row(self, subject_id: str) -> dict[str, Any] | None:
        src = self._get("subjects", subject_id)
        if src is None:
            return None
        return {k: src[k] for k in ("id", "kind", "agency", "name", "roles", "unit", "disabled", "cases", "lists")}

    def _subject_ids(self) -> list[str]:
        return [s["id"] for s in self._all("subjects", ("id",))]

    def _member(self, subject_id: str, kind: str, name: str, add: bool) -> None:
        """Read, change, write back only if nobody wrote in between (compare-and-set on the
        document's sequence number), so two hosts changing one subject at once lose neither
        change. Not a script: a cluster may run without the painless module."""
        field = "cases" if kind == "case" else "lists"
        while True:
            try:
                got = self.client.get(index=self.ix["subjects"], id=subject_id)
            except NotFoundError:
                return
            have = list(got["_source"][field])
            want = sorted({*have, name}) if add else [x for x in have if x != name]
            if want == have:
                return
            try:
                self.client.update(
                    index=self.ix["subjects"],
                    id=subject_id,
                    body={"doc": {field: want}},
                    if_seq_no=got["_seq_no"],
                    if_primary_term=got["_primary_term"],
                )  # memberships are read by GET only: no refresh to wait for
                return
            except ConflictError:
                continue

    # --- keys and issuers --------------------------------------------------------------------------
    def _put_key(self, row: dict[str, Any]) -> None:
        self.client.index(
            index=self.ix["keys"], id=row["key_id"], body=row | {"revoked": None}, op_type="create", refresh="wait_for"
        )

    def _revoke(self, key_id: str, when: str) -> bool:
        return self._update("keys", key_id, {"doc": {"revoked": when}})

    def _key_row(self, key_id: str) -> dict[str, Any] | None:
        return self._get("keys", key_id)

    def keys(self, subject_id: str | None = None) -> list[dict[str, Any]]:
        query = {"term": {"subject": subject_id}} if subject_id else None
        found = self._all("keys", ("created", "key_id"), query)
        return [{k: s[k] for k in ("key_id", "subject", "created", "revoked")} for s in found]

    def _put_issuer(self, issuer: str, audience: str, public_key: str, algorithms: list[str]) -> None:
        doc = {"issuer": issuer, "audience": audience, "public_key": public_key, "algorithms": algorithms}
        self.client.index(index=self.ix["issuers"], id=self._issuer_id(issuer), body=doc)  # read by GET only

    def _issuer_row(self, issuer: str) -> dict[str, Any] | None:
        return self._get("issuers", self._issuer_id(issuer))

    def close(self) -> None:
        self.client.close()
