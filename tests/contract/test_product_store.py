"""The product store's contract, on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from argus.security.policy import Marking
from argus.stores.products import Delivery, Feedback, LibraryQuery, ProductStore, StaleProduct
from argus.stores.search import Audience
from argus.workflows.product_model import Dissemination, Paragraph, Portion, Product, Step

A, B, C = "CAFC00000", "CA0190000", "CA0430000"
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def product(pid: str, agency: str = A, tlp: str = "GREEN", state: str = "PUBLISHED", **kw: object) -> Product:
    base = dict(
        id=pid, series=pid, revision=1, type="situational_awareness", title=f"Copper thefts {pid}",
        marking=Marking(agency, tlp, handling=("FOUO",)), author="an-1", created_at=T0, state=state,
        sections={"summary": (Paragraph("Copper wire thefts rose at substations."),
                              Paragraph("Informant named Reyes", Portion("RED"), ("rec-1",)))},
        published_at=T0 + timedelta(hours=5) if state != "DRAFT" else None, topic="Copper theft",
        category="organised_crime", dissemination=Dissemination(agencies=(B,), taxii=True),
        steps=(Step("submit", "SUBMIT", "an-1", agency, T0, "ready"),),
    )  # fmt: skip
    return Product(**(base | kw))  # type: ignore[arg-type]


def test_products_round_trip_and_saves_are_conditional(product_store: ProductStore) -> None:
    p = product("p1", requested_at=T0 - timedelta(hours=1), fields={"plate": "7XYZ123"})
    assert product_store.create(p) and not product_store.create(p)
    got = product_store.get("p1")
    assert got == p
    saved = product_store.save(dataclasses.replace(got, title="renamed"))  # type: ignore[arg-type]
    assert saved.version == 1 and saved.title == "renamed"
    with pytest.raises(StaleProduct):
        product_store.save(dataclasses.replace(p, title="stale"))
    assert product_store.get("nope") is None


def test_the_library_shows_released_products_seen_in_full_and_drafts_only_at_home(product_store: ProductStore) -> None:
    product_store.create(product("green", B))
    product_store.create(product("amber", B, "AMBER"))
    product_store.create(product("draft", B, state="DRAFT"))
    product_store.create(product("les", B, marking=Marking(B, "GREEN", handling=("LES",))))
    product_store.create(product("old", B, published_at=T0 - timedelta(days=40)))
    c = Audience(C, principals=(C,))
    total, got = product_store.library(c, LibraryQuery())
    assert total == 3 and [p.id for p in got] == ["green", "les", "old"]
    partner = Audience(C, law_enforcement=False, principals=(C,))
    assert product_store.library(partner, LibraryQuery())[0] == 0  # none marked for private-sector partners
    product_store.create(product("psp", B, dissemination=Dissemination(private_sector=True)))
    assert [p.id for p in product_store.library(partner, LibraryQuery())[1]] == ["psp"]
    home = Audience(B, principals=(B,))
    assert product_store.library(home, LibraryQuery())[0] == 6
    assert [p.id for p in product_store.library(c, LibraryQuery(since="2026-11-01"))[1]] == ["green", "les", "psp"]


def test_library_words_never_match_a_portion_marked_paragraph(product_store: ProductStore) -> None:
    product_store.create(product("p1", B))
    c = Audience(C, principals=(C,))
    assert [p.id for p in product_store.library(c, LibraryQuery(text="substations"))[1]] == ["p1"]
    assert product_store.library(c, LibraryQuery(text="reyes"))[0] == 0
    assert product_store.library(None, LibraryQuery(text="reyes"))[0] == 0
    assert product_store.library(c, LibraryQuery(topic="copper", type="situational_awareness"))[0] == 1
    assert product_store.library(c, LibraryQuery(type="bolo"))[0] == 0


def test_revisions_deliveries_marks_and_feedback(product_store: ProductStore) -> None:
    product_store.create(product("p1"))
    product_store.create(product("p2", series="p1", revision=2, supersedes="p1"))
    assert [p.id for p in product_store.revisions("p1")] == ["p1", "p2"]
    at = T0 + timedelta(hours=6)
    rows = [Delivery("p2", "ofc-1", B, "field", "DELIVERED", "unit 12", 1, at, unit="12", role="patrol_officer"),
            Delivery("p2", "ptn-1", C, "inbox", "WITHHELD", "not marked for partners", 0, at)]  # fmt: skip
    product_store.deliver(rows)
    product_store.deliver(rows)  # a publish retried keeps the first
    assert product_store.deliveries("p2") == rows
    assert [d.product for d in product_store.inbox("ofc-1", 10)] == ["p2"]
    assert product_store.inbox("ptn-1", 10) == []
    assert product_store.mark("p2", "ofc-1", "read", at + timedelta(minutes=1))
    assert not product_store.mark("p2", "ptn-1", "read", at)
    got = product_store.deliveries("p2")[0]
    assert got.read_at == got.received_at == at + timedelta(minutes=1)
    product_store.put_feedback(Feedback("p2", "ofc-1", B, 4, True, "arrest", "stopped the van", at))
    product_store.put_feedback(Feedback("p2", "ofc-1", B, 5, True, "arrest", "and a seizure", at))
    assert [(f.useful, f.comment) for f in product_store.feedback("p2")] == [(5, "and a seizure")]
    stats = product_store.production(T0 - timedelta(days=1))
    assert {"type": "situational_awareness", "agency": A, "state": "PUBLISHED", "count": 2} in stats["products"]
    assert stats["publication_hours"]["count"] == 2 and stats["publication_hours"]["median"] == 5.0
    assert {"channel": "field", "status": "DELIVERED", "count": 1, "received": 1, "read": 1} in stats["deliveries"]
    assert stats["feedback"] == [{"outcome": "arrest", "count": 1, "useful_sum": 5, "actionable": 1}]
    other = product_store.production(T0 - timedelta(days=1), B)
    assert other["products"] == other["deliveries"] == other["feedback"] == []
