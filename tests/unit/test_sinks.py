from argus.testing import Harness
from processors.dedup import DedupProcessor
from processors.entity_resolution import EntityResolutionProcessor
from sinks.graph import GraphSink
from sinks.search import SearchSink
from tests.conftest import rms_record


def resolved(*records):
    d, er = Harness(DedupProcessor()), Harness(EntityResolutionProcessor())
    return [er.run(d.run([r]).outputs).outputs[0] for r in records]


def test_graph_sink_writes_entities_links_sources_and_is_idempotent(tmp_path) -> None:
    from argus.stores.embedded_graph import EmbeddedGraphStore

    store = EmbeddedGraphStore(tmp_path / "g.db")
    recs = resolved(rms_record(), rms_record(report_id="R2", agency="CA0200000"))
    Harness(GraphSink(), stores={"graph": store}).run(recs, input_schema="resolved.v2")
    first = store.counts()
    Harness(GraphSink(), stores={"graph": store}).run(recs, input_schema="resolved.v2")  # a replay
    assert store.counts() == first
    vehicle = next(e for e in recs[0].body["entities"] if e["subtype"] == "vehicle")["entity_id"]
    assert len(store.sources(vehicle)) == 2
    series = next(e for e in recs[0].body["entities"] if e["subtype"] == "series")["entity_id"]
    paths = store.paths(vehicle, series)  # one through each report of the series
    assert len(paths) == 2
    assert all([e["rel"] for e in p] == ["SUSPECT_VEHICLE", "PART_OF_SERIES"] for p in paths)


def test_search_sink_indexes_text_and_mentions(tmp_path) -> None:
    from argus.stores.embedded_search import EmbeddedSearchStore

    store = EmbeddedSearchStore(tmp_path / "s.db")
    recs = resolved(rms_record())
    for _ in range(2):
        Harness(SearchSink(), stores={"search": store}).run(recs, input_schema="resolved.v2")
    assert store.count() == 1
    assert store.search("8ABC123")["total"] == 1 and store.search("REYES")["total"] == 1
    hit = store.search("Civic", agencies=["CA0190000"])["hits"][0]
    assert hit["tlp"] == "AMBER" and hit["fields"]["series_id"] == "ROB-2026-014"
