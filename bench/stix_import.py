"""STIX import speed: the whole bulk path (orjson parse, per-object checks, versioning in the
STIX store, entity resolution of STIX objects, graph and search writes) against `stix2.parse`
alone on the same objects, in the same run. Target: the whole path at least 2x faster.

The bundle is ATT&CK (../shared/data/attack/ics-attack.json when present, else the repository's
every-type fixture) copied with fresh ids until it holds at least --objects objects, references
rewritten so relationships still connect.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import orjson
import stix2

from argus.stix.validate import SCO_TYPES
from argus.topology import load_topology

REPO = Path(__file__).resolve().parent.parent
ATTACK = REPO.parent / "shared" / "data" / "attack" / "ics-attack.json"
FIXTURE = REPO / "tests" / "data" / "stix" / "all-types.json"


def bundle(n: int) -> tuple[bytes, str]:
    src = ATTACK if ATTACK.exists() else FIXTURE
    base = orjson.loads(src.read_bytes())["objects"]
    # SCOs have deterministic ids and marking-definitions are shared: copy only the rest.
    fixed = [o for o in base if o["type"] in SCO_TYPES or o["type"] == "marking-definition"]
    varied = [o for o in base if o not in fixed]
    out: list[dict[str, Any]] = list(fixed)
    copy = 0
    while len(out) < n:
        ids = {o["id"]: f"{o['type']}--{uuid.uuid4()}" for o in varied}
        text = orjson.dumps(varied).decode()
        for old, new in ids.items():
            text = text.replace(old, new)
        out.extend(orjson.loads(text))
        copy += 1
    doc = {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": out[:n]}
    return orjson.dumps(doc), f"{src.name} x{copy}"


def main(argv: list[str] | None = None) -> None:
    from pipelines.stix_bulk import StoreOpener, bulk_import, objects_of

    ap = argparse.ArgumentParser(prog="python -m bench stix")
    ap.add_argument("--objects", type=int, default=20_000)
    args = ap.parse_args(argv)
    data, made_from = bundle(args.objects)
    objs = orjson.loads(data)["objects"]

    t = time.perf_counter()
    for o in objs:
        stix2.parse(o, allow_custom=True)
    parse_s = time.perf_counter() - t

    runs = {}
    for procs in (os.cpu_count() or 1, 1):
        with tempfile.TemporaryDirectory() as tmp:
            from argus.backends import open_store

            topo = load_topology(REPO / "topology.yaml", Path(tmp))
            stores = {k: open_store(topo, k) for k in ("stix", "graph", "search")}
            t = time.perf_counter()
            res = bulk_import(objects_of(data), stores, agency="USDHS0000", processes=procs, opener=StoreOpener(topo))
            runs[res.processes] = time.perf_counter() - t
            for s in stores.values():
                s.close()
    whole_s = runs[max(runs)]
    assert not res.rejected, res.rejected[:3]
    n = len(objs)
    print(f"STIX import, {n:,} objects ({made_from}), embedded stores")
    print(f"  stix2.parse alone      {parse_s:7.2f} s  {n / parse_s:9,.0f} objects/s")
    for procs, secs in sorted(runs.items()):
        print(
            f"  whole path, {procs} process{'es' if procs > 1 else '  '} {secs:6.2f} s  {n / secs:9,.0f} objects/s"
            f"  ({res.added:,} added, {res.history:,} history)"
        )
    ratio = parse_s / whole_s
    print(f"  ratio                  {ratio:7.2f}x  (target >= 2.0x) {'PASS' if ratio >= 2 else 'FAIL'}")


if __name__ == "__main__":
    main()
