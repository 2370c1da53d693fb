"""Cross-jurisdiction correlation: who else holds something about what was just touched.

- A field query or CAD incident that resolves to a person or vehicle on which another agency
  holds records raises an alert to the querying officer/unit, with the path
  (query -> entity -> record -> series), a score with its reasons, and only the fields the
  record's marking lets that recipient see (argus.security.policy.report_view).
- The owning agency is told that its subject or vehicle was encountered: where, when, by whom
  (the two-way notification that also deconflicts agencies working one subject).
- A new RMS report or SAR about a subject already in another agency's holdings raises a
  "related case exists" notice to both owners, once per pair of agencies and subject.

State: the node's holdings (argus/holdings.py): the records naming each entity (`ent:`), each
record's summary (`rep:`), a series' reports (`ser:`), merged entities' survivors (`alias:`) and
the pairs of agencies told they share a subject (`rc:`).

Split by kind, like entity resolution. A node may hold the records of persons only or vehicles
only (`kinds:` in its config); a chain of such nodes correlates a report kind by kind:
`correlate_persons` -> `correlating` (correlating.v3) -> `correlation` (pipelines/fusion.yaml).
Every state key above but the series counts belongs to one kind: an `ent:`/`rc:` key to its
entity, a summary to the nodes whose kinds the report names (the others keep only the series it
counts in, for a purge), an alias to the node of its kind. Each node counts every
report's series, as each sees every report. What crosses kinds is the alert itself: one alert
gathers a report's hits on its persons and on its vehicles, and the per-alert cap
(`max_hits_per_alert`) keeps the highest-scored of them together. So each node of the chain passes on, with the
report, the hits it found; the node completing the kinds sends the alerts. Or, with
`compose_alerts: false` (production), the hits ride on encoded, never decoded by the nodes after,
and the node completing the kinds hands them with its own to the alert composer
(report_hits.v1), partitioned by report, which sends the alerts (processors/alert_composer.py).
A report's persons are correlated before its vehicles, in one node or along a chain, so a chain
sends exactly the alerts one node holding both kinds sends (tests/unit/test_correlation_chain.py).
A field query matches one kind only and is answered by the node holding it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

from pydantic import Field

from argus.alert_writer import AlertWriter, report_hits
from argus.alerts import found_block
from argus.chains import correlation_problems
from argus.contracts import Context, NodeConfig, Processor
from argus.hits import (
    Match,
    build_hit,
    encounter_hit,
    entity_label,
    entity_step,
    report_step,
    summarize,
)
from argus.holdings import Holdings
from argus.records import REPORT_BRANCH, Record
from argus.security.policy import Marking, Recipient, ReportView, decide, report_view
from argus.topology import Topology

LINKABLE = ("PERSON", "OBJECT")
KINDS = ("person", "vehicle")  # the subtypes correlated, in the order a report's are
LINK = "correlating.v3"  # the schema a chain passes a report on in
# Roles that make a record *about* a person or vehicle. Related-case and incident notices need
# them on both sides: sharing a witness or a victim's car is not a related case.
SUBJECT_ROLES = frozenset({"suspect", "subject", "driver", "owner", "involved", "arrestee"})


class CorrelationConfig(NodeConfig):
    max_reports_per_entity: int = Field(default=200, ge=1)
    max_hits_per_alert: int = Field(default=10, ge=1)
    max_records_scanned: int = Field(
        default=40, ge=1, description="Most recent records per entity considered for one trigger"
    )
    min_score: float = Field(default=0.0, ge=0, le=100, description="Hits below are not sent")
    narrative_chars: int = Field(default=600, ge=0)
    kinds: list[Literal["person", "vehicle"]] = Field(
        default=["person", "vehicle"],
        min_length=1,
        description="Whose records this node holds: persons, vehicles or both (a chain of nodes may split them)",
    )
    compose_alerts: bool = Field(
        default=True,
        description="Compose a report's alerts here (the node completing the kinds does); false: what the chain "
        "finds about a report goes, encoded, to a report_hits.v1 topic, for an alert_composer node",
    )


class CorrelationProcessor(Processor):
    Config = CorrelationConfig
    config: CorrelationConfig
    accepts = ("resolved.v2", LINK, "query_resolved.v2", "decision.v2", "purge.v1")
    emits = ("alert.v1", LINK, "report_hits.v1")
    ordered = True  # which report comes first matters: source order (argus/runtime/order.py)
    stateless_inputs = ("query_resolved.v2",)  # a query reads the holdings, changes nothing
    changes_input = False  # reads what it is handed, shares it (argus/runtime/decoded.py)

    def __init__(self, config: CorrelationConfig | None = None, name: str | None = None) -> None:
        super().__init__(config, name)
        self._writer = AlertWriter(self.name, self.config.max_hits_per_alert)

    @classmethod
    def check_topology(cls, name: str, topo: Topology) -> list[str]:
        """Along a chain of these nodes each kind is correlated once; the node completing the
        kinds writes alerts, any other passes the report on to the next node of the chain. With
        `compose_alerts: false` the completing node writes what the chain found for an alert composer."""
        return correlation_problems(cls, name, topo, KINDS, LINK)

    def process(self, record: Record, ctx: Context) -> Iterable[Record]:
        kinds = self.config.kinds
        if "decision_id" in record.value:
            Holdings(ctx.state).decide(record.value)  # a no-op in a node holding neither entity
            return []
        if "purge_id" in record.value:
            Holdings(ctx.state).forget(record.value["record_id"])
            return []
        if record.envelope["type"] == "cad.query":
            wanted = "vehicle" if record.body["query"]["query_type"] == "VEHICLE" else "person"
            return self._on_query(record, ctx) if wanted in kinds else []
        return self._on_report(record, ctx)

    def _remember(self, record: Record, ctx: Context) -> tuple[dict[str, Any], list[tuple[dict, list]]]:
        """Store the report; return its summary and, per linkable entity of this node's kinds
        (persons first, then vehicles), the prior holdings."""
        body, held = record.body, Holdings(ctx.state)
        kinds = self.config.kinds
        # A merge is of the survivor's kind (the mention that bridged two entities is listed):
        # the node holding that kind applies it.
        kind_of = {e["entity_id"]: e["subtype"] for e in body["entities"]}
        for m in body["merges"]:
            if kind_of.get(m["survivor_id"], "vehicle") in kinds:
                held.merge(m["survivor_id"], m["merged_id"])
        summary = summarize(record, self.config.narrative_chars)
        rid = summary["id"]
        mine = [e for k in KINDS if k in kinds for e in body["entities"] if e["kind"] in LINKABLE and e["subtype"] == k]
        if mine:
            held.keep_summary(rid, summary)
        elif summary["series_entity"]:  # none of ours: the series it counts in (for a purge) and its marking
            keep = ("series_entity", "agency", "tlp", "criminal_intelligence", "handling", "cases", "recipients")
            held.keep_summary(rid, {k: summary[k] for k in keep} | {"persons": [], "vehicles": []})
        if summary["series_entity"]:
            held.add_to_series(summary["series_entity"], rid)
        prior: list[tuple[dict, list]] = []
        cap = self.config.max_reports_per_entity
        ids = [e["entity_id"] for e in mine]
        held.prefetch_entities(ids)
        for ent in mine:
            eid = held.canon(ent["entity_id"])
            have = held.refs(eid)
            others = [x for x in have if x[0] != rid]
            prior.append((dict(ent, entity_id=eid), others))
            if not any(x[0] == rid for x in have):
                held.set_refs(eid, [*have, [rid, ent["role"]]][-cap:])
        subjects = [others for ent, others in prior if ent["role"] in SUBJECT_ROLES]
        held.prefetch_summaries(x[0] for others in subjects for x in self._recent(others))
        return summary, prior

    def _recent(self, refs: list[list[str]]) -> list[list[str]]:
        """Newest first, bounded: a prolific subject's 200th-oldest record adds nothing an
        officer can use in this alert, and scanning it costs every trigger."""
        return refs[::-1][: self.config.max_records_scanned]

    def _shared_subjects(
        self, ctx: Context, prior: list[tuple[dict, list]], agency: str
    ) -> Iterable[tuple[dict[str, Any], str, dict[str, Any], str]]:
        """(entity, "person"/"vehicle", other record's summary, its role there) for each subject
        of this report that another agency's RMS report or SAR also holds as a subject."""
        held = Holdings(ctx.state)
        for ent, others in prior:
            if ent["role"] not in SUBJECT_ROLES:
                continue
            kind_word = "vehicle" if ent["subtype"] == "vehicle" else "person"
            for rid, role in self._recent(others):
                s = held.summary(rid)
                if s is None or s["agency"] == agency or s["type"] not in ("rms.incident", "sar"):
                    continue
                if role in SUBJECT_ROLES:
                    yield ent, kind_word, s, role

    # --- building hits -------------------------------------------------------------------------
    def _series_size(self, ctx: Context, s: dict[str, Any], to: Recipient) -> int:
        """How many reports of the series `to` may know of: a count must not betray the others."""
        if not s["series_entity"]:
            return 0
        seen, held = 0, Holdings(ctx.state)
        for rid in held.series(s["series_entity"]):
            other = s if rid == s["id"] else held.summary(rid)
            if other is not None and decide(Marking.of(other), to) is not None:
                seen += 1
        return seen

    def _hit(
        self,
        ctx: Context,
        to: Recipient,
        s: dict[str, Any],
        view: ReportView,
        role: str,
        match: Match,
        head: list[dict[str, Any]],
        other_agency: bool,
    ) -> dict[str, Any]:
        series_n = self._series_size(ctx, s, to)
        return build_hit(s, view, role, match, head, series_n, ctx.now(), other_agency)

    def _subject_hit(
        self,
        ctx: Context,
        to: Recipient,
        s: dict[str, Any],
        view: ReportView,
        role: str,
        ent: dict[str, Any],
        label: str,
        head: list[dict[str, Any]],
    ) -> dict[str, Any]:
        """A hit on record `s` through a subject `ent` of a report, which another agency holds."""
        match = Match(ent["entity_id"], label, ent["match_reason"], ent["match_score"])
        return self._hit(ctx, to, s, view, role, match, head, True)

    # --- triggers ----------------------------------------------------------------------------
    def _on_query(self, record: Record, ctx: Context) -> list[Record]:
        env, q = record.envelope, record.body["query"]
        agency = env["source_agency"]
        le = bool(env.get("source_law_enforcement"))
        to = Recipient(
            agency=agency, role="patrol_officer", law_enforcement=le, unit=q["unit_id"], officer=q["officer_id"]
        )
        asked = q.get("plate") or q.get("vin") or q.get("name") or ""
        head = [
            {
                "kind": "QUERY",
                "id": env["id"],
                "relation": None,
                "label": f"query {asked!r} by unit {q['unit_id']} ({agency})",
            }
        ]
        hits: list[dict[str, Any]] = []
        touched: list[tuple[dict[str, Any], str, str, str]] = []
        held = Holdings(ctx.state)
        for m in record.body["matches"]:
            eid = held.canon(m["entity_id"])
            kind_word = "vehicle" if m["subtype"] == "vehicle" else "person"
            for rid, role in self._recent(held.refs(eid)):
                s = held.summary(rid)
                if s is None or s["kind"] == "stix":
                    continue
                view = report_view(s, to)
                other = s["agency"] != agency
                if view is not None:
                    ent_label = entity_label(s, eid, view, kind_word, asked)
                    step = entity_step(kind_word, eid, "MATCHED", ent_label)
                    match = Match(eid, ent_label, m["match_reason"], m["match_score"])
                    h = self._hit(ctx, to, s, view, role, match, [*head, step], other)
                    if h["score"] >= self.config.min_score:
                        hits.append(h)
                if other:
                    touched.append((s, eid, role, kind_word))
        out = [self._writer.query_hit(ctx, env, to, hits)] if hits else []
        notices = [encounter_hit(record, *x) for x in touched]
        return out + self._writer.encounter_alerts(ctx, env, q, [], notices)

    def _on_report(self, record: Record, ctx: Context) -> list[Record]:
        """Remember the report and find what this node's kinds hold about its subjects, adding to
        what the nodes before found (a correlating.v3 record); then pass it on, or, if this node
        completes the kinds, send the alerts (or, with `compose_alerts: false`, everything found
        for the alert composer: processors/alert_composer.py)."""
        env, body = record.envelope, record.body
        before = list(body.get("correlated") or [])
        again = set(before) & set(self.config.kinds)
        if again:
            raise ValueError(
                f"correlating record {env['id']}: its {', '.join(sorted(again))} were correlated upstream "
                "already; each kind must be correlated by one node of the chain"
            )
        hits: list[dict[str, Any]] = list(body.get("hits") or [])
        notices = [(n["agency"], n["label"], n["hit"]) for n in body.get("notices") or []]
        sent_hits, found = body.get("hits_before") or 0, list(body.get("found_before") or [])
        summary, prior = self._remember(record, ctx)
        if summary["kind"] != "stix":
            if summary["type"] == "cad.incident":
                self._incident_hits(ctx, record, summary, prior, hits, notices)
            else:
                self._related_hits(ctx, summary, prior, hits, notices)
        done = [k for k in KINDS if k in before or k in self.config.kinds]
        last = len(done) == len(KINDS)
        if not self.config.compose_alerts and summary["kind"] != "stix":
            # Composed apart (processors/alert_composer.py): what this node found rides on
            # encoded, and the last node hands the whole to the composer.
            if last:
                if not (hits or notices or found):
                    return []
                return [report_hits(env, self.name, self.config.max_hits_per_alert, summary, found, hits, notices)]
            if hits or notices:
                found.append(found_block(hits, notices))
                sent_hits += len(hits)
                hits, notices = [], []
        if not last:
            value = {
                "envelope": env,
                "body": {
                    "report": (REPORT_BRANCH[env["type"]], body["report"]),
                    "event_id": body["event_id"],
                    "entities": body["entities"],
                    "merges": body.get("merges", []),
                    "correlated": done,
                    "hits": hits,
                    "notices": [{"agency": a, "label": lab, "hit": h} for a, lab, h in notices],
                    "hits_before": sent_hits,
                    "found_before": found,
                },
            }
            return [Record(value, key=env["id"], topic=LINK)]
        if summary["kind"] == "stix":
            return []
        return self._writer.report_alerts(ctx, env, summary, hits, notices)

    def _incident_hits(
        self,
        ctx: Context,
        record: Record,
        summary: dict[str, Any],
        prior: list[tuple[dict, list]],
        hits: list[dict[str, Any]],
        notices: list[tuple[str, str, dict[str, Any]]],
    ) -> None:
        """A CAD incident: hits for its unit on other agencies' records of its subjects, and
        encounter notices to those agencies."""
        units = summary["units"]
        le = summary["law_enforcement"]
        to = Recipient(
            agency=summary["agency"], role="patrol_officer", law_enforcement=le, unit=units[0] if units else None
        )
        head_base = {
            "kind": "INCIDENT",
            "id": summary["event_id"],
            "relation": None,
            "label": f"CAD incident {summary['source_id']} ({summary.get('call_type')})",
        }
        for ent, kind_word, s, role in self._shared_subjects(ctx, prior, summary["agency"]):
            view = report_view(s, to)
            if view is not None:
                label = entity_label(s, ent["entity_id"], view, kind_word, ent["display"])
                step = entity_step(kind_word, ent["entity_id"], f"LISTED_AS_{ent['role'].upper()}", label)
                hits.append(self._subject_hit(ctx, to, s, view, role, ent, label, [head_base, step]))
            notices.append(encounter_hit(record, s, ent["entity_id"], role, kind_word))

    def _related_hits(
        self,
        ctx: Context,
        mine: dict[str, Any],
        prior: list[tuple[dict, list]],
        to_me: list[dict[str, Any]],
        to_them: list[tuple[str, str, dict[str, Any]]],
    ) -> None:
        """An RMS report or SAR: "related case exists", to both owners: hits for this report's
        owner on the other agencies' records, and for each of those agencies one on this report.
        Every pair of agencies sharing a subject is told, however many: the per-alert cap
        (`max_hits_per_alert`) shapes the owner's alert (its highest-scored hits, and how many in
        all), not who learns of whom: two agencies working one subject must not go on not knowing
        of each other because a report named many."""
        agency, held = mine["agency"], Holdings(ctx.state)
        me = Recipient(agency=agency, role="analyst", law_enforcement=mine["law_enforcement"])
        my_view = report_view(mine, me)
        assert my_view is not None
        for ent, kind_word, s, role in self._shared_subjects(ctx, prior, agency):
            # Deconfliction tells two agencies once that they hold the same subject; a
            # further report by either about that subject is not news to the other.
            if not held.first_telling((agency, s["agency"]), ent["entity_id"]):
                continue
            view = report_view(s, me)
            if view is not None:
                label = entity_label(mine, ent["entity_id"], my_view, kind_word, ent["display"])
                head = [
                    report_step(mine, my_view, None),
                    entity_step(kind_word, ent["entity_id"], f"LISTED_AS_{ent['role'].upper()}", label),
                ]
                to_me.append(self._subject_hit(ctx, me, s, view, role, ent, label, head))
            them = Recipient(agency=s["agency"], role="analyst", law_enforcement=bool(s.get("law_enforcement")))
            view_them = report_view(mine, them)
            their_view = report_view(s, them)
            assert their_view is not None
            told = any(a == s["agency"] and h["matched_entity_id"] == ent["entity_id"] for a, _, h in to_them)
            if view_them is not None and not told:
                label = entity_label(s, ent["entity_id"], their_view, kind_word, ent["display"])
                head = [
                    report_step(s, their_view, None),
                    entity_step(kind_word, ent["entity_id"], f"LISTED_AS_{role.upper()}", label),
                ]
                hit = self._subject_hit(ctx, them, mine, view_them, ent["role"], ent, label, head)
                to_them.append((s["agency"], label, hit))
