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
    version: int = 1,
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
        "version": version,
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
    search_store.upsert([doc("a", "updated narrative about a stolen bicycle", version=2)])
    search_store.commit()
    assert search_store.count() == 3
    assert search_store.search("Honda")["total"] == 0 and search_store.search("bicycle")["total"] == 1
    search_store.delete(["a"])
    search_store.commit()
    assert search_store.count() == 2 and search_store.get("a") is None


def test_an_older_version_never_overwrites_a_newer_one(search_store) -> None:
    seed(search_store)
    search_store.upsert([doc("a", "version three: recovered vehicle", version=3)])
    search_store.commit()
    search_store.upsert([doc("a", "armed robbery grey Honda Civic 8ABC123", version=1)])  # a replay
    search_store.upsert([doc("a", "version two: stale correction", version=2)])
    search_store.commit()
    assert search_store.get("a")["version"] == 3
    assert search_store.search("recovered")["total"] == 1 and search_store.search("Honda")["total"] == 0
    search_store.upsert([doc("a", "version three corrected: recovered vehicle towed", version=3)])
    search_store.commit()  # an equal version is a correction (or the same write replayed): it lands
    assert search_store.search("towed")["total"] == 1


def test_radius_and_id_filters(search_store) -> None:
    seed(search_store)
    search_store.upsert([doc("far", "robbery in Sacramento", lat=38.58, lon=-121.49)])
    search_store.commit()
    near_fresno = search_store.search("robbery", near=(36.8, -119.8, 25.0))
    assert {h["id"] for h in near_fresno["hits"]} == {"a"}
    assert search_store.search(near=(36.8, -119.8, 300.0))["total"] == 3  # "c" has no coordinates
    assert {h["id"] for h in search_store.search(ids=["a", "far", "nope"])["hits"]} == {"a", "far"}
    assert search_store.search(ids=[])["total"] == 0


def test_names_match_without_case_or_accents(search_store) -> None:
    search_store.upsert([doc("n", "witness JOSÉ Núñez saw the suspect")])
    search_store.commit()
    assert search_store.search("jose nunez")["total"] == 1


def test_an_audience_never_counts_what_it_may_not_see(search_store) -> None:
    from argus.stores.search import Audience

    seed(search_store)
    red = doc("red", "robbery intelligence", agency="CA0190000", tlp="RED")
    ci = doc("ci", "robbery network", agency="CA0430000", tlp="GREEN")
    ci["fields"]["criminal_intelligence"] = True
    search_store.upsert([red, ci])
    search_store.commit()
    assert search_store.search("robbery")["total"] == 4
    other = search_store.search("robbery", visible_to=Audience("CA0430000"))
    assert other["total"] == 3 and "red" not in {h["id"] for h in other["hits"]}
    assert search_store.search("robbery", visible_to=Audience("CA0190000"))["total"] == 4  # its own RED
    private = search_store.search("robbery", visible_to=Audience("PRIVATE01", law_enforcement=False))
    assert {h["id"] for h in private["hits"]} == {"a", "c"}
