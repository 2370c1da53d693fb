"""Store sinks and the API on real servers: rows/s into Neo4j and docs/s into OpenSearch through
the sinks (batched), each against a naive one-write-per-row baseline in the same run, and API
latency for search and 2-hop link queries under concurrent clients.

    python -m bench stores [--records 100000] [--clients 20]

The servers are the test fixtures' (tests/servers): fetched from Maven Central and started on
127.0.0.1. The resolved records come from the synthetic generator through dedup and entity
resolution, as the pipeline makes them.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx

from argus.contracts import Context
from argus.demo import prepare
from argus.records import Record
from argus.state import NodeState
from argus.stores.sqlite_identity import Directory
from argus.testing import Harness
from argus.topology import load_topology
from bench import generator, report
from connectors.cad import CadIncidentConnector
from connectors.rms import RmsConnector
from processors.dedup import DedupProcessor
from processors.entity_resolution import EntityResolutionProcessor
from sinks.graph import GraphSink
from sinks.search import SearchSink
from tests.servers import free_port

TARGETS = {"rows_per_s": 10_000, "ratio": 20.0, "p99_ms": 100.0}
WORKERS = 1  # `argus api --workers`: 2 measured slower here (the clients and both servers share the 2 cores)
BATCH = {"graph": 1000, "search": 5000}  # the sinks' batch_size in pipelines/fusion.yaml


def resolved_records(n: int, seed: int) -> list[Record]:
    gen = generator(n, seed)
    rms = RmsConnector(RmsConnector.Config(path="-"), name="rms")
    cad = CadIncidentConnector(CadIncidentConnector.Config(path="-"), name="cad_incidents")
    ctx = Context("bench", NodeState())
    raw = [rms.convert(r, ctx) for r in gen.rms(n * 6 // 10)] + [cad.convert(r, ctx) for r in gen.cad(n - n * 6 // 10)]
    dedup, er = Harness(DedupProcessor()), Harness(EntityResolutionProcessor())
    out: list[Record] = []
    for i in range(0, len(raw), 5000):
        out += er.run(dedup.run(raw[i : i + 5000]).outputs).outputs
    return out


def graph_rows(recs: list[Record]) -> int:
    """What the graph sink writes: a node and a source row per entity mention, an edge per link."""
    return sum(len(r.body["entities"]) * 2 + len(r.body["links"]) for r in recs)


def feed(sink: Any, recs: list[Record]) -> float:
    batch = BATCH["search" if isinstance(sink, SearchSink) else "graph"]
    t = time.perf_counter()
    for i in range(0, len(recs), batch):
        for r in recs[i : i + batch]:
            sink.add(r)
        sink.flush()
    return time.perf_counter() - t


def bench_neo4j(url: str, recs: list[Record], naive_n: int) -> dict[str, Any]:
    from neo4j import GraphDatabase

    from argus.stores.neo4j_graph import Neo4jGraphStore

    def wipe() -> None:
        with GraphDatabase.driver(url, auth=None) as d, d.session() as s:
            while s.run("MATCH (n) WITH n LIMIT 20000 DETACH DELETE n RETURN count(*) AS c").single()["c"]:
                pass

    # Naive: the same rows, one auto-committed MERGE per node, edge and source row.
    wipe()
    sample = recs[:naive_n]
    with GraphDatabase.driver(url, auth=None) as d, d.session() as s:
        t = time.perf_counter()
        for r in sample:
            env = r.envelope
            for e in r.body["entities"]:
                s.run(
                    "MERGE (n:Entity {id: $id}) SET n.kind = $kind, n.label = $label",
                    id=e["entity_id"],
                    kind=e["kind"],
                    label=e["display"],
                ).consume()
                s.run(
                    "MATCH (e:Entity {id: $id}) MERGE (r:Record {id: $rid}) MERGE (e)-[x:SOURCED_FROM]->(r) "
                    "SET x.reason = $reason",
                    id=e["entity_id"],
                    rid=env["id"],
                    reason=e["match_reason"],
                ).consume()
            for link in r.body["links"]:
                s.run(
                    "MATCH (a:Entity {id: $a}) MATCH (b:Entity {id: $b}) MERGE (a)-[x:LINK {id: $id}]->(b) "
                    "SET x.rel = $rel",
                    a=link["from_id"],
                    b=link["to_id"],
                    id=link["link_id"],
                    rel=link["relation"],
                ).consume()
        naive_secs = time.perf_counter() - t
    naive = graph_rows(sample) / naive_secs
    wipe()  # the batched load stays for the API bench
    store = Neo4jGraphStore(url)
    sink = GraphSink(name="graph_sink")
    sink.setup(Context("graph_sink", NodeState(), stores={"graph": store}))
    secs = feed(sink, recs)
    counts = store.counts()
    store.close()
    rows = graph_rows(recs)
    return {
        "rows": rows,
        "seconds": round(secs, 2),
        "rows_per_s": round(rows / secs),
        "naive_rows_per_s": round(naive),
        "naive_sample_records": naive_n,
        "ratio": round(rows / secs / naive, 1),
        "counts": counts,
    }


def bench_opensearch(url: str, recs: list[Record], naive_n: int) -> dict[str, Any]:
    from opensearchpy import OpenSearch

    from argus.stores.opensearch_search import OpenSearchStore

    index = f"bench{int(time.time())}"
    store = OpenSearchStore(f"{url}?index={index}")
    sink = SearchSink(name="search_sink")
    sink.setup(Context("search_sink", NodeState(), stores={"search": store}))
    secs = feed(sink, recs)
    docs = store.count()
    store.close()
    # Naive: one index request per document, into a fresh index with the same mappings.
    naive_store = OpenSearchStore(f"{url}?index={index}-naive")
    naive_sink = SearchSink(name="naive")
    naive_sink.setup(Context("naive", NodeState(), stores={"search": naive_store}))
    for r in recs[:naive_n]:
        naive_sink.add(r)
    sample_docs = list(naive_sink._docs.values())
    client = OpenSearch(url)
    t = time.perf_counter()
    for d in sample_docs:
        client.index(
            index=f"{index}-naive",
            id=d["id"],
            body={
                "kind": d["kind"],
                "agency": d["agency"],
                "tlp": d["tlp"],
                "occurred_at": d["occurred_at"],
                "title": d["title"],
                "text": d["text"],
                "fields": d["fields"],
            },
            params={"version": d["version"], "version_type": "external_gte"},
        )
    naive = len(sample_docs) / (time.perf_counter() - t)
    client.close()
    naive_store.close()
    return {
        "docs": docs,
        "seconds": round(secs, 2),
        "docs_per_s": round(docs / secs),
        "naive_docs_per_s": round(naive),
        "naive_sample_docs": len(sample_docs),
        "ratio": round(docs / secs / naive, 1),
        "index": index,
    }


def bench_embedded(root: Path, recs: list[Record]) -> dict[str, Any]:
    from argus.stores.embedded_graph import EmbeddedGraphStore
    from argus.stores.embedded_search import EmbeddedSearchStore

    out = {}
    g = EmbeddedGraphStore(root / "var" / "graph.db")
    gs = GraphSink(name="graph_sink")
    gs.setup(Context("graph_sink", NodeState(), stores={"graph": g}))
    secs = feed(gs, recs)
    out["graph_rows_per_s"] = round(graph_rows(recs) / secs)
    g.close()
    s = EmbeddedSearchStore(root / "var" / "search.db")
    ss = SearchSink(name="search_sink")
    ss.setup(Context("search_sink", NodeState(), stores={"search": s}))
    secs = feed(ss, recs)
    out["search_docs_per_s"] = round(s.count() / secs)
    s.close()
    return out


def analyst_keys(topology: Path, agencies: list[str]) -> dict[str, str]:
    """One analyst per agency with an API key, as an administrator would set them up: the API
    trusts no header but a credential."""
    d = Directory.for_data_dir(load_topology(topology).data_dir)
    keys = {}
    for ori in agencies:
        if ori not in {a["ori"] for a in d.agencies()}:
            d.add_agency(ori, ori)
        sid = f"bench-{ori.lower()}"
        if sid not in {u["id"] for u in d.subjects()}:
            d.add_subject(sid, ori, ["analyst"])
        keys[ori] = d.create_key(sid)
    d.close()
    return keys


def api_latency(
    topology: Path, env: dict[str, str], recs: list[Record], clients: int, per_client: int, pace: float = 0.0
) -> dict:
    """p50/p99 of search and 2-hop neighbourhood requests from `clients` concurrent clients against
    `argus api` in its own processes (as deployed: WORKERS uvicorn workers). pace=0: closed loop, each
    client sends its next pair as soon as the last is answered (a throughput test in disguise);
    pace=s: each client sends one pair every s seconds (analysts reading what they get)."""
    agencies = sorted({r.envelope["source_agency"] for r in recs})
    keys = analyst_keys(topology, agencies)
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "argus",
            "api",
            "--topology",
            str(topology),
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=dict(os.environ, **env),
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                httpx.get(base + "/healthz")
                break
            except httpx.TransportError:
                time.sleep(0.1)
        rng = random.Random(7)
        vehicles = sorted({e["entity_id"] for r in recs for e in r.body["entities"] if e["subtype"] == "vehicle"})
        words = ["robbery", "burglary", "Honda", "grey", "suspect", "vehicle", "Fresno", "assault", "theft", "fled"]
        lat: dict[str, list[float]] = {"search": [], "two_hop": []}
        lock = threading.Lock()

        def ok(resp: httpx.Response) -> None:
            if resp.status_code not in (200, 404):  # 404: an entity this agency may not see is an answer too
                resp.raise_for_status()

        def client(i: int) -> None:
            r = random.Random(i)
            with httpx.Client(base_url=base, timeout=30, headers={"X-API-Key": keys[r.choice(agencies)]}) as c:
                for n in range(per_client):
                    if pace:
                        time.sleep(max(0.0, t0 + n * pace + r.random() * pace - time.perf_counter()))
                    t = time.perf_counter()
                    ok(c.get("/api/v1/search", params={"q": r.choice(words), "limit": 20}))
                    a = time.perf_counter() - t
                    t = time.perf_counter()
                    ok(c.get(f"/api/v1/entities/{r.choice(vehicles)}/neighbours", params={"hops": 2}))
                    b = time.perf_counter() - t
                    with lock:
                        lat["search"].append(a * 1000)
                        lat["two_hop"].append(b * 1000)

        with httpx.Client(base_url=base, headers={"X-API-Key": keys[agencies[0]]}) as warm:
            for v in rng.sample(vehicles, 20):
                warm.get(f"/api/v1/entities/{v}/neighbours", params={"hops": 2})
        t0 = time.perf_counter()
        threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
    finally:
        proc.terminate()
        proc.wait(30)
    out: dict[str, Any] = {
        "clients": clients,
        "requests": sum(len(v) for v in lat.values()),
        "requests_per_s": round(sum(len(v) for v in lat.values()) / wall),
    }
    for k, v in lat.items():
        v.sort()
        out[k] = {"p50_ms": round(v[len(v) // 2], 1), "p99_ms": round(v[int(len(v) * 0.99)], 1)}
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--naive", type=int, default=2000, help="records written one row at a time (baseline)")
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--requests", type=int, default=50, help="per client and kind")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    from tests.servers import neo4j_server, opensearch_server

    root = Path(tempfile.mkdtemp(prefix="argus-bench-stores-"))
    t = time.perf_counter()
    recs = resolved_records(args.records, args.seed)
    print(f"{len(recs):,} resolved records in {time.perf_counter() - t:.1f}s", flush=True)
    res: dict[str, Any] = {"records": len(recs)}
    topology = prepare(root)
    res["embedded"] = bench_embedded(root, recs)
    print("embedded", res["embedded"], flush=True)
    res["api_embedded"] = api_latency(topology, {}, recs, args.clients, args.requests)
    print("api on embedded stores", res["api_embedded"], flush=True)
    res["api_embedded_paced"] = api_latency(topology, {}, recs, args.clients, args.requests // 2, pace=1.0)
    print("api on embedded stores, 1 request pair/s per client", res["api_embedded_paced"], flush=True)
    with ExitStack() as stack:
        (root / "neo4j").mkdir()
        neo = stack.enter_context(neo4j_server(root / "neo4j"))
        osu = stack.enter_context(opensearch_server())
        res["neo4j"] = bench_neo4j(neo, recs, args.naive)
        print("neo4j", res["neo4j"], flush=True)
        res["opensearch"] = bench_opensearch(osu, recs, args.naive)
        print("opensearch", res["opensearch"], flush=True)
        env = {"ARGUS_GRAPH": neo, "ARGUS_SEARCH": f"{osu}?index={res['opensearch']['index']}"}
        res["api_servers"] = api_latency(topology, env, recs, args.clients, args.requests)
        print("api on neo4j + opensearch", res["api_servers"], flush=True)
        res["api_servers_paced"] = api_latency(topology, env, recs, args.clients, args.requests // 2, pace=1.0)
        print("api on neo4j + opensearch, 1 request pair/s per client", res["api_servers_paced"], flush=True)
    print(json.dumps(res, indent=2))
    checks = [
        ("Neo4j sink rows/s", res["neo4j"]["rows_per_s"], TARGETS["rows_per_s"], ">="),
        ("Neo4j vs naive", res["neo4j"]["ratio"], TARGETS["ratio"], ">="),
        ("OpenSearch sink docs/s", res["opensearch"]["docs_per_s"], TARGETS["rows_per_s"], ">="),
        ("OpenSearch vs naive", res["opensearch"]["ratio"], TARGETS["ratio"], ">="),
        ("API search p99 ms (servers)", res["api_servers"]["search"]["p99_ms"], TARGETS["p99_ms"], "<="),
        ("API 2-hop p99 ms (servers)", res["api_servers"]["two_hop"]["p99_ms"], TARGETS["p99_ms"], "<="),
        ("API search p99 ms (embedded)", res["api_embedded"]["search"]["p99_ms"], TARGETS["p99_ms"], "<="),
        ("API 2-hop p99 ms (embedded)", res["api_embedded"]["two_hop"]["p99_ms"], TARGETS["p99_ms"], "<="),
        ("API search p99 ms (servers, paced)", res["api_servers_paced"]["search"]["p99_ms"], TARGETS["p99_ms"], "<="),
        ("API 2-hop p99 ms (servers, paced)", res["api_servers_paced"]["two_hop"]["p99_ms"], TARGETS["p99_ms"], "<="),
    ]
    report(checks)
    if args.json:
        args.json.write_text(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
