"""The topology a command runs on: loaded, checked, and (for a command that will use them) every
server it names reached first, so an operator reads one line per problem, not a traceback."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from argus.reach import EX_UNAVAILABLE, unreachable
from argus.registry import RegistryError
from argus.topology import Topology, TopologyError, check, load_topology


def load_checked(topology: Path, data_dir: Path | None, bus: str | None = None, reach: bool = True) -> Topology:
    """The topology, checked; with `reach`, every server it names answers first, or one line
    each saying which does not and what to check, and exit 69."""
    if bus:
        os.environ["ARGUS_BUS"] = bus  # read by the topology wherever it opens its bus
    try:
        topo = load_topology(topology, data_dir)
        for w in check(topo):
            typer.echo(f"warning: {w}", err=True)
    except (TopologyError, RegistryError) as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    if reach:
        down = unreachable(topo)
        for u in down:
            typer.echo(u.line(), err=True)
        if down:
            raise typer.Exit(EX_UNAVAILABLE)
    return topo
