"""Schema evolution on a bus, embedded and real Kafka (with and without a schema registry): a
deployment whose schema breaks the written rule (argus/avro/README.md) against what the bus already
carries refuses to start and says why; a compatible v2 starts, reads the v1 records (the new field
at its default), and what it writes a v1 reader still reads."""

from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path

import pytest

from argus.bus.base import Commit
from argus.runtime.core import Runtime
from argus.schemas import SchemaError, SchemaSet, default_schemas
from argus.topology import load_topology
from tests.e2e.conftest import make_workdir


def schemas_with(tmp: Path, field: dict) -> SchemaSet:
    """Today's schemas with one more field on rms_record.v2, beside envelope and body (what a next
    deployment of that subject would bring)."""
    src = default_schemas().directory
    tmp.mkdir(parents=True)
    for f in src.glob("*.avsc"):
        (tmp / f.name).write_text(f.read_text())
    s = copy.deepcopy(json.loads((src / "rms_record.v2.avsc").read_text()))
    s["fields"].append(field)
    (tmp / "rms_record.v2.avsc").write_text(json.dumps(s))
    return SchemaSet(tmp)


def evolve(tmp_path: Path) -> None:
    topo = load_topology(make_workdir(tmp_path / "w", background=0))
    with Runtime(topo).open() as rt:  # the v1 deployment: writes every topic
        rt.run_until_idle()
        v1_reports = rt.read_topic("rms.records")
    assert v1_reports

    strict = schemas_with(tmp_path / "bad", {"name": "priority_hint", "type": "string"})
    with pytest.raises(SchemaError) as err:
        Runtime(topo, schemas=strict).open()
    assert "rms_record.v2: reading rms_record.v2" in str(err.value) and "priority_hint" in str(err.value)
    assert "no default" in str(err.value)

    lenient = schemas_with(tmp_path / "ok", {"name": "priority_hint", "type": "string", "default": "routine"})
    with Runtime(topo, schemas=lenient).open() as rt:  # the v2 deployment starts
        got = rt.read_topic("rms.records")  # v1 data, v2 reader
        assert [r.value["priority_hint"] for r in got] == ["routine"] * len(v1_reports)
        assert [r.value["body"]["report_id"] for r in got] == [r.value["body"]["report_id"] for r in v1_reports]
        v2 = lenient.get("rms_record.v2")
        new = copy.deepcopy(got[0].value)
        new["priority_hint"] = "urgent"
        new["envelope"]["id"] = str(uuid.uuid4())
        c = Commit()
        c.append("rms.records", "k", lenient.encode(v2, new))
        rt.bus.commit(c)
    with Runtime(topo).open() as rt:  # the v1 deployment again: reads what v2 wrote
        back = rt.read_topic("rms.records")
    last = next(r for r in back if r.value["envelope"]["id"] == new["envelope"]["id"])
    assert "priority_hint" not in last.value and last.value["body"]["report_id"] == new["body"]["report_id"]


def test_schema_evolution_on_the_embedded_bus(tmp_path: Path) -> None:
    evolve(tmp_path)


@pytest.mark.integration
def test_schema_evolution_on_kafka(kafka: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARGUS_BUS", f"kafka://{kafka}?prefix=e{uuid.uuid4().hex[:8]}.")
    evolve(tmp_path)


@pytest.mark.integration
def test_schema_evolution_on_kafka_with_a_schema_registry(
    kafka: str, schema_registry: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Records framed with the registry's ids: each deployment (its own bus and registry client)
    reads the other's through the registry, v1 and v2 registered under one subject by its rule."""
    from confluent_kafka.schema_registry import SchemaRegistryClient

    prefix = f"e{uuid.uuid4().hex[:8]}."
    monkeypatch.setenv("ARGUS_BUS", f"kafka://{kafka}?prefix={prefix}&registry={schema_registry}")
    evolve(tmp_path)
    versions = SchemaRegistryClient({"url": schema_registry}).get_versions(f"{prefix}rms.records-value")
    assert len(versions) == 2  # v1, then v2 with its defaulted field
