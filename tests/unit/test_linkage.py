"""Person linkage: field levels, weights, EM, term frequencies, vetoes, bridging, decisions."""

import random

from argus.linkage.model import PersonModel, estimate, estimate_u
from argus.linkage.person import FIELDS, LEVELS, Mention
from argus.linkage.resolver import PersonResolver, apart_key
from argus.state import NodeState

MODEL = PersonModel.load()


def mention(name: str, dob: str | None = None, **kw: object) -> Mention:
    return Mention.of({"name": name, "dob": dob, **kw})


def resolver(state: NodeState | None = None) -> PersonResolver:
    return PersonResolver(NodeState() if state is None else state, MODEL, 0.5, 0.05, 400)


def test_each_field_reaches_its_level_and_the_weight_is_the_sum_of_the_parts() -> None:
    m = mention(
        "SMITH, JON",
        "1990-01-02",
        sex="M",
        phones=["5551234567"],
        identifiers=[{"kind": "DL", "value": "S1", "issuer": "CA"}],
    )
    prof = mention(
        "Jonathan Smith",
        "1990-02-01",
        sex="M",
        phones=["5551234567"],
        identifiers=[{"kind": "DL", "value": "S1", "issuer": "CA"}],
    ).profile()
    s = MODEL.score(m, prof)
    got = {f: lvl for f, lvl, _ in s.evidence}
    assert got == {"surname": "exact", "given": "variant or initial", "dob": "day and month swapped", "sex": "same",
                   "phone": "same", "identifier": "same"}  # fmt: skip
    assert s.weight == sum(w for _, _, w in s.evidence) or abs(s.weight - sum(w for _, _, w in s.evidence)) < 0.01
    assert s.veto is None


def test_vetoes_different_identifiers_far_dobs_and_sex() -> None:
    dl = lambda v: [{"kind": "DL", "value": v, "issuer": "CA"}]  # noqa: E731
    prof = mention("SMITH, JON", "1990-01-02", sex="M", identifiers=dl("S1234567")).profile()
    assert (
        MODEL.score(mention("SMITH, JON", identifiers=dl("X9999999")), prof).veto
        == "a different identifier of the same kind"
    )
    assert MODEL.score(mention("SMITH, JON", identifiers=dl("S1234568")), prof).veto is None  # one slip: not a veto
    assert MODEL.score(mention("SMITH, JON", "1960-05-05"), prof).veto == "DOBs far apart"
    assert MODEL.score(mention("SMITH, JON", sex="F"), prof).veto == "sex differs"


def test_a_common_name_counts_for_less_than_a_rare_one() -> None:
    prof_common, prof_rare = mention("SMITH, JOHN").profile(), mention("ZYWICKI, JOHN").profile()
    tf = lambda f, v: {"SMITH": 0.02, "ZYWICKI": 0.00002}.get(v) if f == "surname" else None  # noqa: E731
    common = MODEL.score(mention("SMITH, JOHN"), prof_common, tf).weight
    rare = MODEL.score(mention("ZYWICKI, JOHN"), prof_rare, tf).weight
    assert rare - common > 5


def test_em_recovers_m_from_unlabelled_pairs() -> None:
    """Pairs drawn from a known m and u: EM with u given finds m within a few points."""
    rng = random.Random(3)
    true_m = {f: [1 / len(LEVELS[f])] * len(LEVELS[f]) for f in FIELDS}
    true_m["surname"] = [0.05, 0.02, 0.03, 0.1, 0.8]
    true_m["dob"] = [0.02, 0.03, 0.05, 0.05, 0.85]
    u = {f: [0.9] + [0.1 / (len(LEVELS[f]) - 1)] * (len(LEVELS[f]) - 1) for f in FIELDS}

    def draw(p: list[float]) -> int:
        return rng.choices(range(len(p)), p)[0]

    pairs = [{f: draw(true_m[f] if i % 3 == 0 else u[f]) for f in FIELDS} for i in range(20_000)]
    model, lam = estimate(pairs, estimate_u({f: draw(u[f]) for f in FIELDS} for _ in range(20_000)), MODEL)
    assert abs(lam - 1 / 3) < 0.05
    assert abs(model.m["surname"][-1] - 0.8) < 0.05 and abs(model.m["dob"][-1] - 0.85) < 0.05


def test_a_bridging_record_merges_two_entities_and_an_analysts_apart_sticks() -> None:
    state = NodeState()
    r = resolver(state)
    a = r.resolve(mention("SMITH, JON", "1990-01-02", phones=["5551234567"]), "R1", 0)
    b = r.resolve(mention("SMYTHE, JONATHAN", None, sex="M", identifiers=[{"kind": "SSN", "value": "123456789"}],
                          addresses=[{"kind": "residence", "address": "12 Main St"}]), "R2", 0)  # fmt: skip
    assert a.entity_id != b.entity_id
    # one record carries the phone of the first and the SSN and address of the second
    ssn = [{"kind": "SSN", "value": "123456789"}]
    home = [{"kind": "residence", "address": "12 Main Street"}]
    c = r.resolve(mention("SMITH, JON", "1990-01-02", phones=["5551234567"], identifiers=ssn, addresses=home), "R3", 0)
    assert c.entity_id == a.entity_id
    assert [(m["survivor_id"], m["merged_id"]) for m in c.merges] == [(a.entity_id, b.entity_id)]
    assert "bridges them" in c.merges[0]["reason"]
    r.decide(
        {
            "entity_id": b.entity_id,
            "other_id": a.entity_id,
            "verdict": "APART",
            "analyst": "x",
            "agency": "A",
            "reason": "two men",
        }
    )
    assert state.get(f"alias:{b.entity_id}") is None and state.get(apart_key(a.entity_id, b.entity_id)) == "two men"
    again = r.resolve(
        mention("SMITH, JON", "1990-01-02", phones=["5551234567"], identifiers=[{"kind": "SSN", "value": "123456789"}]),
        "R4",
        0,
    )
    assert again.merges == []  # kept apart: no record merges them again


def test_an_analysts_same_merges_a_possible_match() -> None:
    state = NodeState()
    r = resolver(state)
    a = r.resolve(mention("SMITH, JONATHAN", "1990-01-02"), "R1", 0)
    b = r.resolve(mention("Jon Smith"), "R2", 0)
    assert b.entity_id != a.entity_id and [e for e, _ in b.possible] == [a.entity_id]
    r.decide(
        {
            "entity_id": b.entity_id,
            "other_id": a.entity_id,
            "verdict": "SAME",
            "analyst": "x",
            "agency": "A",
            "reason": "same man",
        }
    )
    assert state.get(f"alias:{b.entity_id}") == a.entity_id
    assert ["SMITH", "JON"] in state.get(f"p:{a.entity_id}")["n"]


def test_an_invalid_dob_is_no_evidence() -> None:
    """The connector keeps an impossible DOB as an invalid field and passes dob None: the mention
    is compared on the rest, never on the bad value."""
    prof = mention("SMITH, JON", "1990-01-02").profile()
    m = Mention.of(
        {"name": "SMITH, JON", "dob": None, "invalid": [{"field": "dob", "value": "1990-21-02", "reason": "month 21"}]}
    )
    assert "dob" not in {f for f, _, _ in MODEL.score(m, prof).evidence}


def test_confirmed_matches_pull_m_towards_what_they_show() -> None:
    """Analysts' confirmations are labels: a level only they show gains weight in m."""
    from argus.linkage.model import vector_of

    rng = random.Random(5)
    u = {f: [0.9] + [0.1 / (len(LEVELS[f]) - 1)] * (len(LEVELS[f]) - 1) for f in FIELDS}
    pairs = [{f: rng.choice([None, 0, len(LEVELS[f]) - 1]) for f in FIELDS} for _ in range(2000)]
    swap = vector_of([{"field": "surname", "level": "similar"}, {"field": "given", "level": "exact"}])
    assert swap["surname"] == 1 and swap["dob"] is None
    plain, _ = estimate(pairs, u, MODEL)
    taught, _ = estimate(pairs, u, MODEL, confirmed=[swap] * 20)
    assert taught.m["surname"][1] > 2 * plain.m["surname"][1]
