"""The workload every framework hosts: Argus's dedup processor, unchanged, on Avro RMS records.

The processor is plain Python; each framework supplies only its keyed state (through the adapter
below), its consumer and its producer. Dedup's state is keyed by the report id, which is the
record key, so every framework's per-key (co-partitioned) state fits it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from argus.contracts import Context
from argus.records import Record
from argus.schemas import default_schemas
from processors.dedup import DedupProcessor

SCHEMAS = default_schemas()
IN = SCHEMAS.get("rms_record.v2")
OUT = SCHEMAS.get("report.v2")
_DEDUP = DedupProcessor(name="dedup")


class Adapter:
    def __init__(self, get: Callable[[str], Any], put: Callable[[str, Any], None]) -> None:
        self._get, self._put = get, put

    def get(self, key: str, default: Any = None) -> Any:
        v = self._get(key)
        return default if v is None else v

    def put(self, key: str, value: Any) -> None:
        self._put(key, value)

    def delete(self, key: str) -> None:
        self._put(key, None)  # frameworks store JSON: None reads back as "no value" (see get)


def process(
    key: str, value: bytes, get: Callable[[str], Any], put: Callable[[str, Any], None]
) -> list[tuple[str, bytes]]:
    rec = Record(SCHEMAS.decode(value, IN), key=key)
    outs = _DEDUP.process(rec, Context("dedup", Adapter(get, put)))
    return [(o.key or key, SCHEMAS.encode(OUT, o.value)) for o in outs]
