"""Source order (argus/runtime/order.py): the plan over the topology, and the release logic."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from argus.bus.base import Message
from argus.runtime.order import STRAY_SECONDS, OrderedInput, mark_key, parse_mark
from argus.runtime.order_plan import plan_order
from argus.topology import TopologyError, load_topology

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_the_production_topology_orders_ingest_but_not_the_field_query_lane() -> None:
    plan = plan_order(load_topology(ROOT / "topology.yaml"))
    assert plan.marked == {
        "rms.records", "cad.incidents", "sar.reports", "stix.objects", "reports", "resolved.persons",
        "resolved.vehicles", "resolved", "correlating", "ttp.matches", "sar.triage",
    }  # fmt: skip
    sources = {"rms", "rms_csv", "cad_incidents", "sar", "stix", "partner_feeds"}
    chain = ("resolve_persons", "resolve_vehicles", "resolve_places", "correlate_persons", "correlation")
    assert all(plan.origins[n] == sources for n in chain)
    assert plan.inputs == {
        "resolve_persons": ("reports",), "resolve_vehicles": ("resolved.persons",),
        "resolve_places": ("resolved.vehicles",), "correlate_persons": ("resolved",),
        "correlation": ("correlating",), "sar_triage": ("resolved", "ttp.matches"), "sar_patterns": ("sar.triage",),
        "risk_scoring": ("resolved",), "deconfliction": ("resolved",),
    }  # fmt: skip
    assert plan.marks_out["dedup"] == ("reports",) and plan.marks_out["resolve_places"] == ("resolved",)
    assert plan.marks_out["resolve_persons"] == ("resolved.persons",)  # not the query lane
    assert plan.marks_out["cad_queries"] == ()  # SAR triage orders ATT&CK matches too: they carry marks
    assert plan.marks_out["ttp_matching"] == ("ttp.matches",) and plan.marks_out["sar_triage"] == ("sar.triage",)
    assert plan.marks_out["correlate_persons"] == ("correlating",)  # not the alerts
    assert plan.reach["correlation"]["sar"] == {"correlating"}


def _topology(tmp_path: Path, **change: Any) -> Path:
    doc = yaml.safe_load((ROOT / "topology.yaml").read_text())
    pipeline = yaml.safe_load((ROOT / "pipelines" / "fusion.yaml").read_text())
    doc.pop("include")
    doc["topics"], nodes = pipeline["topics"], {**doc["nodes"], **pipeline["nodes"]}
    for k, v in change.items():
        section, name, field = k.split("__")
        (doc["topics"] if section == "topic" else nodes)[name][field] = v
    for n in nodes.values():
        n.get("config", {}).pop("path", None)
    doc["nodes"] = nodes
    path = tmp_path / "topology.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def test_a_stage_that_changes_the_partition_count_before_an_ordered_node_is_refused(tmp_path: Path) -> None:
    with pytest.raises(TopologyError, match="needs them equal"):
        plan_order(load_topology(_topology(tmp_path, topic__reports__partitions=2)))


def test_a_source_reaching_an_ordered_node_by_two_paths_is_refused(tmp_path: Path) -> None:
    path = _topology(tmp_path, node__rms__outputs=["rms.records", "sar.reports"])
    with pytest.raises(TopologyError, match="by 2 paths"):
        plan_order(load_topology(path))


def test_a_compacted_topic_carrying_marks_is_refused(tmp_path: Path) -> None:
    """Marks are tombstones: compaction would delete them, and a replay would form other releases."""
    with pytest.raises(TopologyError, match=r"'reports' carries source-order marks.*cannot be compacted"):
        plan_order(load_topology(_topology(tmp_path, topic__reports__compacted=True)))
    plan_order(load_topology(_topology(tmp_path, topic__alerts__compacted=True)))  # no marks on alerts


def test_marks_round_trip() -> None:
    assert parse_mark(mark_key("rms_csv", 12, True)) == ("rms_csv", 12, True)
    assert parse_mark(mark_key("sar", 3, False)) == ("sar", 3, False)
    assert parse_mark("4f1c-record-id") is None and parse_mark(None) is None


# --- the release logic, on channels written as the runtime writes them -------------------------
def _record(origin: str, i: int, minutes: int) -> bytes:
    env = {"source_system": origin, "id": f"{origin}-{i}", "observed_at": (T0 + timedelta(minutes=minutes)).isoformat()}
    return orjson.dumps({"envelope": env})


def _envelope(msg: Message) -> Any:
    env = orjson.loads(msg.value)["envelope"]
    env["observed_at"] = datetime.fromisoformat(env["observed_at"])
    return env


def _id(item: Any) -> str:
    return orjson.loads(item.msg.value)["envelope"]["id"]


def source_streams(spec: dict[str, list[int]], channels: int, every: int) -> dict[str, list[list[tuple]]]:
    """What each source writes to each channel, in order: records (by id hash) and, after
    every `every` records and at the end (idle), a mark on every channel."""
    out: dict[str, list[list[tuple]]] = {}
    for origin, minutes in spec.items():
        chans: list[list[tuple]] = [[] for _ in range(channels)]
        epoch = since = 0
        for i, m in enumerate(minutes):
            chans[hash((origin, i)) % channels].append(("rec", origin, i, m))
            since += 1
            if since == every:
                epoch, since = epoch + 1, 0
                for c in chans:
                    c.append(("mark", origin, epoch, False))
        epoch += 1
        for c in chans:
            c.append(("mark", origin, epoch, True))
        out[origin] = chans
    return out


def interleave(streams: dict[str, list[list[tuple]]], channels: int, rng: random.Random) -> list[list[Message]]:
    """One arrival order: each channel merges its sources' streams at random, keeping each one's order."""
    logs: list[list[Message]] = []
    for c in range(channels):
        queues = [list(s[c]) for s in streams.values()]
        log: list[Message] = []
        while any(queues):
            q = rng.choice([q for q in queues if q])
            kind, origin, a, b = q.pop(0)
            off = len(log)
            if kind == "rec":
                log.append(Message("reports", c, off, f"{origin}-{a}", _record(origin, a, b), 0))
            else:
                log.append(Message("reports", c, off, mark_key(origin, a, b), b"", 0))
        logs.append(log)
    return logs


def drain(
    logs: list[list[Message]], origins: frozenset[str], rng: random.Random, crash_after: int | None = None
) -> list:
    """Feed the channels in random chunks, processing releases in random steps; optionally
    'crash' after that many processed records and go on from committed offsets and state."""
    channels = [("reports", c) for c in range(len(logs))]
    reach = {o: frozenset({"reports"}) for o in origins}
    committed = dict.fromkeys(channels, 0)
    saved: dict[str, Any] | None = None
    done: list[str] = []
    crashed = crash_after is None
    while True:
        inp = OrderedInput(channels, origins, reach, committed, saved, _envelope)
        processed_since_commit: list[str] = []
        while True:
            ch = rng.choice(channels)
            pos = inp.read_pos[ch]
            log = logs[ch[1]]
            if pos < len(log):
                inp.add(log[pos : pos + rng.randint(1, 7)])
            rel = inp.next_release()
            if rel is None:
                if all(inp.read_pos[c] >= len(logs[c[1]]) for c in channels):
                    assert inp.buffered() == 0
                    return done
                continue
            n = rng.randint(1, 5)
            chunk = rel.records[rel.done : rel.done + n]
            rel.done += len(chunk)
            processed_since_commit.extend(_id(it) for it in chunk)
            if rel.done >= len(rel.records):
                committed.update(inp.finish())
            saved = orjson.loads(orjson.dumps(inp.to_state()))  # what the commit makes durable
            done.extend(processed_since_commit)
            processed_since_commit = []
            if not crashed and len(done) >= crash_after:  # type: ignore[operator]
                crashed = True
                break  # a new process: offsets and state as committed


SPEC = st.dictionaries(
    st.sampled_from(["rms", "rms_csv", "sar", "cad_incidents", "stix"]),
    st.lists(st.integers(0, 50), max_size=25),
    min_size=1,
)


@settings(max_examples=150, deadline=None)
@given(spec=SPEC, channels=st.integers(1, 4), every=st.integers(1, 9), seeds=st.tuples(st.integers(), st.integers()))
def test_any_arrival_order_and_any_read_pattern_process_records_in_the_same_order(spec, channels, every, seeds) -> None:
    streams = source_streams(spec, channels, every)
    origins = frozenset(spec)
    orders = [
        drain(interleave(streams, channels, random.Random(seed)), origins, random.Random(seed + 1)) for seed in seeds
    ]
    assert orders[0] == orders[1]
    assert sorted(orders[0]) == sorted(f"{o}-{i}" for o, ms in spec.items() for i in range(len(ms)))


@settings(max_examples=100, deadline=None)
@given(spec=SPEC, channels=st.integers(1, 4), every=st.integers(1, 9), seed=st.integers(), crash=st.integers(0, 60))
def test_a_restart_mid_release_goes_on_exactly_where_the_commit_left_off(spec, channels, every, seed, crash) -> None:
    streams = source_streams(spec, channels, every)
    origins = frozenset(spec)
    clean = drain(interleave(streams, channels, random.Random(seed)), origins, random.Random(seed))
    crashed = drain(interleave(streams, channels, random.Random(seed)), origins, random.Random(seed + 7), crash)
    assert crashed == clean


def test_within_a_release_records_go_by_observed_time_then_id() -> None:
    streams = source_streams({"rms": [30, 10, 20], "sar": [15, 10]}, 2, every=100)
    order = drain(interleave(streams, 2, random.Random(1)), frozenset({"rms", "sar"}), random.Random(2))
    assert order == ["rms-1", "sar-1", "sar-0", "rms-2", "rms-0"]


def test_an_idle_source_does_not_hold_up_the_others_and_a_source_not_yet_heard_from_does() -> None:
    chans = [("reports", 0)]
    clock = [100.0]
    inp = OrderedInput(
        chans,
        frozenset({"rms", "sar"}),
        {"rms": frozenset({"reports"}), "sar": frozenset({"reports"})},
        {("reports", 0): 0},
        None,
        _envelope,
        clock=lambda: clock[0],
    )
    log = [
        Message("reports", 0, 0, "r0", _record("rms", 0, 1), 0),
        Message("reports", 0, 1, mark_key("rms", 1, True), b"", 0),
    ]
    inp.add(log)
    assert inp.next_release() is None  # sar has said nothing yet: its records may be on the way
    inp.add([Message("reports", 0, 2, mark_key("sar", 1, True), b"", 0)])
    rel = inp.next_release()
    assert rel is not None and [_id(it) for it in rel.records] == ["rms-0"]
    assert inp.finish() == {("reports", 0): 3}
    # Both idle now; new rms records with their mark go at once, sar being idle with nothing waiting.
    inp.add(
        [
            Message("reports", 0, 3, "r1", _record("rms", 1, 2), 0),
            Message("reports", 0, 4, mark_key("rms", 2, True), b"", 0),
        ]
    )
    rel = inp.next_release()
    assert rel is not None and [_id(it) for it in rel.records] == ["rms-1"]
    assert rel.marks == {"rms": [2, True], "sar": [1, True]}  # every source's mark is passed on
    inp.finish()
    # A record of an idle source without a mark (a replayed dead letter): it waits a little, then goes.
    inp.add([Message("reports", 0, 5, "r2", _record("sar", 9, 3), 0)])
    assert inp.next_release() is None
    clock[0] += STRAY_SECONDS
    rel = inp.next_release()
    assert rel is not None and [_id(it) for it in rel.records] == ["sar-9"]
