"""The Kafka bench's latency run: query-to-alert on Kafka while ingesting. 1,000 RMS reports are
put on file first (not timed); then a feeder commits RMS records at a rate into rms.records, a
field terminal sends plate queries about vehicles in those reports, and a CAD-style consumer on
the alert topic notes when each QUERY_HIT arrives. Latency = arrival - the query's send time."""

from __future__ import annotations

import itertools
import multiprocessing
import os
import signal
import subprocess
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from argus.bus.base import Commit
from argus.contracts import Context
from argus.schemas import default_schemas
from argus.state import NodeState
from argus.topology import load_topology
from bench import CpuMeter, quantile
from bench.kafka_group import bench_bus, count, run_argus
from connectors.cad import CadConfig, build_query
from connectors.rms import RmsConnector

WARM = 1000  # reports on file before the latency run's clock starts
WARM_TIMEOUT = 300.0
TERMINAL = {"agency": "CA0430000", "unit_id": "2A31"}  # the querying unit; alerts are keyed agency:unit
TERMINAL_KEY = f"{TERMINAL['agency']}:{TERMINAL['unit_id']}".encode()


def _quantile(ordered: list[float], f: float) -> float:
    """The value at fraction `f` of `ordered` (sorted, not empty), in ms to one decimal."""
    return round(quantile(ordered, f), 1)


class AlertWatcher(threading.Thread):
    """What a CAD consumer sees: QUERY_HIT alerts as they become readable, with arrival times;
    and, to say where the time goes, when entity resolution produced each query's answer and
    when correlation produced the alert (the messages' create times: one clock, one machine).

    It reads as examples/cad_alert_consumer.py does: one read_committed consumer over every
    partition, woken by whichever has something (reading partition after partition through the
    bus would wait up to 20 ms on each empty one)."""

    def __init__(self, url: str, triggers: dict[str, float]) -> None:
        super().__init__(daemon=True)
        self.url, self.triggers = url, triggers
        self.stop = threading.Event()
        self.latency_ms: list[float] = []
        # per hit: (sent -> answer produced, answer -> alert produced, alert produced -> seen), ms
        self.legs: list[tuple[float, float, float]] = []
        # per alert a report triggered (ingest): its report.hits record produced -> alert produced,
        # the alert composer's hop, ms
        self.composed_ms: list[float] = []

    def run(self) -> None:
        from confluent_kafka import Consumer, TopicPartition

        bus = bench_bus(self.url, "bench-watch")  # started once the worker has made the topics
        names = {bus.kafka_topic(t): t for t in ("queries.resolved", "alerts", "report.hits")}
        consumer = Consumer(
            {
                "bootstrap.servers": bus.bootstrap,
                "group.id": f"bench-watch-{uuid.uuid4().hex[:6]}",
                "enable.auto.commit": False,
                "isolation.level": "read_committed",
            }
        )
        ends = [(k, p, bus.end_offset(t, p)) for k, t in names.items() for p in range(bus.partitions(t))]
        consumer.assign([TopicPartition(k, p, off) for k, p, off in ends])
        bus.close()
        schemas = default_schemas()
        decoders = {
            "queries.resolved": schemas.get("query_resolved.v2"),
            "alerts": schemas.get("alert.v1"),
            "report.hits": schemas.get("report_hits.v1"),
        }
        answered: dict[str, float] = {}
        unanswered: dict[str, tuple[float, float, float]] = {}
        found: dict[str, float] = {}  # report id -> its report.hits record's create time
        uncomposed: dict[str, list[float]] = {}  # alerts read before their report.hits record
        try:
            while not self.stop.is_set():
                first = consumer.poll(0.05)
                if first is None:
                    continue
                now = time.time()
                for m in [first, *consumer.consume(1000, 0)]:
                    if m.error() or not m.value():
                        continue
                    t = names[m.topic()]
                    value = schemas.decode(m.value(), decoders[t])
                    made = m.timestamp()[1] / 1000
                    if t == "report.hits":
                        rid = value["envelope"]["id"]
                        found[rid] = made
                        self.composed_ms.extend((a - made) * 1000 for a in uncomposed.pop(rid, ()))
                        continue
                    if t == "queries.resolved":
                        qid = value["envelope"]["id"]
                        answered[qid] = made
                        late = unanswered.pop(qid, None)
                        if late is not None:
                            q_sent, a_made, a_seen = late
                            self.legs.append(((made - q_sent) * 1000, (a_made - made) * 1000, (a_seen - a_made) * 1000))
                        continue
                    body = value["body"]
                    if body["alert_type"] != "QUERY_HIT":  # a report's: only the composer's hop
                        rid = body["trigger_id"]
                        if rid in found:
                            self.composed_ms.append((made - found[rid]) * 1000)
                        else:
                            uncomposed.setdefault(rid, []).append(made)
                        continue
                    sent = self.triggers.get(body["trigger_id"])
                    if m.key() == TERMINAL_KEY and sent is not None:
                        self.latency_ms.append((now - sent) * 1000)
                        got = answered.get(body["trigger_id"])
                        if got is not None:
                            self.legs.append(((got - sent) * 1000, (made - got) * 1000, (now - made) * 1000))
                        else:
                            # An answer and its alert commit in one transaction and come back
                            # together in no set order: an alert read before its answer waits here.
                            unanswered[body["trigger_id"]] = (sent, made, now)
        finally:
            consumer.close()

    def where(self) -> dict[str, Any]:
        """Each leg's p50 and p99, and its mean over the slowest 1% of hits (what makes the tail);
        and the alert composer's hop for the alerts reports triggered meanwhile."""
        out: dict[str, Any] = {}
        if self.legs:
            total = sorted(self.legs, key=sum)
            tail = total[int(len(total) * 0.99) :] or total[-1:]
            for i, name in enumerate(("query_to_answer", "answer_to_alert", "alert_to_consumer")):
                xs = sorted(leg[i] for leg in self.legs)
                out[name] = {
                    "p50": _quantile(xs, 0.5),
                    "p99": _quantile(xs, 0.99),
                    "slowest_1pct_mean": round(sum(leg[i] for leg in tail) / len(tail), 1),
                }
        hop = sorted(self.composed_ms)
        if hop:
            out["report_hits_to_alert"] = {"alerts": len(hop), "p50": _quantile(hop, 0.5), "p99": _quantile(hop, 0.99)}
        return out


def _feed(
    url: str,
    batches: list[list[tuple[str, str | None, bytes]]],
    go: Any,
    stop: Any,
    fed: Any,
    transactions: bool = False,
) -> None:
    """The feeder process: every tick, the batches that are due, so a slow tick is caught up
    instead of lowering the rate. It publishes as an upstream system would, with a plain
    idempotent producer (acks=all); `fed` counts what the broker acknowledged. With
    `transactions` each tick is a transaction of the bus's: on a 2-core machine the broker's work
    for those holds the feed at 586-869 records/s instead of the 1,000 asked."""
    from confluent_kafka import Producer

    from argus.bus.base import partition_for

    bus = bench_bus(url, "bench-feed")
    producer = Producer({"bootstrap.servers": bus.bootstrap, "enable.idempotence": True, "linger.ms": 5})

    def acked(err: Any, _msg: Any) -> None:
        if err is None:
            with fed.get_lock():
                fed.value += 1

    try:
        go.wait()
        parts = {t: bus.partitions(t) for t in {a[0] for b in batches for a in b}}  # they exist by now
        tick, start, done = 0.05, time.perf_counter(), 0
        while done < len(batches) and not stop.is_set():
            due = min(len(batches), int((time.perf_counter() - start) / tick) + 1)
            appends = [a for b in batches[done:due] for a in b]
            if transactions:
                bus.commit(Commit(appends=appends))
                with fed.get_lock():
                    fed.value += len(appends)
            else:
                for topic, key, value in appends:
                    producer.produce(
                        bus.kafka_topic(topic),
                        value=value,
                        key=key.encode() if key is not None else None,
                        partition=partition_for(key, parts[topic]),
                        on_delivery=acked,
                    )
                producer.poll(0)
            done = due
            time.sleep(max(0.0, start + done * tick - time.perf_counter()))
            producer.poll(0)
        producer.flush(30)
    finally:
        bus.close()


def _has_topics(bus: Any, *topics: str) -> bool:
    try:
        return all(bus.partitions(t) for t in topics)
    except KeyError:  # not created yet
        return False


def _wait_for(done: Any, what: str, since: float) -> None:
    """Poll until `done()`, or give up WARM_TIMEOUT after `since`, saying what never came."""
    while not done():
        if time.perf_counter() - since > WARM_TIMEOUT:
            raise SystemExit(f"bench: {what} not there after {WARM_TIMEOUT:.0f} s")
        time.sleep(0.5)


def latency_run(
    topo_path: Path,
    root: Path,
    url: str,
    rate: float,
    seconds: float,
    lines: list[bytes],
    workers: int = 1,
    feed_transactions: bool = False,
    broker_pid: int | None = None,
) -> dict:
    """A group of `workers` (one by default), fed at `rate` records/s, queried 10 times a second."""
    schemas = default_schemas()
    rms_ts, q_ts = schemas.get("rms_record.v2"), schemas.get("cad_query.v1")
    conn = RmsConnector(RmsConnector.Config(path=str(root)))
    ctx = Context("bench_feed", NodeState())

    # The feed is converted and encoded before the clock starts: it stands for an upstream system
    # publishing at `rate`, and encoding it live in this process (beside the terminal and the
    # alert watcher, on cores the worker needs) held it at about a third of 1,000 records/s.
    def encoded(line: bytes, suffix: str) -> tuple[str, str | None, bytes]:
        raw = orjson.loads(line)
        raw["report_id"] = f"{raw['report_id']}-{suffix}"  # new reports, not versions of old ones
        rec = conn.convert(raw, ctx)
        return ("rms.records", rec.key, schemas.encode(rms_ts, rec.value))

    per_tick = max(1, int(rate * 0.05))
    feed_batches: list[list[tuple[str, str | None, bytes]]] = []
    for i in range(0, int(rate * (seconds + 6)), per_tick):
        feed_batches.append([encoded(line, f"L{i}") for line in lines[i % len(lines) : i % len(lines) + per_tick]])
    # Holdings to query: the first WARM reports, resolved before the clock starts, and plates
    # from them, so every query can hit however far ingest gets during the run (when the plates
    # came from the whole input, a slow run answered few queries with an alert, or none).
    warm = [encoded(line, "W") for line in lines[:WARM]]
    vehicles = [v for line in lines[:WARM] for v in orjson.loads(line).get("vehicles") or []]
    plates = sorted({(v["plate"], v["state"]) for v in vehicles if v.get("plate") and v.get("state")})
    cmd = ("run", "-t", str(topo_path), "--data-dir", str(root / "lat"), "--metrics-port", "0")
    procs = [
        run_argus(*cmd, url=url, stdout=(root / f"lat{i}.log").open("w"), stderr=subprocess.STDOUT)
        for i in range(workers)
    ]
    # The feeder is a process of its own (forked before this one opens any Kafka client): as a
    # thread it shared the interpreter lock with the alert watcher, which slowed both.
    mp = multiprocessing.get_context("fork")
    go, stop, fed = mp.Event(), mp.Event(), mp.Value("q", 0)
    feeder = mp.Process(target=_feed, args=(url, feed_batches, go, stop, fed, feed_transactions), daemon=True)
    feeder.start()
    term_bus, count_bus = (bench_bus(url, r) for r in ("bench-terminal", "bench-count"))
    sent: dict[str, float] = {}
    watcher = AlertWatcher(url, sent)
    try:
        warm_from = time.perf_counter()
        _wait_for(lambda: _has_topics(count_bus, "rms.records", "resolved"), "the worker's topics", warm_from)
        from argus.runtime.worker import status

        topo = load_topology(topo_path, root / "lat")

        def formed() -> bool:
            members = status(count_bus, topo)["workers"]  # type: ignore[arg-type]
            return len(members) == workers and all(members.values())

        # the group formed, every worker holding tasks, before anything is timed
        _wait_for(formed, f"a group of {workers} worker(s)", warm_from)
        for i in range(0, len(warm), 500):
            count_bus.commit(Commit(appends=warm[i : i + 500]))
        _wait_for(lambda: count(count_bus, "resolved") >= len(warm), f"{len(warm)} warm-up reports resolved", warm_from)
        # ... and worked through by every node after entity resolution too (correlation, the
        # sinks): a plate is on file for a query only once correlation holds its report
        _wait_for(
            lambda: not sum(status(count_bus, topo)["lag"].values()),  # type: ignore[arg-type]
            "every node caught up with the warm-up reports",
            warm_from,
        )
        warm_s = time.perf_counter() - warm_from
        watcher.start()
        meter = CpuMeter()  # is the machine short of CPU while the queries are answered?
        meter.watch("workers", *(w.pid for w in procs))
        meter.watch("feeder", feeder.pid or 0)
        meter.watch("bench", os.getpid())
        if broker_pid is not None:
            meter.watch("broker", broker_pid)
        meter.start()
        go.set()
        fed_from = time.perf_counter()
        time.sleep(2)
        # The terminal is connected before the clock starts, as a CAD terminal stays connected: its
        # transactional producer's start (a few round trips, up to 0.5 s on a busy broker) is not
        # a query's time.
        term_bus.claim()
        cfg, qctx = CadConfig(path="-"), Context("bench_terminal", NodeState())
        t_end = time.time() + seconds
        for i in itertools.count():
            if time.time() > t_end:
                break
            plate, state = plates[i % len(plates)]
            raw = {"query_id": f"KQ-{i}", **TERMINAL, "officer_id": "4471",
                   "plate": plate, "state": state, "issued_at": datetime.now(UTC).isoformat()}  # fmt: skip
            rec = build_query(raw, qctx, "bench_terminal", cfg)
            sent[rec.envelope["id"]] = time.time()
            term_bus.commit(Commit(appends=[("cad.queries", rec.key, schemas.encode(q_ts, rec.value))]))
            time.sleep(0.1)
        fed_s = fed.value / (time.perf_counter() - fed_from)  # while queries were being answered
        meter.stop()
        time.sleep(3)
        stop.set()
        resolved = count(count_bus, "resolved")  # how much of what was fed got through meanwhile
    finally:
        stop.set()
        go.set()  # a feeder still waiting to start sees the stop and ends
        watcher.stop.set()
        for w in procs:
            w.send_signal(signal.SIGTERM)
        for w in procs:
            w.wait(120)
        feeder.join(30)
        if watcher.is_alive():
            watcher.join(5)
        for b in (term_bus, count_bus):
            b.close()
    lat = sorted(watcher.latency_ms)
    q = lambda p: _quantile(lat, p) if lat else float("nan")  # noqa: E731
    return {"fed_records_per_s": round(fed_s), "fed": fed.value, "resolved_meanwhile": resolved - len(warm),
            "workers": workers, "warm_reports": len(warm), "warm_s": round(warm_s, 1),
            "queries": len(sent), "alerts": len(lat),
            "p50": q(0.5), "p99": q(0.99), "max": round(lat[-1], 1) if lat else None,
            "legs_ms": watcher.where(), "cpu": meter.result}  # fmt: skip
