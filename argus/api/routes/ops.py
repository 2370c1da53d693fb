"""The watch officer's board: how far behind each stage of the pipeline is, and how many records
were dead-lettered. Counts only: a dead letter's content is another agency's record, read with
`argus dlq` by an operator, never shown here."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from argus.api.deps import Caller, bounded, json, reader
from argus.api.models import answers
from argus.runtime.lag import node_lag

router = APIRouter(tags=["ops"])
Watch = Annotated[Caller, Depends(reader("review"))]
DEAD_LETTERS = "deadletters"


class Board(BaseModel):
    lag: dict[str, int]
    dead_letters: int
    stages: int


def _board(c: Caller) -> dict[str, Any]:
    svc = c.svc
    with svc.bus_lock:
        bus, _ = svc.bus()
        lag = {name: n for name, n in node_lag(bus, svc.topo).items() if svc.topo.nodes[name].inputs}
    dead = sum(svc.end_offsets(DEAD_LETTERS).values()) if DEAD_LETTERS in svc.topo.topics else 0
    c.audited("read", "ops-board", endpoint="ops_board")
    return {"lag": lag, "dead_letters": dead, "stages": len(lag)}


@router.get(
    "/api/v1/ops/board",
    summary="Pipeline lag per stage and dead letters (supervisors)",
    responses=answers(Board, {"lag": {"dedup": 0, "resolve_persons": 12}, "dead_letters": 3, "stages": 9}),
)
async def board(c: Watch) -> Any:
    """Records each stage has yet to process, and the dead letters held, as counts."""
    return json(await bounded(c, _board, c))
