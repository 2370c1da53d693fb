"""CAD (dispatch): incidents, and the field queries officers run from their terminals."""

from __future__ import annotations

from typing import Any

from argus.contracts import Context
from argus.normalize import parse_name, plate_key
from argus.records import (
    InvalidRecord,
    Record,
    clean_text,
    parse_dob,
    parse_handling,
    parse_int,
    parse_time,
)
from connectors import pole
from connectors.files import FileSourceConfig, FileSourceConnector, emit_record


class CadConfig(FileSourceConfig):
    # CAD records are first-hand dispatch data, not evaluated intelligence.
    default_tlp: str | None = "TLP:AMBER"
    default_reliability: str | None = "A"
    default_validity: int | None = 2


class CadIncidentConnector(FileSourceConnector):
    Config = CadConfig
    emits = ("cad_incident.v2",)

    def convert(self, raw: Any, ctx: Context) -> Record:
        raw = pole.require_object(raw)
        handling = self.handling(raw)
        incident_id = clean_text(raw.get("incident_id"), "incident_id", 64, required=True)
        assert incident_id is not None
        received = parse_time(raw.get("received_at"), "received_at")
        units = raw.get("units") or []
        if not isinstance(units, list) or len(units) > 50:
            raise InvalidRecord("units: expected a list of unit ids")
        priority = raw.get("priority", 3)
        if isinstance(priority, bool) or not isinstance(priority, int) or not 0 <= priority <= 9:
            raise InvalidRecord(f"priority: expected 0-9, got {priority!r}")
        body = {
            "incident_id": incident_id,
            "version": parse_int(raw.get("version"), "version", default=1),
            "call_type": clean_text(raw.get("call_type"), "call_type", 64, required=True),
            "priority": priority,
            "received_at": received,
            "units": [clean_text(u, "units[]", 32, required=True) for u in units],
            "disposition": clean_text(raw.get("disposition"), "disposition", 64),
            **pole.mentions(raw),
        }
        return emit_record(
            ctx,
            self.name,
            id_parts=("cad.incident", handling.agency, incident_id),
            rtype="cad.incident",
            handling=handling,
            observed_at=received,
            body=body,
        )


class CadQueryConnector(FileSourceConnector):
    """Officer queries (NCIC-style: plate/state/VIN, or name/DOB), keyed by what they ask about
    so queries about one vehicle or person stay in order."""

    Config = CadConfig
    emits = ("cad_query.v1",)

    def convert(self, raw: Any, ctx: Context) -> Record:
        raw = pole.require_object(raw)
        return build_query(raw, ctx, self.name, self.config)


def build_query(raw: dict[str, Any], ctx: Context, source: str, cfg: CadConfig) -> Record:
    handling = parse_handling(
        raw,
        default_reliability=cfg.default_reliability,
        default_validity=cfg.default_validity,
        default_tlp=cfg.default_tlp,
        law_enforcement=cfg.law_enforcement,
    )
    query_id = clean_text(raw.get("query_id"), "query_id", 64, required=True)
    assert query_id is not None
    plate = clean_text(raw.get("plate"), "plate", 16)
    vin = clean_text(raw.get("vin"), "vin", 24)
    name = clean_text(raw.get("name"), "name", 128)
    if plate or vin:
        qtype, key = "VEHICLE", plate_key(plate) or vin
    elif name:
        qtype, key = "PERSON", parse_name(name).key
    else:
        raise InvalidRecord("a query needs a plate, a VIN or a name")
    state = clean_text(raw.get("state", raw.get("plate_state")), "state", 2)
    loc = raw.get("location")
    issued = parse_time(raw.get("issued_at"), "issued_at")
    body = {
        "query_id": query_id,
        "query_type": qtype,
        "officer_id": clean_text(raw.get("officer_id"), "officer_id", 64, required=True),
        "unit_id": clean_text(raw.get("unit_id"), "unit_id", 64, required=True),
        "plate": plate,
        "plate_state": state.upper() if state else None,
        "vin": vin,
        "name": name,
        "dob": parse_dob(raw.get("dob")),
        "reason": clean_text(raw.get("reason"), "reason", 128) or "traffic stop",
        "location": pole.location(loc, "location") if isinstance(loc, dict) else None,
        "issued_at": issued,
    }
    return emit_record(
        ctx,
        source,
        id_parts=("cad.query", handling.agency, query_id),
        rtype="cad.query",
        handling=handling,
        observed_at=issued,
        body=body,
        key=key,
    )
