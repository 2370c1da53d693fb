"""Dedup and entity resolution, node by node through the harness."""

import pytest

from argus.testing import Harness, run_node
from processors.dedup import DedupProcessor
from processors.entity_resolution import EntityResolutionProcessor
from tests.conftest import query_record, rms_record


def resolve(er: Harness, *records):
    return [r.body for r in er.run([run_node(DedupProcessor(), [rec]).outputs[0] for rec in records]).outputs]


def test_dedup_passes_new_and_newer_drops_duplicates_and_stale() -> None:
    h = Harness(DedupProcessor())
    a = rms_record()
    out = h.run([a, a, rms_record(version=2), rms_record(version=1), rms_record(version=2, narrative="corrected")])
    assert [r.body["version"] for r in out.outputs] == [1, 2, 2]
    assert out.outputs[0].topic == "report.v2"


def test_vehicle_variants_resolve_to_one_entity() -> None:
    er = Harness(EntityResolutionProcessor())
    a, b = resolve(
        er,
        rms_record(),
        rms_record(
            report_id="R2", agency="CA0200000", vehicles=[{"role": "suspect", "plate": "8 ABC-123", "state": "CA"}]
        ),
    )
    va = next(e for e in a["entities"] if e["subtype"] == "vehicle")
    vb = next(e for e in b["entities"] if e["subtype"] == "vehicle")
    assert va["entity_id"] == vb["entity_id"]
    assert va["match_method"] == "new" and vb["match_method"] == "exact"
    assert "normalised to 8ABC123, state CA: exact" in vb["match_reason"]


def test_jon_smith_without_dob_is_a_possible_match_for_smith_jonathan() -> None:
    """A short form of the name and nothing else: not enough to merge (a common name fits many
    people), enough to ask an analyst, with each field's part and none of the other's values."""
    er = Harness(EntityResolutionProcessor())
    a, b = resolve(er, rms_record(), rms_record(report_id="R2", persons=[{"role": "suspect", "name": "Jon Smith"}]))
    pa = next(e for e in a["entities"] if e["display"].startswith("SMITH"))
    pb = next(e for e in b["entities"] if e["subtype"] == "person")
    assert pa["entity_id"] != pb["entity_id"] and pb["match_method"] == "new"
    (link,) = b["possible"]
    assert (link["from_id"], link["to_id"], link["relation"]) == (pb["entity_id"], pa["entity_id"], "POSSIBLE_SAME_AS")
    assert {(e["field"], e["level"]) for e in link["evidence"]} >= {
        ("surname", "exact"),
        ("given", "variant or initial"),
    }
    assert link["weight"] == round(sum(e["weight"] for e in link["evidence"]), 3)
    assert "JONATHAN" not in link["reason"] and "possible match" in pb["match_reason"]


def test_missing_dob_with_two_namesakes_does_not_guess() -> None:
    er = Harness(EntityResolutionProcessor())
    p = lambda dob: {"role": "suspect", "name": "SMITH, JOHN", "dob": dob}  # noqa: E731
    a, b, c = resolve(
        er,
        rms_record(report_id="R1", persons=[p("1980-01-01")]),
        rms_record(report_id="R2", persons=[p("1990-05-05")]),
        rms_record(report_id="R3", persons=[{"role": "suspect", "name": "John Smith"}]),
    )
    ids = {x["entities"][1]["entity_id"] for x in (a, b)}
    assert len(ids) == 2 and c["entities"][1]["entity_id"] not in ids


def test_conflicting_dob_or_sex_never_merge_and_transposed_dob_does() -> None:
    er = Harness(EntityResolutionProcessor())
    a, b, c, d = resolve(
        er,
        rms_record(
            report_id="R1", persons=[{"role": "suspect", "name": "SMITH, JONATHAN", "dob": "1991-04-02", "sex": "M"}]
        ),
        rms_record(report_id="R2", persons=[{"role": "suspect", "name": "SMITH, JONATHAN", "dob": "1975-09-09"}]),
        rms_record(report_id="R3", persons=[{"role": "suspect", "name": "Smith, Jonathan", "dob": "1991-02-04"}]),
        rms_record(
            report_id="R4", persons=[{"role": "suspect", "name": "SMITH, JONATHAN", "dob": "1991-04-02", "sex": "F"}]
        ),
    )
    pid = lambda x: x["entities"][1]["entity_id"]  # noqa: E731
    assert pid(b) != pid(a) and pid(d) != pid(a)
    assert pid(c) == pid(a) and "dob day and month swapped" in c["entities"][1]["match_reason"]


def test_typo_in_surname_matches_through_dob_block() -> None:
    er = Harness(EntityResolutionProcessor())
    a, b = resolve(
        er,
        rms_record(report_id="R1", persons=[{"role": "suspect", "name": "GUTIERREZ, ANA", "dob": "1990-01-01"}]),
        rms_record(report_id="R2", persons=[{"role": "suspect", "name": "GUITERREZ, ANA", "dob": "1990-01-01"}]),
    )
    assert a["entities"][1]["entity_id"] == b["entities"][1]["entity_id"]
    assert b["entities"][1]["match_method"] == "probabilistic"
    assert {"field": "surname", "level": "near identical", "weight": pytest.approx(6.27, abs=3)} in b["entities"][1][
        "evidence"
    ]


def test_vin_links_plate_only_and_vin_only_records_with_a_merge() -> None:
    er = Harness(EntityResolutionProcessor())
    vin = "1HGCM82633A004352"
    a, b, c = resolve(
        er,
        rms_record(report_id="R1", vehicles=[{"role": "suspect", "plate": "8ABC123", "state": "CA"}]),
        rms_record(report_id="R2", vehicles=[{"role": "suspect", "vin": vin}]),
        rms_record(report_id="R3", vehicles=[{"role": "suspect", "plate": "8ABC123", "state": "CA", "vin": vin}]),
    )
    va, vb = (next(e for e in x["entities"] if e["subtype"] == "vehicle") for x in (a, b))
    assert va["entity_id"] != vb["entity_id"]
    assert c["merges"] == [
        {"survivor_id": vb["entity_id"], "merged_id": va["entity_id"], "score": 1.0, "reason": c["merges"][0]["reason"]}
    ]
    assert "same VIN" in c["merges"][0]["reason"]


def test_plate_moved_to_another_car_is_not_merged() -> None:
    er = Harness(EntityResolutionProcessor())
    a, b = resolve(
        er,
        rms_record(
            report_id="R1",
            vehicles=[{"role": "suspect", "plate": "8ABC123", "state": "CA", "vin": "1HGCM82633A004352"}],
        ),
        rms_record(
            report_id="R2",
            vehicles=[{"role": "suspect", "plate": "8ABC123", "state": "CA", "vin": "1M8GDM9AXKP042788"}],
        ),
    )
    va, vb = (next(e for e in x["entities"] if e["subtype"] == "vehicle") for x in (a, b))
    assert va["entity_id"] != vb["entity_id"] and b["merges"] == []


def test_invalid_vin_is_kept_but_not_used_to_match() -> None:
    er = Harness(EntityResolutionProcessor())
    (a,) = resolve(
        er, rms_record(vehicles=[{"role": "suspect", "plate": "7XYZ001", "state": "CA", "vin": "1HGCM82633A004353"}])
    )
    v = next(e for e in a["entities"] if e["subtype"] == "vehicle")
    assert "fails its check digit" in v["match_reason"] and "vin" not in v["keys"]


def test_report_becomes_event_linked_to_its_entities_and_series() -> None:
    (a,) = resolve(Harness(EntityResolutionProcessor()), rms_record())
    kinds = sorted((e["kind"], e["subtype"]) for e in a["entities"])
    assert kinds == [
        ("EVENT", "incident"),
        ("EVENT", "series"),
        ("LOCATION", "address"),
        ("OBJECT", "vehicle"),
        ("PERSON", "person"),
        ("PERSON", "person"),
    ]
    rels = sorted(link["relation"] for link in a["links"])
    assert rels == ["AT_OFFENSE", "PART_OF_SERIES", "SUSPECT", "SUSPECT", "SUSPECT_VEHICLE"]


def test_query_is_lookup_only() -> None:
    er = Harness(EntityResolutionProcessor())
    q = er.run([query_record()]).outputs
    assert q[0].topic == "query_resolved.v2" and q[0].body["matches"] == []
    assert er.state.pending() == {} and len(er.state) == 0
    resolve(er, rms_record())
    m = er.run([query_record(plate="8-ABC I23")]).outputs[0].body["matches"]
    assert len(m) == 1 and "folding O/0 and I/1" in m[0]["match_reason"]
    m = er.run([query_record(plate="8ABC123", state=None)]).outputs[0].body["matches"]
    assert "state missing, one vehicle on file" in m[0]["match_reason"]
    m = er.run([query_record(plate=None, name="Jonathan Smith", dob="1991-04-02")]).outputs[0].body["matches"]
    assert [x["subtype"] for x in m] == ["person"]


def _person(report_id: str, name: str, dob: str | None, sex: str | None = "M"):  # type: ignore[no-untyped-def]
    return rms_record(report_id=report_id, persons=[{"role": "suspect", "name": name, "dob": dob, "sex": sex}])


def test_swapped_names_and_transposed_dob_digits_match_and_are_said_so() -> None:
    er = Harness(EntityResolutionProcessor())
    first, swapped, month, year, later = resolve(
        er,
        _person("R1", "SMITH, JONATHAN", "1991-01-18"),
        _person("R2", "JONATHAN, SMITH", "1991-01-18"),  # "LAST, FIRST" written the wrong way round
        _person("R3", "SMITH, JONATHAN", "1991-10-18"),  # two adjacent digits of the month transposed
        _person("R4", "SMITH, JONATHAN", "1919-01-18"),  # the year's digits transposed
        _person("R5", "SMITH, JONATHAN", "1991-01-18"),
    )
    pid = lambda x: x["entities"][1]["entity_id"]  # noqa: E731
    assert pid(swapped) == pid(first) and "given name and surname swapped" in swapped["entities"][1]["match_reason"]
    assert pid(month) == pid(first) and "dob one digit or adjacent digits" in month["entities"][1]["match_reason"]
    assert pid(year) == pid(first)
    # the swapped mention was filed as it should have been written: the names still read straight
    assert pid(later) == pid(first) and "swapped" not in later["entities"][1]["match_reason"]
    assert swapped["entities"][1]["display"] == "SMITH, JONATHAN"


def test_a_swap_on_the_name_alone_is_not_enough_to_merge() -> None:
    er = Harness(EntityResolutionProcessor())
    a, b = resolve(er, _person("R1", "JAMES, ROBERT", None), _person("R2", "ROBERT, JAMES", None))
    assert a["entities"][1]["entity_id"] != b["entities"][1]["entity_id"]


def test_a_missing_given_name_matches_on_surname_and_dob_only() -> None:
    er = Harness(EntityResolutionProcessor())
    full, bare, no_dob, other_dob = resolve(
        er,
        _person("R1", "GUTIERREZ, ANA", "1990-03-07", "F"),
        _person("R2", "GUTIERREZ,", "1990-03-07", "F"),
        _person("R3", "GUTIERREZ,", None, "F"),  # surname alone, no DOB: too little
        _person("R4", "GUTIERREZ,", "1985-06-30", "F"),
    )
    pid = lambda x: x["entities"][1]["entity_id"]  # noqa: E731
    assert pid(bare) == pid(full) and "given" not in {e["field"] for e in bare["entities"][1]["evidence"]}
    assert pid(no_dob) != pid(full) and pid(other_dob) != pid(full)


def test_a_fuzzy_match_never_drifts_the_given_name_an_entity_keeps() -> None:
    er = Harness(EntityResolutionProcessor())
    a, b, c = resolve(
        er,
        _person("R1", "DIAZ, JON", "1971-04-13"),
        _person("R2", "DIAZ, JONATHAN", "1971-04-13"),  # a fuller form of the same name: kept
        _person("R3", "DIAZ, JONATHANN", "1971-04-13"),  # a misspelling, longer still: not kept
    )
    eid = a["entities"][1]["entity_id"]
    assert b["entities"][1]["entity_id"] == eid == c["entities"][1]["entity_id"]
    # every spelling is kept to compare with, so none displaces another
    assert er.state.get(f"p:{eid}")["n"] == [["DIAZ", "JON"], ["DIAZ", "JONATHAN"], ["DIAZ", "JONATHANN"]]


def test_two_short_forms_of_one_name_merge_only_with_an_agreeing_dob() -> None:
    er = Harness(EntityResolutionProcessor())
    a, b, c = resolve(
        er,
        _person("R1", "ALLEN, BILL", "1991-08-27"),
        _person("R2", "ALLEN, WILL", None),  # BILL and WILL are both WILLIAM: on the name alone, apart
        _person("R3", "ALLEN, WILL", "1991-08-27"),
    )
    pid = lambda x: x["entities"][1]["entity_id"]  # noqa: E731
    assert pid(b) != pid(a)
    assert pid(c) == pid(a) and "given two short forms" in c["entities"][1]["match_reason"]


def test_a_plate_one_keystroke_off_matches_the_one_vehicle_it_fits_and_no_other() -> None:
    """A mistyped plate meets the vehicle one character away when the make agrees and nothing
    disagrees; a different make, or a state-less report of the plate, keep their own rules."""
    er = Harness(EntityResolutionProcessor())
    car = {"role": "suspect", "plate": "5GMC876", "state": "CA", "make": "TOYT", "model": "COROLLA", "year": 2024}
    a, b, c, d = resolve(
        er,
        rms_record(report_id="R1", vehicles=[car | {"vin": "1HGCM82633A004352"}]),
        rms_record(report_id="R2", vehicles=[car | {"plate": "5GML876", "model": None}]),  # one keystroke off
        rms_record(report_id="R3", vehicles=[car | {"plate": "5GMC871", "make": "FORD"}]),  # another make: another car
        rms_record(report_id="R4", vehicles=[{"role": "owner", "plate": "5GMC876", "state": None}]),
    )
    vid = lambda x: next(e for e in x["entities"] if e["subtype"] == "vehicle")  # noqa: E731
    assert vid(b)["entity_id"] == vid(a)["entity_id"] and "one character from one on file" in vid(b)["match_reason"]
    assert vid(c)["entity_id"] != vid(a)["entity_id"]
    assert vid(d)["entity_id"] == vid(a)["entity_id"]


def test_a_plate_first_reported_without_a_state_is_found_by_a_report_that_gives_one() -> None:
    er = Harness(EntityResolutionProcessor())
    a, b = resolve(
        er,
        rms_record(report_id="R1", vehicles=[{"role": "suspect", "plate": "7ABC123"}]),
        rms_record(report_id="R2", vehicles=[{"role": "suspect", "plate": "7ABC123", "state": "NV"}]),
    )
    vid = lambda x: next(e for e in x["entities"] if e["subtype"] == "vehicle")  # noqa: E731
    assert vid(b)["entity_id"] == vid(a)["entity_id"] and "on file only without a state" in vid(b)["match_reason"]
