"""STIX 2.1: deterministic SCO ids, versions in the object store, exports through the policy
(validated with stix2-validator) and lossless import -> export -> import."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import orjson
import pytest
from stix2validator import ValidationOptions, validate_parsed_json

from argus.records import InvalidRecord
from argus.security.policy import Marking, Recipient, decide
from argus.stix.export import export
from argus.stix.ids import SCO_TYPES, expected_id
from argus.stix.markings import TLP2_IDS, TLP_MARKINGS, tlp_of, to_tlp2
from argus.stores.stix import EmbeddedStixStore, StixItem
from connectors.stix_file import StixFileConfig, StixFileConnector
from tests.conftest import ctx

DATA = Path(__file__).parents[1] / "data" / "stix" / "all-types.json"
ATTACK = Path(__file__).parents[3] / "shared" / "data" / "attack" / "ics-attack.json"
OWN, OTHER = "USDHS0000", "CA0430000"


def objects() -> list[dict[str, Any]]:
    return orjson.loads(DATA.read_bytes())["objects"]


def load(store: EmbeddedStixStore, objs: list[dict[str, Any]], agency: str = OWN, **marks: Any) -> list[str]:
    items = []
    for i, o in enumerate(objs):
        o = to_tlp2(o)
        tlp = tlp_of(o)
        items.append(StixItem(o, f"rec-{agency}-{i}", agency, tlp.name if tlp else "GREEN", dict(marks)))
    out = store.put(items)
    store.commit()
    return out


def viewer(agency: str, **kw: Any):  # type: ignore[no-untyped-def]
    who = Recipient(agency=agency, role="analyst", **kw)
    return lambda m: decide(m, who)


def valid(bundle: bytes) -> None:
    res = validate_parsed_json(orjson.loads(bundle), ValidationOptions(version="2.1"))
    errors = [e.message for e in res.errors] + [e for o in getattr(res, "object_results", []) for e in o.errors]
    assert res.is_valid, errors


def test_every_sco_id_is_recomputed_and_a_wrong_one_is_refused() -> None:
    scos = [o for o in objects() if o["type"] in SCO_TYPES]
    assert len(scos) >= 15
    for o in scos:
        assert expected_id(o) in (None, o["id"]), o["type"]
    conn = StixFileConnector(StixFileConfig(path="-", agency=OWN), name="stix")
    ip = next(o for o in scos if o["type"] == "ipv4-addr")
    assert conn.convert(ip, ctx()).body["stix_id"] == ip["id"]
    forged = dict(ip, value="203.0.113.9")  # someone edited the value and kept the id
    with pytest.raises(InvalidRecord, match=r"does not match its contributing properties.*ipv4-addr--"):
        conn.convert(forged, ctx())


def test_versions_newer_supersedes_equal_is_duplicate_older_is_history(tmp_path: Path) -> None:
    s = EmbeddedStixStore(tmp_path / "stix.db")
    base = next(o for o in objects() if o["type"] == "campaign")
    v1 = dict(base, modified="2026-11-01T10:00:00Z")
    v2 = dict(base, modified="2026-11-02T10:00:00.000Z", description="second")
    v0 = dict(base, modified="2026-10-01T10:00:00.000Z", description="older")
    assert load(s, [v1, v2]) == ["added", "added"]
    assert load(s, [dict(v1, modified="2026-11-01T10:00:00.000Z")]) == ["duplicate"]  # same instant
    assert load(s, [v0]) == ["history"]
    assert [o.obj.get("description") for o in s.scan(ids=[base["id"]])] == ["second"]
    assert [o.obj.get("description") for o in s.scan(ids=[base["id"]], versions="first")] == ["older"]
    assert len(list(s.scan(ids=[base["id"]], versions="all"))) == 3
    assert [o.modified for o in s.versions(base["id"])] == [v0["modified"], v1["modified"], v2["modified"]]
    added = [o.added for o in s.scan(versions="all")]
    assert added == sorted(added) and len(set(added)) == 3  # date_added strictly increases
    s.close()


def test_tlp1_markings_become_tlp2() -> None:
    camp = next(o for o in objects() if o["type"] == "campaign")
    assert camp["object_marking_refs"] == ["marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"]
    mapped = to_tlp2(camp)
    assert mapped["object_marking_refs"] == ["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"]
    assert TLP_MARKINGS[mapped["object_marking_refs"][0]].name == "GREEN"
    assert {k: v for k, v in mapped.items() if k != "object_marking_refs"} == {
        k: v for k, v in camp.items() if k != "object_marking_refs"
    }


def test_export_is_valid_carries_its_markings_and_round_trips(tmp_path: Path) -> None:
    a = EmbeddedStixStore(tmp_path / "a.db")
    load(a, objects())
    first = export(a, viewer(OWN))
    valid(first.bundle)
    out = orjson.loads(first.bundle)["objects"]
    by_id = {o["id"]: o for o in out}
    # every referenced marking travels with the bundle: TLP 2.0 definitions and the statement
    for ref in (TLP2_IDS[t] for t in (TLP_MARKINGS[r] for o in out for r in o.get("object_marking_refs", []))):
        assert by_id[ref]["extensions"]["extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"]
    assert any(o["type"] == "marking-definition" and o.get("definition_type") == "statement" for o in out)
    # custom objects and properties survive unchanged; the newest version of the attack pattern is current
    iset = next(o for o in out if o["type"] == "intrusion-set")
    assert iset["x_argus_series"] == {"id": "ROB-2026-014", "reports": 3}
    assert next(o for o in out if o["type"] == "x-mitre-tactic")["x_mitre_shortname"] == "initial-access"
    assert next(o for o in out if o["type"] == "attack-pattern")["description"] == "newer version"

    b = EmbeddedStixStore(tmp_path / "b.db")
    load(b, out)
    second = orjson.loads(export(b, viewer(OWN)).bundle)["objects"]
    key = lambda o: orjson.dumps(o, option=orjson.OPT_SORT_KEYS)  # noqa: E731
    assert sorted(map(key, second)) == sorted(map(key, out))
    expected = {o["id"] for o in map(to_tlp2, objects())}
    assert expected <= {o["id"] for o in second}


def test_export_goes_through_the_policy(tmp_path: Path) -> None:
    s = EmbeddedStixStore(tmp_path / "stix.db")
    objs = [o for o in objects() if o["type"] in ("indicator", "malware", "tool")]
    load(s, objs[:1], agency="CA0190000")  # unmarked: GREEN
    red = copy.deepcopy(objs[1])
    red["object_marking_refs"] = [TLP2_IDS[next(t for t in TLP2_IDS if t.name == "RED")]]
    load(s, [red], agency="CA0190000")
    load(s, objs[2:], agency="CA0190000", cases=["ROB-1"])  # AMBER? no: GREEN with a case
    amber = copy.deepcopy(objs[2])
    amber["id"] = "tool--0b0f6b9b-6f5e-4d3c-9a2e-6e9f7c1d2b3a"
    amber["object_marking_refs"] = [TLP2_IDS[next(t for t in TLP2_IDS if t.name == "AMBER")]]
    load(s, [amber], agency="CA0190000", cases=["ROB-1"])
    outsider = export(s, viewer(OTHER))
    got = {o["id"] for o in orjson.loads(outsider.bundle)["objects"] if o["type"] != "marking-definition"}
    assert got == {objs[0]["id"], objs[2]["id"]} and outsider.withheld == 2
    assert red["id"].encode() not in outsider.bundle and amber["id"].encode() not in outsider.bundle
    on_case = export(s, viewer(OTHER, cases=frozenset({"ROB-1"})))
    assert amber["id"].encode() in on_case.bundle and red["id"].encode() not in on_case.bundle
    named = export(s, viewer(OTHER, cases=frozenset({"ROB-1"})), case="ROB-1")
    assert {o.id for o in named.objects} == {objs[2]["id"], amber["id"]}
    assert decide(Marking("CA0190000", "RED"), Recipient(agency="CA0190000", role="analyst")) is not None
    assert red["id"].encode() in export(s, viewer("CA0190000")).bundle


@pytest.mark.skipif(not ATTACK.exists(), reason="../shared/data/attack is not on this machine")
def test_attack_bundle_round_trips(tmp_path: Path) -> None:
    objs = orjson.loads(ATTACK.read_bytes())["objects"]
    a = EmbeddedStixStore(tmp_path / "a.db")
    load(a, objs)
    out = orjson.loads(export(a, viewer(OWN)).bundle)["objects"]
    key = lambda o: orjson.dumps(o, option=orjson.OPT_SORT_KEYS)  # noqa: E731
    assert {key(to_tlp2(o)) for o in objs} <= {key(o) for o in out}


@pytest.mark.skipif(not ATTACK.exists(), reason="../shared/data/attack is not on this machine")
def test_attack_techniques_by_id_tactic_and_name(tmp_path: Path) -> None:
    from argus.stix.attack import attack_id, techniques

    objs = orjson.loads(ATTACK.read_bytes())["objects"]
    s = EmbeddedStixStore(tmp_path / "a.db")
    load(s, objs)
    live = [
        o for o in objs if o["type"] == "attack-pattern" and not o.get("revoked") and not o.get("x_mitre_deprecated")
    ]
    everything = list(techniques(s, viewer(OWN)))
    assert len(everything) == len(live) > 50
    some = everything[0]
    assert [t["name"] for t in techniques(s, viewer(OWN), ids=[some["attack_id"]])] == [some["name"]]
    tactic = some["tactics"][0]
    by_tactic = list(techniques(s, viewer(OWN), tactic=tactic))
    assert by_tactic and all(tactic in t["tactics"] for t in by_tactic)
    word = some["name"].split()[0]
    assert some["attack_id"] in {t["attack_id"] for t in techniques(s, viewer(OWN), q=word)}
    with_id = [o for o in objs if o["type"] == "attack-pattern" and attack_id(o)]
    assert len(list(techniques(s, viewer(OWN), include_revoked=True))) == len(with_id)
