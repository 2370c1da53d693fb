"""The topology's order plan: which topics carry source-order marks, which connectors each ordered
node waits for, and on which of its inputs their marks arrive (the marks and releases themselves:
argus/runtime/order.py). Checked when a topology loads: a plan that could not keep order (a
compacted topic carrying marks, a source reaching a node by two paths, an ordered node
partitioned) is refused, naming why."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from argus.registry import node_class, role_of
from argus.topology_error import TopologyError

if TYPE_CHECKING:
    from argus.topology import Topology


@dataclass(frozen=True)
class OrderPlan:
    marked: frozenset[str]  # topics that carry marks
    marks_out: dict[str, tuple[str, ...]]  # node -> its output topics that carry marks
    inputs: dict[str, tuple[str, ...]]  # ordered node -> its ordered input topics
    origins: dict[str, frozenset[str]]  # ordered node -> the connectors it waits for
    reach: dict[str, dict[str, frozenset[str]]]  # ordered node -> origin -> topics its marks reach

    def ordered(self, node: str) -> bool:
        return node in self.inputs


def is_ordered_class(use: str) -> bool:
    return bool(getattr(node_class(use), "ordered", False))


def plan_order(topo: Topology) -> OrderPlan:
    """Which topics carry marks and which origins each ordered node waits for. Raises
    TopologyError where order could not be kept (see the module docstring)."""
    nodes, topics = topo.nodes, topo.topics
    roles = {n: role_of(node_class(m.use)) for n, m in nodes.items()}
    ordered = {n for n, m in nodes.items() if roles[n] == "processor" and is_ordered_class(m.use)}

    def carries(t: str) -> bool:
        return t in topics and topics[t].priority != "high" and not topics[t].external

    marked: set[str] = set()
    changed = True
    while changed:  # a topic carries marks if an ordered node, or a node whose output does, reads it
        changed = False
        for n, m in nodes.items():
            if roles[n] == "sink":
                continue
            wants = n in ordered or any(o in marked for o in m.outputs)
            for t in m.inputs:
                if wants and carries(t) and t not in marked:
                    marked.add(t)
                    changed = True
    marks_out = {n: tuple(t for t in m.outputs if t in marked) for n, m in nodes.items()}
    writers: dict[str, list[str]] = {}
    for n, m in nodes.items():
        for t in m.outputs:
            writers.setdefault(t, []).append(n)

    problems: list[str] = [
        f"topic {t!r} carries source-order marks, which are tombstones: it cannot be compacted"
        for t in sorted(marked)
        if topics[t].compacted
    ]
    memo: dict[str, dict[str, int]] = {}

    def streams(t: str, seen: frozenset[str] = frozenset()) -> dict[str, int]:
        """origin -> how many mark streams of it arrive on each partition of t."""
        if t in memo:
            return memo[t]
        out: dict[str, int] = {}
        for w in writers.get(t, []):
            if w in seen:
                problems.append(f"topic {t!r}: marks would go round a cycle through {w!r}")
                continue
            if roles[w] == "connector":
                out[w] = out.get(w, 0) + 1
            elif w in ordered:
                for o in origins_of(w, seen | {w}):
                    out[o] = out.get(o, 0) + 1
            else:
                for u in nodes[w].inputs:
                    if u in marked:
                        if topics[u].partitions != topics[t].partitions:
                            problems.append(
                                f"node {w!r}: passes marks from {u!r} ({topics[u].partitions} partitions) to "
                                f"{t!r} ({topics[t].partitions}); an ordered node downstream needs them equal"
                            )
                        for o, k in streams(u, seen | {w}).items():
                            out[o] = out.get(o, 0) + k
        memo[t] = out
        return out

    def origins_of(n: str, seen: frozenset[str] = frozenset()) -> set[str]:
        return {o for t in nodes[n].inputs if t in marked for o in streams(t, seen)}

    inputs: dict[str, tuple[str, ...]] = {}
    origins: dict[str, frozenset[str]] = {}
    reach: dict[str, dict[str, frozenset[str]]] = {}
    for n in sorted(ordered):
        if getattr(node_class(nodes[n].use), "partitioned", False):
            problems.append(f"node {n!r}: an ordered node runs as one task; it cannot be partitioned")
        ins = tuple(t for t in nodes[n].inputs if t in marked)
        r: dict[str, set[str]] = {}
        for t in ins:
            for o, k in streams(t).items():
                if k != 1:
                    problems.append(
                        f"node {n!r}: {o!r} reaches {t!r} by {k} paths; an ordered node needs one per source"
                    )
                r.setdefault(o, set()).add(t)
        inputs[n] = ins
        origins[n] = frozenset(r)
        reach[n] = {o: frozenset(ts) for o, ts in r.items()}
    if problems:
        raise TopologyError(sorted(set(problems)))
    return OrderPlan(frozenset(marked), marks_out, inputs, origins, reach)
