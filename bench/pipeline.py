"""End-to-end benchmark of the embedded pipeline: `python -m bench [--records N]`.

1. Generates realistic synthetic POLE data with known ground truth (argus.synthetic): the same
   people and vehicles spelled differently across agencies (typos, transpositions, nicknames,
   missing DOBs and states, plate formatting and O/0 I/1 variants).
2. Baseline, same run, same records: parsing each input line and encoding it as Avro, the floor
   any pipeline pays. The pipeline's throughput is reported as a ratio to it.
3. Runs the production topology end to end (connectors -> dedup -> entity resolution ->
   graph, search, correlation) and reports records/s end to end and per stage.
4. Scores entity resolution against the ground truth: pairwise precision and recall over
   person and vehicle mentions.
5. While ingesting, a field terminal issues plate queries at a steady rate through the CAD query
   path; query-to-alert latency is the time from the query's arrival to its alert's commit.
"""

from __future__ import annotations

import argparse
import itertools
import json
import resource
import shutil
import statistics
import tempfile
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import orjson
from prometheus_client import REGISTRY

from argus import metrics
from argus.backends import iter_topic, open_store
from argus.contracts import Context
from argus.demo import prepare
from argus.runtime.assignment import Part
from argus.runtime.core import Runtime
from argus.schemas import default_schemas
from argus.state import NodeState
from argus.synthetic import Generator
from argus.topology import load_topology
from bench import generator, quantile, report
from bench.bus_lock import time_lock
from bench.field_process import ProcessTerminal, query_fields
from bench.stores_process import StoresProcess
from connectors.cad import CadConfig, build_query
from connectors.rms import RmsConnector

TARGETS = {"records_per_s": 10_000, "precision": 0.95, "recall": 0.95, "p99_ms": 50}


def write_inputs(root: Path, n: int, seed: int) -> tuple[Generator, dict[str, int]]:
    gen = generator(n, seed)
    inbox = root / "inbox"
    for sub in ("rms", "rms_csv", "cad/incidents", "cad/queries", "sar", "stix"):
        (inbox / sub).mkdir(parents=True, exist_ok=True)
    n_rms, n_cad = int(n * 0.5), int(n * 0.35)
    n_sar = n - n_rms - n_cad
    with (inbox / "rms" / "rms.jsonl").open("wb") as fh:
        for r in gen.rms(n_rms):
            fh.write(orjson.dumps(r) + b"\n")
    with (inbox / "cad" / "incidents" / "cad.jsonl").open("wb") as fh:
        for r in gen.cad(n_cad):
            fh.write(orjson.dumps(r) + b"\n")
    with (inbox / "sar" / "sar.json").open("wb") as fh:
        fh.write(orjson.dumps(list(gen.sar(n_sar))))
    return gen, {"rms": n_rms, "cad": n_cad, "sar": n_sar}


def baseline(root: Path) -> float:
    """Records/s for: read a line, parse the JSON, validate it, encode the Avro record."""
    schemas = default_schemas()
    ts = schemas.get("rms_record.v2")
    conn = RmsConnector(RmsConnector.Config(path=str(root)))
    ctx = Context("bench", NodeState())
    lines = (root / "inbox" / "rms" / "rms.jsonl").read_bytes().splitlines()
    t = time.perf_counter()
    for line in lines:
        schemas.encode(ts, conn.convert(orjson.loads(line), ctx).value)
    return len(lines) / (time.perf_counter() - t)


def pairwise(pred: dict[Any, str], truth: dict[Any, str]) -> tuple[float, float]:
    """Pairwise precision/recall of a clustering, by contingency counts (no O(n^2) pairs)."""
    keys = [k for k in truth if k in pred]
    both = Counter((pred[k], truth[k]) for k in keys)
    p_sizes = Counter(pred[k] for k in keys)
    t_sizes = Counter(truth[k] for k in keys)
    c2 = lambda n: n * (n - 1) // 2  # noqa: E731
    tp = sum(c2(v) for v in both.values())
    pp = sum(c2(v) for v in p_sizes.values())
    tt = sum(c2(v) for v in t_sizes.values())
    return (tp / pp if pp else 1.0), (tp / tt if tt else 1.0)


def score_er(rt: Runtime, gen: Generator) -> dict[str, Any]:
    assert rt.bus is not None
    alias = {  # merges of persons and of vehicles, each kept by the node resolving its kind
        k[6:]: v
        for node in ("resolve_persons", "resolve_vehicles")
        for k, v in rt.bus.load_state(node).items()
        if k.startswith("alias:")
    }

    def canon(e: str) -> str:
        while e in alias:
            e = alias[e]
        return e

    prefix = {"rms.incident": "rms", "cad.incident": "cad", "sar": "sar"}
    pred: dict[str, dict[Any, str]] = {"person": {}, "vehicle": {}}
    for rec in iter_topic(rt.bus, rt.schemas, "resolved"):
        env, body = rec.envelope, rec.body
        rep = body["report"]
        sid = rep.get("report_id") or rep.get("incident_id") or rep.get("sar_id")
        key = f"{prefix[env['type']]}:{env['source_agency']}:{sid}"
        for kind in ("person", "vehicle"):
            for i, e in enumerate(x for x in body["entities"] if x["subtype"] == kind):
                pred[kind][(key, kind, i)] = canon(e["entity_id"])
    out: dict[str, Any] = {}
    for kind in ("person", "vehicle"):
        truth = {k: v for k, v in gen.truth.mentions.items() if k[1] == kind}
        p, r = pairwise(pred[kind], truth)
        out[kind] = {"precision": round(p, 4), "recall": round(r, 4), "mentions": len(pred[kind])}
    allp = {**pred["person"], **pred["vehicle"]}
    p, r = pairwise(allp, {k: v for k, v in gen.truth.mentions.items() if k[1] in ("person", "vehicle")})
    out["overall"] = {"precision": round(p, 4), "recall": round(r, 4)}
    return out


class FieldTerminal(threading.Thread):
    """Publishes plate queries at `rate`/s into cad.queries while the pipeline ingests."""

    def __init__(self, rt: Runtime, plates: list[tuple[str, str]], rate: float, start_after: float) -> None:
        super().__init__(daemon=True)
        self.rt, self.plates, self.rate, self.start_after = rt, plates, rate, start_after
        self.stop = threading.Event()
        self.sent: dict[str, float] = {}

    def run(self) -> None:
        if self.stop.wait(self.start_after):
            return
        cfg = CadConfig(path="-")
        ctx = Context("bench_terminal", NodeState())
        for i in itertools.count():
            if self.stop.is_set():
                return
            plate, state = self.plates[i % len(self.plates)]
            rec = build_query(query_fields(i, plate, state), ctx, "bench_terminal", cfg)
            self.rt.publish("cad.queries", rec.value, rec.key)
            self.sent[rec.envelope["id"]] = rec.envelope["ingested_at"].timestamp()
            self.stop.wait(1 / self.rate)


class MemoryWatch(threading.Thread):
    """Samples the process's memory against the records resolved so far: it must level off
    while the log grows, so the samples are the measure, not only the peak. Both the resident
    set and its anonymous part: the rest is pages of the SQLite files read through their memory
    maps (the first GB of each file), which the kernel takes back when memory runs short. The
    peak is of the samples; the process's own (`ru_maxrss`, reported beside it) also catches
    swings shorter than a sample, such as a walk over a file through its memory map."""

    def __init__(self, rt: Runtime, every: float = 2.0) -> None:
        super().__init__(daemon=True)
        self.rt, self.every = rt, every
        self.stop = threading.Event()
        self.samples: list[tuple[int, float, float]] = []  # (records resolved, resident MB, anonymous MB)

    @staticmethod
    def memory_mb() -> tuple[float, float]:
        """(resident set, its anonymous part) in MB, from /proc/self/status."""
        got = {}
        with open("/proc/self/status") as f:
            for line in f:
                name, _, value = line.partition(":")
                if name in ("VmRSS", "RssAnon"):
                    got[name] = int(value.split()[0]) / 1024
        return got["VmRSS"], got["RssAnon"]

    @staticmethod
    def resolved() -> int:
        """Records written to `resolved` so far, from the runtime's counters: counting the topic
        on the bus scans it under the bus's lock (a third of a second at 25,000 records), which
        would stall the pipeline and the field queries being measured."""
        return int(
            sum(
                s.value
                for metric in metrics.RECORDS_OUT.collect()
                for s in metric.samples
                if s.name.endswith("_total") and s.labels["topic"] == "resolved"
            )
        )

    def run(self) -> None:
        while not self.stop.wait(self.every):
            rss, anon = self.memory_mb()
            self.samples.append((self.resolved(), round(rss, 1), round(anon, 1)))

    def summary(self) -> dict[str, Any]:
        """Peaks, the memory at each tenth of the run (records resolved, MB, anonymous MB), and
        the growth over the second half of the records."""
        pts = self.samples
        if not pts:
            return {"samples": 0}
        tenths = [pts[min(len(pts) - 1, len(pts) * i // 10)] for i in range(1, 11)]
        half = [p for p in pts if p[0] >= pts[-1][0] // 2]
        return {
            "peak_rss_mb": max(p[1] for p in pts),
            "peak_anonymous_mb": max(p[2] for p in pts),
            "process_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "by_records": tenths,
            "growth_over_second_half_mb": round(max(p[1] for p in half) - half[0][1], 1),
            "anonymous_growth_over_second_half_mb": round(max(p[2] for p in half) - half[0][2], 1),
        }


def node_stats() -> dict[str, dict[str, float]]:
    stats: dict[str, dict[str, float]] = defaultdict(lambda: {"records": 0.0, "seconds": 0.0})
    for metric in REGISTRY.collect():
        for s in metric.samples:
            if s.name == "argus_records_in_total":
                stats[s.labels["node"]]["records"] += s.value
            elif s.name == "argus_records_out_total" and s.labels["node"] in ("rms", "cad_incidents", "sar"):
                stats[s.labels["node"]]["records"] += s.value
            elif s.name == "argus_batch_seconds_sum":
                stats[s.labels["node"]]["seconds"] += s.value
    return stats


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--query-rate", type=float, default=50.0, help="field queries per second while ingesting")
    ap.add_argument("--workdir", type=Path, default=None, help="keep inputs and data here (else a temp dir, removed)")
    ap.add_argument("--json", type=Path, default=None, help="also write the results here")
    ap.add_argument(
        "--queries-from",
        choices=["thread", "process"],
        default="thread",
        help="write the field queries from a thread of this process, or from a process of their own"
        " on its own connection to the bus, as `argus api` does (bench/field_process.py)",
    )
    ap.add_argument(
        "--stores",
        choices=["together", "apart"],
        default="together",
        help="run the stores (the sinks and the analyses feeding only them) in this process, or in a"
        " process of their own (`argus run --part stores`)",
    )
    ap.add_argument(
        "--time-bus-lock", action="store_true", help="time who holds the embedded bus's lock (bench/bus_lock.py)"
    )
    args = ap.parse_args(argv)
    root = args.workdir or Path(tempfile.mkdtemp(prefix="argus-bench-"))
    try:
        run(args, root)
    finally:
        if args.workdir is None:  # a run of 100,000 records leaves about 8 GB of bus and stores
            shutil.rmtree(root, ignore_errors=True)


def run(args: argparse.Namespace, root: Path) -> None:
    if (root / "var").exists():
        shutil.rmtree(root / "var")
    t = time.perf_counter()
    gen, counts = write_inputs(root, args.records, args.seed)
    print(f"generated {args.records:,} records ({counts}) in {time.perf_counter() - t:.1f}s -> {root}")
    base = baseline(root)
    print(f"baseline (parse + validate + Avro-encode one RMS line): {base:,.0f} records/s")

    topo_path = prepare(root)
    topo = load_topology(topo_path)
    plates = [(v["plate"], v["state"]) for v in gen.vehicles[: max(10, len(gen.vehicles) // 20)]]
    stores = StoresProcess(topo_path, root / "stores.log") if args.stores == "apart" else None
    with Runtime(topo, assignment=Part("alerts") if stores else None) as rt:
        lock = time_lock(rt.bus) if args.time_bus_lock else None
        term: FieldTerminal | ProcessTerminal
        if args.queries_from == "process":
            term = ProcessTerminal(topo_path, plates, args.query_rate, start_after=1.0)
        else:
            term = FieldTerminal(rt, plates, args.query_rate, start_after=1.0)
        term.start()
        watch = MemoryWatch(rt)
        watch.start()
        t0 = time.perf_counter()
        rt.run_until_idle()
        pipeline_done = time.perf_counter() - t0
        if stores is not None:
            stores.wait_caught_up(rt)
        elapsed = time.perf_counter() - t0
        watch.stop.set()
        memory = watch.summary()  # before reading the topics back, which holds them all decoded
        term.stop.set()
        term.join()
        rt.run_until_idle()
        assert rt.bus is not None
        ingested = rt.bus.size("resolved")
        stats = node_stats()
        er = score_er(rt, gen)
        lat = []
        for rec in iter_topic(rt.bus, rt.schemas, "alerts"):
            b = rec.body
            if b["alert_type"] == "QUERY_HIT" and b["trigger_id"] in term.sent:
                committed = rt.bus.read("alerts", rec.partition, rec.offset, 1)[0].timestamp_us / 1e6
                lat.append((committed - term.sent[b["trigger_id"]]) * 1000)
        graph = (rt.stores.get("graph") or open_store(topo, "graph")).counts()
    if stores is not None:
        stores_rss = stores.peak_rss_mb()
        stores.stop()
    e2e = ingested / elapsed
    lat.sort()
    q = lambda p: quantile(lat, p) if lat else float("nan")  # noqa: E731
    res = {
        "records": args.records,
        "ingested": ingested,
        "seconds": round(elapsed, 2),
        "end_to_end_records_per_s": round(e2e),
        "baseline_records_per_s": round(base),
        "ratio_to_baseline": round(e2e / base, 3),
        "stages": {
            n: {
                "records": int(s["records"]),
                "records_per_s": round(s["records"] / s["seconds"]) if s["seconds"] else None,
            }
            for n, s in sorted(stats.items())
        },
        "entity_resolution": er,
        "graph": graph,
        "memory": memory,
        "query_to_alert_ms": {
            "queries": len(term.sent),
            "alerts": len(lat),
            "p50": round(q(0.5), 2),
            "p99": round(q(0.99), 2),
            "max": round(lat[-1], 2) if lat else None,
            "mean": round(statistics.fmean(lat), 2) if lat else None,
        },
    }
    if isinstance(term, ProcessTerminal):
        w = sorted(term.write_ms)  # each query's own commit, waiting for the pipeline's
        if w:
            res["query_to_alert_ms"]["written"] = {
                "p50": round(quantile(w, 0.5), 2),
                "p99": round(quantile(w, 0.99), 2),
                "max": round(w[-1], 2),
            }
    if stores is not None:  # its stages' rates are in that process's metrics, not these
        res["stores_process"] = {"peak_rss_mb": stores_rss, "caught_up_after_s": round(elapsed - pipeline_done, 2)}
    if lock is not None:
        res["bus_lock"] = lock.report()
    print(json.dumps(res, indent=2))
    checks = [
        ("end to end records/s", e2e, TARGETS["records_per_s"], ">="),
        ("ER precision", er["overall"]["precision"], TARGETS["precision"], ">="),
        ("ER recall", er["overall"]["recall"], TARGETS["recall"], ">="),
        ("query-to-alert p99 ms", q(0.99), TARGETS["p99_ms"], "<="),
    ]
    report(checks, digits=3)
    if args.json:
        args.json.write_text(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
