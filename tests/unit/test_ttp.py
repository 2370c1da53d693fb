"""TTP matching (argus/stix/ttp.py, processors/ttp_matching.py) on the ATT&CK ICS sample."""

from __future__ import annotations

from pathlib import Path

import orjson

from argus.stix.ttp import TechniqueIndex, words

SAMPLE = Path(__file__).parents[1] / "data" / "stix" / "attack-ics-sample.json"
OBJS = orjson.loads(SAMPLE.read_bytes())["objects"]


def test_a_narrative_is_matched_to_techniques_with_the_words_that_matched() -> None:
    index = TechniqueIndex.from_objects(OBJS)
    text = (
        "Plant engineer reports an intruder used a command-line interface on the HMI to execute commands, "
        "then set up a connection proxy relaying network traffic to an outside address."
    )
    got = {m.attack_id: m for m in index.match(text)}
    assert {"T0807", "T0884"} <= set(got)
    assert any("Command-Line Interface" in e for e in got["T0807"].evidence)
    assert any('"proxy"' in e for e in got["T0884"].evidence)
    assert got["T0807"].tactics == ["execution"]
    assert index.match("Shoplifting of groceries at a supermarket on Shaw Avenue.") == []


def test_an_attack_id_named_outright_is_evidence_and_revoked_techniques_are_not_matched() -> None:
    index = TechniqueIndex.from_objects(OBJS)
    (m,) = [m for m in index.match("Indicator seen with T0819 activity") if m.attack_id == "T0819"]
    assert m.score == 1.0 and m.evidence[0] == "names T0819"
    assert not [m for m in index.match("Indicator seen with T0810 activity") if m.attack_id == "T0810"]  # deprecated
    revoked = [o for o in OBJS if o["type"] == "attack-pattern" and (o.get("revoked") or o.get("x_mitre_deprecated"))]
    assert revoked and all(o["name"] not in {t.name for t in index.techniques} for o in revoked)


def test_intrusion_sets_are_attributed_by_technique_overlap_with_reasons() -> None:
    index = TechniqueIndex.from_objects(OBJS)
    (sandworm,) = [(n, used) for n, used in index.groups.values() if n == "Sandworm Team"]
    used = sorted(sandworm[1])
    assert len(used) >= 2
    names = {t.attack_id: t.name for t in index.techniques}
    text = ". ".join(f"The actor relied on {names[t].lower()}" for t in used)
    matches = index.match(text, top=8)
    (top, *_rest) = index.attribute(matches)
    assert top.name == "Sandworm Team" and set(top.shared) == set(used)
    assert all(any(t in r for r in top.reasons) for t in used)
    assert index.attribute([]) == []


def test_words_drop_stopwords_and_fold_plurals() -> None:
    assert words("Adversaries may use the Proxies and commands") == ["proxie", "command"]
