"""Correlation split by kind over a chain of nodes sends exactly one node's alerts.

The production topology runs correlation as two nodes (pipelines/fusion.yaml): `correlate_persons`
holds the records of persons, `correlation` those of vehicles, each with its own state (its own
task and changelog on Kafka). The first passes each report on (correlating.v3) with the hits it
found; the second adds its own and sends the alerts. Or (`compose_alerts: false`, as in production)
the first passes what it found on encoded, the second hands that and its own to the alert
composer (report_hits.v1), which sends the alerts. These tests hold the split to what it claims,
both ways:
on the benchmark's synthetic input, resolved, the chain's alerts (incident hits, encounter notices,
related cases, with the per-alert cap biting) and its answers to field queries equal, field for
field, one node holding both kinds; a purge and an unmerge leave both in the same place; and the
per-entity state is in exactly one of the two nodes.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from argus.records import Record
from argus.testing import Harness
from processors.alert_composer import AlertComposerProcessor
from processors.correlation import CorrelationProcessor
from processors.entity_resolution import EntityResolutionProcessor
from tests.unit.test_entity_resolution_chain import queries, reports

KINDS = (["person"], ["vehicle"])


def node(kinds: list[str] | None = None, cap: int = 10, compose: bool = True) -> Harness:
    cfg = CorrelationProcessor.Config(
        max_hits_per_alert=cap, compose_alerts=compose, **({"kinds": kinds} if kinds else {})
    )
    return Harness(CorrelationProcessor(cfg, name="correlation"))


def composer() -> Harness:
    return Harness(AlertComposerProcessor(name="compose_alerts"))


def resolved(root: Path, n: int) -> tuple[list[Record], list[Record]]:
    """Resolved reports and, built from them, resolved plate and name queries."""
    er = Harness(EntityResolutionProcessor(name="er"))
    recs = er.run(reports(root, n)).outputs
    qs = er.run(queries([r.body for r in recs])).outputs
    return recs, qs


def through_chain(
    chain: list[Harness], rec: Record, compose: Harness | None = None, handed: list[dict] | None = None
) -> list[dict[str, Any]]:
    """One record along the chain: what every node sends, in order (and, with a composer, what it
    makes of what the last node hands it on report.hits; `handed` collects those records)."""
    alerts: list[dict[str, Any]] = []
    for h in chain:
        run = h.run([rec])
        assert not run.dead_letters, run.dead_letters
        alerts += run.bodies("alert.v1")
        found = run.to("report_hits.v1")
        if found:
            assert compose is not None
            if handed is not None:
                handed += [f.body for f in found]
            made = compose.run(found)
            assert not made.dead_letters, made.dead_letters
            alerts += made.bodies("alert.v1")
        passed = run.to("correlating.v3")
        if not passed:
            break
        (rec,) = passed
    return alerts


@pytest.mark.parametrize("compose", [True, False], ids=["alerts-composed-by-the-last-node", "alerts-composed-apart"])
def test_a_chain_split_by_kind_alerts_exactly_as_one_node(tmp_path: Path, compose: bool) -> None:
    recs, qs = resolved(tmp_path, 1500)
    flags: dict[int, set[str]] = {}
    for cap in (10, 1):  # cap 1: the alert keeps the highest-scored of persons' and vehicles' hits together
        one, chain = node(cap=cap), [node(k, cap=cap, compose=compose) for k in KINDS]
        gather = None if compose else composer()
        want = [a for r in recs for a in one.run([r]).bodies("alert.v1")]
        seen: list[dict] = []
        got = [a for r in recs for a in through_chain(chain, r, gather, seen)]
        assert got == want
        if gather is not None:
            assert not gather.state._committed  # the composer keeps nothing between reports
            # the persons' finds rode on encoded, often with the vehicles' own beside them
            both = [p for p in seen if p["found_before"] and (p["hits"] or p["notices"])]
            assert len(both) > 10 and all(p["by"] == "correlation" for p in seen)
        # the input exercised every kind of alert, on persons and on vehicles, across agencies
        types = Counter(a["alert_type"] for a in want)
        assert {"INCIDENT_HIT", "ENCOUNTER_NOTICE", "RELATED_CASE"} <= set(types), types
        kinds = Counter(h["path"][1]["kind"] for a in want for h in a["hits"])
        assert kinds["PERSON"] > 10 and kinds["VEHICLE"] > 10, kinds
        mixed = [a for a in want if {h["path"][1]["kind"] for h in a["hits"]} >= {"PERSON", "VEHICLE"}]
        assert cap == 1 or len(mixed) > 10, "few alerts gathered a person's and a vehicle's hits"
        flags[cap] = {k for k in one.state._committed if k.startswith("rc:")}

        # Field queries: a plate query is answered by the vehicles' node, a name query by the
        # persons', as one node answers them.
        answered = 0
        for q in qs:
            got_q = [a for h in chain for a in h.run([q]).bodies("alert.v1")]
            want_q = one.run([q]).bodies("alert.v1")
            assert got_q == want_q
            answered += bool(want_q)
        assert answered > len(qs) // 4

    # The cap shapes an alert, not who is told: every pair sharing a subject is marked told.
    assert flags[1] == flags[10]

    # The per-entity state is in one node or the other; series counts are in both (each sees
    # every report); a report's summary is where its persons or vehicles are.
    parts = [dict(h.state._committed) for h in chain]
    mine = dict(one.state._committed)
    for prefix in ("ent:", "rc:", "alias:"):
        keys = [{k for k in p if k.startswith(prefix)} for p in parts]
        assert not (keys[0] & keys[1]), prefix
        assert {k: p[k] for p in parts for k in p if k.startswith(prefix)} == {
            k: v for k, v in mine.items() if k.startswith(prefix)
        }
    assert any(k.startswith("alias:") for p in parts for k in p)  # merges happened, each kept by its kind's node
    for k, v in mine.items():
        if k.startswith(("ser:", "rep:")):
            assert any(p.get(k) == v for p in parts), k
        if k.startswith("ser:"):
            assert parts[0][k] == parts[1][k] == v


@pytest.mark.parametrize("compose", [True, False], ids=["alerts-composed-by-the-last-node", "alerts-composed-apart"])
def test_purges_and_unmerges_leave_the_chain_where_they_leave_one_node(tmp_path: Path, compose: bool) -> None:
    recs, qs = resolved(tmp_path, 1500)
    one, chain = node(), [node(k, compose=compose) for k in KINDS]
    gather = None if compose else composer()
    half = max(len(recs) // 2, 1 + next(i for i, r in enumerate(recs) if r.body["merges"]))
    assert half < len(recs) - 100
    for r in recs[:half]:
        one.run([r])
        through_chain(chain, r, gather)
    merged = next(m for r in recs[:half] for m in r.body["merges"])
    controls = [
        Record({"purge_id": f"P{i}", "record_id": r.envelope["id"], "agency": r.envelope["source_agency"],
                "reason": "retention", "requested_by": "records unit"})
        for i, r in enumerate(recs[:half:7])
    ] + [Record({"decision_id": "D1", "action": "UNMERGE", "entity_id": merged["merged_id"],
                 "other_id": merged["survivor_id"], "reason": "two cars"})]  # fmt: skip
    for c in controls:
        for h in (one, *chain):
            assert not list(h.node.process(c, h.ctx))
    want = [a for r in recs[half:] for a in one.run([r]).bodies("alert.v1")]
    assert want
    assert [a for r in recs[half:] for a in through_chain(chain, r, gather)] == want
    for q in qs:
        assert [a for h in chain for a in h.run([q]).bodies("alert.v1")] == one.run([q]).bodies("alert.v1")
    purged = {c.value["record_id"] for c in controls if "purge_id" in c.value}
    for h in (one, *chain):
        assert not any(h.state.get(f"rep:{rid}") for rid in purged)


def test_a_chain_node_refuses_a_kind_correlated_upstream(tmp_path: Path) -> None:
    recs, _ = resolved(tmp_path, 50)
    (passed,) = node(["person"]).run(recs[:1]).to("correlating.v3")
    again = node(["person", "vehicle"]).run([passed])
    assert not again.outputs
    ((_, exc),) = again.dead_letters
    assert "person were correlated upstream already" in str(exc)
