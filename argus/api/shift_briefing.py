"""A shift's handoff briefing, gathered through the outgoing watch officer's own view: the alerts
delivered to the agency during the shift by level, RFIs open and overdue, deconfliction notices,
SARs waiting past their SLA, subjects that crossed the risk threshold, products published, and the
pipeline's dead letters and lag. Each item links to where the incoming officer acts on it."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

from argus.api.deps import Caller
from argus.runtime.lag import node_lag
from argus.stores.products import LibraryQuery
from argus.workflows.rfis import Rfis
from argus.workflows.sar_model import OPEN

DEAD_LETTERS = "deadletters"
LEVELS = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "INFO")


def marks(c: Caller) -> dict[str, Any]:
    """Where a shift's stream begins: the alerts topic's offsets and the dead letters so far."""
    svc, topic = c.svc, c.api.desk.alerts_topic
    return {"alerts": {str(p): o for p, o in svc.end_offsets(topic).items()}, "dead_letters": _dead(c)}


def _dead(c: Caller) -> int:
    return sum(c.svc.end_offsets(DEAD_LETTERS).values()) if DEAD_LETTERS in c.svc.topo.topics else 0


def _alerts(c: Caller, shift: dict[str, Any]) -> list[dict[str, Any]]:
    start = {int(p): o for p, o in shift["marks"]["alerts"].items()}
    out = []
    for r in c.svc.read_from(c.api.desk.alerts_topic, start):
        body = c.gate.deliver(r.body)
        if body is not None:
            out.append(
                {
                    "kind": "alert",
                    "id": body["alert_id"],
                    "level": str(body.get("level") or "INFO"),
                    "text": str(body.get("summary") or body["alert_type"])[:300],
                    "link": "#/field",
                }
            )
    return sorted(out, key=lambda a: LEVELS.index(a["level"]) if a["level"] in LEVELS else len(LEVELS))


def gather(c: Caller, shift: dict[str, Any], now: datetime) -> dict[str, Any]:
    agency, since = c.who.agency, shift["start"]
    alerts = _alerts(c, shift)
    rfis = c.svc.cases().rfis(agency, ["OPEN"], 200)
    late = {r["id"] for r in Rfis(c.svc.cases(), c.svc.audit, lambda: now).overdue(agency)}
    notices = [n for n in c.svc.operations().notices(agency, 200) if str(n["found_at"]) >= since]
    _, waiting = c.svc.sar_reviews().queue(c.gate.audience, list(OPEN), 10_000)
    risk = [n for n in c.svc.risk().notices(agency, 200) if str(n.get("computed_at") or n.get("at", "")) >= since]
    _, products = c.svc.products().library(
        c.gate.audience, LibraryQuery(agency=agency, since=since[:10], states=("PUBLISHED",), limit=50)
    )
    with c.svc.bus_lock:
        bus, _ = c.svc.bus()
        lag = {n: k for n, k in node_lag(bus, c.svc.topo).items() if k > 0}
    dead = _dead(c) - int(shift["marks"].get("dead_letters", 0))
    items = [
        *alerts[:50],
        *(
            {
                "kind": "rfi",
                "id": r["id"],
                "overdue": r["id"] in late,
                "text": r["question"][:300],
                "due": r["due"],
                "link": f"#/rfis/{r['id']}",
            }
            for r in rfis
        ),
        *({"kind": "conflict", "id": n["notice_id"], "text": n["text"], "link": "#/operations"} for n in notices),
        *(
            {
                "kind": "sar",
                "id": s.sar_id,
                "text": f"{s.behavior} past its SLA ({s.priority})",
                "link": f"#/review/{s.id}",
            }
            for s in waiting
            if s.breached
        ),
        *(
            {
                "kind": "risk",
                "id": n["subject"],
                "text": f"{n.get('display') or n['subject']} crossed the threshold ({n['score']:.0f})",
                "link": f"#/threats/{n['subject']}",
            }
            for n in risk
        ),
        *({"kind": "product", "id": p.id, "text": p.title, "link": f"#/products/{p.id}"} for p in products),
        *(
            [
                {
                    "kind": "pipeline",
                    "id": "dead-letters",
                    "text": f"{dead} records dead-lettered this shift",
                    "link": "#/ops",
                }
            ]
            if dead > 0
            else []
        ),
        *(
            {"kind": "pipeline", "id": f"lag:{n}", "text": f"{n} is {k} records behind", "link": "#/ops"}
            for n, k in sorted(lag.items())
        ),
    ]
    counts = Counter(i["kind"] for i in items)
    return {
        "generated_at": now.astimezone(UTC).isoformat(),
        "items": items,
        "counts": dict(counts),
        "alerts_by_level": dict(Counter(a["level"] for a in alerts)),
        "overdue_rfis": len(late),
    }
