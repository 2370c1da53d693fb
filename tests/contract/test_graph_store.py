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


def source(entity: str, record: str) -> dict:
    return {
        "entity_id": entity,
        "record_id": record,
        "agency": "CA0190000",
        "tlp": "AMBER",
        "method": "new",
        "score": 1.0,
        "reason": f"{entity} in {record}",
    }


def rec_edge(a: str, rel: str, b: str, record: str) -> GraphEdge:
    e = edge(a, rel, b)
    e["props"]["record_id"] = record
    return e


def test_undo_a_merge_gives_back_links_and_sources_and_keeps_the_pair_apart(graph_store) -> None:
    g = graph_store
    g.upsert_nodes([node(x) for x in "ABCDE"])
    g.upsert_edges([rec_edge("A", "SUSPECT", "C", "r1"), rec_edge("B", "SUSPECT", "D", "r2")])
    g.add_sources([source("A", "r1"), source("B", "r2")])
    g.commit()
    g.merge("A", "B", "same name and DOB", 0.95)
    g.merge("A", "E", "same name", 0.9)
    g.commit()
    assert {e["dst"] for e in g.neighbours("A")["edges"]} == {"C", "D"}
    assert g.unmerge("B") is True
    g.keep_apart("A", "B", "analyst: different people (different SSN)")
    g.commit()
    assert g.node("B")["id"] == "B" and g.canonical("E") == "A"
    assert {(e["src"], e["dst"]) for e in g.neighbours("A")["edges"]} == {("A", "C")}
    assert {(e["src"], e["dst"]) for e in g.neighbours("B")["edges"]} == {("B", "D")}
    assert [s["record_id"] for s in g.sources("A")] == ["r1"]
    assert [s["record_id"] for s in g.sources("B")] == ["r2"]
    assert [m["merged"] for m in g.merges("A")] == ["E"]
    g.merge("A", "B", "a replayed merge", 0.95)  # kept apart: ignored
    g.commit()
    assert g.canonical("B") == "B" and g.kept_apart("B", "A")
    assert g.unmerge("B") is False
    assert g.counts()["merged_nodes"] == 1


def test_deleting_a_record_removes_what_only_it_contributed(graph_store) -> None:
    g = graph_store
    g.upsert_nodes([node(x) for x in "PVQ"])
    g.upsert_edges([rec_edge("P", "SUSPECT_VEHICLE", "V", "r1"), rec_edge("Q", "SUSPECT_VEHICLE", "V", "r2")])
    g.add_sources([source("P", "r1"), source("V", "r1"), source("V", "r2"), source("Q", "r2")])
    g.commit()
    g.delete_record("r1")
    g.commit()
    assert g.node("P") is None  # only r1 knew P
    assert g.node("V") is not None and [s["record_id"] for s in g.sources("V")] == ["r2"]
    assert [e["src"] for e in g.neighbours("V")["edges"]] == ["Q"]
    assert g.counts() == {"nodes": 2, "merged_nodes": 0, "edges": 1, "sources": 2}
    g.delete_record("r1")  # idempotent
    g.commit()
    assert g.counts()["nodes"] == 2


def _beside(g):  # type: ignore[no-untyped-def]
    """Another handle on the same store, as a second process opens it."""
    return type(g)(g.path if hasattr(g, "path") else g.url)


def test_a_reader_beside_the_writer_sees_its_merges(graph_store) -> None:
    g = graph_store
    g.upsert_nodes([node(x) for x in "AB"])
    g.commit()
    reader = _beside(g)  # as the API opens it
    try:
        g.merge("A", "B", "same", 1.0)
        g.commit()
        reader.refresh()
        assert reader.node("B")["id"] == "A"
    finally:
        reader.close()


def test_a_second_writer_follows_a_merge_the_first_committed_since_it_last_looked(graph_store) -> None:
    """Sink tasks in different processes write one store: a row naming an entity that another
    writer has just merged lands on the survivor, not on the merged id."""
    g = graph_store
    g.upsert_nodes([node(x) for x in "AB"])
    g.add_sources([source("B", "r1")])
    g.commit()
    other = _beside(g)
    try:
        other.refresh()  # it has looked once, before the merge
        g.begin()
        g.merge("A", "B", "same", 1.0)
        g.commit()
        other.begin()  # a flush: writes from here on
        other.add_sources([source("B", "r2")])
        other.commit()
        g.refresh()
        assert sorted(r["record_id"] for r in g.sources("A")) == ["r1", "r2"]
        assert g.counts()["sources"] == 2 and g.node("B")["id"] == "A"
    finally:
        other.close()


def test_a_merge_another_writer_commits_during_a_flush_still_moves_that_flush_s_rows(graph_store) -> None:
    """The window `begin()` leaves: a writer has mapped its rows through the merges as they were,
    and another commits a merge of their entity before the first commits. The rows must still
    end on the survivor. (The embedded store's write lock makes the merge wait; Neo4j's writes
    go out at commit, after the merge, and are moved there.)"""
    import threading

    g = graph_store
    g.upsert_nodes([node(x) for x in "ABC"])
    g.add_sources([source("B", "r1")])
    g.commit()
    other = _beside(g)
    try:
        other.begin()  # a flush starts: B is nobody's alias yet
        other.upsert_edges([rec_edge("C", "SEEN_WITH", "B", "r2")])
        other.add_sources([source("B", "r2")])

        def merge() -> None:
            g.begin()
            g.merge("A", "B", "same", 1.0)
            g.commit()

        t = threading.Thread(target=merge)
        t.start()
        t.join(timeout=2)  # Neo4j: done; embedded: waiting for the other's write lock
        other.commit()
        t.join(timeout=60)
        assert not t.is_alive()
        g.refresh()
        assert sorted(r["record_id"] for r in g.sources("A")) == ["r1", "r2"]
        assert {(e["src"], e["dst"]) for e in g.neighbours("A")["edges"]} == {("C", "A")}
        assert g.counts() == {"nodes": 2, "merged_nodes": 1, "edges": 1, "sources": 2}
    finally:
        other.close()


def test_a_dense_node_is_cut_the_same_way_on_every_backend(graph_store) -> None:
    g = graph_store
    g.upsert_nodes([node("HUB", "LOCATION")] + [node(f"L{i:02d}") for i in range(40)])
    g.upsert_edges([edge(f"L{i:02d}", "AT", "HUB") for i in range(40)])
    g.commit()
    cut = g.neighbours("HUB", hops=1, limit=5)
    assert cut["truncated"] and {n["id"] for n in cut["nodes"]} == {"HUB", "L00", "L01", "L02", "L03"}
    whole = g.neighbours("HUB", hops=1, limit=100)
    assert not whole["truncated"] and len(whole["nodes"]) == 41


def test_each_source_keeps_its_marking_and_what_its_record_said(graph_store) -> None:
    """The gate shows a merged entity from the mentions a reader may see: every backend must
    give back each source row's marking and mention exactly as written, across a merge."""
    g = graph_store
    g.upsert_nodes([node("A"), node("B")])
    red = dict(
        source("B", "r2"),
        tlp="RED",
        ci=True,
        handling=["NO_FURTHER_DISSEMINATION"],
        cases=["ROB-1"],
        recipients=["user:4471", "CA0430000"],
        label="SMITH, JONATHAN",
        attrs={"name": "SMITH, JONATHAN", "dob": "1991-04-02"},
    )
    g.add_sources([dict(source("A", "r1"), label="J. SMITH", attrs={"name": "J. SMITH"}), red])
    g.commit()
    g.merge("A", "B", "same name and DOB", 0.95)
    g.commit()
    rows = {r["record_id"]: r for r in g.sources("A")}
    assert rows["r1"]["label"] == "J. SMITH" and rows["r1"]["attrs"] == {"name": "J. SMITH"}
    assert {k: rows["r2"][k] for k in red if k != "entity_id"} == {k: v for k, v in red.items() if k != "entity_id"}
    assert g.sources_for(["A"])["A"] == g.sources("A")


def _write_step(g, step: int, a: str, b: str, c: str, d: str) -> None:
    """One report's writes, as the sink makes them: A named; B named, with a link to vehicle D;
    C and D named, with a link from C to B; the report that merges B into A."""
    if step == 0:
        g.upsert_nodes([node(a)])
        g.add_sources([source(a, f"{a}r")])
    elif step == 1:
        g.upsert_nodes([node(b)])
        g.upsert_edges([rec_edge(b, "SUSPECT_VEHICLE", d, f"{b}r")])
        g.add_sources([source(b, f"{b}r")])
    elif step == 2:
        g.upsert_nodes([node(c), node(d, "OBJECT")])
        g.upsert_edges([rec_edge(c, "SEEN_WITH", b, f"{c}r")])
    else:
        g.merge(a, b, "same name and DOB", 0.95)


def test_the_graph_ends_the_same_whatever_order_a_merge_and_the_records_it_joins_arrive(graph_store) -> None:
    """The sink reads the resolved topic's partitions as they come: the report that merges two
    entities can be written before the reports that first named them, and a link before the
    entities it joins. Every order must leave one graph, on every backend."""
    from itertools import permutations

    g = graph_store
    seen: list[tuple] = []
    for n, order in enumerate(permutations(range(4))):
        a, b, c, d = (f"p{n}{x}" for x in "ABCD")

        before = g.counts()
        for step in order:
            g.begin()
            _write_step(g, step, a, b, c, d)
            g.commit()
        g.refresh()
        after = g.counts()
        strip = {a: "A", b: "B", c: "C", d: "D"}
        edges = sorted((strip.get(e["src"]), e["rel"], strip.get(e["dst"])) for e in g.neighbours(a, hops=2)["edges"])
        seen.append(
            (
                {k: after[k] - before[k] for k in after},
                strip[g.node(b)["id"]],
                sorted(strip[x["id"]] for x in g.nodes_of([a, b, c, d]).values()),
                edges,
                sorted(r["record_id"][len(f"p{n}") :] for r in g.sources(a)),
                [m["merged"][len(f"p{n}") :] for m in g.merges(a)],
            )
        )
    assert seen[0] == (
        {"nodes": 3, "merged_nodes": 1, "edges": 2, "sources": 2},
        "A",
        ["A", "B", "C", "D"],
        [("A", "SUSPECT_VEHICLE", "D"), ("C", "SEEN_WITH", "A")],
        ["Ar", "Br"],
        ["B"],
    )
    assert all(s == seen[0] for s in seen), [i for i, s in enumerate(seen) if s != seen[0]]


def _mention(rid: str, label: str, sex: str) -> dict:
    return {
        "entity_id": "P",
        "record_id": rid,
        "agency": "CA0190000",
        "tlp": "GREEN",
        "method": "fuzzy",
        "score": 0.9,
        "reason": "name and DOB",
        "label": label,
        "attrs": {"name": label, "sex": sex},
    }


def _write_in_order(g, order: list[str]) -> None:
    mentions = {"r1": ("LONG, ZACHARY", "M"), "r2": ("LNOG, ZACHARY", "M"), "r3": ("LONG, ZACHARY", "U")}
    for rid in order:
        label, sex = mentions[rid]
        g.upsert_nodes([{"id": "P", "kind": "PERSON", "subtype": "person", "label": label, "props": {"sex": sex}}])
        g.add_sources([_mention(rid, label, sex)])
        g.settle(["P"])
        g.commit()


def test_an_entity_reads_the_same_whatever_order_its_records_came_in(graph_store) -> None:
    """Its label and attributes are a function of its sources, not of which was written last;
    and a purged record leaves no word of its own behind."""
    _write_in_order(graph_store, ["r2", "r3", "r1"])
    first = graph_store.node("P")
    assert (first["label"], first["props"]) == ("LONG, ZACHARY", {"name": "LONG, ZACHARY", "sex": "M"})
    graph_store.delete_record("r1")
    graph_store.delete_record("r3")
    graph_store.commit()
    left = graph_store.node("P")
    assert left["label"] == "LNOG, ZACHARY" and left["props"]["name"] == "LNOG, ZACHARY"


def test_the_same_records_in_another_order_give_the_same_entity(graph_store) -> None:
    _write_in_order(graph_store, ["r1", "r3", "r2"])
    got = graph_store.node("P")
    assert (got["label"], got["props"]) == ("LONG, ZACHARY", {"name": "LONG, ZACHARY", "sex": "M"})


def test_a_replayed_or_corrected_source_counts_once(graph_store) -> None:
    """A sink replaying a batch (after a crash) writes the same source rows again; a corrected
    record rewrites its row. Neither may make a spelling count twice."""
    _write_in_order(graph_store, ["r1", "r3", "r2"])
    for _ in range(3):  # r2's "LNOG" again and again: still one source of three
        graph_store.add_sources([_mention("r2", "LNOG, ZACHARY", "M")])
        graph_store.settle(["P"])
        graph_store.commit()
    assert graph_store.node("P")["label"] == "LONG, ZACHARY"
    graph_store.add_sources([_mention("r1", "LNOG, ZACHARY", "M")])  # r1 corrected: now 2 to 1
    graph_store.settle(["P"])
    graph_store.commit()
    assert graph_store.node("P")["label"] == "LNOG, ZACHARY"
    graph_store.add_sources([_mention("r1", "LONG, ZACHARY", "M")])  # and back
    graph_store.settle(["P"])
    graph_store.commit()
    assert graph_store.node("P")["label"] == "LONG, ZACHARY"


def test_edges_of_one_relationship_type_in_id_order_across_a_merge(graph_store) -> None:
    """The review queue's read: every POSSIBLE_SAME_AS, first by id, its ends as they are now."""
    build(graph_store)
    graph_store.upsert_edges([edge("Q", "POSSIBLE_SAME_AS", "R"), edge("X", "POSSIBLE_SAME_AS", "Y")])
    graph_store.commit()
    got = graph_store.edges_by_rel("POSSIBLE_SAME_AS", 10)
    assert [(e["id"], e["src"], e["dst"]) for e in got] == [
        ("Q-POSSIBLE_SAME_AS-R", "Q", "R"),
        ("X-POSSIBLE_SAME_AS-Y", "X", "Y"),
    ]
    assert got[0]["props"] == {"reason": "Q POSSIBLE_SAME_AS R"}
    assert [e["id"] for e in graph_store.edges_by_rel("POSSIBLE_SAME_AS", 1)] == ["Q-POSSIBLE_SAME_AS-R"]
    graph_store.merge("Y", "X", "confirmed", 1.0)
    graph_store.commit()
    assert [(e["src"], e["dst"]) for e in graph_store.edges_by_rel("POSSIBLE_SAME_AS", 10)] == [("Q", "R"), ("Y", "Y")]
    assert graph_store.edges_by_rel("SUSPECT", 10)[0]["src"] == "Y"
