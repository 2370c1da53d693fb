"""`argus status` and `argus dlq`: what an operator asks of a running pipeline: how far behind
each node is, who runs what, and which records were dead-lettered and why."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import orjson
import typer

from argus import console
from argus.bus.base import Commit
from argus.load import BusOpt, DataOpt, TopoOpt, load_checked
from argus.schemas import SchemaError, SchemaSet

dlq_app = typer.Typer(help="Dead letters: list and replay.", no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="One JSON object per line, for a program")]


def status_cmd(
    topology: TopoOpt = Path("topology.yaml"),
    data_dir: DataOpt = None,
    as_json: JsonOpt = False,
    bus_url: BusOpt = None,
) -> None:
    """Lag per node and, on Kafka, which worker of the group runs which task."""
    from argus.cli import _reader

    topo = load_checked(topology, data_dir, bus_url)
    bus, _schemas = _reader(topo)
    try:
        if topo.bus_url.startswith("kafka:"):
            from argus.runtime.worker import status

            out = status(bus, topo)  # type: ignore[arg-type]
        else:
            from argus.runtime.lag import node_lag

            workers = {"embedded": sorted(topo.nodes)}
            out = {"group": None, "tasks": len(topo.nodes), "workers": workers, "lag": node_lag(bus, topo)}
    finally:
        bus.close()
    if as_json:
        typer.echo(orjson.dumps(out).decode())
        return
    held = {task: worker for worker, tasks in out["workers"].items() for task in tasks}

    def lag(node: str, n: int) -> str | int:
        return n if node not in topo.nodes or topo.nodes[node].inputs else "(a source)"

    rows = [
        (node, topo.nodes[node].use if node in topo.nodes else "", held.get(node, "(unassigned)"), lag(node, n))
        for node, n in out["lag"].items()
    ]
    title = f"{out['tasks']} tasks" + (f" in group {out['group']}" if out["group"] else "")
    console.table(("node", "kind", "worker", "lag (records not yet processed)"), rows, title=title)


@dlq_app.command("list")
def dlq_list(
    topology: TopoOpt = Path("topology.yaml"),
    data_dir: DataOpt = None,
    limit: Annotated[int, typer.Option(min=1)] = 50,
    as_json: JsonOpt = False,
    bus_url: BusOpt = None,
) -> None:
    """Show dead letters: node, where it came from, why (the newest `limit`)."""
    from argus.backends import read_topic
    from argus.cli import _reader

    topo = load_checked(topology, data_dir, bus_url)
    bus, schemas = _reader(topo)
    try:
        recs = read_topic(bus, schemas, topo.dead_letter_topic)
    finally:
        bus.close()
    shown = [r.value for r in recs[-limit:]]
    if as_json:
        for v in shown:
            typer.echo(orjson.dumps(_listed(v)).decode())
        return
    rows = [(v["id"], f"{v['failed_at']:%Y-%m-%d %H:%M:%S}", v["node"], _where(v), v["reason"]) for v in shown]
    console.table(("id", "failed at (UTC)", "node", "from", "reason"), rows, whole=("id",))
    typer.echo(f"{len(recs)} dead letter(s)" + (f", the newest {len(shown)} shown" if len(shown) < len(recs) else ""))


def _where(v: dict[str, Any]) -> str:
    return v["source"] or f"{v['topic']}[{v['partition']}]@{v['offset']}"


def _listed(v: dict[str, Any]) -> dict[str, Any]:
    """A dead letter as a program reads it: the original record's bytes are left to `replay`."""
    out = {k: v[k] for k in ("id", "node", "reason", "error_type", "topic", "partition", "offset", "source")}
    return out | {"failed_at": v["failed_at"].isoformat(), "from": _where(v), "original_bytes": len(v["original"])}


@dlq_app.command("replay")
def dlq_replay(
    ids: Annotated[list[str] | None, typer.Argument(help="Dead-letter ids (default: all)")] = None,
    topology: TopoOpt = Path("topology.yaml"),
    data_dir: DataOpt = None,
    out: Annotated[Path | None, typer.Option(help="Where to write connector input for re-ingest")] = None,
    bus_url: BusOpt = None,
) -> None:
    """Replay dead letters after a fix: records that failed in a node go back onto the node's input
    topic; raw input a connector refused is written to --out for correction and re-ingest."""
    from argus.backends import read_topic
    from argus.cli import _reader

    topo = load_checked(topology, data_dir, bus_url)
    bus, schemas = _reader(topo, write=True)
    try:
        recs = [r for r in read_topic(bus, schemas, topo.dead_letter_topic) if not ids or r.value["id"] in ids]
        recs = _drop_unreadable(recs, schemas)
        to_topic = [(r.value["topic"], None, r.value["original"]) for r in recs if r.value["topic"]]
        raw = [r.value["original"] for r in recs if not r.value["topic"]]
        if to_topic:
            bus.commit(Commit(appends=to_topic))  # one commit: a replay lands whole or not at all
    finally:
        bus.close()
    if raw:
        if out is None:
            typer.echo(f"{len(raw)} connector dead letter(s) need --out FILE to be written for correction", err=True)
        else:
            with out.open("ab") as fh:
                for b in raw:
                    fh.write(b if b.endswith(b"\n") else b + b"\n")
    typer.echo(f"replayed {len(to_topic)} onto their topics; wrote {len(raw) if out else 0} to {out or '-'}")


def _drop_unreadable(recs: list[Any], schemas: SchemaSet) -> list[Any]:
    """A record that still cannot be decoded would only be dead-lettered again (and one framed by a
    registry that never issued its id cannot even be written back): its producer resends it."""
    unreadable = []
    with console.progress("checking dead letters", total=len(recs), unit="dead letters") as done:
        for i, r in enumerate(recs, 1):
            if r.value["topic"] and not _readable(schemas, r.value):
                unreadable.append(r)
            done(i)
    if unreadable:
        typer.echo(
            f"{len(unreadable)} dead letter(s) not replayed: their records still cannot be read "
            f"(e.g. {unreadable[0].value['reason'][:160]}); have their producer send them again",
            err=True,
        )
    left = {r.value["id"] for r in unreadable}
    return [r for r in recs if r.value["id"] not in left]


def _readable(schemas: SchemaSet, dead: dict[str, Any]) -> bool:
    """Whether a dead letter's record can be read now: one that failed in a node always could;
    one that could not be decoded may since have become readable (its writer's schema known)."""
    if dead["error_type"] != "SchemaError":
        return True
    try:
        schemas.decode(dead["original"])
    except SchemaError:
        return False
    return True


# --- integrators on Kafka -------------------------------------------------------------------------
integrator_app = typer.Typer(
    help="CAD/MDT integrators reading the alert topic over Kafka's integrator listener (TLS, SCRAM, ACLs).",
    no_args_is_help=True,
)
ByOpt = Annotated[str, typer.Option("--by", help="Who makes the change (recorded in the audit trail)")]


def _kafka(topology: Path, data_dir: Path | None, bus_url: str | None) -> tuple[Any, Any, str]:
    """The topology, its Kafka bus, and the broker's name of the alert topic."""
    from argus.backends import open_bus

    topo = load_checked(topology, data_dir, bus_url)
    if not topo.bus_url.startswith("kafka:"):
        typer.echo(f"integrators read Kafka; this topology's bus is {topo.bus_url}", err=True)
        raise typer.Exit(2)
    alerts = [n for n, t in topo.topics.items() if t.schema_ == "alert.v1"]
    if not alerts:
        typer.echo("the topology has no topic carrying alert.v1", err=True)
        raise typer.Exit(2)
    bus = open_bus(topo, role="cli")
    return topo, bus, bus.kafka_topic(alerts[0])


@integrator_app.command("add")
def integrator_add(
    name: Annotated[str, typer.Argument(help="The integrator's user name, e.g. cad-vendor (its groups start 'NAME.')")],
    by: ByOpt,
    external: Annotated[
        str, typer.Option(help="host:port of the broker's integrator listener, as the integrator reaches it")
    ] = "kafka.example.org:9094",
    ca_file: Annotated[str, typer.Option(help="Where the integrator keeps the broker's CA certificate")] = "ca.pem",
    topology: TopoOpt = Path("topology.yaml"),
    data_dir: DataOpt = None,
    bus_url: BusOpt = None,
) -> None:
    """Give an integrator SCRAM credentials and read access to the alert topic alone. The password
    is printed once, as the consumer configuration to hand over; adding again issues a new one."""
    from argus.bus import integrators
    from argus.security.audit import audit_once

    topo, bus, topic = _kafka(topology, data_dir, bus_url)
    try:
        grant = integrators.add(bus.admin, name, topic)
    except integrators.IntegratorError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    finally:
        bus.close()
    audit_once(topo, "admin", actor=by, agency="-", object=f"integrator:{name}", detail={"topic": topic, "added": True})
    for k, v in grant.client_config(external, ca_file).items():
        typer.echo(f"{k}={v}")


@integrator_app.command("remove")
def integrator_remove(
    name: str, by: ByOpt, topology: TopoOpt = Path("topology.yaml"), data_dir: DataOpt = None, bus_url: BusOpt = None
) -> None:
    """Withdraw an integrator: its credentials and every ACL naming it."""
    from argus.bus import integrators
    from argus.security.audit import audit_once

    topo, bus, _topic = _kafka(topology, data_dir, bus_url)
    try:
        gone = integrators.remove(bus.admin, name)
    except integrators.IntegratorError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    finally:
        bus.close()
    audit_once(topo, "admin", actor=by, agency="-", object=f"integrator:{name}", detail={"removed": True})
    typer.echo(f"integrator {name} removed ({gone} ACLs)")


@integrator_app.command("list")
def integrator_list(
    topology: TopoOpt = Path("topology.yaml"),
    data_dir: DataOpt = None,
    bus_url: BusOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Every principal with credentials or ACLs on the cluster, and what it may do."""
    from argus.bus import integrators

    _topo, bus, _topic = _kafka(topology, data_dir, bus_url)
    try:
        found = integrators.listing(bus.admin)
    finally:
        bus.close()
    if as_json:
        typer.echo(orjson.dumps(found).decode())
        return
    console.table(("integrator", "may"), [(u, "\n".join(acls) or "(nothing)") for u, acls in found.items()])


@integrator_app.command("schema")
def integrator_schema() -> None:
    """The alert topic's writer schema, self-contained (for an integrator's consumer, `--schema`):
    records framed without a registry carry its CRC-64-AVRO fingerprint as their schema id."""
    from argus.schemas import default_schemas

    typer.echo(orjson.dumps(default_schemas().get("alert.v1").raw, option=orjson.OPT_INDENT_2).decode())
