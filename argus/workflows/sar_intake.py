"""SARs in through the API: the ISE-SAR form of agencies, partners and TLOs, and the public tip
form. Each is validated by the topology's SAR connector (the path a portal file takes), kept in
the review store with the fields the stream does not carry (how to reach the submitter, whether
the activity may be constitutionally protected), then published for resolution, correlation,
search and triage.

The public form is open to anyone, so it is built to be abused: size limits, no markup, no
invisible or direction-changing characters, per-address and per-session quotas, and a receipt
that never says back what was sent.
"""

from __future__ import annotations

import re
import threading
import time
import unicodedata
import uuid
from collections import deque
from typing import Any

from argus.contracts import Connector, Context
from argus.records import InvalidRecord
from argus.security.policy import Marking
from argus.state import NodeState
from argus.stores.sar_reviews import SarCase, SarReviewStore
from argus.workflows.sar_model import SLA_MINUTES, due
from argus.workflows.sar_review import Actor, SarRefused, event_of

# Bidirectional overrides and isolates, zero-width and other invisible format characters: a
# reviewer must read what the submitter wrote, not what they made it look like.
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\u00ad]")
_MARKUP = re.compile(r"<\s*/?\s*[a-zA-Z!?][^>]*>|javascript:", re.IGNORECASE)


def plain(value: str, field: str, limit: int) -> str:
    """Text a person typed, refused (naming the field) where it hides or carries anything else."""
    if len(value) > limit:
        raise SarRefused(422, field, f"at most {limit} characters, got {len(value)}")
    if _INVISIBLE.search(value):
        raise SarRefused(422, field, "contains invisible or direction-changing characters; type plain text")
    if any(unicodedata.category(ch) == "Cc" and ch not in "\n\t" for ch in value):
        raise SarRefused(422, field, "contains control characters")
    if _MARKUP.search(value):
        raise SarRefused(422, field, "markup and scripts are not accepted; describe what you saw in plain words")
    return unicodedata.normalize("NFC", value).strip()


class Quota:
    """At most `n` uses per key in any `window` seconds (sliding), counted in this process."""

    def __init__(self, n: int, window: float) -> None:
        self.n, self.window = n, window
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """0 if allowed (and counted), else the seconds until it would be."""
        now = time.monotonic()
        with self._lock:
            q = self._seen.setdefault(key, deque())
            while q and q[0] <= now - self.window:
                q.popleft()
            if len(q) >= self.n:
                return q[0] + self.window - now
            q.append(now)
            if len(self._seen) > 100_000:  # a flood of distinct keys must not grow without bound
                self._seen = {k: v for k, v in self._seen.items() if v and v[-1] > now - self.window}
            return 0.0


def _person(p: dict[str, Any]) -> dict[str, Any]:
    """A person the form names, as the SAR connector reads one (people nobody can name are
    described in the narrative)."""
    name = ", ".join(x for x in (p.get("surname"), p.get("given")) if x)
    return {"role": "subject", "name": name, **{k: p[k] for k in ("dob", "sex", "descriptors") if p.get(k)}}


class SarIntake:
    def __init__(self, connector: Connector | None, topic: str, store: SarReviewStore, publish: Any,
                 events_topic: str | None, audit: Any, fusion_centre: str | None,
                 sla: dict[str, int] | None = None) -> None:  # fmt: skip
        self.connector, self.topic, self.store, self.publish = connector, topic, store, publish
        self.events_topic, self.audit, self.fusion_centre = events_topic, audit, fusion_centre
        self.sla = sla or dict(SLA_MINUTES)

    def submit(self, form: dict[str, Any], actor: Actor, law_enforcement: bool) -> SarCase:
        """`form`: the validated ISE-SAR form (argus/api/sar_forms.py)."""
        raw = self._raw(form, actor.agency, actor.subject)
        return self._enter(raw, form, actor, law_enforcement, public=False)

    def tip(self, form: dict[str, Any], source: str | None) -> SarCase:
        """A public tip: the fusion centre's own record, reliability and validity not judged."""
        if not self.fusion_centre:
            raise SarRefused(503, "tips", "public tips are not configured here (sar_queue: fusion_centre)")
        raw = self._raw(form | {"reliability": "F", "validity": 6}, self.fusion_centre, "public")
        actor = Actor("public", self.fusion_centre, "public", source)
        return self._enter(raw, form, actor, True, public=True)

    def _raw(self, form: dict[str, Any], agency: str, by: str) -> dict[str, Any]:
        where = form["where"]
        recipients = [self.fusion_centre] if self.fusion_centre and self.fusion_centre != agency else []
        contact = form.get("contact") or {}
        return {
            "sar_id": f"SAR-{uuid.uuid4().hex[:12].upper()}", "agency": agency, "tlp": form.get("tlp", "TLP:AMBER"),
            "reliability": form.get("reliability", "F"), "validity": form.get("validity", 6),
            "recipients": recipients, "behavior": form["behavior"], "occurred_at": form["occurred_at"],
            "submitted_by": contact.get("name") or by, "narrative": form["narrative"],
            "persons": [_person(p) for p in form.get("persons") or [] if p.get("surname") or p.get("given")],
            "vehicles": form.get("vehicles") or [],
            "locations": [{"role": "incident", **{k: where.get(k) for k in ("address", "lat", "lon")}}],
        }  # fmt: skip

    def _enter(self, raw: dict[str, Any], form: dict[str, Any], actor: Actor, le: bool, public: bool) -> SarCase:
        if self.connector is None:
            raise SarRefused(503, "sar", "the topology has no SAR connector to take submissions")
        try:
            rec = self.connector.convert(raw, Context(self.connector.name, NodeState()))
        except InvalidRecord as exc:
            raise SarRefused(422, "sar", str(exc)) from None
        rec.envelope["source_law_enforcement"] = le
        env, body = rec.envelope, rec.body
        where = form["where"]
        case = SarCase(
            id=env["id"], sar_id=body["sar_id"], marking=Marking.from_envelope(env), behavior=body["behavior"],
            occurred_at=body["occurred_at"], received_at=env["ingested_at"], narrative=body["narrative"],
            submitted_by=body["submitted_by"], submitter=actor.subject if not public else "",
            submitter_role=actor.role, contact=dict(form.get("contact") or {}), place=where.get("address") or "",
            lat=where.get("lat"), lon=where.get("lon"), site_category=form.get("site_category") or "",
            protected_activity=bool(form.get("protected_activity")), public_tip=public,
            due_at=due(env["ingested_at"], "LOW", self.sla), updated_at=env["ingested_at"],
        )  # fmt: skip
        self.store.create(case)  # before the stream's triage can reach it
        self.publish(self.topic, rec.value, rec.key)
        if self.events_topic:
            self.publish(self.events_topic, event_of(case, "SUBMITTED", None, actor, None, None), case.id)
        self.audit.record(
            "submit", actor=actor.subject, agency=actor.agency, object=case.id, source=actor.source,
            detail={"kind": "public_tip" if public else "sar", "sar": case.sar_id, "behavior": case.behavior},
        )  # fmt: skip
        return case
