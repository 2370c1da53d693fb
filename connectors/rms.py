"""RMS (records management) exports: incident and case reports as JSON lines or CSV."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from argus.contracts import Context
from argus.records import (
    InvalidRecord,
    Record,
    clean_text,
    parse_int,
    parse_time,
)
from connectors import pole
from connectors.files import FileSourceConnector, emit_record

NIBRS_RE = re.compile(r"^(09[ABC]|1[0-3][0-9A-C]?|2[0-9][0-9A-H]?|3[0-9][0-9A-F]?|[4-9][0-9][0-9A-F]?)$")
MAX_OFFENSES = 10
# Optional person columns of a CSV export, read as person_<name> (person_ssn, person_dl_number...).
CSV_PERSON = ("ssn", "dl_number", "dl_state", "state_id", "fbi_number", "phone", "email", "residence_address",
              "height", "weight", "given", "middle", "surname", "suffix")  # fmt: skip


def offenses(raw: Any) -> list[str]:
    if isinstance(raw, str):
        raw = [x for x in re.split(r"[;|, ]+", raw) if x]
    if not isinstance(raw, list) or not raw:
        raise InvalidRecord("offenses: expected one or more NIBRS offense codes, e.g. ['120']")
    if len(raw) > MAX_OFFENSES:
        raise InvalidRecord(f"offenses: {len(raw)} codes, over the limit of {MAX_OFFENSES}")
    out = []
    for code in raw:
        c = str(code).strip().upper()
        if not NIBRS_RE.match(c):
            raise InvalidRecord(f"offenses: {code!r} is not a NIBRS offense code")
        out.append(c)
    return out


class RmsConnector(FileSourceConnector):
    emits = ("rms_record.v2",)

    def convert(self, raw: Any, ctx: Context) -> Record:
        raw = pole.require_object(raw)
        handling = self.handling(raw)
        report_id = clean_text(raw.get("report_id"), "report_id", 64, required=True)
        assert report_id is not None
        version = parse_int(raw.get("version"), "version", default=1)
        occurred = parse_time(raw.get("occurred_at"), "occurred_at")
        body = {
            "report_id": report_id,
            "version": version,
            "offenses": offenses(raw.get("offenses")),
            "occurred_at": occurred,
            "series_id": clean_text(raw.get("series_id"), "series_id", 64),
            "case_owner": clean_text(raw.get("case_owner"), "case_owner", 128),
            **pole.mentions(raw),
        }
        series = body["series_id"]
        if series and series.upper() not in handling.cases:  # a crime series is a case
            handling = replace(handling, cases=(*handling.cases, series.upper()))
        return emit_record(
            ctx,
            self.name,
            id_parts=("rms", handling.agency, report_id),
            rtype="rms.incident",
            handling=handling,
            observed_at=occurred,
            body=body,
        )

    def from_csv(self, row: dict[str, str]) -> dict[str, Any]:
        """One report per row; one person, one vehicle and one location column group each."""
        g = {k: (v if v != "" else None) for k, v in row.items()}
        out: dict[str, Any] = {
            k: g.get(k)
            for k in (
                "report_id",
                "agency",
                "category",
                "tlp",
                "reliability",
                "predicate",
                "occurred_at",
                "series_id",
                "case_owner",
                "narrative",
            )
        }
        out["validity"] = int(g["validity"]) if g.get("validity") and g["validity"].isdigit() else g.get("validity")
        out["offenses"] = g.get("offenses") or []
        out["handling"] = [h for h in (g.get("handling") or "").split(";") if h]
        if g.get("person_name"):
            out["persons"] = [
                {
                    "role": g.get("person_role"),
                    "name": g["person_name"],
                    "dob": g.get("person_dob"),
                    "sex": g.get("person_sex"),
                    "race": g.get("person_race"),
                    **{k: g.get(f"person_{k}") for k in CSV_PERSON if g.get(f"person_{k}")},
                }
            ]
        if g.get("plate") or g.get("vin"):
            out["vehicles"] = [
                {
                    "role": g.get("vehicle_role"),
                    "plate": g.get("plate"),
                    "state": g.get("plate_state"),
                    "vin": g.get("vin"),
                    "make": g.get("make"),
                    "model": g.get("model"),
                    "colour": g.get("colour"),
                    "year": g.get("year"),
                }
            ]
        if g.get("address") or g.get("lat"):
            out["locations"] = [
                {"role": "offense", "address": g.get("address"), "lat": g.get("lat"), "lon": g.get("lon")}
            ]
        return out
