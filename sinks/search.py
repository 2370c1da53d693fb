"""Indexes each resolved report for search: its text, the names/plates/places it mentions,
and the filterable fields (kind, agency, TLP, time, coordinates). One document per report,
upserted by the report's record id."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson

from argus.contracts import Context, Sink
from argus.records import Record
from argus.stores.search import SearchDoc, SearchStore


def _micros(iso: str) -> int:
    """A STIX `modified` as the document version: later modification, higher version."""
    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1_000_000)


TITLES = {"rms.incident": "RMS report", "cad.incident": "CAD incident", "sar": "SAR", "stix": "STIX"}


class SearchSink(Sink):
    accepts = ("resolved.v1", "purge.v1")
    stores = ("search",)

    def setup(self, ctx: Context) -> None:
        self.store: SearchStore = ctx.stores["search"]
        self._docs: dict[str, SearchDoc] = {}
        self._purged: set[str] = set()

    def add(self, record: Record, stix_object: dict[str, Any] | None = None) -> None:
        """`stix_object`: a STIX report's object already parsed (the bulk import has it)."""
        if "purge_id" in record.value:
            rid = record.value["record_id"]
            self._docs.pop(rid, None)
            self._purged.add(rid)
            return
        env, body = record.envelope, record.body
        rep = body["report"]
        rtype = env["type"]
        ents = body["entities"]
        if rtype == "stix":
            obj = stix_object if stix_object is not None else orjson.loads(rep["object_json"])
            source_id = rep["stix_id"]
            text = " ".join(str(obj.get(k, "")) for k in ("name", "description", "pattern", "value"))
            when = rep.get("modified") or env["observed_at"].isoformat()
            version = _micros(when)
        else:
            source_id = rep.get("report_id") or rep.get("incident_id") or rep.get("sar_id")
            when = (rep.get("occurred_at") or rep.get("received_at")).isoformat()
            text = rep.get("narrative", "")
            version = int(rep.get("version") or 1)
        mentions = " ".join(e["display"] + " " + " ".join(e["keys"].values()) for e in ents if e["kind"] != "EVENT")
        loc = next((e["attributes"] for e in ents if e["kind"] == "LOCATION" and "lat" in e["attributes"]), None)
        self._purged.discard(env["id"])
        self._docs[env["id"]] = {
            "id": env["id"],
            "kind": rtype,
            "agency": env["source_agency"],
            "tlp": env["tlp"],
            "occurred_at": when,
            "title": f"{TITLES.get(rtype, rtype)} {env['source_agency']} {source_id}",
            "text": f"{text}\n{mentions}",
            "lat": float(loc["lat"]) if loc else None,
            "lon": float(loc["lon"]) if loc else None,
            "fields": {
                "source_id": source_id,
                "event_id": body["event_id"],
                "offenses": rep.get("offenses", []),
                "series_id": rep.get("series_id"),
                "criminal_intelligence": env["criminal_intelligence"],
                "handling": env["handling"],
                "reliability": env["reliability"],
                "validity": env["validity"],
                "review_by": env["review_by"].isoformat() if env.get("review_by") else None,
                "cases": env.get("cases", []),
                "recipients": env.get("recipients", []),
                "entities": [e["entity_id"] for e in ents],
            },
            "version": version,
        }

    def flush(self) -> None:
        if self._docs:
            self.store.upsert(list(self._docs.values()))
            self._docs = {}
        if self._purged:
            self.store.delete(sorted(self._purged))
            self._purged = set()
        self.store.commit()
