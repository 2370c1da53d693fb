"""The Kafka runtime against the embedded one, on one input, in one run: `python -m bench kafka`.

1. Embedded (the baseline): `argus run --until-idle` on the production topology.
2. Kafka, 1 and 2 workers: `argus run` processes in one group on a real broker (fetched and started
   like the tests' one), each on a fresh topic prefix; timed from start until every node has caught
   up and the resolved topic holds every report. Records/s = input records / seconds. Each run's
   peak resident set beside it: the embedded process's, and each worker's.
3. Query-to-alert on Kafka while ingesting: 1,000 RMS reports are put on file first (not timed);
   then a feeder commits RMS records at --rate per second into rms.records, a field terminal
   sends plate queries about vehicles in those reports, and a CAD-style consumer on the alert
   topic notes when each QUERY_HIT arrives. Latency = arrival - the query's send time.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from argus.backends import open_bus
from argus.demo import prepare
from argus.topology import load_topology
from bench import CpuMeter, cpu_calibration, report
from bench.kafka_group import count, group_run, run_argus, task_cpu
from bench.kafka_latency import latency_run
from bench.pipeline import write_inputs

TARGETS = {"p99_ms": 200}


def _prepare(workdir: Path, args: argparse.Namespace) -> Path:
    """The production topology for a run in `workdir`, with the bench's settings."""
    path = prepare(workdir)
    with path.open("a") as f:
        for setting in args.set:
            key, sep, value = setting.partition("=")
            if not sep or not key.isidentifier():
                raise SystemExit(f"--set wants KEY=VALUE (a top-level topology.yaml setting), not {setting!r}")
            f.write(f"\n{key}: {value}\n")
    return path


def _latency(root: Path, bootstrap: str, args: argparse.Namespace, broker_pid: int | None = None) -> dict:
    live = root / "live"  # the latency run is fed live, not from an inbox
    for sub in ("rms", "rms_csv", "cad/incidents", "cad/queries", "sar", "stix"):
        (live / "inbox" / sub).mkdir(parents=True)
    lines = (root / "inbox" / "rms" / "rms.jsonl").read_bytes().splitlines()
    url = f"kafka://{bootstrap}?prefix=l{uuid.uuid4().hex[:6]}."
    return latency_run(
        _prepare(live, args),
        live,
        url,
        args.rate,
        args.seconds,
        lines,
        args.latency_workers,
        args.feed_transactions,
        broker_pid,
    )


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--records", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--rate", type=float, default=1000.0, help="records/s fed during the latency run")
    ap.add_argument("--seconds", type=float, default=30.0, help="length of the latency run")
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--latency-only", action="store_true", help="skip the throughput runs (for iterating)")
    ap.add_argument("--latency-workers", type=int, default=1, help="workers in the latency run's group")
    ap.add_argument("--feed-transactions", action="store_true", help="feed in the bus's transactions (slower)")
    ap.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a topology.yaml setting for every run, e.g. commit_threads=4 (repeatable)",
    )
    ap.add_argument("--throughput-only", action="store_true", help="skip the latency run")
    ap.add_argument("--logs", type=Path, help="keep the workers' logs here (w<N>-<i>.log): takeovers, rebalances")
    args = ap.parse_args(argv)
    from tests.servers import KafkaBroker  # the test suite's broker: Maven Central jars, no Docker

    root = Path(tempfile.mkdtemp(prefix="argus-bench-kafka-"))
    _, counts = write_inputs(root, args.records, args.seed)
    topo_path = _prepare(root, args)
    res: dict[str, Any] = {
        "records": args.records,
        "inputs": counts,
        "cpu_calibration_s": cpu_calibration(),
        "settings": args.set,
    }

    if args.latency_only:
        (root / "kafka").mkdir()
        with KafkaBroker(root / "kafka") as broker:
            res["kafka_query_to_alert_ms"] = _latency(root, broker.bootstrap, args, broker.pid)
        print(json.dumps(res, indent=2))
        if args.json:
            args.json.write_text(json.dumps(res, indent=2))
        shutil.rmtree(root, ignore_errors=True)
        return
    t0 = time.perf_counter()
    p = run_argus("run", "--until-idle", "-t", str(topo_path), "--data-dir", str(root / "emb"), "--metrics-port", "0",
               "--cpu-report", str(root / "emb-cpu.json"),
               url=None, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    meter, before = CpuMeter(), resource.getrusage(resource.RUSAGE_CHILDREN)
    meter.start()
    _, err = p.communicate()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the embedded run, reaped
    meter.stop(embedded=after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    if p.returncode != 0:
        raise SystemExit(f"embedded run failed: {err.decode()[-2000:]}")
    emb_s = time.perf_counter() - t0
    emb_bus = open_bus(load_topology(topo_path, root / "emb"))
    reports = count(emb_bus, "resolved")
    emb_bus.close()
    res["embedded"] = {
        "seconds": round(emb_s, 1),
        "records_per_s": round(args.records / emb_s),
        "cpu": meter.result,
        "task_cpu": task_cpu([root / "emb-cpu.json"]),
        "peak_rss_mb": round(after.ru_maxrss / 1024, 1),  # the largest reaped child: the embedded run
    }
    print(f"embedded: {args.records:,} records ({reports:,} reports resolved) in {emb_s:.1f}s", flush=True)

    (root / "kafka").mkdir()
    with KafkaBroker(root / "kafka") as broker:
        # Untimed, a small run first: a broker just started spends its first minute's CPU on
        # compiling its own code (the JIT); the first timed run would pay for that and the
        # second would not (measured: the broker used 47.7 CPU-s in a first run, 27.9 in the next).
        warm = root / "warmup"
        _, warm_counts = write_inputs(warm, 1000, args.seed + 1)
        warm_url = f"kafka://{broker.bootstrap}?prefix=w{uuid.uuid4().hex[:6]}."
        group_run(prepare(warm), warm, warm_url, 1, sum(warm_counts.values()), root, broker.pid)
        logs = args.logs or root
        logs.mkdir(parents=True, exist_ok=True)
        for workers in (1, 2):
            url = f"kafka://{broker.bootstrap}?prefix=b{workers}{uuid.uuid4().hex[:6]}."
            s, cpu, peaks = group_run(topo_path, root, url, workers, reports, logs, broker.pid)
            rate = round(args.records / s)
            used = task_cpu([root / f"k{workers}-cpu-{i}.json" for i in range(workers)])
            res[f"kafka_{workers}_worker"] = {
                "seconds": round(s, 1),
                "records_per_s": rate,
                "cpu": cpu,
                "task_cpu": used,
                "peak_rss_mb": peaks,
            }
            print(f"kafka, {workers} worker(s): {s:.1f}s; cpu {cpu}", flush=True)
        if not args.throughput_only:
            res["kafka_query_to_alert_ms"] = _latency(root, broker.bootstrap, args, broker.pid)
    base = res["embedded"]["records_per_s"]
    for k in ("kafka_1_worker", "kafka_2_worker"):
        res[k]["ratio_to_embedded"] = round(res[k]["records_per_s"] / base, 3)
    print(json.dumps(res, indent=2))
    lat = res.get("kafka_query_to_alert_ms")
    if lat:
        rate = lat["fed_records_per_s"]
        report([(f"Kafka query-to-alert p99 ms at ~{rate} records/s", lat["p99"], TARGETS["p99_ms"], "<=")])
    if args.json:
        args.json.write_text(json.dumps(res, indent=2))
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
