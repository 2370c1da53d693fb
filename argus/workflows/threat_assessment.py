"""A threat assessment drafted from a risk score: the score and its reasons as key judgements,
the evidence the author sees in full (each quoted, so the submission check holds the product to
the most restrictive of them), the confidence the sources' 28 CFR 23 ratings give, and the
actions the threat's category calls for. The analyst edits the draft before it goes to review."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from argus.records import Tlp
from argus.risk import CATEGORIES, confidence
from argus.security.policy import Marking
from argus.workflows.product_model import CAVEATS, Dissemination, Paragraph, Product

ACTIONS = {
    "terrorism": "Share with the JTTF; task TLOs near the sites named; review SARs on the subject weekly.",
    "organised_crime": "Coordinate with the task force; deconflict before any enforcement action.",
    "gang": "Brief the gang unit and patrol in the areas named; check for retaliation risk.",
    "violent_crime": "Officer safety caveat on contact; brief patrol in the areas named.",
    "cyber": "Notify affected sector partners; share indicators over TAXII; check the ATT&CK techniques named.",
    "targeted_violence": "Threat assessment team review; notify the potential target's protective detail.",
}


def _label(c: str) -> str:
    return c.replace("_", " ")


Seen = tuple[str, Marking, str, tuple[str, int]]  # report id, marking, title, (reliability, validity)


def _marking(evidence: list[Seen], agency: str) -> Marking:
    """At least AMBER and LES, and at least as restrictive as every report quoted."""
    tlp = max([Tlp.AMBER, *(Tlp.parse(m.tlp) for _, m, _, _ in evidence)], key=lambda t: t.rank)
    handling = tuple(sorted({h for _, m, _, _ in evidence for h in m.handling if h in CAVEATS} | {"LES"}))
    return Marking(agency, tlp.value, any(m.ci for _, m, _, _ in evidence), handling)


def _sections(row: dict[str, Any], evidence: list[Seen], conf: str) -> dict[str, tuple[Paragraph, ...]]:
    top, score = row["category"], float(row["score"])
    cats = ", ".join(f"{_label(c)} {v:.0f}" for c, v in sorted(row["categories"].items(), key=lambda kv: -kv[1]))
    who = row["display"] or row["subject"]
    bottom = f"We assess {who} poses a {_level(score)} {_label(top)} risk (score {score:.0f}/100; {cats}), "
    judgements = [Paragraph(f"{r['detail']} (+{float(r['weight']):.1f} {_label(r['category'])})")
                  for r in row["reasons"][:8]]  # fmt: skip
    cited = [Paragraph(f"{title} ({m.agency}, {Tlp.parse(m.tlp).label}; rated {r[0]}{r[1]})", sources=(rid,))
             for rid, m, title, r in evidence[:30]]  # fmt: skip
    return {
        "summary": (Paragraph(bottom + f"with {conf} confidence."),),
        "key_judgements": tuple(judgements) or (Paragraph("No single factor dominates."),),
        "evidence": tuple(cited) or (Paragraph("No report you see in full."),),
        "recommendations": (Paragraph(ACTIONS.get(top, "Review the evidence with the owning agencies.")),),
        "sources": (
            Paragraph(f"{len(evidence)} reports seen in full; confidence {conf} from their 28 CFR 23 ratings."),
        ),
    }


def assessment_of(row: dict[str, Any], evidence: list[Seen], agency: str, now: datetime) -> Product:
    """`row`: the agency's risk_score.v1 body; `evidence`: the reports the author sees in full."""
    top, score = row["category"], float(row["score"])
    conf = confidence([r for _, _, _, r in evidence])
    return Product(
        id="",
        series="",
        revision=1,
        type="threat_assessment",
        title=f"Threat assessment: {row['display'] or row['subject']}",
        marking=_marking(evidence, agency),
        author="",
        created_at=now,
        urgency="PRIORITY" if score >= 60 else "ROUTINE",
        category=top if top in CATEGORIES else "other",
        sections=_sections(row, evidence, conf),
        fields={"threat": _label(top), "subject_entity": row["subject"]},
        sources=tuple(sorted({rid for rid, _, _, _ in evidence})),
        assessment={
            "subject": row["subject"],
            "score": score,
            "category": top,
            "categories": row["categories"],
            "confidence": conf,
            "computed_at": str(row["computed_at"]),
        },
        dissemination=Dissemination(agencies=(agency,)),
    )


def _level(score: float) -> str:
    return "high" if score >= 70 else "moderate" if score >= 40 else "low"
