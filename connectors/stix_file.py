"""STIX 2.1 bundle files: each object becomes one record, kept as its exact JSON."""

from __future__ import annotations

import functools
import re
from typing import Any

import orjson
from pydantic import Field

from argus.contracts import Context
from argus.records import (
    Handling,
    InvalidRecord,
    Record,
    Tlp,
    parse_handling,
    parse_time,
)
from argus.stix.ids import expected_id
from argus.stix.limits import check_object
from argus.stix.markings import TLP_MARKINGS
from argus.stix.validate import SCO_TYPES, check
from connectors.files import FileSourceConfig, FileSourceConnector, emit_record

STIX_ID = re.compile(r"^[a-z][a-z0-9-]*--[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


class StixFileConfig(FileSourceConfig):
    format: str = "json"  # type: ignore[assignment]
    agency: str = Field(description="ORI of the partner whose feed this is")
    default_tlp: str | None = "TLP:GREEN"
    default_reliability: str | None = "C"
    default_validity: int | None = 3


class StixFileConnector(FileSourceConnector):
    Config = StixFileConfig
    config: StixFileConfig
    emits = ("stix_object.v1",)

    def split_document(self, doc: Any) -> list[Any]:
        if isinstance(doc, dict) and doc.get("type") == "bundle":
            objs = doc.get("objects", [])
            if not isinstance(objs, list):
                raise InvalidRecord("bundle.objects: expected a list")
            return objs
        return doc if isinstance(doc, list) else [doc]

    def convert(self, raw: Any, ctx: Context) -> Record:
        cfg = self.config
        return stix_record(
            raw,
            ctx,
            self.name,
            agency=cfg.agency,
            default_tlp=cfg.default_tlp,
            default_reliability=cfg.default_reliability,
            default_validity=cfg.default_validity,
        )


def stix_record(
    raw: Any,
    ctx: Context,
    source: str,
    *,
    agency: str,
    default_tlp: str | None,
    default_reliability: str | None,
    default_validity: int | None,
) -> Record:
    """One STIX 2.1 object as a pipeline record, wherever it came from (a file, a TAXII feed, the
    API): identifier and deterministic SCO id checked, TLP from its markings (1.0 mapped to 2.0)
    or the feed's default, the object kept as its exact JSON."""
    if not isinstance(raw, dict):
        raise InvalidRecord("a STIX object must be a JSON object")
    check_object(raw)  # depth, sizes, hostile characters: before anything recurses over it
    sid, stype = raw.get("id"), raw.get("type")
    if not isinstance(sid, str) or not STIX_ID.match(sid):
        raise InvalidRecord(f"id: {str(sid)[:80]!r} is not a STIX identifier (type--uuid)")
    if stype != sid.split("--")[0]:
        raise InvalidRecord(f"type {stype!r} does not match id {sid!r}")
    expected = expected_id(raw)
    if expected is not None and expected != sid:
        raise InvalidRecord(
            f"id {sid} does not match its contributing properties: a {stype} with these "
            f"properties is {expected} (STIX 2.1 deterministic identifier)"
        )
    spec = raw.get("spec_version")
    if spec is None and stype not in SCO_TYPES and stype != "marking-definition":
        raise InvalidRecord(
            f"spec_version: missing on {stype} {sid}; an object without it is STIX 2.0, and only STIX 2.1 is accepted"
        )
    spec = spec or "2.1"
    if stype != "marking-definition" and spec != "2.1":
        raise InvalidRecord(f"spec_version: {str(spec)[:20]!r}; only STIX 2.1 is accepted")
    check(raw)
    markings = [TLP_MARKINGS[m] for m in raw.get("object_marking_refs", []) if m in TLP_MARKINGS]
    tlp = Tlp.most_restrictive(markings) if markings else default_tlp
    handling = _handling(tlp.label if isinstance(tlp, Tlp) else tlp, agency, default_reliability, default_validity)
    modified = raw.get("modified")
    observed = parse_time(modified, "modified") if modified else ctx.now()
    body = {
        "stix_id": sid,
        "stix_type": stype,
        "spec_version": spec,
        "modified": modified,
        "object_json": orjson.dumps(raw).decode(),
    }
    return emit_record(
        ctx,
        source,
        id_parts=("stix", sid),
        rtype="stix",
        handling=handling,
        observed_at=observed,
        body=body,
        key=sid,
    )


@functools.lru_cache(maxsize=1024)
def _handling(tlp: str | None, agency: str, reliability: str | None, validity: int | None) -> Handling:
    """A feed's objects share a handful of (TLP, agency, ratings): validated once each."""
    return parse_handling({"tlp": tlp}, agency=agency, default_reliability=reliability, default_validity=validity)
