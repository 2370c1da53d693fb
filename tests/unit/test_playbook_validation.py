"""CACAO validation: the official examples, a generated corpus of playbooks (every one valid and
round-tripping byte for byte through the store), and mutations that must fail with the rule named."""

from __future__ import annotations

import copy
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from argus.playbooks.samples import Builder, block_ip, every_step_type, openc2
from argus.playbooks.validation import InvalidPlaybook, load, validate
from argus.security.policy import Marking
from argus.stores.playbooks import StoredPlaybook
from argus.stores.sql_playbooks import EmbeddedPlaybooks

EXAMPLES = Path(__file__).parents[1] / "data" / "cacao_examples"
KNOWN_DEFECTS = {
    "locky-bart-mbc-examples.json": {("playbook", "schema")},
    "playbook--aa1898b6-5251-49b4-aeb7-fd5e912583ff.json": {("playbook", "schema")},
}


def rules(doc: dict) -> set[tuple[str, str]]:
    return {(p.step, p.rule) for p in validate(doc)}


@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES.glob("*.json")))
def test_every_official_example(name: str, tmp_path: Path) -> None:
    raw = (EXAMPLES / name).read_bytes()
    doc = load(raw)
    problems = validate(doc)
    if name in KNOWN_DEFECTS:
        assert {("playbook", "schema")} <= {(p.step if p.step == "playbook" else "playbook", p.rule) for p in problems}
        assert problems, "the example's defect is caught"
        return
    assert problems == []
    assert round_trip(raw, tmp_path) == raw


def round_trip(raw: bytes, tmp_path: Path) -> bytes:
    doc = orjson.loads(raw)
    store = EmbeddedPlaybooks(tmp_path / "pb.db")
    try:
        m = Marking("CA0190000", "AMBER", whole=True)
        store.put(StoredPlaybook(doc["id"], doc["modified"], doc["name"], m, raw.decode(), "t", "now"))
        held = store.get(doc["id"])
        assert held is not None
        return held.text.encode()
    finally:
        store.close()


def test_the_samples_are_valid() -> None:
    assert validate(block_ip("https://fw.example.org/.well-known/openc2")) == []
    assert validate(every_step_type("playbook--0b6a3c1e-8d2f-4f5a-9e7b-1c2d3e4f5a6b")) == []


@st.composite
def playbooks(draw: st.DrawFn) -> dict:
    """Random workflows of actions, if, switch and parallel steps over typed variables."""
    b = Builder(f"generated {draw(st.integers(0, 10**9))}")
    b.var("__n__", "integer", str(draw(st.integers(-5, 5)))).var("__s__", "string", draw(st.sampled_from(["a", "b"])))
    b.var("__ip__", "ipv4-addr", draw(st.sampled_from(["10.0.0.1", "192.0.2.0/24"])), external=True)
    fw = b.agent("http-api", "fw", address={"url": ["https://fw.example.org/"]})
    nxt = b.step("end", "end")
    for i in range(draw(st.integers(1, 8))):
        kind = draw(st.sampled_from(["action", "if", "switch", "parallel"]))

        def act(name: str, then: str | None = None) -> str:
            deny = {"action": "deny", "target": {"ipv4_net": "__ip__:value"}, "profile": "slpf"}
            more = {"on_completion": then} if then else {}
            return b.step("action", name, agent=fw, commands=[openc2(deny)], **more)

        if kind == "action":
            nxt = act(f"a{i}", nxt)
        elif kind == "if":
            nxt = b.step(
                "if-condition",
                f"if{i}",
                condition=f"__n__:value > {i} OR __s__:value = 'a'",
                on_true=act(f"t{i}"),
                on_false=act(f"f{i}"),
                on_completion=nxt,
            )
        elif kind == "switch":
            nxt = b.step(
                "switch-condition",
                f"sw{i}",
                switch="__s__",
                cases={"a": act(f"ca{i}"), "default": act(f"cd{i}")},
                on_completion=nxt,
            )
        else:
            nxt = b.step("parallel", f"p{i}", next_steps=[act(f"p{i}a"), act(f"p{i}b")], on_completion=nxt)
    return b.build(b.step("start", "start", on_completion=nxt))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(doc=playbooks(), indent=st.booleans())
def test_a_generated_corpus_validates_and_round_trips(doc: dict, indent: bool, tmp_path: Path) -> None:
    raw = orjson.dumps(doc, option=orjson.OPT_INDENT_2 if indent else 0)
    assert validate(load(raw)) == []
    (tmp_path / "pb.db").unlink(missing_ok=True)
    assert round_trip(raw, tmp_path) == raw


def sample() -> dict:
    return block_ip("https://fw.example.org/.well-known/openc2")


def first_action(doc: dict) -> str:
    return doc["workflow"][doc["workflow_start"]]["on_completion"]


def test_a_missing_step_names_who_points_at_it() -> None:
    doc = sample()
    target = doc["workflow"][first_action(doc)]["on_success"]
    del doc["workflow"][target]
    assert (first_action(doc), "dangling") in rules(doc)


def test_a_dangling_on_success() -> None:
    doc = sample()
    doc["workflow"][first_action(doc)]["on_success"] = "action--00000000-0000-4000-8000-000000000000"
    assert (first_action(doc), "dangling") in rules(doc)


def test_a_bad_variable_name_and_a_wrong_type() -> None:
    doc = sample()
    doc["playbook_variables"]["__status__"]["value"] = "two hundred"
    assert ("playbook", "variable-type") in rules(doc)
    doc = sample()
    doc["playbook_variables"]["status"] = {"type": "string"}
    assert ("playbook", "schema") in rules(doc)  # the schema's pattern catches the name


def test_on_completion_beside_on_success() -> None:
    doc = sample()
    step = doc["workflow"][first_action(doc)]
    step["on_completion"] = step["on_success"]
    found = rules(doc)
    assert (first_action(doc), "on_completion") in found


def test_an_undeclared_variable_in_a_condition_and_an_unknown_agent() -> None:
    doc = every_step_type()
    cond = next(k for k, s in doc["workflow"].items() if s["type"] == "while-condition")
    doc["workflow"][cond]["condition"] = "__missing__:value < 3"
    act = next(k for k, s in doc["workflow"].items() if s["type"] == "action")
    doc["workflow"][act]["agent"] = "group--00000000-0000-4000-8000-000000000000"
    found = rules(doc)
    assert (cond, "variable") in found and (act, "agent") in found


def test_unreachable_steps_and_cycles() -> None:
    doc = sample()
    stray = "end--00000000-0000-4000-8000-000000000001"
    doc["workflow"][stray] = {"type": "end"}
    assert (stray, "unreachable") in rules(doc)
    doc = sample()
    a = first_action(doc)
    b = doc["workflow"][a]["on_success"]
    doc["workflow"][b]["on_completion"] = a  # a loop that is not a while-condition
    assert any(rule == "cycle" for _, rule in rules(doc))


def test_a_malformed_openc2_body_is_named() -> None:
    doc = sample()
    a = first_action(doc)
    doc["workflow"][a]["commands"] = [openc2({"action": "obliterate", "target": {"ipv4_net": "x", "file": {}}})]
    found = {(p.step, p.rule, p.message.split(":")[0]) for p in validate(doc)}
    assert (a, "openc2", "commands/0") in found


@pytest.mark.parametrize(
    ("raw", "rule"),
    [
        (b'{"a":' * 100 + b"1" + b"}" * 100, "depth"),
        (b"[" * 10_000 + b"]" * 10_000, "json"),  # beyond the parser's own recursion bound
        (b'{"name": "' + b"x" * (300 * 1024) + b'"}', "size"),
        (b"{" + b" " * (3 * 1024 * 1024) + b"}", "size"),
        (b"{not json", "json"),
    ],
)
def test_hostile_documents_are_refused_with_the_rule(raw: bytes, rule: str) -> None:
    with pytest.raises(InvalidPlaybook) as e:
        load(raw)
    assert e.value.problems[0].rule == rule


def test_signatures_verify_and_a_changed_playbook_fails() -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    from argus.playbooks.signatures import sign

    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    doc = sample()
    sig = {
        "type": "jss",
        "id": "signature--0b6a3c1e-8d2f-4f5a-9e7b-1c2d3e4f5a6b",
        "created": doc["created"],
        "modified": doc["modified"],
        "signee": "Partner SOC",
        "related_to": doc["id"],
        "related_version": doc["modified"],
        "hash_algorithm": "sha256",
        "algorithm": "ES256",
        "public_key": pem.decode(),
        "value": sign(doc, key, "ES256"),
    }
    signed = doc | {"signatures": [sig]}
    assert validate(copy.deepcopy(signed)) == []
    tampered = copy.deepcopy(signed)
    tampered["name"] = "Block something else"
    assert ("playbook", "signature") in rules(tampered)
