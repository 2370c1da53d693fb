from pathlib import Path

import pytest
import yaml

from argus.topology import TopologyError, check, load_topology


def write(tmp_path: Path, doc: dict) -> Path:
    p = tmp_path / "topology.yaml"
    p.write_text(yaml.safe_dump(doc))
    return p


def base(repo: Path) -> dict:
    """The repository topology with its pipeline inlined, so tests can edit any node."""
    doc = yaml.safe_load((repo / "topology.yaml").read_text())
    pipeline = yaml.safe_load((repo / "pipelines" / "fusion.yaml").read_text())
    doc.pop("include")
    doc["topics"] = pipeline["topics"]
    doc["nodes"].update(pipeline["nodes"])
    return doc


def test_repository_topology_is_valid(repo: Path) -> None:
    topo = load_topology(repo / "topology.yaml")
    assert check(topo) == []
    er = {"resolve_persons", "resolve_vehicles", "resolve_places"}
    assert {"dedup", *er, "correlate_persons", "correlation", "graph_sink", "search_sink", "rms"} <= set(topo.nodes)


def test_unknown_keys_are_rejected_everywhere(tmp_path: Path, repo: Path) -> None:
    doc = base(repo)
    doc["colour"] = "blue"
    doc["nodes"]["rms"]["config"]["pathh"] = "x"
    doc["nodes"]["dedup"] = {"use": "dedup", "inputs": ["rms.records"], "outputs": ["reports"], "retries": 3}
    with pytest.raises(TopologyError) as exc:
        check(load_topology(write(tmp_path, doc)))
    assert "colour: unknown key" in str(exc.value)


def test_bad_wiring_is_reported_with_its_place(tmp_path: Path, repo: Path) -> None:
    doc = base(repo)
    doc["nodes"]["rms"]["config"]["pathh"] = "x"
    doc["nodes"]["correlation"]["inputs"] = ["resolved", "nowhere"]
    doc["nodes"]["graph_sink"]["inputs"] = ["reports"]
    doc["nodes"]["mystery"] = {"use": "no_such_node", "inputs": ["alerts"]}
    with pytest.raises(TopologyError) as exc:
        check(load_topology(write(tmp_path, doc)))
    msg = str(exc.value)
    assert "node 'rms': config.pathh: unknown key" in msg
    assert "node 'correlation': input topic 'nowhere' is not declared" in msg
    assert "input 'reports' carries report.v2, but GraphSink reads only resolved.v2" in msg
    assert "unknown node type 'no_such_node'" in msg


def test_topic_nobody_writes_and_unknown_backend(tmp_path: Path, repo: Path, monkeypatch) -> None:
    doc = base(repo)
    del doc["nodes"]["cad_queries"]
    monkeypatch.setenv("ARGUS_GRAPH", "arangodb://127.0.0.1:8529")
    monkeypatch.setenv("ARGUS_AUDIT", "postgresql://127.0.0.1/argus")  # the API's stores are checked too
    with pytest.raises(TopologyError) as exc:
        check(load_topology(write(tmp_path, doc)))
    assert "topic 'cad.queries' is read by a node but no node writes it" in str(exc.value)
    assert "graph: no backend for URL scheme 'arangodb'" in str(exc.value)
    assert "audit: no backend for URL scheme 'postgresql'" in str(exc.value)


def test_an_entity_resolution_chain_resolves_every_kind_once(tmp_path: Path, repo: Path) -> None:
    doc = base(repo)
    doc["nodes"]["resolve_vehicles"]["config"]["kinds"] = ["person", "vehicle"]
    with pytest.raises(TopologyError) as exc:
        check(load_topology(write(tmp_path, doc)))
    assert "node 'resolve_vehicles': resolves person again: a node upstream already does" in str(exc.value)

    doc = base(repo)  # places dropped from the chain: the vehicles node writes what leaves it
    del doc["nodes"]["resolve_places"], doc["topics"]["resolved.vehicles"]
    doc["nodes"]["resolve_vehicles"]["outputs"] = ["resolved", "queries.resolved"]
    with pytest.raises(TopologyError) as exc:
        check(load_topology(write(tmp_path, doc)))
    readers = ", ".join(["correlate_persons", "deconfliction", "graph_sink", "requirements", "risk_scoring",
                         "sar_triage", "search_sink", "ttp_matching"])  # fmt: skip
    assert f"'resolved' leaves entity resolution for {readers}" in str(exc.value)
    assert "with place never resolved" in str(exc.value)

    doc = base(repo)  # one node resolving every kind, as by default, is a chain of one
    for n in ("resolve_vehicles", "resolve_places"):
        del doc["nodes"][n]
    del doc["topics"]["resolved.persons"], doc["topics"]["resolved.vehicles"]
    doc["nodes"]["resolve_persons"].update(
        inputs=["reports", "cad.queries", "decisions"], outputs=["resolved", "queries.resolved"], config={}
    )
    doc["nodes"]["correlation"]["colocate_with"] = "resolve_persons"  # the one node answering queries
    assert check(load_topology(write(tmp_path, doc))) == []


def test_a_correlation_chain_correlates_every_kind_once(tmp_path: Path, repo: Path) -> None:
    doc = base(repo)
    doc["nodes"]["correlation"]["config"]["kinds"] = ["person", "vehicle"]
    with pytest.raises(TopologyError) as exc:
        check(load_topology(write(tmp_path, doc)))
    assert "node 'correlation': correlates person again: a node upstream already does" in str(exc.value)

    doc = base(repo)  # the persons' node told to write alerts only: vehicles never correlated
    doc["nodes"]["correlate_persons"]["outputs"] = ["alerts"]
    doc["nodes"]["correlation"]["inputs"] = ["resolved", "queries.resolved", "decisions", "purges"]
    del doc["topics"]["correlating"]
    with pytest.raises(TopologyError) as exc:
        check(load_topology(write(tmp_path, doc)))
    assert "node 'correlate_persons': leaves vehicle uncorrelated" in str(exc.value)

    doc = base(repo)  # a sink reading the chain's inner topic
    doc["nodes"]["search_sink"]["inputs"] = ["resolved", "correlating"]
    with pytest.raises(TopologyError) as exc:
        check(load_topology(write(tmp_path, doc)))
    assert "'correlating' is read by search_sink, which are not correlation" in str(exc.value)

    doc = base(repo)  # one node holding both kinds and composing its alerts, as by default, is a chain of one
    del doc["nodes"]["correlate_persons"], doc["topics"]["correlating"]
    del doc["nodes"]["compose_alerts"], doc["topics"]["report.hits"]
    doc["nodes"]["correlation"].update(
        inputs=["resolved", "queries.resolved", "decisions", "purges"], outputs=["alerts"], config={}
    )
    assert check(load_topology(write(tmp_path, doc))) == []


def test_a_correlation_chain_composes_its_alerts_in_one_place(tmp_path: Path, repo: Path) -> None:
    doc = base(repo)  # the vehicles' node composing alerts would never see the persons' parts
    doc["nodes"]["correlation"]["config"]["compose_alerts"] = True
    doc["nodes"]["correlation"]["outputs"] = ["alerts"]
    with pytest.raises(TopologyError) as exc:
        check(load_topology(write(tmp_path, doc)))
    assert (
        "node 'correlate_persons': compose_alerts is false here but not on correlation: every correlation node "
        "must compose alerts the same way"
    ) in str(exc.value)

    doc = base(repo)  # parts nobody gathers
    del doc["nodes"]["compose_alerts"]
    with pytest.raises(TopologyError) as exc:
        check(load_topology(write(tmp_path, doc)))
    assert "'report.hits' is read by no alert_composer node: its alerts would never be sent" in str(exc.value)

    doc = base(repo)  # parts promised but no topic to write them to
    doc["nodes"]["correlation"]["outputs"] = ["alerts"]
    with pytest.raises(TopologyError) as exc:
        check(load_topology(write(tmp_path, doc)))
    assert "node 'correlation': compose_alerts is false but it writes no report_hits.v1 topic" in str(exc.value)

    doc = base(repo)  # composing here while writing parts: every alert would be sent twice
    for n in ("correlate_persons", "correlation"):
        doc["nodes"][n]["config"]["compose_alerts"] = True
    with pytest.raises(TopologyError) as exc:
        check(load_topology(write(tmp_path, doc)))
    assert "writes 'report.hits' (report_hits.v1) but composes its alerts itself" in str(exc.value)


def test_colocation_names_a_node_that_has_one_worker(tmp_path: Path, repo: Path) -> None:
    for change, problem in (
        ({"correlation": "resolve_nothing"}, "node 'correlation': colocate_with: no node 'resolve_nothing'"),
        ({"correlation": "dedup"}, "node 'correlation': colocate_with: 'dedup' is split by partition"),
        ({"resolve_vehicles": "correlation"}, "colocate_with: goes round in a circle back to"),
    ):
        doc = base(repo)
        for node, other in change.items():
            doc["nodes"][node]["colocate_with"] = other
        with pytest.raises(TopologyError) as exc:
            check(load_topology(write(tmp_path, doc)))
        assert problem in str(exc.value)
