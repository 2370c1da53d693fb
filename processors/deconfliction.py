"""Field encounters with planned operations: a CAD query or incident that touches a subject or
vehicle of an operation in the deconfliction registry is told at once to that operation's
contact and to the watch centre (argus/workflows/deconfliction.py registers the operations and
finds the conflicts between them; this node sees what only the stream sees).

The registry reaches the node as operation events (operation.events); state per entity: the
operations naming it. A merge of two entities carries the merged one's operations over to the
survivor. The querying officer is told nothing: an operation is not compromised by a plate run.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from pydantic import Field

from argus.contracts import Context, NodeConfig, Processor
from argus.records import Record
from argus.workflows.deconfliction import notice, notice_record
from argus.workflows.operation_model import ENCOUNTER, PLANNED, Conflict, Contact, Operation, conflict_id


class DeconflictionConfig(NodeConfig):
    watch_centre: str | None = Field(default=None, description="ORI of the watch centre told of every conflict")


def _when(v: Any) -> datetime:
    if isinstance(v, datetime):
        return v if v.tzinfo else v.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(v))


class DeconflictionProcessor(Processor):
    Config = DeconflictionConfig
    config: DeconflictionConfig
    accepts = ("operation_event.v1", "query_resolved.v2", "resolved.v2")
    emits = ("deconfliction_notice.v1",)
    changes_input = False  # reads what it is handed, shares it (argus/runtime/decoded.py)
    ordered = True  # an encounter is checked against the operations registered before it

    def process(self, record: Record, ctx: Context) -> Iterable[Record]:
        body = record.body
        if "contact_subject" in body:
            self._remember(body, ctx)
            return []
        if "matches" in body:
            q = body["query"]
            ids = [m["entity_id"] for m in body["matches"]]
            return self._encounter(ids, f"field query {q['query_id']}", record.envelope, q.get("issued_at"), ctx)
        if record.envelope["type"] == "cad.incident":
            self._merge(body.get("merges") or (), ctx)
            ids = [e["entity_id"] for e in body["entities"]]
            inc = body["report"]
            return self._encounter(
                ids, f"CAD incident {inc['incident_id']}", record.envelope, inc.get("received_at"), ctx
            )
        self._merge(body.get("merges") or (), ctx)
        return []

    def _remember(self, ev: dict[str, Any], ctx: Context) -> None:
        op_id = ev["operation"]
        before = ctx.state.get(f"dc:op:{op_id}")
        for e in (before or {}).get("entities", []):
            ctx.state.put(f"dc:ent:{e}", [o for o in ctx.state.get(f"dc:ent:{e}", []) if o != op_id])
        entities = sorted(set(ev["subjects"]) | set(ev["vehicles"])) if ev["state"] == PLANNED else []
        keep = {k: ev[k] for k in ("agency", "kind", "contact_subject", "contact_name", "contact_phone")}
        ctx.state.put(
            f"dc:op:{op_id}",
            keep | {"start": _when(ev["start"]).isoformat(), "end": _when(ev["end"]).isoformat(), "entities": entities},
        )
        for e in entities:
            ctx.state.put(f"dc:ent:{e}", sorted({*ctx.state.get(f"dc:ent:{e}", []), op_id}))

    def _merge(self, merges: Iterable[dict[str, Any]], ctx: Context) -> None:
        for m in merges:
            ops = ctx.state.get(f"dc:ent:{m['merged_id']}", [])
            if ops:
                ctx.state.put(
                    f"dc:ent:{m['survivor_id']}", sorted({*ctx.state.get(f"dc:ent:{m['survivor_id']}", []), *ops})
                )

    def _encounter(self, ids: list[str], what: str, env: dict[str, Any], at: Any, ctx: Context) -> list[Record]:
        when = _when(at or env["observed_at"])
        out: list[Record] = []
        for e in sorted(set(ids)):
            for op_id in ctx.state.get(f"dc:ent:{e}", []):
                o = ctx.state.get(f"dc:op:{op_id}")
                if o is None or _when(o["end"]) <= when:
                    continue  # over: no longer a planned operation
                op = Operation(
                    op_id,
                    o["agency"],
                    o["kind"],
                    "",
                    "",
                    Contact(o["contact_subject"], o["contact_name"], o["contact_phone"]),
                    _when(o["start"]),
                    _when(o["end"]),
                    0.0,
                    0.0,
                    0.0,
                )
                c = Conflict(
                    conflict_id(ENCOUNTER, op_id, what, e),
                    ENCOUNTER,
                    op_id,
                    op.agency,
                    what,
                    env["source_agency"],
                    when,
                    entity=e,
                    encounter=what,
                )
                text = (
                    f"Deconfliction: {e}, a subject of your operation {op_id}, was just encountered "
                    f"({what}, {env['source_agency']}). Contact the watch centre."
                )
                to = [(op.agency, op.contact.subject, op)]
                if self.config.watch_centre:
                    to.append((self.config.watch_centre, None, None))
                for agency, officer, own in to:
                    n = notice(c, agency, officer, own, [], text) | {"operation": op_id}
                    out.append(Record(value=notice_record(n), key=f"{agency}:-"))
        return out
