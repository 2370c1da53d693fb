"""One worker and three workers on one large input give exactly the embedded runtime's answer.

The input is the benchmark's synthetic data (`bench/pipeline.py`: RMS, CAD and SAR from every
agency, with nicknames, typos, transposed DOBs, plate variants and recurring people and vehicles),
ARGUS_SCALE_RECORDS records (1,500 unless set, to keep CI short; docs/benchmarks.md has a run at
50,000), fed from every source at once. The embedded runtime runs it in one process; then
a group of one and a group of three `argus run` workers run it on a real broker, dedup and the
sinks spread over the workers as tasks per partition. Every
topic, store, entity cluster and alert must equal the embedded run's, exactly: source order
(argus/runtime/order.py) hands entity resolution and correlation the same releases in the same
order however the processes' batches fall.
"""

from __future__ import annotations

import os
import signal
import time
import uuid
from pathlib import Path

import pytest

from argus.demo import prepare
from bench.pipeline import write_inputs
from tests.e2e.conftest import argus, snapshot
from tests.e2e.test_crash import assert_same_stores
from tests.integration.test_kafka_workers import start_worker, wait_done

pytestmark = [pytest.mark.integration, pytest.mark.slow]

RECORDS = int(os.environ.get("ARGUS_SCALE_RECORDS", "1500"))  # 50,000: docs/benchmarks.md


@pytest.mark.timeout(2 * 3600)  # 50,000 records: 28 min on 2 cores; 1,500: about 2
def test_one_and_three_workers_on_one_input_give_exactly_the_embedded_answer(
    kafka: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_inputs(tmp_path, RECORDS, seed=42)
    for f in (tmp_path / "inbox" / "cad" / "queries").iterdir():
        f.unlink()  # field queries are answered on arrival, against what is resolved by then
    topo = prepare(tmp_path)
    t0 = time.monotonic()
    r = argus("run", "--until-idle", "-t", str(topo), "--data-dir", str(tmp_path / "embedded"), "--metrics-port", "0",
              timeout=1800)  # fmt: skip
    assert r.returncode == 0, r.stderr[-2000:]
    timings = {"embedded": time.monotonic() - t0}
    print(f"\n{RECORDS:,} records: embedded {timings['embedded']:.0f} s", flush=True)
    expected = snapshot(topo, tmp_path / "embedded")
    assert len(expected["topics"]["resolved"]) >= RECORDS * 0.95 and len(expected["topics"]["alerts"]) > RECORDS

    for workers in (1, 3):
        url = f"kafka://{kafka}?prefix=s{workers}{uuid.uuid4().hex[:6]}."
        data = tmp_path / f"group{workers}"
        t0 = time.monotonic()
        procs = [start_worker(topo, data, url, tmp_path / f"w{workers}-{i}.log") for i in range(workers)]
        try:
            wait_done(topo, data, url, workers, len(expected["topics"]["alerts"]), timeout=2400)
            timings[f"{workers} worker(s)"] = time.monotonic() - t0
            print(f"{RECORDS:,} records: {workers} worker(s) {timings[f'{workers} worker(s)']:.0f} s", flush=True)
        finally:
            for p in procs:
                p.send_signal(signal.SIGTERM)
            for p in procs:
                p.wait(120)
        monkeypatch.setenv("ARGUS_BUS", url)
        assert_same_stores(snapshot(topo, data), expected, exact_alerts=True)
        print(f"{workers} worker(s): identical to the embedded run", flush=True)
        monkeypatch.delenv("ARGUS_BUS")
    print(f"{RECORDS:,} records:", ", ".join(f"{k} {v:.0f} s" for k, v in timings.items()))
