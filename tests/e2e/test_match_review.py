"""Possible matches end to end: entity resolution raises one, the graph keeps it for review, an
analyst's SAME decision merges the two persons in resolution, correlation and the graph; and
`argus er train` fits the person model to the holdings, which a node then uses."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import orjson

from argus.api.services import Services
from argus.runtime.core import Runtime
from argus.testing import Harness
from argus.topology import load_topology
from processors.entity_resolution import EntityResolutionProcessor
from tests.conftest import rms_record
from tests.e2e.conftest import argus, make_workdir


def _report(rid: str, person: dict) -> bytes:
    return orjson.dumps({
        "report_id": rid, "agency": "CA0190000", "tlp": "TLP:GREEN", "offenses": ["120"], "reliability": "B",
        "validity": 2, "occurred_at": datetime.now(UTC).isoformat(), "persons": [person],
    }) + b"\n"  # fmt: skip


def test_a_possible_match_is_kept_for_review_and_a_same_decision_merges_everywhere(tmp_path: Path) -> None:
    topo_file = make_workdir(tmp_path, background=20)
    (tmp_path / "inbox" / "rms" / "zz-review.jsonl").write_bytes(
        _report("RV-1", {"role": "suspect", "name": "QUARTERMAIN, ELIZABETH", "dob": "1983-05-17", "sex": "F"})
        + _report("RV-2", {"role": "suspect", "name": "Liz Quartermain"})  # a short form, no DOB, no sex
    )
    topo = load_topology(topo_file, tmp_path / "data")
    with Runtime(topo) as rt:
        rt.run_until_idle()
    svc = Services(topo)
    g = svc.graph()
    (pm,) = [e for e in g.edges_by_rel("POSSIBLE_SAME_AS", 500) if "QUARTERMAIN" in g.node(e["dst"])["label"]]
    assert {x["field"] for x in pm["props"]["evidence"]} >= {"surname", "given"}
    assert g.canonical(pm["src"]) != g.canonical(pm["dst"])
    svc.decide(pm["src"], pm["dst"], "SAME", "an-fresno", "CA0190000", "same woman")
    svc.close()
    with Runtime(topo) as rt:
        rt.run_until_idle()
        persons = rt.bus.load_state("resolve_persons")
        assert persons[f"alias:{pm['src']}"] == pm["dst"]
    g = Services(topo).graph()
    assert g.canonical(pm["src"]) == pm["dst"]
    # a later "Liz Quartermain" record now resolves to the one person
    (tmp_path / "inbox" / "rms" / "zz-review-2.jsonl").write_bytes(
        _report("RV-3", {"role": "suspect", "name": "QUARTERMAIN, LIZ", "dob": "1983-05-17", "sex": "F"})
    )
    with Runtime(topo) as rt:
        rt.run_until_idle()
        last = [r for r in rt.read_topic("resolved") if r.value["body"]["report"].get("report_id") == "RV-3"]
        person = next(e for e in last[0].value["body"]["entities"] if e["subtype"] == "person")
        assert person["entity_id"] == pm["dst"] and person["evidence"]
    # the confirmed match is a label for the next fit
    r = argus(
        "er",
        "train",
        "-t",
        str(topo_file),
        "--data-dir",
        str(tmp_path / "data"),
        "--out",
        str(tmp_path / "m.json"),
        "--json",
    )
    assert r.returncode == 0, r.stderr
    assert orjson.loads(r.stdout)["confirmed"] == 1


def test_er_train_fits_the_model_to_the_holdings_and_a_node_uses_it(tmp_path: Path) -> None:
    topo_file = make_workdir(tmp_path, background=300)
    assert argus("run", "--until-idle", "-t", str(topo_file), "--metrics-port", "0").returncode == 0
    model = tmp_path / "person_model.json"
    r = argus("er", "train", "-t", str(topo_file), "--out", str(model), "--json")
    assert r.returncode == 0, r.stderr
    fitted = orjson.loads(r.stdout)
    assert fitted["mentions"] > 100 and fitted["weights"]["dob"][-1] > fitted["weights"]["dob"][0]
    doc = orjson.loads(model.read_bytes())
    assert doc["meta"]["source"] == "EM" and set(doc["levels"]) == set(doc["m"]) == set(doc["u"])
    # a node whose `model:` names the file resolves with its weights
    er = Harness(EntityResolutionProcessor(EntityResolutionProcessor.Config(kinds=["person"], model=str(model))))
    out = er.run([rms_record(report_id="M1"), rms_record(report_id="M2")]).outputs
    second = next(e for e in out[1].body["entities"] if e["subtype"] == "person")
    dob_w = next(e["weight"] for e in second["evidence"] if e["field"] == "dob")
    assert dob_w == round(fitted["weights"]["dob"][-1], 3)
    empty = argus(
        "er", "train", "-t", str(topo_file), "--out", str(tmp_path / "m2.json"), "--data-dir", str(tmp_path / "none")
    )
    assert empty.returncode != 0
