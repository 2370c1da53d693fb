"""What a command starts from: the options naming the topology, the data directory, the bus and
the log format, shared by every command; and the topology loaded, checked, and (for a command
that will use them) every server it names reached first, so an operator reads one line per
problem, not a traceback."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from argus.reach import EX_UNAVAILABLE, unreachable
from argus.registry import RegistryError
from argus.topology import Topology, TopologyError, check, load_topology

TopoOpt = Annotated[Path, typer.Option("--topology", "-t", help="topology.yaml")]
DataOpt = Annotated[Path | None, typer.Option("--data-dir", help="Overrides data_dir / ARGUS_DATA_DIR")]
LogFormatOpt = Annotated[
    str, typer.Option(help="json (one object per line) or text; both redact personal data", case_sensitive=False)
]
BusOpt = Annotated[
    str | None, typer.Option("--bus", help="The bus to read, e.g. kafka://host:9092?prefix=fusion. (else ARGUS_BUS)")
]


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
