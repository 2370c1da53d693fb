import copy
import json

import pytest
from fastavro.utils import generate_many

from argus.schemas import SchemaError, SchemaSet, default_schemas

SCHEMAS = default_schemas()


@pytest.mark.parametrize("name", sorted(SCHEMAS.topics))
def test_every_schema_round_trips_generated_records(name: str) -> None:
    ts = SCHEMAS.get(name)
    for datum in generate_many(ts.parsed, 25):
        data = SCHEMAS.encode(ts, datum)
        decoded = SCHEMAS.decode(data, ts)
        # Logical types decode to richer Python values (datetime for timestamp-micros), so the
        # round trip is checked where it must hold: the bytes, and the decoded value.
        assert SCHEMAS.encode(ts, decoded) == data
        assert SCHEMAS.decode(SCHEMAS.encode(ts, decoded), ts) == decoded


@pytest.mark.parametrize("name", sorted(SCHEMAS.topics))
def test_the_envelope_alone_reads_as_the_whole_record_gives_it(name: str) -> None:
    """What an ordered node sorts its buffer by (SchemaSet.envelope), for every writer and
    every later reader of its subject; a schema not beginning with an envelope reads whole."""
    ts = SCHEMAS.get(name)
    readers = [None, *(r for r in SCHEMAS.topics.values() if r.subject == ts.subject and r.version >= ts.version)]
    for datum in generate_many(ts.parsed, 10):
        data = SCHEMAS.encode(ts, datum)
        for reader in readers:
            assert SCHEMAS.envelope(data, reader) == SCHEMAS.decode(data, reader).get("envelope")


def test_an_envelope_that_cannot_be_read_is_a_clear_error() -> None:
    ts = SCHEMAS.get("resolved.v2")
    data = SCHEMAS.encode(ts, next(iter(generate_many(ts.parsed, 1))))
    with pytest.raises(SchemaError, match="cannot decode record"):
        SCHEMAS.envelope(data[:12], ts)
    with pytest.raises(SchemaError, match="magic byte"):
        SCHEMAS.envelope(b"\x07" + data[1:], ts)
    with pytest.raises(SchemaError):
        SCHEMAS.decode(data[:-1], ts)
    assert SCHEMAS.envelope(data[:-1], ts) == SCHEMAS.decode(data, ts)["envelope"]  # the body is not read


def test_the_required_topic_schemas_exist() -> None:
    for name in (
        "rms_record.v2",
        "cad_incident.v2",
        "cad_query.v1",
        "sar.v2",
        "stix_object.v1",
        "report.v2",
        "resolved.v2",
        "query_resolved.v2",
        "alert.v1",
        "dead_letter.v1",
    ):
        assert name in SCHEMAS.topics


def test_wire_format_is_magic_byte_and_schema_id() -> None:
    ts = SCHEMAS.get("stix_object.v1")
    datum = next(iter(generate_many(ts.parsed, 1)))
    data = SCHEMAS.encode(ts, datum)
    assert data[0] == 0
    assert int.from_bytes(data[1:5], "big") == ts.schema_id


def test_garbage_and_wrong_records_are_clear_errors() -> None:
    ts = SCHEMAS.get("cad_query.v1")
    with pytest.raises(SchemaError, match="magic byte"):
        SCHEMAS.decode(b"\x07\x00\x00\x00\x01xyz", ts)
    with pytest.raises(SchemaError, match="unknown schema id"):
        SCHEMAS.decode(b"\x00\x00\x00\x00\x01xyz", ts)
    with pytest.raises(SchemaError, match=r"does not fit schema cad_query\.v1"):
        SCHEMAS.encode(ts, {"envelope": {}, "body": {"query_id": 3}})


def test_backward_compatible_evolution(tmp_path) -> None:
    """The written rule: a new version may only add fields with defaults (or remove fields
    that had defaults), so a v2 reader reads v1 data and a v1 reader reads v2 data."""
    src = SCHEMAS.directory
    for f in src.glob("*.avsc"):
        (tmp_path / f.name).write_text(f.read_text())
    v2 = json.loads((src / "cad_query.v1.avsc").read_text())
    v2 = copy.deepcopy(v2)
    v2["fields"].append({"name": "priority_hint", "type": "string", "default": "routine"})
    (tmp_path / "cad_query.v2.avsc").write_text(json.dumps(v2))
    s2 = SchemaSet(tmp_path)
    v1, v2s = s2.get("cad_query.v1"), s2.get("cad_query.v2")
    datum = next(iter(generate_many(v1.parsed, 1)))
    assert s2.decode(s2.encode(v1, datum), v2s)["priority_hint"] == "routine"
    new = dict(s2.decode(s2.encode(v1, datum), v2s), priority_hint="urgent")
    back = s2.decode(s2.encode(v2s, new), v1)
    assert s2.encode(v1, back) == s2.encode(v1, datum)


def test_schema_files_are_validated_at_load(tmp_path) -> None:
    for f in SCHEMAS.directory.glob("*.avsc"):
        (tmp_path / f.name).write_text(f.read_text())
    (tmp_path / "broken.v1.avsc").write_text(
        '{"type": "record", "name": "X", "fields": [{"name": "a", "type": "nope"}]}'
    )
    with pytest.raises(SchemaError, match="unknown Avro type 'nope'"):
        SchemaSet(tmp_path)


def _v2(tmp_path, subject: str, change) -> SchemaSet:  # type: ignore[no-untyped-def]
    """A schema directory holding today's schemas plus a v2 of one subject made by `change`."""
    src = SCHEMAS.directory
    tmp_path.mkdir(parents=True, exist_ok=True)
    for f in src.glob("*.avsc"):
        (tmp_path / f.name).write_text(f.read_text())
    v2 = copy.deepcopy(json.loads((src / f"{subject}.v1.avsc").read_text()))
    change(v2)
    (tmp_path / f"{subject}.v2.avsc").write_text(json.dumps(v2))
    return SchemaSet(tmp_path)


def test_the_compatibility_rule_is_checked_both_ways(tmp_path) -> None:
    from argus.schema_compat import full_problems, problems

    assert SCHEMAS.versions_problems() == []  # the repository's own versions keep the rule
    hint = {"name": "hint", "type": "string"}
    ok = _v2(tmp_path / "ok", "cad_query", lambda s: s["fields"].append({**hint, "default": ""}))
    assert ok.versions_problems() == []
    bad = _v2(tmp_path / "bad", "cad_query", lambda s: s["fields"].append(hint))
    (why,) = bad.versions_problems()
    assert "cad_query.v2" in why and "hint" in why and "no default" in why and "reading cad_query.v1 data" in why

    rec = {"type": "record", "name": "a.R", "fields": [{"name": "n", "type": "int"}]}
    wider = {"type": "record", "name": "a.R", "fields": [{"name": "n", "type": "long"}]}
    assert problems(wider, rec) == []  # int is promoted to long
    assert problems(rec, wider) == ["n: the writer's long cannot be read as int"]
    assert full_problems(wider, rec, "v1") == [
        "v1 readers reading new data: n: the writer's long cannot be read as int"
    ]
    renamed = {**rec, "name": "a.S"}
    assert "names must match" in problems(renamed, rec)[0]
    assert problems({**renamed, "aliases": ["a.R"]}, rec) == []
    opt = {"type": "record", "name": "a.R", "fields": [{"name": "n", "type": ["null", "int"], "default": None}]}
    assert problems(opt, rec) == []  # the reader's union has a branch for int
    assert "union branch null" in problems(rec, opt)[0]  # the writer may have written null
    enum1 = {"type": "enum", "name": "a.E", "symbols": ["X", "Y"]}
    enum2 = {**enum1, "symbols": ["X"]}
    assert problems(enum1, enum2) == [] and "no symbol Y" in problems(enum2, enum1)[0]
    assert problems({**enum2, "default": "X"}, enum1) == []
    arr = {"type": "record", "name": "a.R", "fields": [{"name": "xs", "type": {"type": "array", "items": "string"}}]}
    arr2 = {"type": "record", "name": "a.R", "fields": [{"name": "xs", "type": {"type": "array", "items": "int"}}]}
    assert "xs[]: the writer's int cannot be read as string" in problems(arr, arr2)


def test_a_type_that_refers_to_itself_through_a_union_is_checked() -> None:
    from argus.schema_compat import problems

    def linked(value: str) -> dict:
        fields = [{"name": "v", "type": value}, {"name": "next", "type": ["null", "a.Node"], "default": None}]
        return {"type": "record", "name": "a.Node", "fields": fields}

    assert problems(linked("long"), linked("int")) == []
    assert problems(linked("int"), linked("long")) == ["v: the writer's long cannot be read as int"]


def test_a_richer_person_travels_between_the_first_and_second_pole_generations() -> None:
    """rms_record.v1 (pole.v1) and rms_record.v2 (pole.v2) both ways: a v1 record read by a v2
    reader gets the new fields' defaults; a v2 record read by a v1 reader drops them."""
    v1, v2 = SCHEMAS.get("rms_record.v1"), SCHEMAS.get("rms_record.v2")
    assert v1.schema_id != v2.schema_id
    datum = next(iter(generate_many(v1.parsed, 1)))
    datum["body"]["persons"] = [
        {"role": "suspect", "name": "SMITH, JON", "dob": "1990-01-02", "sex": "M", "race": None}
    ]
    person = SCHEMAS.decode(SCHEMAS.encode(v1, datum), v2)["body"]["persons"][0]
    assert person["identifiers"] == [] and person["invalid"] == [] and person["given"] is None
    person.update(
        identifiers=[{"kind": "DL", "value": "S1234567", "issuer": "VA"}],
        phones=["5551234567"],
        invalid=[{"field": "dob", "value": "1990-21-02", "reason": "month 21"}],
    )
    richer = dict(datum, body=dict(datum["body"], persons=[person]))
    back = SCHEMAS.decode(SCHEMAS.encode(v2, richer), v1)["body"]["persons"][0]
    assert back == {"role": "suspect", "name": "SMITH, JON", "dob": "1990-01-02", "sex": "M", "race": None}
    assert SCHEMAS.decode(SCHEMAS.encode(v2, richer), v2)["body"]["persons"][0]["identifiers"][0]["value"] == "S1234567"
