"""The integrator contract as an AsyncAPI 3 document (docs/asyncapi.yaml): the alert topic (key,
Avro schema, framing), the dead-letter topic (schema and headers) and the SSE alert stream, built
from the schemas the pipeline actually writes, so the document cannot drift from them.

    python -m argus.asyncapi docs/asyncapi.yaml     # rewrite it after a schema changes
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml

from argus.schemas import default_schemas

AVRO = "application/vnd.apache.avro+json;version=1.9.0"
FRAMING = (
    "Avro binary in Confluent's framing: magic byte 0, a 4-byte big-endian schema id, the datum. With a schema "
    "registry (kafka://...?registry=URL) the id is the registry's (subject <prefix>alerts-value, FULL_TRANSITIVE); "
    "without one, the writer schemas are in the compacted topic <prefix>schemas (key: the id; value: JSON "
    "[subject, canonical form, whole schema]). Read with isolation.level=read_committed."
)


def _split_names(schema: Any) -> Any:
    """The self-contained schema with each named type's full name as name and namespace (the
    form AsyncAPI's Avro schema validation reads); references keep their full names."""
    if isinstance(schema, list):
        return [_split_names(x) for x in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: _split_names(v) for k, v in schema.items()}
    name = schema.get("name")
    if schema.get("type") in ("record", "enum", "fixed", "error") and isinstance(name, str) and "." in name:
        out["namespace"], _, out["name"] = name.rpartition(".")
    return out


def _avro(schema: str) -> dict[str, Any]:
    ts = default_schemas().get(schema)
    return {"schemaFormat": AVRO, "schema": _split_names(json.loads(json.dumps(ts.raw)))}


def _alert_json_schema() -> dict[str, Any]:
    from argus.api.models import Alert

    return Alert.model_json_schema()


def document() -> dict[str, Any]:
    kafka_key = {"type": "string", "description": "<recipient agency ORI>:<recipient unit, or ->"}
    dlq_headers = {
        "type": "object",
        "properties": {
            f"argus.dlq.{h}": {"type": "string", "description": d}
            for h, d in (
                ("node", "The node that could not handle the record"),
                ("reason", "Why, naming the field"),
                ("error_type", "InvalidRecord, SchemaError, or the exception's type"),
                ("source", "Where it came from: file@offset, file#index, or topic/partition/offset"),
                ("attempts", "How many times the node tried"),
                ("original", "The original bytes, untouched"),
            )
        },
    }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Argus alerts and dead letters",
            "version": "1",
            "description": "What a CAD, a mobile data terminal or an operator's tooling consumes from Argus. Every "
            "alert is addressed to an agency, a unit or an officer, and each of its hits shows only what the policy "
            "lets that recipient see; every channel gives the same alert body. See docs/integrator.md.",
        },
        "servers": {
            "kafka": {
                "host": "kafka:9092",
                "protocol": "kafka",
                "description": "The pipeline's broker (the "
                "topics carry the topology's prefix, fusion. in the compose stack)",
            },
            "api": {"host": "argus.example:8080", "protocol": "http", "description": "argus api"},
        },
        "channels": {
            "alerts": {
                "address": "fusion.alerts",
                "description": "Alerts, keyed by recipient: every alert for one unit is on one partition, in order.",
                "servers": [{"$ref": "#/servers/kafka"}],
                "messages": {"alert": {"$ref": "#/components/messages/alert"}},
            },
            "deadletters": {
                "address": "fusion.deadletters",
                "description": "Records a node could not handle, with why and the original bytes (operators only: "
                "treated as TLP:RED).",
                "servers": [{"$ref": "#/servers/kafka"}],
                "messages": {"deadLetter": {"$ref": "#/components/messages/deadLetter"}},
            },
            "alertStream": {
                "address": "/api/v1/field/alerts/stream",
                "description": "Server-Sent Events: the caller's alerts, live, each decided again by the policy for "
                "the caller. Authenticate as for the API; `Last-Event-ID` resumes after a drop.",
                "servers": [{"$ref": "#/servers/api"}],
                "messages": {"alertEvent": {"$ref": "#/components/messages/alertEvent"}},
            },
        },
        "operations": {
            "receiveAlerts": {
                "action": "receive",
                "channel": {"$ref": "#/channels/alerts"},
                "summary": "Consume alerts (a consumer group of your own; commit after showing: at least once, "
                "alert_id drops repeats)",
                "messages": [{"$ref": "#/channels/alerts/messages/alert"}],
            },
            "receiveDeadLetters": {
                "action": "receive",
                "channel": {"$ref": "#/channels/deadletters"},
                "messages": [{"$ref": "#/channels/deadletters/messages/deadLetter"}],
            },
            "receiveAlertStream": {
                "action": "receive",
                "channel": {"$ref": "#/channels/alertStream"},
                "messages": [{"$ref": "#/channels/alertStream/messages/alertEvent"}],
            },
        },
        "components": {
            "messages": {
                "alert": {
                    "name": "alert",
                    "title": "alert.v1",
                    "contentType": "application/vnd.apache.avro",
                    "description": FRAMING,
                    "payload": _avro("alert.v1"),
                    "bindings": {"kafka": {"key": kafka_key, "bindingVersion": "0.5.0"}},
                },
                "deadLetter": {
                    "name": "deadLetter",
                    "title": "dead_letter.v1",
                    "contentType": "application/vnd.apache.avro",
                    "description": FRAMING.replace("alerts-value", "deadletters-value"),
                    "headers": dlq_headers,
                    "payload": _avro("dead_letter.v1"),
                    "bindings": {
                        "kafka": {"key": {"type": "string", "description": "The node"}, "bindingVersion": "0.5.0"}
                    },
                },
                "alertEvent": {
                    "name": "alert",
                    "title": "SSE event `alert`",
                    "contentType": "application/json",
                    "description": "`event: alert`, `id: <partition:offset,...>` (send it back as Last-Event-ID), "
                    "`data:` the alert body as JSON (alert.v1's body; timestamps RFC 3339). Comments `: keep-alive` "
                    "keep idle connections open.",
                    "payload": _alert_json_schema(),
                },
            }
        },
    }


def render() -> str:
    head = "# Generated by `python -m argus.asyncapi docs/asyncapi.yaml` from the pipeline's schemas; do not edit.\n"
    return head + yaml.safe_dump(document(), sort_keys=False, width=110, allow_unicode=True)


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else None
    if out is None:
        sys.stdout.write(render())
    else:
        out.write_text(render())
