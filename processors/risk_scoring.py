"""Risk scoring: every resolved report updates the risk of each person it names (but for its
victims, witnesses and reporting parties, who are no risk for being named), of the crime
series it belongs to, and of the STIX threats (intrusion sets, campaigns, threat actors, malware)
it is or links to (argus/risk.py: offences, role, recency, weapons, gangs, series, SARs, ATT&CK,
associates and centrality, each a reason with its weight), as the reports stream in.

A score is computed for each agency that holds evidence on the subject, over only the evidence
that agency sees in full without the directory's dissemination rules: its own reports, TLP:CLEAR
ones, and those naming it. So no score, reason or association tells an agency anything of a
report it may not see. A score that moves by `min_change` is published on the risk topic,
addressed to that agency; one that crosses `threshold` upwards is marked as crossed, which the
workbench shows the agency's analysts as a notice.

State per subject: its evidence (the `max_evidence` heaviest-recent reports), who it was reported
with, and its last published score per agency. One task, fed in the sources' order: a subject's
evidence comes from reports of any key, and its score from what came before. Decay is measured
from the subject's newest report, so a score depends on the reports alone, not on when they were
processed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from pydantic import Field

from argus.contracts import Context, NodeConfig, Processor
from argus.records import Record, utcnow
from argus.risk import GANG, WEAPON, Evidence, Score, decay, score
from argus.security.policy import FULL, Marking, Recipient, decide


class RiskConfig(NodeConfig):
    threshold: float = Field(default=60.0, ge=0, le=100, description="A score crossing it is a notice to the agency")
    min_change: float = Field(default=1.0, ge=0, description="Publish a score that moved at least this much")
    max_evidence: int = Field(default=50, ge=5, le=1000, description="Reports kept per subject")
    max_associates: int = Field(default=200, ge=1, le=10_000)


def evidence_of(env: dict[str, Any], report: dict[str, Any], role: str) -> Evidence:
    kind = str(env["type"]).split(".")[0]
    text = " ".join(str(report.get(k) or "") for k in ("narrative", "summary", "description"))
    m = Marking.from_envelope(env)
    when = report.get("occurred_at") or report.get("received_at") or env["observed_at"]
    return Evidence(
        report=env["id"], at=when.isoformat() if isinstance(when, datetime) else str(when), kind=kind, role=role,
        offences=tuple(report.get("offenses") or ()), weapon=bool(WEAPON.search(text)), gang=bool(GANG.search(text)),
        series=str(report.get("series_id") or ""), behavior=str(report.get("behavior") or ""),
        marking=(m.agency, m.tlp, m.ci, m.handling, m.cases, m.recipients),
    )  # fmt: skip


THREATS = ("intrusion-set--", "campaign--", "threat-actor--", "malware--")
BYSTANDERS = ("victim", "witness", "reporting", "complainant")  # named, but not a risk: not scored


def threats(body: dict[str, Any]) -> list[tuple[str, str, str]]:
    """A STIX threat (intrusion set, campaign, threat actor, malware) and the threats a STIX
    relationship or sighting names: each is evidence of ATT&CK attribution on that threat."""
    out = [(e["entity_id"], e.get("display") or e["entity_id"], "") for e in body["entities"]
           if e["entity_id"].startswith(THREATS)]  # fmt: skip
    for link in body.get("links") or ():
        out += [(ref, ref, "") for ref in (link["from_id"], link["to_id"]) if str(ref).startswith(THREATS)]
    return list(dict.fromkeys(out))


def _when(at: str) -> datetime | None:
    try:
        d = datetime.fromisoformat(at)
    except ValueError:
        return None
    return d if d.tzinfo else d.replace(tzinfo=UTC)


def as_of(evidence: list[Evidence]) -> datetime:
    """The time a subject's score is computed for: its newest report's, so the same reports give
    the same score on every runtime and after every restart (decay is measured from there)."""
    times = [t for t in (_when(e.at) for e in evidence) if t is not None]
    return max(times, default=datetime(2000, 1, 1, tzinfo=UTC))


def kind_of(sid: str) -> str:
    return "series" if sid.startswith("series:") else "threat" if sid.startswith(THREATS) else "person"


def sees(agency: str, marking: tuple[Any, ...] | list[Any]) -> bool:
    """The agency sees the report in full without the dissemination rules: own, CLEAR, named."""
    if not marking:
        return False
    if marking[0] != agency and marking[1] != "CLEAR" and agency not in marking[5]:
        return False
    m = Marking(marking[0], marking[1], bool(marking[2]), tuple(marking[3]), tuple(marking[4]), tuple(marking[5]))
    v = decide(m, Recipient(agency, "analyst"), None)
    return v is not None and v.level == FULL


class Sight:
    """`sees` for one agency, asked once per distinct marking: a subject's evidence and its
    associations repeat a handful of markings many times over."""

    def __init__(self, agency: str) -> None:
        self.agency = agency
        self._known: dict[tuple[Any, ...], bool] = {}

    def __call__(self, marking: tuple[Any, ...] | list[Any]) -> bool:
        if not marking:
            return False
        key = (marking[0], marking[1], marking[2], *map(tuple, marking[3:6]))
        got = self._known.get(key)
        if got is None:
            got = self._known[key] = sees(self.agency, marking)
        return got


class RiskScoringProcessor(Processor):
    Config = RiskConfig
    config: RiskConfig
    accepts = ("resolved.v2", "purge.v1")
    emits = ("risk_score.v1",)
    changes_input = False  # reads what it is handed, shares it (argus/runtime/decoded.py)
    ordered = True  # a score depends on what came before it: the sources' order, whatever the timing

    def process(self, record: Record, ctx: Context) -> Iterable[Record]:
        if "purge_id" in record.value:
            return self._purge(ctx, record.value["record_id"])
        env, body = record.envelope, record.body
        if not env.get("source_law_enforcement", True):
            return []  # a private-sector partner's report weighs on no one's risk
        report = body["report"]
        people = [(e["entity_id"], e.get("display") or "", e.get("role") or "") for e in body["entities"]
                  if e["kind"] == "PERSON" and not e["entity_id"].startswith(THREATS)
                  and (e.get("role") or "").lower() not in BYSTANDERS]  # fmt: skip
        subjects = list(people)
        if report.get("series_id"):
            subjects.append((f"series:{report['series_id']}", f"series {report['series_id']}", "suspect"))
        subjects += threats(body)
        out: list[Record] = []
        for sid, display, role in subjects:
            ev = evidence_of(env, report, role)
            others = [p for p, _, _ in people if p != sid] if kind_of(sid) == "person" else []
            self._remember(ctx, sid, ev, others)
            ctx.state.put(f"rk:who:{sid}", display)
            out += self._publish(ctx, sid, display)
        if subjects:
            ctx.state.put(f"rk:rep:{env['id']}", sorted({sid for sid, _, _ in subjects}))
        return out

    def _purge(self, ctx: Context, report: str) -> list[Record]:
        """A purged report leaves every subject it weighed on: its evidence and the associations it
        made go, and each score is published again without it (the old ones are erased)."""
        out: list[Record] = []
        for sid in ctx.state.get(f"rk:rep:{report}", []):
            kept = [v for v in ctx.state.get(f"rk:ev:{sid}", []) if v[0] != report]
            ctx.state.put(f"rk:ev:{sid}", kept)
            assoc = {
                o: [m for m in marks if m[6:] != [report]] for o, marks in ctx.state.get(f"rk:as:{sid}", {}).items()
            }
            ctx.state.put(f"rk:as:{sid}", {o: marks for o, marks in assoc.items() if marks})
            out += self._publish(ctx, sid, ctx.state.get(f"rk:who:{sid}", ""), force=True)
        ctx.state.delete(f"rk:rep:{report}")
        return out

    def _remember(self, ctx: Context, sid: str, ev: Evidence, others: list[str]) -> None:
        kept = [Evidence.unpack(v) for v in ctx.state.get(f"rk:ev:{sid}", [])]
        kept = [e for e in kept if e.report != ev.report] + [ev]
        if len(kept) > self.config.max_evidence:  # keep the heaviest, most recent
            now = as_of(kept)
            kept.sort(key=lambda e: -(len(e.offences) + 1) * decay(e.at, now))
            kept = kept[: self.config.max_evidence]
        ctx.state.put(f"rk:ev:{sid}", [e.packed() for e in kept])
        if others:
            assoc: dict[str, list[Any]] = ctx.state.get(f"rk:as:{sid}", {})
            for o in others:
                if o in assoc or len(assoc) < self.config.max_associates:
                    marks = assoc.setdefault(o, [])
                    if all(m[:6] != list(ev.marking) for m in marks) and len(marks) < 3:
                        marks.append([*ev.marking, ev.report])  # the report that links them: a purge undoes it
            ctx.state.put(f"rk:as:{sid}", assoc)

    def _publish(self, ctx: Context, sid: str, display: str, force: bool = False) -> list[Record]:
        evidence = [Evidence.unpack(v) for v in ctx.state.get(f"rk:ev:{sid}", [])]
        assoc: dict[str, list[Any]] = ctx.state.get(f"rk:as:{sid}", {})
        last: dict[str, dict[str, float]] = ctx.state.get(f"rk:last:{sid}", {})
        sent: dict[str, int] = ctx.state.get(f"rk:n:{sid}", {})  # scores published per agency: the record ids
        out = []
        for agency in sorted({e.marking[0] for e in evidence if e.marking}):
            sight = Sight(agency)
            seen = [e for e in evidence if sight(e.marking)]
            if not seen:
                continue
            theirs = {o: (ctx.state.get(f"rk:last:{o}", {}).get(agency) or {}) for o, marks in assoc.items()
                      if any(sight(m) for m in marks)}  # fmt: skip
            now = as_of(seen)  # the agency's newest report: nothing it may not see moves its score
            s = score(seen, {o: v for o, v in theirs.items() if v}, now)
            before = last.get(agency) or {}
            top_before, top_now = max(before.values(), default=0.0), s.top[1]
            if not force and abs(top_now - top_before) < self.config.min_change and set(before) == set(s.categories):
                continue
            last[agency] = s.categories
            sent[agency] = sent.get(agency, 0) + 1
            crossed = top_before < self.config.threshold <= top_now
            out.append(self._record(sid, display, agency, s, seen, crossed, now, sent[agency]))
        if out:
            ctx.state.put(f"rk:last:{sid}", last)
            ctx.state.put(f"rk:n:{sid}", sent)
        return out

    def _record(self, sid: str, display: str, agency: str, s: Score, seen: list[Evidence], crossed: bool,
                now: datetime, n: int) -> Record:  # fmt: skip
        """The n-th score published for the subject and agency: its id follows from that alone, so
        a replay after a crash writes the same record again, never a second one."""
        top, value = s.top
        rid = hashlib.sha256(f"{sid}|{agency}|{n}".encode()).hexdigest()[:32]
        env = {
            "id": f"risk-{rid}", "type": "risk_score", "source_agency": agency,
            "source_system": "risk_scoring", "tlp": "RED", "reliability": "F", "validity": 6,
            "criminal_intelligence": any(e.marking[2] for e in seen), "criminal_predicate": None, "handling": [],
            "cases": [], "recipients": [], "source_law_enforcement": True, "review_by": None, "observed_at": now,
            "ingested_at": utcnow(), "trace_id": sid,
        }  # fmt: skip
        body = {
            "subject": sid, "subject_kind": kind_of(sid), "display": display,
            "recipient_agency": agency, "score": value, "category": top, "categories": s.categories,
            "reasons": [{k: str(v) if k != "weight" else float(v) for k, v in r.items()} for r in s.reasons[:40]],
            "evidence": sorted({e.report for e in seen})[:200], "threshold": self.config.threshold,
            "crossed": crossed, "computed_at": now, "seq": n,
        }  # fmt: skip
        return Record({"envelope": env, "body": body}, key=f"{sid}|{agency}")
