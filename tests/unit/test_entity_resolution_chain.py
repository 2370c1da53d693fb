"""Entity resolution split by kind over a chain of nodes gives exactly one node's answer.

The production topology runs persons, vehicles and places as three nodes, each with its own state
(its own task and changelog on Kafka). These tests hold the split to what it claims: on the
benchmark's synthetic input (nicknames, typos, transposed DOBs, plate variants, VIN merges) the
chain's resolved records and query answers equal, field for field, one node resolving every kind,
and the three states are disjoint pieces of that one node's state.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from argus.linkage.resolver import apart_key
from argus.records import Record
from argus.testing import Harness
from bench.pipeline import write_inputs
from connectors.cad import CadIncidentConnector
from connectors.rms import RmsConnector
from connectors.sar import SarConnector
from processors.dedup import DedupProcessor
from processors.entity_resolution import EntityResolutionProcessor
from tests.conftest import query_record, rms_record

KINDS = (["person"], ["vehicle"], ["place"])


def node(kinds: list[str] | None = None) -> Harness:
    cfg = EntityResolutionProcessor.Config(kinds=kinds) if kinds else EntityResolutionProcessor.Config()
    return Harness(EntityResolutionProcessor(cfg, name="er"))


def reports(root: Path, n: int) -> list[Record]:
    write_inputs(root, n, seed=11)
    inbox = root / "inbox"
    out: list[Record] = []
    for cls, sub, fmt in ((RmsConnector, "rms", "jsonl"), (CadIncidentConnector, "cad/incidents", "jsonl"),
                          (SarConnector, "sar", "json")):  # fmt: skip
        run = Harness(cls(cls.Config(path=str(inbox / sub), format=fmt), name=sub.replace("/", "_"))).run()
        assert not run.dead_letters
        out.extend(run.outputs)
    random.Random(5).shuffle(out)  # sources interleaved; both sides get this one order
    return Harness(DedupProcessor()).run(out).outputs


def queries(resolved: list[dict[str, Any]]) -> list[Record]:
    """Plate and name queries built from what was resolved, typed as an officer would."""
    out = []
    for i, body in enumerate(resolved[:: max(1, len(resolved) // 60)]):
        for e in body["entities"]:
            a = e["attributes"]
            if e["subtype"] == "vehicle" and a.get("plate"):
                out.append(query_record(query_id=f"QV{i}", plate=a["plate"].lower(), state=a.get("plate_state")))
            elif e["subtype"] == "person":
                q = {"query_type": "PERSON", "name": a["name"], "plate": None, "state": None}
                out.append(query_record(query_id=f"QP{i}", dob=a.get("dob"), **q))
    return out


def through_chain(chain: list[Harness], rec: Record) -> list[Record]:
    for h in chain:
        run = h.run([rec])
        assert not run.dead_letters, run.dead_letters
        (rec,) = run.outputs
    return [rec]


def test_a_chain_split_by_kind_resolves_exactly_as_one_node(tmp_path: Path) -> None:
    recs = reports(tmp_path, 1500)
    one, chain = node(), [node(k) for k in KINDS]
    want = [r.body for r in one.run(recs).outputs]
    got = [out.body for rec in recs for out in through_chain(chain, rec)]
    assert len(want) == len(recs) == len(got)
    assert got == want
    # the input exercised what the split must keep: fuzzy persons, vehicle merges, shared places
    ents = [e for b in want for e in b["entities"]]
    assert sum(e["match_method"] == "probabilistic" and e["subtype"] == "person" for e in ents) > 10
    assert sum(len(b["merges"]) for b in want) > 0
    assert sum(e["match_method"] == "exact" and e["kind"] == "LOCATION" for e in ents) > 10

    # Field queries: each is answered by the one node that holds its kind, as one node answers it.
    qs = queries(want)
    assert {q.body["query_type"] for q in qs} == {"VEHICLE", "PERSON"}
    for q in qs:
        answers = [out.body for h in chain for out in h.run([q]).outputs]
        assert answers == [out.body for out in one.run([q]).outputs]
    assert sum(bool(out.body["matches"]) for q in qs for out in one.run([q]).outputs) > len(qs) // 2

    # The state is partitioned: three disjoint pieces whose union is the one node's state.
    parts = [dict(h.state._committed) for h in chain]
    keys = [set(p) for p in parts]
    assert not (keys[0] & keys[1]) and not (keys[0] & keys[2]) and not (keys[1] & keys[2])
    assert {k: v for p in parts for k, v in p.items()} == one.state._committed


def test_a_chain_node_refuses_a_kind_resolved_upstream() -> None:
    first = node(["person", "vehicle"]).run(Harness(DedupProcessor()).run([rms_record()]).outputs).outputs
    again = node(["vehicle", "place"]).run(first)
    assert not again.outputs
    ((_, exc),) = again.dead_letters
    assert "vehicle mentions were resolved upstream already" in str(exc)


def test_decisions_reach_the_index_holding_the_entity() -> None:
    """A decision names two entities, not their kind: the vehicle index keeps any pair apart (it
    holds no per-entity record to tell), the person index only a pair one of whose entities it
    holds, and the place index none."""
    decision = Record(
        {"decision_id": "D1", "action": "UNMERGE", "entity_id": "a", "other_id": "b", "reason": "two cars"}
    )
    for kinds, kept in ((["person"], None), (["place"], None), (["vehicle"], "two cars")):
        h = node(kinds)
        assert list(h.node.process(decision, h.ctx)) == []
        assert h.state.get(apart_key("a", "b")) == kept
    h = node(["person"])
    h.state.put("p:a", {"n": [["SMITH", "JON"]], "d": [], "i": [], "ph": [], "em": [], "a": []})
    assert list(h.node.process(decision, h.ctx)) == []
    assert h.state.get(apart_key("a", "b")) == "two cars"
