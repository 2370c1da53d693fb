"""Chains of nodes split by kind (entity resolution, correlation): what `argus check` needs.

A node of such a chain handles some kinds (`kinds:` in its config) and passes each record on, in
a schema of the chain's own, to the next node. Each kind must be handled once along the chain;
both node types check that through this one walk up the chain.
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
