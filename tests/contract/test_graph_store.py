from argus.stores.graph import GraphEdge, GraphNode


def node(i: str, kind: str = "PERSON") -> GraphNode:
    return {"id": i, "kind": kind, "subtype": "x", "label": f"label {i}", "props": {"n": i}}


def edge(a: str, rel: str, b: str) -> GraphEdge:
    return {"id": f"{a}-{rel}-{b}", "src": a, "dst": b, "rel": rel, "props": {"reason": f"{a} {rel} {b}"}}


def build(g) -> None:
    g.upsert_nodes([node(x) for x in "QVRSXY"])
    g.upsert_edges(
        [
            edge("Q", "MATCHED", "V"),
            edge("R", "SUSPECT_VEHICLE", "V"),
            edge("R", "PART_OF_SERIES", "S"),
            edge("X", "SUSPECT", "Y"),
        ]
    )
    g.commit()


def test_upserts_are_idempotent(graph_store) -> None:
    build(graph_store)
    build(graph_store)
    assert graph_store.counts() == {"nodes": 6, "merged_nodes": 0, "edges": 4, "sources": 0}
    graph_store.upsert_nodes([dict(node("V"), label="new label")])
    graph_store.commit()
    assert graph_store.node("V")["label"] == "new label"


def test_neighbourhood_and_paths(graph_store) -> None:
    build(graph_store)
    one = graph_store.neighbours("V", hops=1)
    assert {n["id"] for n in one["nodes"]} == {"V", "Q", "R"}
    two = graph_store.neighbours("V", hops=2)
    assert {n["id"] for n in two["nodes"]} == {"V", "Q", "R", "S"}
    (path,) = graph_store.paths("Q", "S")
    assert [e["rel"] for e in path] == ["MATCHED", "SUSPECT_VEHICLE", "PART_OF_SERIES"]
    assert path[0]["props"]["reason"] == "Q MATCHED V"
    assert graph_store.paths("Q", "Y") == []
    assert graph_store.paths("Q", "S", max_hops=2) == []


def test_merge_moves_edges_and_sources_and_replays_land_on_the_survivor(graph_store) -> None:
    build(graph_store)
    graph_store.add_sources(
        [
            {
                "entity_id": "X",
                "record_id": "r1",
                "agency": "CA0190000",
                "tlp": "AMBER",
                "method": "new",
                "score": 1.0,
                "reason": "new",
            }
        ]
    )
    graph_store.merge("V", "X", "same VIN", 1.0)
    graph_store.upsert_edges([edge("X", "SEEN_WITH", "Q")])  # a replayed write naming the merged id
    graph_store.commit()
    assert graph_store.node("X")["id"] == "V"
    assert {e["rel"] for e in graph_store.neighbours("V")["edges"]} == {
        "MATCHED",
        "SUSPECT_VEHICLE",
        "SUSPECT",
        "SEEN_WITH",
    }
    assert [s["record_id"] for s in graph_store.sources("V")] == ["r1"]
    assert graph_store.merges("V") == [{"merged": "X", "survivor": "V", "reason": "same VIN", "score": 1.0}]
    assert graph_store.counts()["merged_nodes"] == 1
