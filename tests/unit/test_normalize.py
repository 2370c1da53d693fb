import pytest
from hypothesis import given
from hypothesis import strategies as st

from argus.normalize import (
    address_key,
    first_names_compatible,
    parse_name,
    plate_key,
    soundex,
    vin_check_digit,
    vin_valid,
)


@pytest.mark.parametrize("typed", ["8ABC123", "8 ABC-123", "8-ABC 123", "8abc123", "8ABC-I23", " 8.ABC.123 "])
def test_plate_variants_share_a_key(typed: str) -> None:
    assert plate_key(typed) == "8ABC123"


@given(
    st.text(alphabet="ABCDEFGHJKLMNPRSTUVWXYZ0123456789", min_size=2, max_size=8),
    st.lists(st.sampled_from([" ", "-"]), max_size=3),
)
def test_plate_key_ignores_separators(plate: str, seps: list[str]) -> None:
    spaced = plate
    for i, s in enumerate(seps):
        pos = (i + 1) % len(plate)
        spaced = spaced[:pos] + s + spaced[pos:]
    assert plate_key(spaced) == plate_key(plate)


def test_vin_check_digit() -> None:
    assert vin_valid("1HGCM82633A004352")
    assert not vin_valid("1HGCM82633A004353")  # wrong check digit
    assert not vin_valid("1HGCM8263OA004352")  # contains O
    assert not vin_valid("1HGCM82633A00435")  # 16 characters
    assert vin_check_digit("1M8GDM9AXKP042788") == "X"


@pytest.mark.parametrize(
    "raw,last,first,middle",
    [
        ("SMITH, JONATHAN A", "SMITH", "JONATHAN", "A"),
        ("Jon Smith", "SMITH", "JON", ""),
        ("Jonathan A. Smith Jr.", "SMITH", "JONATHAN", "A"),
        ("O'BRIEN, PATRICK", "OBRIEN", "PATRICK", ""),
    ],
)
def test_parse_name(raw: str, last: str, first: str, middle: str) -> None:
    n = parse_name(raw)
    assert (n.last, n.first, n.middle) == (last, first, middle)


def test_nicknames_and_initials() -> None:
    assert first_names_compatible("JON", "JONATHAN")
    assert first_names_compatible("BILL", "WILLIAM")
    assert first_names_compatible("J", "JONATHAN")
    assert not first_names_compatible("MARY", "JONATHAN")


def test_soundex_survives_typos() -> None:
    assert soundex("SMITH") == soundex("SMTIH") == soundex("SMYTH") == "S530"


def test_address_key() -> None:
    assert address_key("2200 West Shaw Avenue") == address_key("2200 W. Shaw Ave") == "2200 W SHAW AVE"


@pytest.mark.parametrize(
    ("free", "ncic"),
    [
        ("Maria de la Cruz", "DE LA CRUZ, MARIA"),
        ("Pieter van der Berg", "VAN DER BERG, PIETER"),
        ("Michael St. John", "ST JOHN, MICHAEL"),
        ("Ana da Silva", "DA SILVA, ANA"),
        ("Dr. Jane Doe", "DOE, JANE"),
        ("Det. Mary O'Neil-Smith", "ONEIL SMITH, MARY"),
        ("John Smith III", "SMITH III, JOHN"),
    ],
)
def test_a_free_form_name_keys_as_its_ncic_form(free: str, ncic: str) -> None:
    assert parse_name(free).key == parse_name(ncic).key


def test_soundex_counts_letters_only() -> None:
    assert soundex("123") == soundex("") == "0000" and soundex("O'Brien") == "O165"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("12 Oak Ln #3", "12 Oak Lane Apt 3"),
        ("12 Oak Ln Unit 3", "12 Oak Lane Suite 3"),
        ("1600 Pennsylvania Ave NW", "1600 Pennsylvania Avenue Northwest"),
        ("200 1st St", "200 First Street"),
        ("88 Mt Vernon Rd", "88 Mount Vernon Road"),
        ("45 St Charles Ave", "45 Saint Charles Avenue"),
    ],
)
def test_one_address_written_two_ways_has_one_key(a: str, b: str) -> None:
    assert address_key(a) == address_key(b)


def test_different_addresses_keep_different_keys() -> None:
    assert address_key("12 Oak Ln Apt 3") != address_key("12 Oak Ln Apt 4")
    assert address_key("1200 W Main St") != address_key("1200 E Main St")
