"""Alert composition: a report's hits, found by the correlation nodes, become its alerts.

Why a node of its own. One alert gathers a report's hits on all its subjects, persons and vehicles.
Had the correlation node completing the kinds to decode the persons' hits and encode the alerts,
that would be more than half of its CPU, on the one task every report passes through
(docs/scale-out.md). With
`compose_alerts: false`, what each correlation node finds about a report rides on *encoded*: the
persons' node writes its hits as a block (argus.FoundHits) into the chain's record with their
count, the vehicles' node passes the block on as it came, with
its own hits beside it, in one record keyed by the report id (report_hits.v1), and this node
decodes them all and writes exactly the alerts the completing node would have written. It holds
no state, so it runs as one task per partition on whichever workers the group has.

Field queries do not come here: their alert is written by the correlation node that answers
them, in the process that resolved them (one hop, the latency target's path).
"""

from __future__ import annotations

from collections.abc import Iterable

from argus.alert_writer import AlertWriter
from argus.alerts import found_in
from argus.contracts import Context, Processor
from argus.records import Record


class AlertComposerProcessor(Processor):
    accepts = ("report_hits.v1",)
    emits = ("alert.v1",)
    partitioned = True  # no state: each report's record holds all it needs (argus/runtime/tasks.py)

    def process(self, record: Record, ctx: Context) -> Iterable[Record]:
        env, body = record.envelope, record.body
        hits, notices = found_in(body["found_before"])
        hits += body["hits"]
        notices += [(n["agency"], n["label"], n["hit"]) for n in body["notices"]]
        brief = {
            "type": body["report_type"],
            "source_id": body["source_id"],
            "units": body["units"],
            "case_owner": body["case_owner"],
        }
        return AlertWriter(body["by"], body["max_hits"]).report_alerts(ctx, env, brief, hits, notices)
