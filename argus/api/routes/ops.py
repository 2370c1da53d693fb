"""The watch officer's board: how far behind each stage of the pipeline is, and how many records
were dead-lettered. Counts only: a dead letter's content is another agency's record, read with
`argus dlq` by an operator, never shown here."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from argus.api.deps import Caller, bounded, json, reader
from argus.api.models import answers

router = APIRouter(tags=["ops"])
Watch = Annotated[Caller, Depends(reader("review"))]
DEAD_LETTERS = "deadletters"


class Board(BaseModel):
    lag: dict[str, int]
    dead_letters: int
    stages: int


def _board(c: Caller) -> dict[str, Any]:
    svc = c.svc
    topo = svc.topo
    lag = {}
    for name, model in topo.nodes.items():
        if not model.inputs:
            continue
        behind = 0
        for t in model.inputs:
            for p, end in svc.end_offsets(t).items():
                behind += max(0, end - svc.committed(name, t, p))
        lag[name] = behind
    dead = sum(svc.end_offsets(DEAD_LETTERS).values()) if DEAD_LETTERS in topo.topics else 0
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
