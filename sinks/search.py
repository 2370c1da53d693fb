"""Indexes each resolved report for search: its text, the names/plates/places it mentions,
and the filterable fields (kind, agency, TLP, time, coordinates). One document per report,
upserted by the report's record id."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson

from argus.contracts import Context, Sink
from argus.nibrs import offense_name
from argus.records import Record, deterministic_id
from argus.stores.search import SearchDoc, SearchStore


def _micros(iso: str) -> int:
    """A STIX `modified` as the document version: later modification, higher version."""
    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1_000_000)


TITLES = {"rms.incident": "RMS report", "cad.incident": "CAD incident", "sar": "SAR", "stix": "STIX"}


def ttp_doc_id(record_id: str) -> str:
    """The search document of a report's ATT&CK matches (one per report, replaced as it is)."""
    return deterministic_id("ttp", record_id)


def amber_text(rep: dict[str, Any], ents: list[dict[str, Any]]) -> str:
    """What the AMBER view shows of a report, as words to match: offenses, SAR behaviour, call
    type, series and vehicles (display and keys). No narrative, names, dates of birth or places."""
    words = [f"{c} {offense_name(c)}" for c in rep.get("offenses") or []]
    words += [str(rep.get(k)) for k in ("behavior", "call_type", "series_id") if rep.get(k)]
    words += [e["display"] + " " + " ".join(e["keys"].values()) for e in ents if e["subtype"] == "vehicle"]
    return "\n".join(words)


def _marks(env: dict[str, Any]) -> dict[str, Any]:
    return {
        "criminal_intelligence": env["criminal_intelligence"],
        "handling": env["handling"],
        "reliability": env["reliability"],
        "validity": env["validity"],
        "review_by": env["review_by"].isoformat() if env.get("review_by") else None,
        "cases": env.get("cases", []),
        "recipients": env.get("recipients", []),
    }


class SearchSink(Sink):
    accepts = ("resolved.v2", "purge.v1", "ttp_match.v1")
    stores = ("search",)
    changes_input = False  # reads what it is handed, shares it (argus/runtime/decoded.py)

    def setup(self, ctx: Context) -> None:
        self.store: SearchStore = ctx.stores["search"]
        self._docs: dict[str, SearchDoc] = {}
        self._purged: set[str] = set()

    def add(self, record: Record, stix_object: dict[str, Any] | None = None) -> None:
        """`stix_object`: a STIX report's object already parsed (the bulk import has it)."""
        if "purge_id" in record.value:
            rid = record.value["record_id"]
            for doc_id in (rid, ttp_doc_id(rid)):  # the report, and what TTP matching said of it
                self._docs.pop(doc_id, None)
                self._purged.add(doc_id)
            return
        env, body = record.envelope, record.body
        if "techniques" in body:
            self._ttp(env, body)
            return
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
        title = f"{TITLES.get(rtype, rtype)} {env['source_agency']} {source_id}"
        amber = "" if rtype == "stix" else amber_text(rep, ents)
        loc = next((e["attributes"] for e in ents if e["kind"] == "LOCATION" and "lat" in e["attributes"]), None)
        self._purged.discard(env["id"])
        self._docs[env["id"]] = {
            "id": env["id"],
            "kind": rtype,
            "agency": env["source_agency"],
            "tlp": env["tlp"],
            "occurred_at": when,
            "title": title,
            # the whole text holds the AMBER words too: a reader who sees all sees at least as much
            "text": f"{text}\n{mentions}\n{amber}",
            "amber_text": amber,
            "lat": float(loc["lat"]) if loc else None,
            "lon": float(loc["lon"]) if loc else None,
            "fields": {
                "source_id": source_id,
                "event_id": body["event_id"],
                "offenses": rep.get("offenses", []),
                "behavior": rep.get("behavior"),
                "series_id": rep.get("series_id"),
                **_marks(env),
                "entities": [e["entity_id"] for e in ents],
            },
            "version": version,
        }

    def _ttp(self, env: dict[str, Any], body: dict[str, Any]) -> None:
        """A report's ATT&CK matches as a document of kind "ttp" beside the report's, marked as
        the report is: a search for T0884, "connection proxy" or Sandworm finds the reports the
        matcher tied to them, through the same policy, with the evidence as text."""
        techniques, groups = body["techniques"], body["attributions"]
        lines = [
            f"{t['attack_id']} {t['name']} ({', '.join(t['tactics'])}; score {t['score']:.2f}): "
            + "; ".join(t["evidence"])
            for t in techniques
        ]
        lines += [f"{g['name']} (score {g['score']:.2f}): " + "; ".join(g["reasons"]) for g in groups]
        doc_id = ttp_doc_id(env["id"])
        self._purged.discard(doc_id)
        self._docs[doc_id] = {
            "id": doc_id,
            "kind": "ttp",
            "agency": env["source_agency"],
            "tlp": env["tlp"],
            "occurred_at": env["observed_at"].isoformat(),
            "title": f"ATT&CK {env['source_agency']} " + " ".join(t["attack_id"] for t in techniques),
            "text": "\n".join(lines),
            "amber_text": " ".join(f"{t['attack_id']} {t['name']}" for t in techniques),  # in the evidence too
            "lat": None,
            "lon": None,
            "fields": {
                "source_id": body["report_id"],
                "event_id": body.get("event_id") or "",
                "techniques": [t["attack_id"] for t in techniques],
                "groups": [g["name"] for g in groups],
                **_marks(env),
                "entities": [body["event_id"]] if body.get("event_id") else [],
            },
            "version": int(env["ingested_at"].timestamp() * 1_000_000),
        }

    def flush(self) -> None:
        if self._docs:
            self.store.upsert(list(self._docs.values()))
            self._docs = {}
        if self._purged:
            self.store.delete(sorted(self._purged))
            self._purged = set()
        self.store.commit()
