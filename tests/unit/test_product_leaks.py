"""No rendering or delivery path carries a paragraph or a source its recipient may not see:
generated products (whole and portion markings, quoted sources) against generated readers, every
output (text for a terminal, HTML, the terminal's delivery record, the STIX report) checked
against the one policy deciding each paragraph and source on its own."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from argus.security.policy import FULL, AgencyRules, Marking, Recipient
from argus.workflows.dissemination import Target
from argus.workflows.product_model import Paragraph, Portion, Product, portion_marking, product_view
from argus.workflows.product_publish import field_record
from argus.workflows.product_render import copy_for, html, plain
from argus.workflows.product_stix import report_bundle

AGENCIES = ("CAFC00000", "CA0190000", "CA0100000", "PSPENERGY")
TLPS = ("CLEAR", "GREEN", "AMBER", "AMBER_STRICT", "RED")
CAVEATS = ("LES", "FOUO", "NO_FURTHER_DISSEMINATION")
NAMES = ("CA0190000", "user:ofc-1", "user:an-f", "list:energy")


def rules(ori: str) -> AgencyRules:
    return AgencyRules(barred=frozenset({"CA0100000"}) if ori == "CA0190000" else frozenset())


readers = st.builds(
    Recipient,
    agency=st.sampled_from(AGENCIES),
    role=st.sampled_from(("patrol_officer", "analyst", "private_sector_partner", "auditor")),
    law_enforcement=st.booleans(),
    officer=st.sampled_from(("ofc-1", "an-f", "x-9")),
    cases=st.frozensets(st.sampled_from(("OP-1", "OP-2")), max_size=2),
    lists=st.frozensets(st.just("energy"), max_size=1),
)
portions = st.none() | st.builds(
    Portion,
    tlp=st.none() | st.sampled_from(TLPS),
    caveats=st.lists(st.sampled_from(CAVEATS), max_size=2, unique=True).map(tuple),
    ci=st.booleans(),
    recipients=st.lists(st.sampled_from(NAMES), max_size=2, unique=True).map(tuple),
)
sources = st.lists(st.sampled_from(("src-0", "src-1", "src-2", "src-3")), max_size=2, unique=True).map(tuple)
SOURCE = {f"src-{i}": Marking(AGENCIES[i], TLPS[i + 1], ci=i == 2, cases=("OP-1",)) for i in range(4)}
markings = st.builds(
    Marking,
    agency=st.sampled_from(AGENCIES[:3]),
    tlp=st.sampled_from(TLPS),
    ci=st.booleans(),
    handling=st.lists(st.sampled_from(CAVEATS), max_size=2, unique=True).map(tuple),
    cases=st.frozensets(st.sampled_from(("OP-1", "OP-2")), max_size=1).map(tuple),
    recipients=st.lists(st.sampled_from(NAMES), max_size=2, unique=True).map(tuple),
)


@st.composite
def products(draw: st.DrawFn) -> Product:
    paras = [Paragraph(f"PARA{i}TOKEN", draw(portions), draw(sources)) for i in range(draw(st.integers(1, 5)))]
    return Product(
        id="PRD-1", series="PRD-1", revision=1, type="bolo", title="T", marking=draw(markings), author="an-1",
        created_at=datetime(2026, 11, 1, tzinfo=UTC), sections={"subject": tuple(paras)}, sources=draw(sources),
    )  # fmt: skip


def full(m: Marking | None, who: Recipient) -> bool:
    v = product_view(m, who, rules) if m is not None else None
    return v is not None and v.level == FULL


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(products(), readers)
def test_no_copy_carries_a_paragraph_or_source_its_reader_may_not_see(p: Product, who: Recipient) -> None:
    c = copy_for(p, who, rules, SOURCE.get)
    if not full(p.marking, who) or not who.law_enforcement:  # none of these is marked for private-sector partners
        assert c is None
        return
    assert c is not None
    out = [plain(c), html(c)]
    rec = field_record(p, Target(who.officer or "x", who, "test"), plain(c), c.removed, datetime.now(UTC), "PUBLISHED")
    out.append(str(rec))
    for para in p.sections["subject"]:
        seen = para.portion is None or full(portion_marking(p.marking, para.portion), who)
        for text in out:
            assert (para.text in text) == seen, (para, text[:200])
    shown_sources = set(c.sources) | {s for paras in c.sections.values() for x in paras for s in x.sources}
    assert all(full(SOURCE[s], who) for s in shown_sources)


@settings(max_examples=200, deadline=None)
@given(products())
def test_the_partner_copy_carries_only_what_is_released_as_a_whole(p: Product) -> None:
    c = copy_for(p, None, None, SOURCE.get)
    assert c is not None
    report = report_bundle(c, datetime.now(UTC), p.created_at)["objects"][-1]
    for para in p.sections["subject"]:
        assert (para.text in report["description"]) == (para.portion is None)
    assert all(SOURCE[s].tlp in ("CLEAR", "GREEN") and not SOURCE[s].ci for s in c.sources)
