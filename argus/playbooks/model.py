"""A CACAO playbook as Argus holds it: the document exactly as imported (every property kept, so
export gives it back unchanged) beside the typed facts Argus acts on: identity, version, markings,
and the workflow graph."""

from __future__ import annotations

import dataclasses
from typing import Any

from argus.records import Tlp
from argus.security.policy import Marking

STEP_TYPES = (
    "start", "end", "action", "playbook-action", "parallel", "if-condition", "while-condition", "switch-condition",
)  # fmt: skip
POINTERS = ("on_completion", "on_success", "on_failure", "on_true", "on_false")
UNMARKED_TLP = "AMBER"  # a playbook that carries no TLP is held as AMBER: shared, not public


@dataclasses.dataclass(frozen=True)
class Playbook:
    doc: dict[str, Any]

    @property
    def id(self) -> str:
        return str(self.doc["id"])

    @property
    def name(self) -> str:
        return str(self.doc.get("name", ""))

    @property
    def modified(self) -> str:
        return str(self.doc["modified"])

    @property
    def workflow(self) -> dict[str, dict[str, Any]]:
        return self.doc.get("workflow") or {}

    @property
    def start(self) -> str:
        return str(self.doc.get("workflow_start", ""))

    @property
    def exception(self) -> str | None:
        return self.doc.get("workflow_exception")

    def step(self, step_id: str) -> dict[str, Any]:
        return self.workflow[step_id]

    def agent(self, ref: str | None) -> dict[str, Any] | None:
        return (self.doc.get("agent_definitions") or {}).get(ref or "")

    def markings(self) -> list[dict[str, Any]]:
        defs = self.doc.get("data_marking_definitions") or {}
        return [defs[m] for m in self.doc.get("markings") or [] if m in defs]

    def tlp(self) -> str:
        """The most restrictive TLP among the playbook's markings (AMBER when it has none)."""
        levels = [Tlp.parse(m["tlpv2_level"]) for m in self.markings() if m.get("type") == "marking-tlp"]
        return max(levels, key=lambda t: t.rank).value if levels else UNMARKED_TLP

    def handling(self) -> tuple[str, ...]:
        """IEP sharing and statement markings as caveats that travel with the playbook."""
        out = []
        for m in self.markings():
            if m.get("type") == "marking-iep" and m.get("permitted_redistribution", "") in ("RED", "AMBER"):
                out.append(f"IEP:REDISTRIBUTION:{m['permitted_redistribution']}")
            elif m.get("type") == "marking-statement" and m.get("statement"):
                out.append(f"STATEMENT:{str(m['statement'])[:200]}")
        return tuple(out)

    def marking(self, agency: str) -> Marking:
        """How Argus holds it: the importing agency's, at the playbook's own TLP; shown whole or
        not at all (a playbook cannot be half-released)."""
        return Marking(agency=agency, tlp=self.tlp(), handling=self.handling(), whole=True)


def successors(step: dict[str, Any]) -> list[str]:
    """Every step a step can hand control to, in the order the executor follows them."""
    out = [step[p] for p in POINTERS if isinstance(step.get(p), str)]
    out += [s for s in step.get("next_steps") or [] if isinstance(s, str)]
    out += [s for s in (step.get("cases") or {}).values() if isinstance(s, str)]
    return out


def branches(step: dict[str, Any]) -> list[str]:
    """The first steps of the sub-workflows a control step opens (its body, its arms, its cases)."""
    kind = step.get("type")
    if kind == "parallel":
        return list(step.get("next_steps") or [])
    if kind in ("if-condition", "while-condition"):
        return [s for s in (step.get("on_true"), step.get("on_false")) if isinstance(s, str)]
    if kind == "switch-condition":
        return [s for s in (step.get("cases") or {}).values() if isinstance(s, str)]
    return []
