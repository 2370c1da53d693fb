"""docs/asyncapi.yaml is the integrator contract: valid AsyncAPI 3.0, and what the pipeline writes
now (regenerated from the schemas: `python -m argus.asyncapi docs/asyncapi.yaml`)."""

from __future__ import annotations

import json

import jsonschema
import yaml

from argus.asyncapi import render
from tests.conftest import REPO

SPEC = REPO / "tests" / "data" / "asyncapi" / "asyncapi-3.0.0.schema.json"


def test_the_document_is_valid_asyncapi_3() -> None:
    doc = yaml.safe_load((REPO / "docs" / "asyncapi.yaml").read_text())
    jsonschema.Draft7Validator(json.loads(SPEC.read_text())).validate(doc)
    assert set(doc["channels"]) == {"alerts", "deadletters", "alertStream"}


def test_the_document_is_what_the_pipeline_writes() -> None:
    assert (REPO / "docs" / "asyncapi.yaml").read_text() == render(), (
        "docs/asyncapi.yaml is stale: python -m argus.asyncapi docs/asyncapi.yaml"
    )


def test_every_alert_field_is_documented() -> None:
    doc = yaml.safe_load((REPO / "docs" / "asyncapi.yaml").read_text())
    alert = doc["components"]["messages"]["alert"]["payload"]["schema"]
    missing: list[str] = []

    def walk(schema: object, where: str) -> None:
        if isinstance(schema, dict):
            if schema.get("type") in ("record", "error"):
                for f in schema["fields"]:
                    if "doc" not in f and not (where.endswith("Envelope") and f["name"] in ("id", "type")):
                        missing.append(f"{where}.{f['name']}")
                    walk(f["type"], f"{where}.{f['name']}")
            else:
                for v in schema.values():
                    walk(v, where)
        elif isinstance(schema, list):
            for v in schema:
                walk(v, where)

    walk(alert, "alert")
    assert not missing, missing
