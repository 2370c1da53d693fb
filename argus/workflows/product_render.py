"""A product as one reader may have it, and that copy rendered: HTML for the workbench and the
inbox, PDF with the banner marking on every page, plain text for a patrol terminal.

Every path starts from `copy_for`: the product only if the reader sees it in full under the one
policy, each portion-marked paragraph only if the reader sees that portion in full, each quoted
source only if the reader sees that source. Nothing renders from the stored product directly.
"""

from __future__ import annotations

import html as _html
from collections.abc import Callable
from dataclasses import dataclass

from argus.records import Tlp
from argus.security.policy import FULL, Marking, Recipient, Rules
from argus.workflows.product_model import (
    TEMPLATES,
    Paragraph,
    Product,
    portion_marking,
    product_view,
)

SourceMarking = Callable[[str], Marking | None]


@dataclass(frozen=True)
class Copy:
    """What one reader gets: the paragraphs they may see, how many were left out, and the
    sources they may see."""

    product: Product
    sections: dict[str, tuple[Paragraph, ...]]
    removed: int
    sources: tuple[str, ...]

    @property
    def banner(self) -> str:
        return banner(self.product.marking)


def banner(m: Marking) -> str:
    """The overall marking as a banner line: TLP, caveats, criminal intelligence, originator."""
    parts = [Tlp.parse(m.tlp).label, *m.handling]
    if m.ci:
        parts.append("CRIMINAL INTELLIGENCE (28 CFR PART 23)")
    return " // ".join(parts) + f" // ORIGINATOR {m.agency}"


def portion_label(m: Marking) -> str:
    parts = [Tlp.parse(m.tlp).label.removeprefix("TLP:"), *m.handling] + (["CI"] if m.ci else [])
    return "(" + "//".join(parts) + ")"


def _seen(m: Marking | None, who: Recipient | None, rules: Rules | None) -> bool:
    if m is None:
        return False
    if who is None:  # the partner copy: only what is marked no more than the whole
        return True
    v = product_view(m, who, rules)
    return v is not None and v.level == FULL


def copy_for(p: Product, who: Recipient | None, rules: Rules | None, source: SourceMarking) -> Copy | None:
    """`who`'s copy, or None when they may not see the product in full (a private-sector partner:
    nor when it is not marked for them). `who=None` is the copy
    released as a whole (TAXII): only paragraphs marked as the product is."""
    if who is not None and not _seen(p.marking, who, rules):
        return None
    if who is not None and not who.law_enforcement and not p.dissemination.private_sector:
        return None  # a private-sector partner reads only what is marked for them
    kept: dict[str, tuple[Paragraph, ...]] = {}
    removed = 0
    for key, paras in p.sections.items():
        ok = []
        for para in paras:
            pm = portion_marking(p.marking, para.portion)
            visible = para.portion is None or (who is not None and _seen(pm, who, rules))
            if visible:
                seen = tuple(s for s in para.sources if _sees(s, who, rules, source))
                ok.append(Paragraph(para.text, para.portion, seen))
            else:
                removed += 1
        kept[key] = tuple(ok)
    sources = tuple(s for s in p.sources if _sees(s, who, rules, source))
    return Copy(p, kept, removed, sources)


def _sees(ref: str, who: Recipient | None, rules: Rules | None, source: SourceMarking) -> bool:
    m = source(ref)
    if who is None:
        return m is not None and m.tlp in (Tlp.CLEAR.value, Tlp.GREEN.value) and not m.ci
    return _seen(m, who, rules)


def plain(c: Copy) -> str:
    """The copy as text: what a patrol terminal shows and what the library's reader exports."""
    p = c.product
    lines = [c.banner, f"{p.template.title.upper()}: {p.title}", f"{p.urgency} - {p.marking.agency}"]
    for k, v in p.fields.items():
        if v:
            lines.append(f"{k.replace('_', ' ')}: {v}")
    for s in p.template.sections:
        paras = c.sections.get(s.key) or ()
        if paras:
            lines.append(f"\n{s.title.upper()}")
            lines += [_label(p, para) + para.text for para in paras]
    lines.append("\n" + c.banner)
    return "\n".join(lines)


def _label(p: Product, para: Paragraph) -> str:
    return portion_label(portion_marking(p.marking, para.portion)) + " "


def html(c: Copy) -> str:
    """A standalone HTML page (no external request: styles inline, no fonts or images fetched)."""
    p, e = c.product, _html.escape
    body = [f"<h1>{e(p.title)}</h1>",
            f"<p class='meta'>{e(TEMPLATES[p.type].title)} &middot; {e(p.urgency)} &middot; {e(p.marking.agency)}"
            f" &middot; revision {p.revision}</p>"]  # fmt: skip
    if p.fields:
        body.append("<dl>" + "".join(f"<dt>{e(k.replace('_', ' '))}</dt><dd>{e(v)}</dd>" for k, v in p.fields.items()
                                     if v) + "</dl>")  # fmt: skip
    if p.type in ("bolo", "officer_safety"):
        body.append("<div class='photo'>photo: " + e(p.fields.get("photo") or "none on file") + "</div>")
    for s in p.template.sections:
        paras = c.sections.get(s.key) or ()
        if paras:
            body.append(f"<h2>{e(s.title)}</h2>")
            body += [f"<p><span class='portion'>{e(_label(p, x))}</span>{e(x.text)}</p>" for x in paras]
    if p.embeds:
        body.append("<h2>Attached</h2><ul>" + "".join(f"<li>{e(x.kind)}: {e(x.caption or x.ref)}</li>"
                                                     for x in p.embeds) + "</ul>")  # fmt: skip
    if c.sources:
        body.append("<h2>Based on</h2><ul>" + "".join(f"<li>{e(s)}</li>" for s in c.sources) + "</ul>")
    b = e(c.banner)
    return (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{e(p.title)}</title><style>{_CSS}"
        f"@page {{ @top-center {{ content: '{_css(c.banner)}'; }} @bottom-center {{ content: '{_css(c.banner)}' "
        f"' - page ' counter(page) ' of ' counter(pages); }} }}</style></head><body>"
        f"<div class='banner'>{b}</div>{''.join(body)}<div class='banner'>{b}</div></body></html>"
    )


def _css(s: str) -> str:
    return s.replace("\\", "\\\\").replace("'", "\\'").replace("\n", " ")


_CSS = (
    "@page { size: letter; margin: 2.2cm 2cm; @top-center { font: bold 9pt sans-serif; color: #8a1c1c; } "
    "@bottom-center { font: bold 9pt sans-serif; color: #8a1c1c; } } "
    "body { font: 11pt/1.45 sans-serif; color: #111; } .banner { font-weight: bold; color: #8a1c1c; "
    "text-align: center; } @media print { .banner { display: none; } } .meta { color: #555; } "
    ".portion { font-weight: bold; margin-right: .3em; } .photo { border: 1px dashed #888; padding: 2em; "
    "width: 10em; text-align: center; color: #666; } dt { font-weight: bold; }"
)


def pdf(c: Copy) -> bytes:
    """The copy as PDF: the banner in every page's header and footer (WeasyPrint's page margin
    boxes); nothing fetched from anywhere while rendering."""
    import weasyprint

    def refuse(url: str, timeout: int = 10, ssl_context: object = None) -> dict[str, object]:
        raise ValueError(f"a product PDF fetches nothing: {url[:60]}")

    return bytes(weasyprint.HTML(string=html(c), url_fetcher=refuse).write_pdf())
