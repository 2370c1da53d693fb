"""Source order end to end (argus/runtime/order.py): concurrent sources, one answer.

Every source of the demo inbox feeds the pipeline at once. However the runtime's batches fall
(every node in batches of 7 records, or of 500, gathering commits or not), entity resolution
and correlation see the same releases in the same order, so every topic, store, entity cluster
and alert is the same. Without source order, such runs differ in about a tenth of the alerts and a
few entity clusters (which of two related reports arrived first).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from argus.runtime.core import Runtime
from argus.runtime.order import parse_mark
from argus.topology import load_topology
from tests.e2e.conftest import argus, make_workdir, snapshot
from tests.e2e.test_crash import assert_same_stores, small_batches


def _variant(topo: Path, name: str, batch: int, interval: int) -> Path:
    out = topo.with_name(f"topology-{name}.yaml")
    shutil.copy(topo, out)
    small_batches(out, linear=False, commit_interval_ms=interval)
    doc = yaml.safe_load(out.read_text())
    for node in doc["nodes"].values():
        node["batch_size"] = batch
    doc["order_mark_every"] = 50
    out.write_text(yaml.safe_dump(doc))
    return out


def test_batch_sizes_and_commit_timing_do_not_change_the_answer_on_concurrent_sources(tmp_path: Path) -> None:
    topo = make_workdir(tmp_path, background=600, messiness=1.0)
    for f in (tmp_path / "inbox" / "cad" / "queries").iterdir():
        f.unlink()  # field queries are answered on arrival, against what is resolved then
    snaps = []
    for name, batch, interval in (("small", 7, 0), ("large", 500, 50)):
        variant = _variant(topo, name, batch, interval)
        r = argus("run", "--until-idle", "-t", str(variant), "--data-dir", str(tmp_path / name), "--metrics-port", "0")
        assert r.returncode == 0, r.stderr[-2000:]
        snaps.append(snapshot(variant, tmp_path / name))
    small, large = snaps
    assert len(small["topics"]["alerts"]) > 300 and len(small["graph_clusters"]) > 1000
    assert_same_stores(large, small, exact_alerts=True)

    # The marks ride in the topics, and nothing that reads records sees them.
    with Runtime(load_topology(tmp_path / "topology-small.yaml", tmp_path / "small")) as rt:
        assert rt.bus is not None
        raw = rt.bus.read("reports", 0, 0, 100_000)
        marks = [parse_mark(m.key) for m in raw if not m.value]
        assert {m[0] for m in marks if m} == {"rms", "rms_csv", "cad_incidents", "sar", "stix", "partner_feeds"}
        assert len(rt.read_topic("reports")) == len(small["topics"]["reports"])
        assert rt.bus.size("reports") == len(small["topics"]["reports"])


def test_a_source_that_wakes_up_marks_before_its_first_record(tmp_path: Path) -> None:
    """A source that had read everything (idle) and then gets more input marks first. Without
    that mark, ordered nodes would take its records for strays of an idle source and release
    them on a timer, alone, instead of with the marks that follow them."""
    topo = make_workdir(tmp_path, background=50)
    (tmp_path / "inbox" / "rms_csv" / "legacy-rms.csv").unlink()  # rms.records: one source only
    (export,) = (tmp_path / "inbox" / "rms").glob("*.jsonl")
    later = tmp_path / "export.later"
    export.rename(later)
    for _ in range(2):
        r = argus("run", "--until-idle", "-t", str(topo), "--data-dir", str(tmp_path / "var"), "--metrics-port", "0")
        assert r.returncode == 0, r.stderr[-2000:]
        if later.exists():
            later.rename(export)  # the next night's export lands
    with Runtime(load_topology(topo, tmp_path / "var")) as rt:
        assert rt.bus is not None
        records = 0
        for p in range(rt.bus.partitions("rms.records")):
            seq = []
            for m in rt.bus.read("rms.records", p, 0, 100_000):
                mark = parse_mark(m.key) if not m.value else None
                if mark is None:
                    records += 1
                    seq.append("record")
                elif mark[0] == "rms":
                    seq.append(f"{mark[1]}{'i' if mark[2] else 'p'}")
            # idle with nothing read; awake; the export; idle again
            assert [s for s in seq if s != "record"] == ["1i", "2p", "3i"], seq
            assert seq.index("2p") == 1 and seq[-1] == "3i", seq
        assert records >= 5
