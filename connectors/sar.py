"""SAR portal submissions (ISE-SAR behaviour categories), one JSON object per file or line."""

from __future__ import annotations

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

BEHAVIORS = (
    "AVIATION",
    "CYBER",
    "ELICIT",
    "EXPERT",
    "INTRSN",
    "MATRLS",
    "MISREP",
    "PHOTO",
    "RECRUT",
    "SABOT",
    "SECTOR",
    "SURVL",
    "TESTSEC",
    "THEFT",
    "THREAT",
    "WPNS",
)


class SarConnector(FileSourceConnector):
    emits = ("sar.v2",)

    def convert(self, raw: Any, ctx: Context) -> Record:
        raw = pole.require_object(raw)
        handling = self.handling(raw)
        sar_id = clean_text(raw.get("sar_id"), "sar_id", 64, required=True)
        assert sar_id is not None
        behavior = str(raw.get("behavior", "")).strip().upper()
        if behavior not in BEHAVIORS:
            raise InvalidRecord(
                f"behavior: {raw.get('behavior')!r} is not an ISE-SAR category ({', '.join(BEHAVIORS)})"
            )
        narrative = pole.narrative(raw.get("narrative"))
        if not narrative:
            raise InvalidRecord("narrative: a SAR must describe the observed behaviour")
        occurred = parse_time(raw.get("occurred_at"), "occurred_at")
        body = {
            "sar_id": sar_id,
            "version": parse_int(raw.get("version"), "version", default=1),
            "behavior": behavior,
            "occurred_at": occurred,
            "submitted_by": clean_text(raw.get("submitted_by"), "submitted_by", 128, required=True),
            "narrative": narrative,
            **{k: v for k, v in pole.mentions(raw).items() if k != "narrative"},
        }
        return emit_record(
            ctx,
            self.name,
            id_parts=("sar", handling.agency, sar_id),
            rtype="sar",
            handling=handling,
            observed_at=occurred,
            body=body,
        )
