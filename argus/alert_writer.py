"""Alert records: the words, recipients and marking around a trigger's hits. The correlation
nodes write their field-query and encounter alerts with it, and the alert composer a report's
alerts (processors/alert_composer.py); `report_hits` is what the chain hands that composer."""

from __future__ import annotations

from typing import Any

from argus.alerts import Notice, level
from argus.contracts import Context
from argus.hits import KIND_LABEL, contact, encounter_context
from argus.records import Record, Tlp, deterministic_id
from argus.security.policy import Recipient


class AlertWriter:
    """Builds alert records. `source_system`: the correlation node they are from; `max_hits`: its
    per-alert cap (the highest-scored hits are kept)."""

    def __init__(self, source_system: str, max_hits: int) -> None:
        self.source_system = source_system
        self.max_hits = max_hits

    def alert(
        self,
        ctx: Context,
        env: dict[str, Any],
        alert_id: str,
        atype: str,
        to: Recipient,
        hits: list[dict[str, Any]],
        summary: str,
        instructions: str,
    ) -> Record:
        """`env`: the trigger's envelope (a field query, a CAD incident, a report). An alert lists
        at most `max_hits`, the highest-scored, and its summary then says how many there were."""
        if len(hits) > self.max_hits:
            summary += f" ({self.max_hits} of {len(hits)} hits listed, the highest-scored)"
        hits = sorted(hits, key=lambda h: -h["score"])[: self.max_hits]
        top = max(h["score"] for h in hits)
        tlp = Tlp.most_restrictive([Tlp(h["report_tlp"]) for h in hits])
        body = {
            "alert_id": alert_id,
            "alert_type": atype,
            "recipient_agency": to.agency,
            "recipient_unit": to.unit,
            "recipient_officer": to.officer,
            "created_at": ctx.now(),
            "trigger_id": env["id"],
            "trigger_received_at": env["ingested_at"],
            "summary": summary,
            "score": top,
            "level": level(top),
            "instructions": instructions,
            "hits": hits,
        }
        envelope = {
            "id": alert_id,
            "type": "alert",
            "source_agency": env["source_agency"],
            "source_system": self.source_system,
            "tlp": tlp.value,
            "reliability": env["reliability"],
            "validity": env["validity"],
            "criminal_intelligence": False,
            "criminal_predicate": None,
            "handling": [],
            "review_by": None,
            "observed_at": env["observed_at"],
            "ingested_at": ctx.now(),
            "trace_id": env["trace_id"],
        }
        return Record({"envelope": envelope, "body": body}, key=f"{to.agency}:{to.unit or '-'}", topic="alert.v1")

    def query_hit(self, ctx: Context, env: dict[str, Any], to: Recipient, hits: list[dict[str, Any]]) -> Record:
        """The officer's alert on a field query: the top hit first, in what the officer may see."""
        top = max(hits, key=lambda h: h["score"])
        series = top["fields"].get("series_id")
        summary = (
            f"{level(top['score'])}: {top['matched']} is on file with {top['report_agency']}"
            + (f" ({top['fields']['offenses']}" if "offenses" in top["fields"] else "")
            + (f", series {series}" if series else "")
            + (")" if "offenses" in top["fields"] else "")
            + (f"; {len(hits)} record(s) in all" if len(hits) > 1 else "")
        )
        instr = (
            "A hit on another agency's record is a lead, not probable cause. Confirm with "
            f"{top['contact']} before acting. Officer safety: treat as {level(top['score'])}."
        )
        alert_id = deterministic_id("alert", env["id"], env["source_agency"])
        return self.alert(ctx, env, alert_id, "QUERY_HIT", to, hits, summary, instr)

    def encounter_alerts(
        self, ctx: Context, env: dict[str, Any], query: dict[str, Any], units: list[str], items: list[Notice]
    ) -> list[Record]:
        """Tell each owning agency its subjects or vehicles were encountered, and by whom:
        one notice per agency, one hit per record of theirs that was touched."""
        loc, when, unit, reason = encounter_context(env, query, units)
        by_owner: dict[str, list[dict[str, Any]]] = {}
        first_label: dict[str, str] = {}
        for agency, label, hit in items:
            first_label.setdefault(agency, label)
            by_owner.setdefault(agency, []).append(hit)
        out = []
        for agency, hits in by_owner.items():
            records = ", ".join(sorted({h["report_id"] for h in hits}))
            summary = (
                f"Your {first_label[agency]} ({records}) was encountered by {env['source_agency']} "
                f"unit {unit or '?'} at {when}" + (f", {loc}" if loc else "") + f" ({reason})."
            )
            out.append(
                self.alert(
                    ctx,
                    env,
                    deterministic_id("notice", env["id"], agency),
                    "ENCOUNTER_NOTICE",
                    Recipient(agency=agency, role="analyst"),
                    hits,
                    summary,
                    "Deconfliction: the encountering agency has been pointed to you as contact.",
                )
            )
        return out

    def report_alerts(
        self,
        ctx: Context,
        env: dict[str, Any],
        brief: dict[str, Any],
        hits: list[dict[str, Any]],
        notices: list[Notice],
    ) -> list[Record]:
        """A report's alerts from every hit the chain found about it. `brief`: the report's
        type, source id, units and case owner (what the alerts' words need)."""
        if brief["type"] == "cad.incident":
            return self._incident_alerts(ctx, env, brief, hits, notices)
        return self._related_alerts(ctx, env, brief, hits, notices)

    def _incident_alerts(
        self,
        ctx: Context,
        env: dict[str, Any],
        brief: dict[str, Any],
        hits: list[dict[str, Any]],
        notices: list[Notice],
    ) -> list[Record]:
        out = self.encounter_alerts(ctx, env, {}, brief["units"], notices)
        if hits:
            top = max(hits, key=lambda h: h["score"])
            agency, units = env["source_agency"], brief["units"]
            out.insert(
                0,
                self.alert(
                    ctx,
                    env,
                    deterministic_id("alert", env["id"], agency),
                    "INCIDENT_HIT",
                    Recipient(agency=agency, role="patrol_officer", unit=units[0] if units else None),
                    hits,
                    f"{level(top['score'])}: {top['matched']} in this incident is on file with {top['report_agency']}",
                    f"A hit on another agency's record is a lead, not probable cause. Confirm with {top['contact']}.",
                ),
            )
        return out

    def _related_alerts(
        self,
        ctx: Context,
        env: dict[str, Any],
        brief: dict[str, Any],
        to_me: list[dict[str, Any]],
        to_them: list[Notice],
    ) -> list[Record]:
        agency, rid = env["source_agency"], env["id"]
        out: list[Record] = []
        if to_me:
            agencies = ", ".join(sorted({h["report_agency"] for h in to_me}))
            out.append(
                self.alert(
                    ctx,
                    env,
                    deterministic_id("related", rid, agency),
                    "RELATED_CASE",
                    Recipient(agency=agency, role="analyst"),
                    to_me,
                    f"Related case: your {brief['source_id']} shares subjects with records of {agencies}",
                    "Deconfliction: contact the listed agencies before further action on these subjects.",
                )
            )
        by_agency: dict[str, list[dict[str, Any]]] = {}
        for other, _, hit in to_them:
            by_agency.setdefault(other, []).append(hit)
        for other, hits in sorted(by_agency.items()):
            out.append(
                self.alert(
                    ctx,
                    env,
                    deterministic_id("related", rid, other),
                    "RELATED_CASE",
                    Recipient(agency=other, role="analyst"),
                    hits,
                    f"Related case: {agency}'s new {KIND_LABEL.get(brief['type'], brief['type'])} "
                    f"{brief['source_id']} shares subjects with your records",
                    f"Deconfliction: contact {contact(agency, brief.get('case_owner'))} before further action "
                    "on these subjects.",
                )
            )
        return out


def report_hits(
    env: dict[str, Any],
    by: str,
    max_hits: int,
    brief: dict[str, Any],
    found_before: list[bytes],
    hits: list[dict[str, Any]],
    notices: list[Notice],
) -> Record:
    """What the chain found about a report, for the composer (report_hits.v1)."""
    body = {
        "by": by,
        "max_hits": max_hits,
        "report_type": brief["type"],
        "source_id": str(brief["source_id"]),
        "case_owner": brief.get("case_owner"),
        "units": list(brief.get("units") or []),
        "found_before": found_before,
        "hits": hits,
        "notices": [{"agency": a, "label": lab, "hit": h} for a, lab, h in notices],
    }
    return Record({"envelope": env, "body": body}, key=env["id"], topic="report_hits.v1")
