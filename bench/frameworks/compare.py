"""faust-streaming vs quixstreams vs Argus's runtime (confluent-kafka transactions), each hosting
Argus's dedup processor unchanged, on one real Kafka broker: `python -m bench.frameworks.compare`.

Needs `pip install faust-streaming quixstreams` beside Argus (kept out of Argus's own
dependencies: quixstreams pins an older confluent-kafka). For each host:

1. throughput: N Avro RMS records (+10% exact duplicates) waiting in `in` (4 partitions); one
   worker started; seconds until `out` holds every record dedup passes, read `read_committed`.
2. exactly once across SIGKILL: the worker killed once 40% is out, restarted; then counted:
   duplicates (records in `out` more than once) and missing ones.
3. rebalance: a second worker joins at 20% and the first leaves (SIGTERM) at 60%; the longest
   stall in output and the duplicates and missing records at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from argus.contracts import Context
from argus.state import NodeState
from bench import generator
from bench.frameworks.workload import IN, SCHEMAS, process
from connectors.rms import RmsConnector

TOPOLOGY = """name: compare
data_dir: var
dead_letter_topic: deadletters
topics:
  in: {schema: rms_record.v2, partitions: 4, external: true}
  out: {schema: report.v2, partitions: 4}
  deadletters: {schema: dead_letter.v1, partitions: 1}
nodes:
  dedup: {use: dedup, inputs: [in], outputs: [out]}
"""


def make_input(n: int, seed: int) -> tuple[list[tuple[str, bytes]], int]:
    gen = generator(n, seed)
    conn = RmsConnector(RmsConnector.Config(path="-"))
    ctx = Context("compare", NodeState())
    recs = []
    for i, raw in enumerate(gen.rms(n)):
        rec = conn.convert(raw, ctx)
        item = (rec.key or "", SCHEMAS.encode(IN, rec.value))
        recs.append(item)
        if i % 10 == 0:
            recs.append(item)  # an exact duplicate dedup must drop
    state: dict[str, Any] = {}
    expected = sum(len(process(k, v, state.get, state.__setitem__)) for k, v in recs)
    return recs, expected


def setup(bootstrap: str, prefix: str, recs: list[tuple[str, bytes]]) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for f in admin.create_topics([NewTopic(f"{prefix}{t}", 4, 1) for t in ("in", "out")]).values():
        f.result(30)
    p = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True, "linger.ms": 5})
    for k, v in recs:
        p.produce(f"{prefix}in", key=k.encode(), value=v)
        p.poll(0)
    assert p.flush(60) == 0


def out_stats(bootstrap: str, topic: str, committed: bool = True) -> tuple[int, int]:
    """Records in `topic` and distinct ones; uncommitted: also what open transactions hold (what
    a worker has produced but not yet committed: where a kill lands mid-batch)."""
    c = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"count-{uuid.uuid4().hex}",
            "isolation.level": "read_committed" if committed else "read_uncommitted",
            "enable.partition.eof": True,
            "enable.auto.commit": False,
        }
    )
    c.assign([TopicPartition(topic, p, 0) for p in range(4)])
    total, seen, eof = 0, set(), set()
    deadline = time.time() + 20
    while len(eof) < 4 and time.time() < deadline:
        for m in c.consume(5000, timeout=0.5):
            if m.error():
                if m.error().code() == KafkaError._PARTITION_EOF:
                    eof.add(m.partition())
                continue
            total += 1
            seen.add(m.value())
    c.close()
    return total, len(seen)


def start(host: str, bootstrap: str, prefix: str, work: Path, i: int) -> subprocess.Popen:
    log = (work / f"{host}-{prefix}{i}.log").open("w")
    d = work / f"{host}-{prefix}{i}"
    d.mkdir(parents=True, exist_ok=True)
    if host == "argus":
        (work / "topology.yaml").write_text(TOPOLOGY)
        cmd = [sys.executable, "-m", "argus", "run", "-t", str(work / "topology.yaml"), "--data-dir", str(d),
               "--metrics-port", "0", "--log-format", "text", "--log-level", "WARNING"]  # fmt: skip
        env = dict(os.environ, ARGUS_BUS=f"kafka://{bootstrap}?prefix={prefix}&client=w{i}")
    else:  # quix, quix-50ms (its commit interval at 50 ms instead of 5 s), faust
        cmd = [sys.executable, "-m", f"bench.frameworks.{host.split('-')[0]}_worker", bootstrap, prefix, str(d)]
        env = dict(os.environ, QUIX_COMMIT_INTERVAL="0.05" if host == "quix-50ms" else "5.0")
    return subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)


def stop(p: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    if p.poll() is None:
        os.killpg(p.pid, sig)
        try:
            p.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait(10)


def watch(bootstrap: str, topic: str, until: int, timeout: float, events: dict[float, Any] | None = None) -> dict:
    """Poll `out` until it holds `until` committed records; run events (fraction of records
    produced, committed or not -> callable) on the way."""
    t0 = time.time()
    first = last_change = None
    last_n, stall = 0, 0.0
    events = dict(events or {})
    while True:
        n, _ = out_stats(bootstrap, topic)
        produced = out_stats(bootstrap, topic, committed=False)[0] if events else n
        now = time.time()
        if n != last_n:
            if first is None:
                first = now
            if last_n:
                stall = max(stall, now - (last_change or now))
            last_change, last_n = now, n
        for frac in sorted(list(events)):
            if produced >= frac * until:
                events.pop(frac)()
        if n >= until or now - t0 > timeout:
            return {"seconds": round(now - t0, 1), "first_output_s": round((first or now) - t0, 1),
                    "reached": n, "longest_stall_s": round(stall, 1)}  # fmt: skip
        time.sleep(0.05)


def run_host(host: str, bootstrap: str, recs: list, expected: int, work: Path, timeout: float) -> dict:
    res: dict[str, Any] = {}
    # 1. throughput
    prefix = f"{host[0]}t{uuid.uuid4().hex[:6]}."
    setup(bootstrap, prefix, recs)
    w = start(host, bootstrap, prefix, work, 0)
    r = watch(bootstrap, f"{prefix}out", expected, timeout)
    stop(w)
    total, unique = out_stats(bootstrap, f"{prefix}out")
    busy = r["seconds"] - r["first_output_s"]
    rate = round(expected / busy) if busy > 0 and total >= expected else None
    res["throughput"] = {**r, "records_per_s_after_first_output": rate, "out": total, "unique": unique}
    print(host, "throughput", res["throughput"], flush=True)
    # 2. SIGKILL mid-stream, restart
    prefix = f"{host[0]}k{uuid.uuid4().hex[:6]}."
    setup(bootstrap, prefix, recs)
    procs = [start(host, bootstrap, prefix, work, 0)]

    def kill_and_restart() -> None:
        stop(procs[0], signal.SIGKILL)
        procs.append(start(host, bootstrap, prefix, work, 1))

    r = watch(bootstrap, f"{prefix}out", expected, timeout, {0.4: kill_and_restart})
    time.sleep(5)  # anything late or doubled shows up now
    for p in procs:
        stop(p)
    total, unique = out_stats(bootstrap, f"{prefix}out")
    res["sigkill"] = {**r, "out": total, "duplicates": total - unique, "missing": max(0, expected - unique)}
    print(host, "sigkill", res["sigkill"], flush=True)
    # 3. a worker joins, then the first leaves
    prefix = f"{host[0]}r{uuid.uuid4().hex[:6]}."
    setup(bootstrap, prefix, recs)
    procs = [start(host, bootstrap, prefix, work, 0)]
    r = watch(
        bootstrap,
        f"{prefix}out",
        expected,
        timeout,
        {0.2: lambda: procs.append(start(host, bootstrap, prefix, work, 1)), 0.6: lambda: stop(procs[0])},
    )
    time.sleep(5)
    for p in procs:
        stop(p)
    total, unique = out_stats(bootstrap, f"{prefix}out")
    res["rebalance"] = {**r, "out": total, "duplicates": total - unique, "missing": max(0, expected - unique)}
    print(host, "rebalance", res["rebalance"], flush=True)
    return res


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--records", type=int, default=10_000)
    ap.add_argument("--hosts", default="argus,quix,quix-50ms,faust")
    ap.add_argument("--bootstrap", default=None, help="an existing broker (default: start one)")
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="argus-compare-"))
    recs, expected = make_input(args.records, 42)
    print(f"{len(recs)} input records, {expected} expected out; logs in {work}", flush=True)

    def go(bootstrap: str) -> dict:
        return {h: run_host(h, bootstrap, recs, expected, work, args.timeout) for h in args.hosts.split(",")}

    if args.bootstrap:
        out = go(args.bootstrap)
    else:
        from tests.servers import kafka_broker

        (work / "kafka").mkdir()
        with kafka_broker(work / "kafka") as bootstrap:
            out = go(bootstrap)
    print(json.dumps(out, indent=2))
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
