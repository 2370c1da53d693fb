"""`argus feed` (TAXII subscriptions) and `argus attack` (the local MITRE ATT&CK mirror)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import orjson
import typer
from pydantic import ValidationError

from argus import console
from argus.feeds import FeedError, FeedSpec, FeedStore, feed_allow, feed_nodes, subscriptions
from argus.load import DataOpt, TopoOpt, load_checked
from argus.netguard import Forbidden, check_url
from argus.security.audit import audit_once
from argus.security.cli import ByOpt

feed_app = typer.Typer(help="TAXII 2.1 feeds the pipeline polls: add, list, remove.", no_args_is_help=True)


def _feeds(topo) -> FeedStore:  # type: ignore[no-untyped-def]
    """The topology's feed registry (ARGUS_FEEDS / stores.feeds; embedded by default)."""
    from argus.backends import open_store

    reg: FeedStore = open_store(topo, "feeds")
    return reg


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
    timeout: Annotated[float, typer.Option(help="Seconds a page may take before the poll counts as failed")] = 30.0,
    page_size: Annotated[int, typer.Option(help="Objects asked for per page (TAXII limit)")] = 500,
    replace: Annotated[bool, typer.Option(help="Replace a feed of the same name")] = False,
    topology: TopoOpt = Path("topology.yaml"),
    data_dir: DataOpt = None,
) -> None:
    """Subscribe to a partner's collection; a running pipeline starts polling it within seconds."""
    topo = load_checked(topology, data_dir)
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
            timeout=timeout,
            page_size=page_size,
        )
        check_url(spec.url, feed_allow(topo))
        reg = _feeds(topo)
        try:
            reg.add(spec, by, replace=replace)
        finally:
            reg.close()
    except (ValidationError, FeedError, Forbidden) as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    audit_once(
        topo, "admin", actor=by, agency=agency, object=f"feed:{name}", detail={"action": "feed add", **spec.public()}
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

    topo = load_checked(topology, data_dir)
    reg = _feeds(topo)
    from argus.topology import embedded_path

    url = topo.bus_url
    fresh = url.startswith("embedded:") and not Path(embedded_path(url)).exists()
    bus = None if fresh else _reader(topo)[0]  # fresh: nothing has run, no cursor yet
    for f in subscriptions(topo, reg, bus):
        if as_json:
            typer.echo(orjson.dumps(f).decode())
        else:
            cur, st = f["cursor"] or {}, f["status"] or {}
            after = cur.get("after") or "(from the start)"
            health = "ok" if st.get("ok", True) else f"FAILING since {st.get('at')}: {st.get('error')}"
            where = f"{f['agency']} {f['url']} {f['collection']}"
            typer.echo(f"{f['name']:24} {f['source']:9} {where} next after {after}  {health}")


@feed_app.command("remove")
def feed_remove(name: str, by: ByOpt, topology: TopoOpt = Path("topology.yaml"), data_dir: DataOpt = None) -> None:
    """Stop polling an analyst-added feed (topology feeds are removed from topology.yaml)."""
    topo = load_checked(topology, data_dir)
    reg = _feeds(topo)
    try:
        removed = reg.remove(name)
    finally:
        reg.close()
    if not removed:
        typer.echo(f"no analyst-added feed named {name}", err=True)
        raise typer.Exit(1)
    audit_once(topo, "admin", actor=by, agency="-", object=f"feed:{name}", detail={"action": "feed remove"})
    typer.echo(f"feed {name} removed")


attack_app = typer.Typer(help="The local MITRE ATT&CK mirror: load a release, look things up.", no_args_is_help=True)
stix_app = typer.Typer(help="STIX 2.1 bundles: bulk import.", no_args_is_help=True)


ProcOpt = Annotated[
    int | None, typer.Option("--processes", min=1, max=64, help="Processes to share the work (default: cores, up to 4)")
]


def _bulk(
    path: Path,
    agency: str,
    tlp: str,
    by: str,
    topology: Path,
    data_dir: Path | None,
    what: str,
    processes: int | None = None,
) -> None:
    """A bundle through the bulk path into the topology's STIX, graph and search stores; rejects
    go to the dead-letter topic with their reason; the import is audited."""
    from argus.backends import open_store
    from argus.records import InvalidRecord
    from pipelines.stix_bulk import StoreOpener, bulk_import, objects_of

    topo = load_checked(topology, data_dir)
    try:
        objs = objects_of(path.read_bytes())
    except (OSError, InvalidRecord, orjson.JSONDecodeError) as exc:
        typer.echo(f"{path}: {exc}", err=True)
        raise typer.Exit(2) from None
    stores = {k: open_store(topo, k) for k in ("stix", "graph", "search")}
    try:
        with console.progress(f"{path.name}", total=len(objs), unit="objects") as done:
            res = bulk_import(
                objs, stores, agency=agency, source=what, default_tlp=tlp,
                processes=processes or min(os.cpu_count() or 1, 4), opener=StoreOpener(topo), progress=done,
            )  # fmt: skip
    except InvalidRecord as exc:  # the agency or TLP given is not valid
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    finally:
        for s in stores.values():
            s.close()
    if res.rejected:
        _dead_letters(topo, what, path, objs, res.rejected)
    audit_once(
        topo,
        "write",
        actor=by,
        agency=agency,
        object=f"stix:{path.name}",
        detail={
            "added": res.added,
            "duplicates": res.duplicates,
            "history": res.history,
            "rejected": len(res.rejected),
        },
    )
    rate = res.total / res.seconds if res.seconds else 0.0
    typer.echo(
        f"{path.name}: {res.added} added, {res.history} older versions kept as history, {res.duplicates} duplicates, "
        f"{len(res.rejected)} rejected (to {topo.dead_letter_topic}) in {res.seconds:.1f}s "
        f"({rate:,.0f} objects/s, {res.processes} process{'es' if res.processes > 1 else ''})"
    )
    for r in res.rejected[:20]:
        typer.echo(f"  rejected #{r['index']} {r['id']}: {r['problem']}", err=True)


@stix_app.command("import")
def stix_import(
    path: Path,
    agency: Annotated[str, typer.Option(help="ORI of the agency whose intelligence this is")],
    by: ByOpt,
    tlp: Annotated[str, typer.Option(help="TLP of objects that carry no marking")] = "TLP:GREEN",
    topology: TopoOpt = Path("topology.yaml"),
    data_dir: DataOpt = None,
    processes: ProcOpt = None,
) -> None:
    """Import a (large) STIX 2.1 bundle through the bulk path."""
    _bulk(path, agency, tlp, by, topology, data_dir, "stix_import", processes)


@attack_app.command("load")
def attack_load(
    path: Path,
    agency: Annotated[str, typer.Option(help="ORI of the centre that loads (and vouches for) the mirror")],
    by: ByOpt,
    tlp: Annotated[str, typer.Option(help="ATT&CK is public: TLP:CLEAR unless you say otherwise")] = "TLP:CLEAR",
    topology: TopoOpt = Path("topology.yaml"),
    data_dir: DataOpt = None,
    processes: ProcOpt = None,
) -> None:
    """Load an ATT&CK STIX 2.1 bundle (enterprise, mobile or ICS); a newer release supersedes
    objects by `modified`, and older versions are kept as history."""
    _bulk(path, agency, tlp, by, topology, data_dir, "attack_load", processes)


@attack_app.command("show")
def attack_show(
    kind: Annotated[str, typer.Argument(help="techniques, groups, software, mitigations, tactics, campaigns")],
    id: Annotated[list[str] | None, typer.Option("--id", help="ATT&CK id; repeat for several")] = None,
    q: Annotated[str | None, typer.Option(help="Words of the name or an alias")] = None,
    related: Annotated[bool, typer.Option(help="With what ATT&CK relates each to")] = False,
    include_revoked: bool = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line, for a program")] = False,
    topology: TopoOpt = Path("topology.yaml"),
    data_dir: DataOpt = None,
) -> None:
    """Look up the mirror (public, TLP:CLEAR objects only: the CLI has no identity to decide by)."""
    from argus.backends import open_store
    from argus.security.policy import FULL, ReportView
    from argus.stix.attack import KINDS, lookup

    if kind not in KINDS:
        typer.echo(f"unknown kind {kind!r}; one of {', '.join(KINDS)}", err=True)
        raise typer.Exit(2)
    full = ReportView(FULL, frozenset())
    store = open_store(load_checked(topology, data_dir), "stix")
    found = lookup(
        store, lambda m: full if m.tlp == "CLEAR" else None, kind, ids=id, q=q, include_revoked=include_revoked,
        related=related,
    )  # fmt: skip
    store.close()
    if as_json:
        for f in found:
            typer.echo(orjson.dumps(f).decode())
        return
    console.table(
        ("ATT&CK id", "name", "tactics / aliases", "domains", "state", "related"),
        [_row(f) for f in found],
        whole=("ATT&CK id",),
    )


def _row(f: dict) -> tuple[str, ...]:
    state = "revoked" if f["revoked"] else "deprecated" if f["deprecated"] else ""
    related = "\n".join(
        f"{how}: " + ", ".join(f"{r['attack_id']} {r['name']}" for r in rs) for how, rs in f.get("related", {}).items()
    )
    also = ", ".join(f.get("tactics") or f.get("aliases") or ([f["shortname"]] if "shortname" in f else []))
    return f["attack_id"], f["name"] or "", also, ", ".join(f["domains"]), state, related


def _dead_letters(topo, node: str, path: Path, objs: list, rejected: list[dict]) -> None:  # type: ignore[no-untyped-def]
    from argus.backends import open_bus
    from argus.bus.base import Commit
    from argus.records import as_bytes, utcnow
    from argus.runtime.dead_letters import dead_letter_headers, dead_letter_value
    from argus.schemas import default_schemas

    dlq = topo.dead_letter_topic
    schemas = default_schemas()
    ts = schemas.get(topo.topics[dlq].schema_)
    bus = open_bus(topo, role="cli")
    bus.ensure_topic(topo.topics[dlq].spec(dlq))
    bus.register_schema(ts.schema_id, ts.name, ts.canonical, orjson.dumps(ts.raw).decode())
    commit = Commit()
    for r in rejected:
        value = dead_letter_value(
            node,
            reason=r["problem"],
            error_type="InvalidRecord",
            original=as_bytes(objs[r["index"]]),
            source=f"{path.name}#{r['index']}",
            failed_at=utcnow(),
        )
        commit.append(dlq, node, schemas.encode(ts, value), dead_letter_headers(value))
    bus.commit(commit)
    bus.close()
