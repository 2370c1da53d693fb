"""One JSON shape for an alert on every channel: the SSE stream and the field query's answer
(the API), `argus tail alerts --json`, and the reference CAD consumer, which decodes the Avro
itself with the whole writer schema (its logical types: timestamps, not integers)."""

from __future__ import annotations

import importlib.util
import json

import orjson

from argus.alerts import alert_json
from argus.api.deps import dumps
from argus.schemas import default_schemas
from argus.testing import Harness
from processors.correlation import CorrelationProcessor
from processors.dedup import DedupProcessor
from processors.entity_resolution import EntityResolutionProcessor
from tests.conftest import REPO, query_record, rms_record


def _consumer():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("cad_alert_consumer", REPO / "examples" / "cad_alert_consumer.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_an_alert_reads_the_same_on_every_channel() -> None:
    dedup, er, corr = Harness(DedupProcessor()), Harness(EntityResolutionProcessor()), Harness(CorrelationProcessor())
    for rep in dedup.run([rms_record()]).outputs:
        corr.run(er.run([rep]).outputs)
    alert = next(r for r in corr.run(er.run([query_record()]).outputs).outputs if r.body["alert_type"] == "QUERY_HIT")
    schemas = default_schemas()
    ts = schemas.get("alert.v1")
    wire = schemas.encode(ts, alert.value)  # as the bus carries it
    argus_body = schemas.decode(wire, ts)["body"]
    # the schemas topic's row for this id: [subject, canonical form, the whole schema]
    row = orjson.dumps([ts.name, ts.canonical, json.dumps(ts.raw)])
    consumer = _consumer()
    parsed = consumer.parse_schema(json.loads(json.loads(row)[2]))
    decoded = consumer.decode(wire, {ts.schema_id: parsed}, lambda: {})["body"]
    via_consumer = json.loads(consumer.to_json(decoded))
    via_api = orjson.loads(dumps(argus_body))
    via_tail = orjson.loads(alert_json(argus_body))
    assert via_consumer == via_api == via_tail
    assert via_api["created_at"].endswith("+00:00") and "T" in via_api["created_at"]  # a timestamp, not micros
