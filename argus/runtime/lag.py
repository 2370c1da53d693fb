"""How far behind each node is: records on its inputs it has not yet committed as read. One
answer for `argus status` (embedded and Kafka) and the watch officer's board."""

from __future__ import annotations

from typing import Any

from argus.bus.base import Bus


def node_lag(bus: Bus, topo: Any) -> dict[str, int]:
    """Per node with inputs. Something must be readable past the committed offset before the
    gap counts (on Kafka, transaction markers make the end offset overstate it)."""
    lag: dict[str, int] = {}
    for name, model in topo.nodes.items():
        total = 0
        for t in model.inputs:
            try:
                parts = bus.partitions(t)
            except KeyError:
                continue  # no worker has created it yet: nothing is waiting there
            for p in range(parts):
                done = bus.committed(name, t, p)
                if bus.read(t, p, done, 1):
                    total += max(1, bus.end_offset(t, p) - done)
        lag[name] = total
    return lag
