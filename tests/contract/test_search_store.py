from argus.stores.search import SearchDoc


def doc(
    i: str,
    text: str,
    agency: str = "CA0190000",
    tlp: str = "AMBER",
    when: str = "2026-11-22T10:00:00+00:00",
    lat: float | None = 36.8,
    lon: float | None = -119.8,
    kind: str = "rms.incident",
) -> SearchDoc:
    return {
        "id": i,
        "kind": kind,
        "agency": agency,
        "tlp": tlp,
        "occurred_at": when,
        "title": f"RMS report {i}",
        "text": text,
        "lat": lat,
        "lon": lon,
        "fields": {"source_id": i},
    }


def seed(s) -> None:
    s.upsert(
        [
            doc("a", "armed robbery grey Honda Civic 8ABC123"),
            doc("b", "burglary of a garage", agency="CA0430000", tlp="GREEN", when="2026-10-01T00:00:00+00:00"),
            doc("c", "robbery at convenience store", kind="sar", lat=None, lon=None),
        ]
    )
    s.commit()


def test_full_text_with_snippets(search_store) -> None:
    seed(search_store)
    res = search_store.search("robbery")
    assert res["total"] == 2 and {h["id"] for h in res["hits"]} == {"a", "c"}
    hit = next(h for h in res["hits"] if h["id"] == "a")
    assert "[robbery]" in hit["snippet"]
    assert search_store.search("8ABC123")["total"] == 1
    assert search_store.search("robb")["total"] == 2  # prefix on the last word


def test_filters_and_paging(search_store) -> None:
    seed(search_store)
    assert search_store.search(agencies=["CA0430000"])["total"] == 1
    assert search_store.search(tlps=["AMBER"], kinds=["sar"])["total"] == 1
    assert search_store.search(since="2026-11-01T00:00:00+00:00")["total"] == 2
    assert search_store.search(bbox=(36.7, -119.9, 36.9, -119.7))["total"] == 2
    page = search_store.search(limit=2, offset=2)
    assert page["total"] == 3 and len(page["hits"]) == 1


def test_query_syntax_cannot_be_injected(search_store) -> None:
    seed(search_store)
    for q in ('robbery" OR "burglary', "NEAR(a b)", "*", '"', "title:robbery", "-"):
        search_store.search(q)  # no exception


def test_upsert_replaces_and_delete_removes(search_store) -> None:
    seed(search_store)
    search_store.upsert([doc("a", "updated narrative about a stolen bicycle")])
    search_store.commit()
    assert search_store.count() == 3
    assert search_store.search("Honda")["total"] == 0 and search_store.search("bicycle")["total"] == 1
    search_store.delete(["a"])
    search_store.commit()
    assert search_store.count() == 2 and search_store.get("a") is None
