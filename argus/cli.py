"""The `argus` command: demo, run, check, api, tail, purge, dlq, integrator, admin, audit, retention, feed, stix,
attack, er."""

from __future__ import annotations

import logging
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Annotated

import orjson
import typer

from argus import logs
from argus.alerts import alert_json, for_recipient, format_alert
from argus.bus.base import RegistryUnavailable
from argus.linkage.cli import er_app
from argus.load import BusOpt, DataOpt, LogFormatOpt, TopoOpt, load_checked
from argus.playbooks.cli import playbook_app
from argus.reach import EX_UNAVAILABLE, HINTS, probe, servers
from argus.runtime.cli import dlq_app, integrator_app, status_cmd
from argus.runtime.run_cmd import run_cmd
from argus.schemas import default_schemas
from argus.security.cli import admin_app, audit_app, retention_app
from argus.stix.cli import attack_app, feed_app, stix_app
from argus.topology import load_topology

app = typer.Typer(help="Argus fusion-centre pipeline.", no_args_is_help=True, add_completion=False)
app.command("status")(status_cmd)
app.command("run")(run_cmd)
app.add_typer(dlq_app, name="dlq")
app.add_typer(integrator_app, name="integrator")
app.add_typer(admin_app, name="admin")
app.add_typer(audit_app, name="audit")
app.add_typer(retention_app, name="retention")
app.add_typer(feed_app, name="feed")
app.add_typer(stix_app, name="stix")
app.add_typer(attack_app, name="attack")
app.add_typer(er_app, name="er")
app.add_typer(playbook_app, name="playbook")


@app.command()
def demo(
    workdir: Annotated[Path | None, typer.Option(help="Where to write sample data and stores")] = None,
    background: Annotated[int, typer.Option(help="Background records besides the scenario")] = 300,
    ui: Annotated[
        bool, typer.Option("--ui", help="Then serve the workbench on the demo data, with a user per role")
    ] = False,
    port: Annotated[int, typer.Option(help="--ui: the port the workbench listens on (loopback)")] = 8080,
) -> None:
    """Run the plate-stop scenario end to end on bundled sample data and print the alert."""
    from argus.demo import run_demo

    logs.configure(logging.ERROR)
    wd = workdir or Path(tempfile.mkdtemp(prefix="argus-demo-"))
    wd.mkdir(parents=True, exist_ok=True)
    run_demo(wd, typer.echo, background)
    if ui:
        from argus.demo.ui import serve

        topo_file = wd / "topology.yaml"
        serve(load_topology(topo_file), topo_file, typer.echo, "127.0.0.1", port)


@app.command("init")
def init_cmd(
    directory: Annotated[Path, typer.Argument(help="A new site's directory: topology.yaml and its inbox folders")],
) -> None:
    """Start a site: the production topology.yaml (embedded stores by default) and its inbox
    folders, to edit and run with `argus check` / `argus run` there."""
    from argus.demo import prepare

    if (directory / "topology.yaml").exists():
        typer.echo(f"{directory / 'topology.yaml'} exists; not overwritten", err=True)
        raise typer.Exit(1)
    directory.mkdir(parents=True, exist_ok=True)
    topo = prepare(directory)
    for sub in ("rms", "rms_csv", "cad/incidents", "cad/queries", "sar", "stix"):
        (directory / "inbox" / sub).mkdir(parents=True, exist_ok=True)
    typer.echo(f"wrote {topo}; next: argus check -t {topo}")


@app.command("check")
def check_cmd(
    topology: TopoOpt = Path("topology.yaml"),
    data_dir: DataOpt = None,
    connect: Annotated[bool, typer.Option("--connect", help="Also check that every server it names answers")] = False,
) -> None:
    """Validate topology.yaml: keys, node configs, wiring, schemas, backends; every problem at once."""
    topo = load_checked(topology, data_dir, reach=False)
    typer.echo(f"{topology}: OK ({len(topo.nodes)} nodes, {len(topo.topics)} topics; bus {topo.bus_url})")
    if not connect:
        return
    down = 0
    for kind, url in servers(topo):
        u = probe(kind, url)
        state = ("embedded" if url.startswith("embedded:") else "answers") if u is None else "UNREACHABLE"
        typer.echo(f"  {kind:<9} {url}: {state}" + (f": {u.why}; {HINTS[u.server]}" if u is not None else ""))
        down += u is not None
    if down:
        raise typer.Exit(EX_UNAVAILABLE)


@app.command()
def api(
    topology: TopoOpt = Path("topology.yaml"),
    data_dir: DataOpt = None,
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8080,
    log_level: Annotated[str, typer.Option()] = "info",
    workers: Annotated[int, typer.Option(help="Worker processes (each with its own store clients)")] = 1,
    log_format: LogFormatOpt = "json",
    print_openapi: Annotated[
        bool, typer.Option("--print-openapi", help="Print the OpenAPI document (the workbench's client types) and exit")
    ] = False,
) -> None:
    """Serve the workbench and the analyst and field API (OpenAPI at /docs) over the topology's stores and bus."""

    import uvicorn

    from argus.api.app import create_app

    if print_openapi:
        from argus.api.app import openapi_document

        sys.stdout.write(openapi_document())
        return
    topo = load_checked(topology, data_dir)
    if workers > 1:
        os.environ["ARGUS_API_TOPOLOGY"] = str(topology.resolve())
        if data_dir:
            os.environ["ARGUS_API_DATA_DIR"] = str(data_dir.resolve())
        uvicorn.run(
            "argus.api.app:from_env",
            factory=True,
            workers=workers,
            host=host,
            port=port,
            log_level=log_level,
            log_config=logs.uvicorn_config(log_level, log_format),
        )
    else:
        uvicorn.run(
            create_app(topo),
            host=host,
            port=port,
            log_level=log_level,
            log_config=logs.uvicorn_config(log_level, log_format),
        )


@app.command()
def purge(
    record_id: Annotated[list[str], typer.Argument(help="Envelope id(s) of the record(s) to remove everywhere")],
    reason: Annotated[str, typer.Option(help="Why (retention lapse, expungement order...)")],
    by: Annotated[str, typer.Option(help="Who authorised it")],
    agency: Annotated[str, typer.Option(help="ORI of the agency that owns the record")],
    topology: TopoOpt = Path("topology.yaml"),
    data_dir: DataOpt = None,
) -> None:
    """Remove records everywhere: erased from the log and the alert history now, and from the
    graph, search and correlation state by the purge record their nodes apply in order."""
    from argus.security.audit import open_audit
    from argus.security.purge import purge_records

    topo = load_checked(topology, data_dir)
    bus, schemas = _reader(topo, write=True)
    audit = open_audit(topo)
    try:
        out = purge_records(
            topo,
            bus,
            schemas,
            audit,
            [{"record_id": r, "agency": agency, "reason": reason, "by": by} for r in record_id],
        )
    except ValueError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    finally:
        bus.close()
        audit.close()
    for rid, pid in out["purge_ids"].items():
        typer.echo(f"purge {pid} of {rid}: erased from the log {out['erased'] or '{}'}; stores follow")


def _reader(topo, write: bool = False):
    """The topology's bus (embedded: opened read-only unless `write`; Kafka: a client of its own)."""
    from argus.backends import open_bus
    from argus.bus.embedded import EmbeddedBus
    from argus.topology import embedded_path

    url = topo.bus_url
    try:
        bus = (
            EmbeddedBus(embedded_path(url), read_only=not write)
            if url.startswith("embedded:")
            else open_bus(topo, role="cli")
        )
    except FileNotFoundError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    schemas = default_schemas()
    for sid, canonical in bus.known_schemas():
        schemas.register_writer(sid, canonical)
    return bus, schemas


@app.command()
def tail(
    topic: Annotated[str, typer.Argument(help="Topic to follow, e.g. alerts")] = "alerts",
    topology: TopoOpt = Path("topology.yaml"),
    data_dir: DataOpt = None,
    agency: Annotated[str | None, typer.Option(help="Only alerts for this ORI")] = None,
    unit: Annotated[str | None, typer.Option(help="Only alerts for this unit")] = None,
    from_start: Annotated[bool, typer.Option("--from-start", help="Replay what is already there")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line")] = False,
    follow: Annotated[bool, typer.Option(help="Keep following new records")] = True,
    bus_url: BusOpt = None,
) -> None:
    """Follow a topic (the alert topic, as a CAD or mobile consumer would; examples/
    cad_alert_consumer.py is the same without Argus installed)."""
    from argus.backends import read_topic

    topo = load_checked(topology, data_dir, bus_url)
    if topic not in topo.topics:
        typer.echo(f"unknown topic {topic!r}; topics: {', '.join(topo.topics)}", err=True)
        raise typer.Exit(2)
    bus, schemas = _reader(topo)
    reader = schemas.get(topo.topics[topic].schema_)
    parts = bus.partitions(topic)
    pos = {p: 0 if from_start else bus.end_offset(topic, p) for p in range(parts)}
    try:
        while True:
            recs = read_topic(bus, schemas, topic, reader, pos)
            for r in recs:
                pos[r.partition] = r.offset + 1
                body = r.value.get("body", r.value)
                if topic == "alerts" and not for_recipient(body, agency, unit):
                    continue
                if as_json:
                    shape = alert_json(body) if topic == "alerts" else orjson.dumps(r.value, default=str)
                    typer.echo(shape.decode())
                elif topic == "alerts":
                    typer.echo(format_alert(body) + "\n")
                else:
                    typer.echo(orjson.dumps(r.value, default=_jsonable).decode())
            if not follow:
                break
            time.sleep(0.05)
    except KeyboardInterrupt:
        pass
    finally:
        bus.close()


def _jsonable(o: object) -> str:
    return o.hex() if isinstance(o, bytes) else str(o)


def main() -> None:
    """The `argus` command. With the schema registry away, any command reading or writing
    registry-framed records says so in one line and exits 75 (EX_TEMPFAIL: try again), as
    `argus run` does, not with a traceback."""
    try:
        app()
    except RegistryUnavailable as exc:
        typer.echo(f"argus: {exc}", err=True)
        sys.exit(75)
