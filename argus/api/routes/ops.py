"""The watch officer's board: how far behind each stage of the pipeline is, how many records
were dead-lettered, the SARs waiting (those past their SLA among them), the SAR patterns raised,
overdue RFIs and deconfliction notices. Counts only: a dead letter's content is another agency's
record, read with `argus dlq` by an operator, never shown here; SARs are counted only where the
supervisor sees them in full."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from argus.api.deps import Caller, bounded, json, reader
from argus.api.models import answers
from argus.runtime.lag import node_lag
from argus.workflows.sar_model import OPEN

router = APIRouter(tags=["ops"])
Watch = Annotated[Caller, Depends(reader("review"))]
DEAD_LETTERS = "deadletters"


class Board(BaseModel):
    lag: dict[str, int]
    dead_letters: int
    stages: int
    sars: dict[str, int] = Field(
        description="SARs waiting for review that the supervisor sees in full (open, high priority, past their "
        "SLA) and SAR patterns raised for the agency in the last 7 days"
    )
    joint: dict[str, int] = Field(
        default_factory=dict,
        description="RFIs asked of or by the agency that are open and past due; deconfliction notices in 24 hours",
    )


def _board(c: Caller) -> dict[str, Any]:
    svc = c.svc
    with svc.bus_lock:
        bus, _ = svc.bus()
        lag = {name: n for name, n in node_lag(bus, svc.topo).items() if svc.topo.nodes[name].inputs}
    dead = sum(svc.end_offsets(DEAD_LETTERS).values()) if DEAD_LETTERS in svc.topo.topics else 0
    c.audited("read", "ops-board", endpoint="ops_board")
    return {"lag": lag, "dead_letters": dead, "stages": len(lag), "sars": _sars(c), "joint": _joint(c)}


def _joint(c: Caller) -> dict[str, int]:
    now = datetime.now(UTC)
    overdue = [r for r in c.svc.cases().rfis(c.who.agency, ["OPEN"], 1000) if r["due"] < now.isoformat()]
    day = (now - timedelta(days=1)).isoformat()
    notices = [n for n in c.svc.operations().notices(c.who.agency, 1000) if str(n["found_at"]) >= day]
    return {"rfis_overdue": len(overdue), "conflicts_24h": len(notices)}


def _sars(c: Caller) -> dict[str, int]:
    store = c.svc.sar_reviews()
    _, waiting = store.queue(c.gate.audience, list(OPEN), 10_000)
    week = (datetime.now(UTC) - timedelta(days=7)).isoformat()
    patterns = [p for p in store.patterns(c.who.agency, 500) if str(p.get("detected_at", "")) >= week]
    return {"open": len(waiting), "high": sum(x.priority == "HIGH" for x in waiting),
            "breached": sum(x.breached for x in waiting), "patterns_7d": len(patterns)}  # fmt: skip


@router.get(
    "/api/v1/ops/board",
    summary="Pipeline lag per stage and dead letters (supervisors)",
    responses=answers(
        Board,
        {
            "lag": {"dedup": 0, "resolve_persons": 12},
            "dead_letters": 3,
            "stages": 9,
            "sars": {"open": 7, "high": 2, "breached": 1, "patterns_7d": 1},
            "joint": {"rfis_overdue": 1, "conflicts_24h": 2},
        },
    ),
)
async def board(c: Watch) -> Any:
    """Records each stage has yet to process, and the dead letters held, as counts."""
    return json(await bounded(c, _board, c))
