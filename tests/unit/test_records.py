import pytest
from hypothesis import given
from hypothesis import strategies as st

from argus.records import InvalidRecord, Tlp, clean_text, parse_handling


@pytest.mark.parametrize(
    "raw,want",
    [
        ("TLP:AMBER", Tlp.AMBER),
        ("amber+strict", Tlp.AMBER_STRICT),
        ("TLP:AMBER+STRICT", Tlp.AMBER_STRICT),
        ("TLP:WHITE", Tlp.CLEAR),
        ("red", Tlp.RED),
        ("TLP:CLEAR", Tlp.CLEAR),
    ],
)
def test_tlp_parsing(raw: str, want: Tlp) -> None:
    assert Tlp.parse(raw) is want


def test_unknown_tlp_is_refused() -> None:
    with pytest.raises(InvalidRecord, match="unknown TLP marking 'TLP:PURPLE'"):
        Tlp.parse("TLP:PURPLE")


def test_most_restrictive_marking_wins() -> None:
    assert Tlp.most_restrictive([Tlp.GREEN, Tlp.RED, Tlp.AMBER]) is Tlp.RED


def test_criminal_intelligence_names_every_missing_field() -> None:
    with pytest.raises(InvalidRecord) as exc:
        parse_handling({"agency": "CA0190000", "tlp": "TLP:AMBER", "category": "criminal_intelligence"})
    msg = str(exc.value)
    assert "predicate" in msg and "reliability" in msg and "validity" in msg and "23.20(a)" in msg


def test_criminal_intelligence_does_not_take_connector_defaults() -> None:
    with pytest.raises(InvalidRecord, match="reliability"):
        parse_handling(
            {
                "agency": "CA0190000",
                "tlp": "TLP:AMBER",
                "category": "criminal_intelligence",
                "predicate": "robbery",
                "validity": 2,
            },
            default_reliability="A",
        )


def test_valid_handling() -> None:
    h = parse_handling({"agency": "ca0190000", "tlp": "TLP:AMBER", "reliability": "b", "validity": "2"})
    assert (h.agency, h.tlp, h.reliability, h.validity) == ("CA0190000", Tlp.AMBER, "B", 2)


@pytest.mark.parametrize(
    "raw,err",
    [
        ({"agency": "CA019", "tlp": "TLP:AMBER", "reliability": "B", "validity": 2}, "ORI"),
        ({"agency": "CA0190000", "tlp": "TLP:AMBER", "reliability": "Z", "validity": 2}, "A-F"),
        ({"agency": "CA0190000", "tlp": "TLP:AMBER", "reliability": "B", "validity": 9}, "1-6"),
        ({"agency": "CA0190000", "reliability": "B", "validity": 2}, "tlp: required"),
    ],
)
def test_bad_handling(raw: dict, err: str) -> None:
    with pytest.raises(InvalidRecord, match=err):
        parse_handling(raw)


def test_hostile_and_oversized_strings_are_refused() -> None:
    with pytest.raises(InvalidRecord, match="U\\+0000"):
        clean_text("SMITH\x00; DROP TABLE", "name")
    with pytest.raises(InvalidRecord, match="U\\+202E"):
        clean_text("abc\u202edef", "name")
    with pytest.raises(InvalidRecord, match="over the limit"):
        clean_text("x" * 300, "name")
    assert clean_text("  Jon  ", "name") == "Jon"
    assert clean_text("line one\nline two", "narrative", 10_000) == "line one\nline two"


@given(st.lists(st.text(max_size=40), min_size=1, max_size=5))
def test_deterministic_ids_are_rfc_uuid5(parts: list[str]) -> None:
    import uuid

    from argus.records import ARGUS_NS, deterministic_id

    assert deterministic_id(*parts) == str(uuid.uuid5(ARGUS_NS, "\x1f".join(parts)))
