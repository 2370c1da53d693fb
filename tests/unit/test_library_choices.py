"""The cases docs/libraries.md decides by (bench/libraries.py): Argus's own code keeps getting
every one of them right, or the decision to keep it is no longer true."""

from __future__ import annotations

from bench import libraries


def test_argus_answers_every_case_the_library_choices_rest_on() -> None:
    lines = libraries.schemas() + libraries.names() + libraries.addresses() + libraries.phonetic()
    text = "\n".join(lines)
    assert "argus 14/14" in text, text
    assert "argus 23/24" in text, text  # the one left no parser can know: two given names or two surnames
    assert "argus 11/11 same, 4/4 apart" in text, text
    assert "differ on 0 of" in text, text
