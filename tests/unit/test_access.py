"""The API's one gate: what a subject sees of hits, entities, links and paths."""

from __future__ import annotations

from pathlib import Path

from argus.api.access import Gate
from argus.security.policy import Recipient
from argus.stores.embedded_graph import EmbeddedGraphStore

OWNER, OTHER = "CA0190000", "CA0430000"


def src(entity: str, record: str, tlp: str, agency: str = OWNER) -> dict:
    return {
        "entity_id": entity,
        "record_id": record,
        "agency": agency,
        "tlp": tlp,
        "method": "new",
        "score": 1.0,
        "reason": f"SMITH, JONATHAN in {record}",
    }


def graph(tmp_path: Path) -> EmbeddedGraphStore:
    """V (vehicle, GREEN) - P (person, AMBER) and V - R (person only in a RED record) - S (series)."""
    g = EmbeddedGraphStore(tmp_path / "g.db")
    g.upsert_nodes(
        [
            {"id": "V", "kind": "OBJECT", "subtype": "vehicle", "label": "CA 8ABC123", "props": {"plate": "8ABC123"}},
            {
                "id": "P",
                "kind": "PERSON",
                "subtype": "person",
                "label": "SMITH, JONATHAN",
                "props": {"name": "SMITH, JONATHAN", "dob": "1991-04-02", "sex": "M", "keys": {"name_key": "SMITH|J"}},
            },
            {"id": "R", "kind": "PERSON", "subtype": "person", "label": "DOE, RED", "props": {"name": "DOE, RED"}},
            {"id": "S", "kind": "EVENT", "subtype": "series", "label": "ROB-2026-014", "props": {}},
            {
                "id": "T",
                "kind": "PERSON",
                "subtype": "person",
                "label": "ROE, STRICT",
                "props": {"name": "ROE, STRICT"},
            },
        ]
    )
    g.add_sources(
        [
            src("V", "g1", "GREEN"),
            src("P", "a1", "AMBER"),
            src("R", "r1", "RED"),
            src("S", "r1", "RED"),
            src("T", "s1", "AMBER_STRICT"),
        ]
    )

    def edge(a: str, b: str, rec: str, tlp: str) -> dict:
        return {
            "id": f"{a}{b}",
            "src": a,
            "dst": b,
            "rel": "LINK",
            "props": {"reason": f"{a}-{b} in {rec}", "record_id": rec, "agency": OWNER, "tlp": tlp},
        }

    g.upsert_edges(
        [
            edge("P", "V", "a1", "AMBER"),
            edge("R", "V", "r1", "RED"),
            edge("R", "S", "r1", "RED"),
            edge("T", "V", "s1", "AMBER_STRICT"),
        ]
    )
    g.commit()
    return g


def test_another_agency_never_reaches_what_only_a_red_record_holds(tmp_path: Path) -> None:
    g = graph(tmp_path)
    other = Gate(Recipient(OTHER), g)
    hood = g.neighbours("V", hops=2, allow=other.allow)
    # T is mentioned only by an AMBER+STRICT record, seen as "restricted, contact": its edges are not
    # followed, or link analysis would tell whom that record mentions
    assert {n["id"] for n in hood["nodes"]} == {"V", "P"}
    assert other.edge(next(e for e in g.edges_of(["T"]) if e["id"] == "TV")) is None
    assert g.paths("V", "S", allow=other.allow) == []  # the only path runs through the RED record
    assert other.node(g.node("R")) is None and other.node(g.node("S")) is None
    owner = Gate(Recipient(OWNER), g)
    assert [[e["id"] for e in p] for p in g.paths("V", "S", allow=owner.allow)] == [["RV", "RS"]]


def test_amber_hides_names_and_strict_shows_only_whom_to_contact(tmp_path: Path) -> None:
    g = graph(tmp_path)
    other = Gate(Recipient(OTHER), g)
    p = other.node(g.node("P"))
    assert p is not None and p["access"] == "amber"
    assert "SMITH" not in str(p) and "1991" not in str(p) and p["props"] == {"sex": "M"}
    t = other.node(g.node("T"))
    assert t is not None and t["label"] == f"restricted, contact {OWNER}" and t["props"] == {}
    assert all(s["reason"] == "withheld" for s in other.sources("P"))
    assert Gate(Recipient(OWNER), g).node(g.node("P"))["label"] == "SMITH, JONATHAN"
    edge = next(e for e in g.edges_of(["P"]) if e["id"] == "PV")
    assert other.edge(edge)["props"]["reason"] == "withheld"


def test_search_hits_are_redacted_by_marking(tmp_path: Path) -> None:
    other = Gate(Recipient(OTHER))
    hit = {
        "id": "h",
        "kind": "rms.incident",
        "agency": OWNER,
        "tlp": "AMBER",
        "title": "RMS report",
        "lat": 36.8,
        "lon": -119.8,
        "snippet": "[Civic] driven by SMITH",
        "fields": {},
    }
    amber = other.hit(hit)
    assert amber is not None and amber["snippet"] == "" and amber["lat"] is None
    strict = other.hit(dict(hit, tlp="AMBER_STRICT"))
    assert strict is not None and "SMITH" not in str(strict) and strict["title"].startswith("restricted")
    assert other.hit(dict(hit, tlp="RED")) is None
    ci = dict(hit, tlp="GREEN", fields={"criminal_intelligence": True})
    assert Gate(Recipient("PRIVATE01", role="private_sector_partner", law_enforcement=False)).hit(ci) is None
    assert other.hit(dict(hit, tlp="GREEN"))["snippet"] == "[Civic] driven by SMITH"


def test_a_stix_object_is_seen_whole_or_not_at_all(tmp_path: Path) -> None:
    """An AMBER indicator from another agency: export and TAXII withhold it, so a profile or a
    neighbourhood must not show its name either."""
    g = EmbeddedGraphStore(tmp_path / "g.db")
    ind = {"id": "I", "kind": "OBJECT", "subtype": "indicator", "label": "SANDWORM C2 beacon", "props": {}}
    g.upsert_nodes([ind])
    g.add_sources([dict(src("I", "stix1", "AMBER"), whole=True, label="SANDWORM C2 beacon", attrs={})])
    g.commit()
    assert Gate(Recipient(OTHER), g).node(g.node("I")) is None
    assert Gate(Recipient(OWNER), g).node(g.node("I"))["label"] == "SANDWORM C2 beacon"
    hit = {"id": "h", "kind": "stix", "agency": OWNER, "tlp": "AMBER", "title": "STIX indicator", "fields": {}}
    assert Gate(Recipient(OTHER)).hit(hit) is None
