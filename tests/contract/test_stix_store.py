"""The STIX object store contract, on every backend (embedded SQLite, OpenSearch): versions by
(id, modified), the current/first/every version views TAXII asks for, filters, paging by seq,
date_added rising with seq across writers, purge, and objects kept byte-for-meaning."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from argus.stix.markings import tlp_of, to_tlp2
from argus.stores.stix import StixItem, StixStore

DATA = Path(__file__).parents[1] / "data" / "stix" / "all-types.json"
OWN = "USDHS0000"
Opener = Callable[[], StixStore]


def objects() -> list[dict[str, Any]]:
    return orjson.loads(DATA.read_bytes())["objects"]


def items(objs: list[dict[str, Any]], record: str = "rec", **marks: Any) -> list[StixItem]:
    out = []
    for i, o in enumerate(objs):
        o = to_tlp2(o)
        tlp = tlp_of(o)
        out.append(StixItem(o, f"{record}-{i}", OWN, tlp.name if tlp else "GREEN", dict(marks)))
    return out


def put(store: StixStore, objs: list[dict[str, Any]], record: str = "rec", **marks: Any) -> list[str]:
    out = store.put(items(objs, record, **marks))
    store.commit()
    return list(out)


def campaign() -> dict[str, Any]:
    return next(o for o in objects() if o["type"] == "campaign")


def test_versions_newer_current_equal_duplicate_older_history(stix_stores: Opener) -> None:
    s = stix_stores()
    base = campaign()
    v1 = dict(base, modified="2026-11-01T10:00:00Z")
    v2 = dict(base, modified="2026-11-02T10:00:00.000Z", description="second")
    v0 = dict(base, modified="2026-10-01T10:00:00.000Z", description="older")
    assert put(s, [v1, v2]) == ["added", "added"]
    assert put(s, [dict(v1, modified="2026-11-01T10:00:00.000Z")]) == ["duplicate"]  # same instant
    assert put(s, [v0]) == ["history"]
    assert [o.obj.get("description") for o in s.scan(ids=[base["id"]])] == ["second"]
    assert [o.obj.get("description") for o in s.scan(ids=[base["id"]], versions="first")] == ["older"]
    assert len(list(s.scan(ids=[base["id"]], versions="all"))) == 3
    wanted = list(s.scan(ids=[base["id"]], versions=["2026-11-01T10:00:00.000Z"]))
    assert [o.modified for o in wanted] == [v1["modified"]]
    assert [o.modified for o in s.versions(base["id"])] == [v0["modified"], v1["modified"], v2["modified"]]
    assert s.count() == 1
    assert put(s, [v2, v1]) == ["duplicate", "duplicate"]  # a replay changes nothing


def test_every_object_and_its_marks_kept_as_sent(stix_stores: Opener) -> None:
    s = stix_stores()
    objs = objects()
    put(s, objs, cases=["CASE-1"], ci=True, handling=[], recipients=[])
    assert s.count() == len({o["id"] for o in objs})
    assert len(list(s.scan(versions="all"))) == len(objs)
    current = {o.id: o for o in s.scan()}
    for o in map(to_tlp2, objs):
        if o["id"] in current and current[o["id"]].modified == (o.get("modified") or ""):
            assert current[o["id"]].obj == o  # custom properties, extensions, unicode: as sent
    one = next(iter(current.values()))
    assert one.marks["cases"] == ["CASE-1"] and one.marks["ci"] is True and one.agency == OWN
    assert one.row["tlp"] == one.tlp


def test_filters_and_paging_by_seq(stix_stores: Opener) -> None:
    s = stix_stores()
    objs = objects()
    put(s, objs)
    every = list(s.scan(versions="all"))
    seqs = [o.seq for o in every]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    paged, after = [], 0
    while True:
        page = []
        for o in s.scan(after_seq=after, versions="all", batch=4):
            page.append(o)
            if len(page) == 7:
                break
        if not page:
            break
        paged += page
        after = page[-1].seq
    assert [o.seq for o in paged] == seqs
    assert {o.type for o in s.scan(types=["indicator", "malware"])} == {"indicator", "malware"}
    ind = next(o for o in every if o.type == "indicator")
    assert [o.id for o in s.scan(ids=[ind.id])] == [ind.id]
    assert [o.id for o in s.scan(record_ids=[ind.record_id])] == [ind.id]
    assert {o.spec_version for o in s.scan(spec_versions=["2.1"], versions="all")} == {"2.1"}
    middle = every[len(every) // 2]
    later = list(s.scan(added_after=middle.added, versions="all"))
    assert later and all(o.added > middle.added for o in later) and len(later) == len(every) - len(every) // 2 - 1


def test_date_added_rises_with_seq_across_writers(stix_stores: Opener) -> None:
    """Two writers in turn (a bulk import's processes, a sink's tasks) and a reader paging by
    seq: nothing is skipped, no seq is used twice, and date_added never goes back."""
    a, b, reader = stix_stores(), stix_stores(), stix_stores()
    base = objects()
    groups = [[dict(o, id=o["id"].split("--")[0] + f"--{n:08d}-0000-4000-8000-{i:012d}") for i, o in enumerate(base)
               if o["type"] not in ("marking-definition",) and "modified" in o] for n in range(6)]  # fmt: skip
    errors: list[BaseException] = []

    def write(store: StixStore, mine: list[list[dict[str, Any]]], name: str) -> None:
        try:
            for k, g in enumerate(mine):
                put(store, g, record=f"{name}{k}")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    ts = [
        threading.Thread(target=write, args=(a, groups[0::2], "a")),
        threading.Thread(target=write, args=(b, groups[1::2], "b")),
    ]
    seen: list[Any] = []
    after = 0
    for t in ts:
        t.start()
    while any(t.is_alive() for t in ts) or after < max((o.seq for o in reader.scan(versions="all")), default=0):
        for o in reader.scan(after_seq=after, versions="all"):
            seen.append(o)
            after = o.seq
    for t in ts:
        t.join()
    assert not errors, errors
    every = list(reader.scan(versions="all"))
    assert len(every) == sum(len(g) for g in groups)
    assert [o.seq for o in seen] == [o.seq for o in every]  # the reader paging by seq missed nothing
    added = [o.added for o in every]
    assert added == sorted(added) and len(set(added)) == len(added)


def test_purge_removes_a_records_versions_and_current_follows(stix_stores: Opener) -> None:
    s = stix_stores()
    base = campaign()
    s.put(items([dict(base, modified="2026-11-01T10:00:00Z")], record="keep"))
    s.put(items([dict(base, modified="2026-11-02T10:00:00Z", description="purged")], record="gone"))
    s.commit()
    assert [o.obj.get("description") for o in s.scan(ids=[base["id"]])] == ["purged"]
    assert s.delete_record("gone-0") == 1
    s.commit()
    assert [o.modified for o in s.scan(ids=[base["id"]])] == ["2026-11-01T10:00:00Z"]
    assert [o.modified for o in s.scan(ids=[base["id"]], versions="first")] == ["2026-11-01T10:00:00Z"]
    assert s.delete_record("keep-0") == 1
    s.commit()
    assert list(s.scan(ids=[base["id"]], versions="all")) == [] and s.versions(base["id"]) == []
    assert s.count() == 0
    assert s.delete_record("never-was") == 0


def test_an_object_belongs_to_its_producer(stix_stores: Opener) -> None:
    """Another agency's version of an object, however new, is refused: it must neither replace
    the owner's text nor become something its sender may later purge."""
    s = stix_stores()
    base = campaign()
    assert put(s, [dict(base, modified="2026-11-01T10:00:00Z")]) == ["added"]
    mine = dict(base, modified="2030-01-01T00:00:00Z", description="planted by another agency")
    theirs = [StixItem(to_tlp2(mine), "other-rec", "CA0430000", "GREEN", {})]
    assert list(s.put(theirs)) == ["foreign"]
    s.commit()
    assert [o.agency for o in s.versions(base["id"])] == [OWN]
    assert [o.obj.get("description") for o in s.scan(ids=[base["id"]])] == [base.get("description")]
