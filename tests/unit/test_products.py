"""The product workflow and dissemination: templates, the source check, who may review and
approve, recipients decided by the policy (dropped with a reason, never a redacted copy), portion
markings per recipient, channels, renderings (HTML, PDF banners on every page, STIX validated)."""

from __future__ import annotations

import dataclasses
import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from argus.security.audit import AuditLog
from argus.security.policy import Marking
from argus.stores.sql_products import EmbeddedProducts
from argus.stores.sqlite_identity import Directory
from argus.workflows.product_model import Dissemination, Paragraph, Portion, Product
from argus.workflows.product_publish import Channels, Publisher
from argus.workflows.product_render import copy_for, html, pdf
from argus.workflows.product_stix import report_bundle
from argus.workflows.products import Desk, ProductRefused, ProductWorkflow
from argus.workflows.sar_review import Actor

FC, FRESNO, CLOVIS, ENERGY = "CAFC00000", "CA0190000", "CA0100000", "PSPENERGY"
SOURCES = {
    "rec-green": Marking(FRESNO, "GREEN"),
    "rec-amber": Marking(FRESNO, "AMBER", cases=("OP-COPPER",)),
    "rec-ci": Marking(FRESNO, "AMBER", ci=True, cases=("OP-COPPER",)),
}


class World:
    def __init__(self, tmp: Path) -> None:
        self.dir = Directory(tmp / "identity.db")
        for ori, le in ((FC, True), (FRESNO, True), (CLOVIS, True), (ENERGY, False)):
            self.dir.add_agency(ori, ori, law_enforcement=le)
        people = [("an-1", FC, ["analyst"], None), ("an-2", FC, ["analyst"], None), ("sup-1", FC, ["supervisor"], None),
                  ("ofc-1", FRESNO, ["patrol_officer"], "12"), ("ofc-2", FRESNO, ["patrol_officer"], "14"),
                  ("an-f", FRESNO, ["analyst"], None), ("ofc-c", CLOVIS, ["patrol_officer"], "3"),
                  ("psp-1", ENERGY, ["private_sector_partner"], None),
                  ("aud-1", FRESNO, ["auditor"], None)]  # fmt: skip
        for sid, ori, roles, unit in people:
            self.dir.add_subject(sid, ori, roles, unit=unit)
        self.dir.add_member("an-1", "case", "OP-COPPER")
        self.dir.add_member("ofc-1", "case", "OP-COPPER")
        self.events: list[dict[str, Any]] = []
        self.field: list[tuple[dict[str, Any], str]] = []
        self.shared: list[dict[str, Any]] = []
        self.store = EmbeddedProducts(tmp / "products.db")
        self.audit = AuditLog(tmp / "audit.db")
        desk = Desk(self.store, self.audit, self.events.append, SOURCES.get, self.dir.recipient, self.dir.rules)
        self.flow = ProductWorkflow(desk)
        chans = Channels(lambda: (self.dir.subjects(), {a["ori"]: a for a in self.dir.agencies()}),
                         self.dir.recipient, lambda v, k: self.field.append((v, k)),
                         lambda b, a: self.shared.append(b) or [])  # fmt: skip
        self.pub = Publisher(self.flow, chans)

    def actor(self, subject: str) -> Actor:
        s = self.dir.subject(subject)
        return Actor(subject, s["agency"], s["roles"][0])

    def through_approval(self, p: Product) -> Product:
        p = self.flow.submit(p, self.actor("an-1"))
        p = self.flow.peer_review(p, self.actor("an-2"), "PASS", "sound")
        return self.flow.approve(p, self.actor("sup-1"), "APPROVE", "release")


@pytest.fixture
def w(tmp_path: Path) -> World:
    return World(tmp_path)


def bolo(**over: Any) -> Product:
    base: dict[str, Any] = dict(
        id="", series="", revision=1, type="bolo", title="White Ford Transit, CA 7XYZ123",
        marking=Marking(FC, "AMBER", handling=("LES",), cases=("OP-COPPER",)), author="", created_at=datetime.now(UTC),
        urgency="PRIORITY", category="organised_crime", fields={"plate": "7XYZ123", "vehicle": "white Ford Transit"},
        sections={
            "subject": (Paragraph("White Ford Transit van, CA plate 7XYZ123, roof rack.", sources=("rec-green",)),),
            "officer_safety": (Paragraph("Driver known to carry a knife."),
                               Paragraph("Informant ZEBRA-7 says a handgun is in the van.", Portion("RED"))),
            "on_contact": (Paragraph("Identify the occupants; call Det. Ruiz 559-555-0142."),),
        },
        dissemination=Dissemination(agencies=(FRESNO,), roles=("patrol_officer",), named=("psp-1",), taxii=True),
    )  # fmt: skip
    return Product(**(base | over))


def test_a_submission_needs_the_templates_required_sections(w: World) -> None:
    p = w.flow.draft(bolo(sections={"subject": (Paragraph("the van"),)}), w.actor("an-1"))
    with pytest.raises(ProductRefused) as e:
        w.flow.submit(p, w.actor("an-1"))
    assert e.value.field == "sections.officer_safety" and e.value.status == 422


def test_a_product_is_never_marked_less_restrictively_than_a_source_it_quotes(w: World) -> None:
    a = w.actor("an-1")
    loose = bolo(marking=Marking(FC, "GREEN"), sources=("rec-amber",))
    p = w.flow.draft(loose, a)
    with pytest.raises(ProductRefused) as e:
        w.flow.submit(p, a)
    assert "rec-amber" in e.value.problem and "TLP:AMBER is more restrictive than TLP:GREEN" in e.value.problem
    ci = w.flow.draft(bolo(sources=("rec-ci",)), a)
    with pytest.raises(ProductRefused, match=r"rec-ci.*criminal intelligence"):
        w.flow.submit(ci, a)
    # quoted in a paragraph whose portion marking is at least the source's: accepted
    para = Paragraph("Seen at the Elm St yard.", Portion("AMBER", ci=True), ("rec-ci",))
    ok = w.flow.draft(bolo(sections=bolo().sections | {"details": (para,)}), a)
    assert w.flow.submit(ok, a).state == "IN_REVIEW"
    unknown = w.flow.draft(bolo(sources=("rec-none",)), a)
    with pytest.raises(ProductRefused, match="rec-none: not a record you may quote"):
        w.flow.submit(unknown, a)


def test_review_and_approval_are_someone_elses_and_only_approved_products_are_published(w: World) -> None:
    p = w.flow.draft(bolo(), w.actor("an-1"))
    with pytest.raises(ProductRefused, match="needs it APPROVED"):
        w.pub.publish(p, w.actor("an-1"))
    p = w.flow.submit(p, w.actor("an-1"))
    with pytest.raises(ProductRefused, match="the author cannot review"):
        w.flow.peer_review(p, w.actor("an-1"), "PASS", "mine")
    p = w.flow.peer_review(p, w.actor("an-2"), "PASS", "sound")
    with pytest.raises(ProductRefused, match="approval is a supervisor's"):
        w.flow.approve(p, w.actor("an-2"), "APPROVE", "ok")
    with pytest.raises(ProductRefused, match=r"CAFC00000's to work on"):
        w.flow.approve(p, w.actor("an-f"), "APPROVE", "ok")
    back = w.flow.approve(p, w.actor("sup-1"), "RETURN", "add the case number")
    assert back.state == "DRAFT" and [s.action for s in back.steps] == ["submit", "peer_review", "approval"]
    assert [e["body"]["event"] for e in w.events] == ["DRAFTED", "SUBMITTED", "REVIEWED", "RETURNED"]


def test_publishing_delivers_each_their_own_copy_and_withholds_with_the_reason(w: World) -> None:
    p = w.through_approval(w.flow.draft(bolo(), w.actor("an-1")))
    out = w.pub.publish(p, w.actor("sup-1"))
    rows = {d.recipient: d for d in w.store.deliveries(out.id)}
    assert {r for r, d in rows.items() if d.status == "DELIVERED"} == {"ofc-1", "ofc-2", "an-f"}
    assert "not marked for private-sector partners" in rows["psp-1"].reason
    assert "neither named nor on one of the product's cases" in rows["ofc-c"].reason  # AMBER, CLOVIS not on the case
    assert rows["aud-1"].reason.startswith("role auditor reads no intelligence")
    assert rows["taxii:shared"].status == "WITHHELD" and "LES" in rows["taxii:shared"].reason and not w.shared
    assert rows["ofc-1"].channel == "field" and rows["an-f"].channel == "inbox"
    # the RED paragraph reached no one (no one is named on it); every terminal got the rest
    sent = {v["body"]["recipient_officer"]: v for v, _ in w.field}
    assert set(sent) == {"ofc-1", "ofc-2"} and all("ZEBRA-7" not in v["body"]["text"] for v in sent.values())
    assert sent["ofc-1"]["body"]["removed"] == 1 and "knife" in sent["ofc-1"]["body"]["text"]
    audit = w.audit.query(action="disseminate", limit=100)
    assert {e["detail"]["subject"] for e in audit} == set(rows) and all("23.20(f)" in e["reason"] for e in audit)
    assert {e["outcome"] for e in audit if e["detail"]["subject"] == "psp-1"} == {"withheld"}


def test_a_portion_reaches_exactly_the_recipients_who_may_see_it(w: World) -> None:
    nfd = Portion("AMBER", ("NO_FURTHER_DISSEMINATION",), recipients=("user:ofc-2",))
    para = Paragraph("Van parked nightly at 400 Elm St.", nfd)
    sections = bolo().sections | {"details": (para,)}
    base = bolo(marking=Marking(FC, "GREEN"), sections=sections, dissemination=Dissemination(agencies=(FRESNO,),
                named=("ofc-2",)))  # fmt: skip
    p = w.through_approval(w.flow.draft(base, w.actor("an-1")))
    w.pub.publish(p, w.actor("sup-1"))
    text = {v["body"]["recipient_officer"]: v["body"]["text"] for v, _ in w.field}
    assert "400 Elm St" in text["ofc-2"] and "400 Elm St" not in text["ofc-1"]  # named vs not named under NFD


def test_revision_supersedes_and_withdrawal_tells_the_terminals(w: World) -> None:
    p = w.pub.publish(w.through_approval(w.flow.draft(bolo(), w.actor("an-1"))), w.actor("sup-1"))
    r2 = w.flow.revise(p, w.actor("an-1"))
    assert (r2.revision, r2.series, r2.supersedes, r2.state) == (2, p.id, p.id, "DRAFT")
    r2 = w.pub.publish(w.through_approval(r2), w.actor("sup-1"))
    old = w.store.get(p.id)
    assert old is not None and (old.state, old.superseded_by) == ("SUPERSEDED", r2.id)
    w.field.clear()
    gone = w.pub.withdraw(r2, w.actor("an-1"), "vehicle recovered")
    assert gone.state == "WITHDRAWN" and {v["body"]["status"] for v, _ in w.field} == {"WITHDRAWN"}


def test_renderings_carry_the_banner_and_only_the_readers_copy(w: World) -> None:
    long = tuple(Paragraph(f"Paragraph {i}: the van was seen again near the rail yard at night.") for i in range(60))
    p = w.flow.draft(bolo(sections=bolo().sections | {"details": long}), w.actor("an-1"))
    c = copy_for(p, w.dir.recipient("ofc-1"), w.dir.rules, SOURCES.get)
    assert c is not None and c.removed == 1
    page = html(c)
    assert "ZEBRA-7" not in page and "TLP:AMBER // LES // ORIGINATOR CAFC00000" in page
    import pypdf

    reader = pypdf.PdfReader(io.BytesIO(pdf(c)))
    assert len(reader.pages) >= 3
    for page_ in reader.pages:
        assert "TLP:AMBER // LES // ORIGINATOR CAFC00000" in page_.extract_text()
    assert copy_for(p, w.dir.recipient("psp-1"), w.dir.rules, SOURCES.get) is None


def test_the_stix_report_validates_and_carries_its_markings(w: World) -> None:
    from stix2validator import ValidationOptions, validate_instance

    p = w.flow.draft(bolo(marking=Marking(FC, "GREEN", handling=("FOUO",))), w.actor("an-1"))
    c = copy_for(p, None, None, SOURCES.get)
    assert c is not None and c.removed == 1  # the RED portion is not released as a whole
    bundle = report_bundle(c, datetime.now(UTC), p.created_at)
    res = validate_instance(bundle, ValidationOptions(strict=False))
    assert res.is_valid, [str(e) for e in res.errors]
    report = bundle["objects"][-1]
    assert "ZEBRA-7" not in report["description"] and "rec-green" not in str(report["object_refs"])
    kinds = {o.get("definition_type") or o.get("name") for o in bundle["objects"] if o["type"] == "marking-definition"}
    assert kinds == {"TLP:GREEN", "statement"}


def test_a_stale_save_publishes_nothing(w: World) -> None:
    p = w.through_approval(w.flow.draft(bolo(), w.actor("an-1")))
    w.store.save(dataclasses.replace(p, title="edited elsewhere"))
    from argus.stores.products import StaleProduct

    with pytest.raises(StaleProduct):
        w.pub.publish(p, w.actor("sup-1"))
    assert w.field == [] and w.store.deliveries(p.id) == []
