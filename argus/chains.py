"""Chains of nodes split by kind (entity resolution, correlation): what `argus check` needs.

A node of such a chain handles some kinds (`kinds:` in its config) and passes each record on, in
a schema of the chain's own, to the next node. Each kind must be handled once along the chain;
both node types check that through this one walk up the chain. A correlation chain also checks
where its alerts are composed (`correlation_problems`).
"""

from __future__ import annotations

from dataclasses import dataclass

from argus.registry import RegistryError, node_class
from argus.topology import Topology


@dataclass(frozen=True)
class ChainView:
    mine: set[str]  # the kinds this node handles
    before: set[str]  # the kinds the nodes upstream of it along the chain handle
    members: frozenset[str]  # every node of the topology of the chain's class


def chain_view(cls: type, name: str, topo: Topology, link_schema: str) -> ChainView:
    """`cls`: the chain's node class (with a Config carrying `kinds`); `link_schema`: the schema
    of the topics carrying records from one node of the chain to the next."""
    nodes = topo.nodes

    def is_member(n: str) -> bool:
        try:
            return issubclass(node_class(nodes[n].use), cls)
        except RegistryError:
            return False  # check() reports the unknown node type itself

    members = frozenset(n for n in nodes if is_member(n))

    def own(n: str) -> set[str]:
        return set(cls.Config.model_validate(nodes[n].config).kinds)  # type: ignore[attr-defined]

    def upstream(n: str, seen: frozenset[str]) -> set[str]:
        out: set[str] = set()
        for t in nodes[n].inputs:
            if topo.topics[t].schema_ != link_schema:
                continue
            for w, m in nodes.items():
                if t in m.outputs and w in members and w not in seen:
                    out |= own(w) | upstream(w, seen | {w})
        return out

    return ChainView(own(name), upstream(name, frozenset()), members)


def correlation_problems(cls: type, name: str, topo: Topology, kinds: tuple[str, ...], link: str) -> list[str]:
    """What is wrong with correlation node `name` along its chain (`cls`: the correlation node
    class; `kinds`: every kind correlated, in order; `link`: the schema passing a report on)."""
    nodes = topo.nodes
    view = chain_view(cls, name, topo, link)
    problems: list[str] = []
    mine, before = view.mine, view.before
    if mine & before:
        problems.append(f"correlates {', '.join(sorted(mine & before))} again: a node upstream already does")
    outs = {topo.topics[t].schema_: t for t in nodes[name].outputs}
    if "alert.v1" not in outs:
        problems.append("writes no topic of schema alert.v1: its alerts would have nowhere to go")
    if mine | before != set(kinds) and link not in outs:
        missing = ", ".join(sorted(set(kinds) - mine - before))
        problems.append(f"leaves {missing} uncorrelated and writes no {link} topic to pass reports on")
    problems += _composing_problems(cls, name, topo, view, outs, kinds)
    for t in nodes[name].outputs:
        if topo.topics[t].schema_ == link:
            if mine | before == set(kinds):
                problems.append(f"correlates every kind, so nothing reaches {t!r}")
            readers = [n for n, m in nodes.items() if t in m.inputs and n not in view.members]
            if readers:
                problems.append(f"{t!r} is read by {', '.join(sorted(readers))}, which are not correlation")
    return problems


def _composing_problems(
    cls: type, name: str, topo: Topology, view: ChainView, outs: dict[str, str], kinds: tuple[str, ...]
) -> list[str]:
    """Where a report's alerts are composed: by the node completing the kinds, or
    (compose_alerts: false) by an alert composer reading what that node writes. The whole
    chain must agree: a node composing here would never see what the nodes before it
    passed on encoded."""
    nodes = topo.nodes
    own = cls.Config.model_validate(nodes[name].config).compose_alerts  # type: ignore[attr-defined]
    problems: list[str] = []
    config = cls.Config  # type: ignore[attr-defined]
    others = sorted(m for m in view.members if config.model_validate(nodes[m].config).compose_alerts != own)
    if others:
        problems.append(
            f"compose_alerts is {str(own).lower()} here but not on {', '.join(others)}: "
            "every correlation node must compose alerts the same way"
        )
    found = outs.get("report_hits.v1")
    completes = view.mine | view.before == set(kinds)
    if found and (own or not completes):
        why = "composes its alerts itself (compose_alerts: true)" if own else "does not complete the kinds"
        problems.append(f"writes {found!r} (report_hits.v1) but {why}: only the node completing them writes it")
    if not own and completes:
        if found is None:
            problems.append("compose_alerts is false but it writes no report_hits.v1 topic for the composer")
        elif not any(found in m.inputs and "report_hits.v1" in node_class(m.use).accepts for m in nodes.values()):
            problems.append(f"{found!r} is read by no alert_composer node: its alerts would never be sent")
    return problems
