"""`argus feed` (TAXII subscriptions) and `argus attack` (the local MITRE ATT&CK mirror)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import orjson
import typer
from pydantic import ValidationError

from argus.feeds import FeedError, FeedRegistry, FeedSpec, feed_nodes, subscriptions
from argus.security.audit import AuditLog

feed_app = typer.Typer(help="TAXII 2.1 feeds the pipeline polls: add, list, remove.", no_args_is_help=True)

TopoOpt = Annotated[Path, typer.Option("--topology", "-t", help="topology.yaml")]
DataOpt = Annotated[Path | None, typer.Option("--data-dir", help="Overrides data_dir / ARGUS_DATA_DIR")]
ByOpt = Annotated[str, typer.Option("--by", help="Who makes the change (recorded in the audit trail)")]


def _topo(topology: Path, data_dir: Path | None):  # type: ignore[no-untyped-def]
    from argus.cli import _load

    return _load(topology, data_dir)


@feed_app.command("add")
def feed_add(
    name: str,
    url: Annotated[str, typer.Option(help="API root URL, e.g. https://taxii.partner.gov/api1/")],
    collection: Annotated[str, typer.Option(help="Collection id")],
    agency: Annotated[str, typer.Option(help="ORI of the partner whose intelligence this is")],
    by: ByOpt,
    username: Annotated[str | None, typer.Option()] = None,
    password: Annotated[str | None, typer.Option(help="Basic auth password; env:NAME reads it at poll time")] = None,
    token: Annotated[str | None, typer.Option(help="Bearer token; env:NAME reads it at poll time")] = None,
    cert: Annotated[str | None, typer.Option(help="Client certificate (PEM) for mutual TLS")] = None,
    key: Annotated[str | None, typer.Option(help="Its private key (PEM)")] = None,
    ca: Annotated[str | None, typer.Option(help="CA bundle to verify the server with")] = None,
    insecure: Annotated[bool, typer.Option(help="Do not verify TLS (logged at every start)")] = False,
    interval: Annotated[float, typer.Option(help="Seconds between polls")] = 300.0,
    type: Annotated[list[str] | None, typer.Option("--type", help="match[type]; repeat for several")] = None,
    added_after: Annotated[str | None, typer.Option(help="Start here on the first poll")] = None,
    tlp: Annotated[str, typer.Option(help="TLP of objects that carry no marking")] = "TLP:GREEN",
    replace: Annotated[bool, typer.Option(help="Replace a feed of the same name")] = False,
    topology: TopoOpt = Path("topology.yaml"),
    data_dir: DataOpt = None,
) -> None:
    """Subscribe to a partner's collection; a running pipeline starts polling it within seconds."""
    topo = _topo(topology, data_dir)
    if not feed_nodes(topo):
        typer.echo("the topology has no TAXII poller node (use: taxii) to read feeds", err=True)
        raise typer.Exit(2)
    try:
        spec = FeedSpec(
            name=name,
            url=url,
            collection=collection,
            agency=agency,
            username=username,
            password=password,
            token=token,
            cert=cert,
            key=key,
            verify=False if insecure else (ca or True),
            poll_interval=interval,
            types=type or [],
            added_after=added_after,
            default_tlp=tlp,
        )
        reg = FeedRegistry(topo.data_dir / "feeds.db")
        reg.add(spec, by, replace=replace)
    except (ValidationError, FeedError) as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    AuditLog.for_data_dir(topo.data_dir).record(
        "admin", actor=by, agency=agency, object=f"feed:{name}", detail={"action": "feed add", **spec.public()}
    )
    typer.echo(f"feed {name} added")


@feed_app.command("list")
def feed_list(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per feed")] = False,
    topology: TopoOpt = Path("topology.yaml"),
    data_dir: DataOpt = None,
) -> None:
    """Every feed the pipeline polls, where it was declared, and where its next poll starts."""
    from argus.cli import _reader

    topo = _topo(topology, data_dir)
    reg = FeedRegistry(topo.data_dir / "feeds.db")
    from argus.topology import embedded_path

    url = topo.bus_url
    fresh = url.startswith("embedded:") and not Path(embedded_path(url)).exists()
    bus = None if fresh else _reader(topo)[0]  # fresh: nothing has run, no cursor yet
    for f in subscriptions(topo, reg, bus):
        if as_json:
            typer.echo(orjson.dumps(f).decode())
        else:
            cur = f["cursor"] or {}
            after = cur.get("after") or "(from the start)"
            typer.echo(f"{f['name']:24} {f['source']:9} {f['agency']} {f['url']} {f['collection']} next after {after}")


@feed_app.command("remove")
def feed_remove(name: str, by: ByOpt, topology: TopoOpt = Path("topology.yaml"), data_dir: DataOpt = None) -> None:
    """Stop polling an analyst-added feed (topology feeds are removed from topology.yaml)."""
    topo = _topo(topology, data_dir)
    if not FeedRegistry(topo.data_dir / "feeds.db").remove(name):
        typer.echo(f"no analyst-added feed named {name}", err=True)
        raise typer.Exit(1)
    AuditLog.for_data_dir(topo.data_dir).record(
        "admin", actor=by, agency="-", object=f"feed:{name}", detail={"action": "feed remove"}
    )
    typer.echo(f"feed {name} removed")
