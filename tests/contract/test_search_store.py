from typing import Any

from argus.stores.search import Audience, SearchDoc


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
    amber: str = "",
    **fields: Any,
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
        "fields": {"source_id": i, **fields},
        "version": version,
        "amber_text": amber,
    }


def seed(s) -> None:
    s.upsert(
        [
            doc("a", "armed robbery grey Honda Civic 8ABC123", amber="120 robbery"),
            doc("b", "burglary of a garage", agency="CA0430000", tlp="GREEN", when="2026-10-01T00:00:00+00:00"),
            doc("c", "robbery at convenience store", kind="sar", lat=None, lon=None, amber="THEFT robbery"),
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


def _ids(res: dict[str, Any]) -> set[str]:
    return {h["id"] for h in res["hits"]}


def test_a_reader_matches_filters_and_sorts_only_on_what_it_may_see(search_store) -> None:
    """The policy inside the query: another agency's AMBER narrative, places and (existence
    only) dates never match, filter or order anything; a case member or named recipient gets
    the whole document; a STIX object is seen whole or not at all."""
    me, them = "CA0430000", "CA0190000"
    search_store.upsert(
        [
            doc(
                "amber",
                "informant SECRETWORD at 1 Elm St",
                agency=them,
                when="2026-11-20T00:00:00+00:00",
                amber="120 robbery ROB-9",
            ),
            doc(
                "strict",
                "STRICTWORD narrative",
                agency=them,
                tlp="AMBER_STRICT",
                when="2026-11-21T00:00:00+00:00",
                amber="120 robbery",
            ),
            doc(
                "nfd",
                "NFDWORD narrative",
                agency=them,
                tlp="GREEN",
                when="2026-11-23T00:00:00+00:00",
                amber="120 robbery",
                handling=["NO_FURTHER_DISSEMINATION"],
            ),
            doc("case", "CASEWORD narrative", agency=them, when="2026-11-19T00:00:00+00:00", cases=["ROB-1"]),
            doc("named", "NAMEDWORD narrative", agency=them, tlp="AMBER_STRICT", recipients=[me]),
            doc("stix", "STIXWORD indicator", agency=them, kind="stix", amber="STIXWORD"),
            doc("green", "GREENWORD narrative", agency=them, tlp="GREEN", when="2026-11-01T00:00:00+00:00"),
        ]
    )
    search_store.commit()
    who = Audience(me, principals=(me,), cases=("ROB-1",))
    assert _ids(search_store.search(visible_to=who)) == {"amber", "strict", "nfd", "case", "named", "green"}
    for word in ("SECRETWORD", "Elm", "STRICTWORD", "NFDWORD", "STIXWORD", "robbery strict"):
        assert search_store.search(word, visible_to=who)["total"] == 0, word
    assert _ids(search_store.search("robbery", visible_to=who)) == {"amber"}  # its AMBER words only
    assert _ids(search_store.search("rob", visible_to=who)) == {"amber"}  # prefix too
    for word, doc_id in (("CASEWORD", "case"), ("NAMEDWORD", "named"), ("GREENWORD", "green")):
        assert _ids(search_store.search(word, visible_to=who)) == {doc_id}, word
    # places: only what the reader sees in full; dates: not for existence-only documents
    inside = search_store.search(bbox=(36.0, -120.0, 37.0, -119.0), visible_to=who)
    assert _ids(inside) == {"case", "named", "green"}
    assert _ids(search_store.search(near=(36.8, -119.8, 5), visible_to=who)) == {"case", "named", "green"}
    since = search_store.search(since="2026-11-19T12:00:00+00:00", visible_to=who)
    assert _ids(since) == {"amber", "named"}  # named: full, dated 2026-11-22 by default
    assert search_store.search(until="2026-12-31T00:00:00+00:00", visible_to=who)["total"] == 4
    # order: by date among what the reader may see dated, existence-only documents after, by id
    order = [h["id"] for h in search_store.search(visible_to=who)["hits"]]
    assert order == ["named", "amber", "case", "green", "nfd", "strict"], order
    # the owner sees everything, words and places included
    owner = Audience(them)
    assert search_store.search("SECRETWORD", visible_to=owner)["total"] == 1
    assert search_store.search("STIXWORD", visible_to=owner)["total"] == 1


def test_offense_and_behaviour_filter_only_where_the_reader_sees_them(search_store) -> None:
    me, them = "CA0430000", "CA0190000"
    search_store.upsert(
        [
            doc("mine", "robbery", agency=me, offenses=["120", "13A"]),
            doc("amber", "robbery", agency=them, offenses=["120"], amber="120 robbery"),
            doc("strict", "robbery", agency=them, tlp="AMBER_STRICT", offenses=["120"]),
            doc("burglary", "burglary", agency=me, offenses=["220"]),
            doc("sar", "photographing", agency=them, tlp="GREEN", kind="sar", behavior="SURVL"),
            doc("sar2", "probing", agency=them, tlp="AMBER_STRICT", kind="sar", behavior="SURVL"),
        ]
    )
    search_store.commit()
    who = Audience(me, principals=(me,))
    # an existence-only document's offense and behaviour are not the reader's to filter on
    assert _ids(search_store.search(offenses=["120"], visible_to=who)) == {"mine", "amber"}
    assert _ids(search_store.search(offenses=["220", "13A"], visible_to=who)) == {"mine", "burglary"}
    assert _ids(search_store.search(behaviors=["SURVL"], visible_to=who)) == {"sar"}
    assert _ids(search_store.search("robbery", offenses=["120"], visible_to=who)) == {"mine", "amber"}
    assert _ids(search_store.search(offenses=["120"], visible_to=Audience(them))) == {"amber", "strict", "mine"}
