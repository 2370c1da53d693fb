"""`argus admin` (agencies, users, roles, memberships, keys, token issuers), `argus audit`
(show, verify) and `argus retention` (due, revalidate, lapse): the operator's side of access
control, run on the machine that holds the data directory. Every change is itself audited."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import orjson
import typer

from argus import console
from argus.load import DataOpt, TopoOpt, load_checked
from argus.security.audit import audit_once, open_audit
from argus.security.identity import IdentityDirectory, IdentityError, open_directory

admin_app = typer.Typer(help="Agencies, users, roles, memberships, API keys, token issuers.", no_args_is_help=True)
agency_app = typer.Typer(help="Agencies and their dissemination rules.", no_args_is_help=True)
user_app = typer.Typer(help="Users and systems.", no_args_is_help=True)
key_app = typer.Typer(help="API keys for systems and users.", no_args_is_help=True)
admin_app.add_typer(agency_app, name="agency")
admin_app.add_typer(user_app, name="user")
admin_app.add_typer(key_app, name="key")
audit_app = typer.Typer(help="The audit trail: show and verify.", no_args_is_help=True)
retention_app = typer.Typer(help="28 CFR 23 retention review: due, revalidate, lapse.", no_args_is_help=True)

ByOpt = Annotated[str, typer.Option("--by", help="Who makes the change (recorded in the audit trail)")]


def _directory(topology: Path, data_dir: Path | None) -> IdentityDirectory:
    return open_directory(load_checked(topology, data_dir))


def _change(topology: Path, data_dir: Path | None, by: str, what: str, fn, **detail) -> None:  # type: ignore[no-untyped-def]
    topo = load_checked(topology, data_dir)
    directory = open_directory(topo)
    try:
        out = fn(directory)
    except IdentityError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    finally:
        directory.close()
    audit_once(topo, "admin", actor=by, agency="-", object=what, detail=detail)
    if out is not None:
        typer.echo(out)


# --- agencies ---------------------------------------------------------------------------------
@agency_app.command("add")
def agency_add(
    ori: str,
    name: Annotated[str, typer.Option()],
    by: ByOpt,
    non_law_enforcement: Annotated[bool, typer.Option(help="A private-sector partner organisation")] = False,
    community: Annotated[str | None, typer.Option(help="The community its GREEN/AMBER reaches")] = None,
    topology: TopoOpt = Path("topology.yaml"),
    data_dir: DataOpt = None,
) -> None:
    """Add or update an agency (ORI)."""
    _change(
        topology,
        data_dir,
        by,
        f"agency:{ori}",
        lambda d: d.add_agency(ori, name, law_enforcement=not non_law_enforcement, community=community),
        action="agency add",
        law_enforcement=not non_law_enforcement,
        community=community,
    )


@agency_app.command("bar")
def agency_bar(
    ori: str,
    barred: Annotated[list[str], typer.Argument(help="ORIs that get nothing beyond TLP:CLEAR from ORI")],
    by: ByOpt,
    topology: TopoOpt = Path("topology.yaml"),
    data_dir: DataOpt = None,
) -> None:
    """Set the agencies ORI refuses to share with (replaces the list; none to clear it)."""
    _change(
        topology, data_dir, by, f"agency:{ori}", lambda d: d.set_barred(ori, barred), action="agency bar", barred=barred
    )


@agency_app.command("list")
def agency_list(topology: TopoOpt = Path("topology.yaml"), data_dir: DataOpt = None) -> None:
    directory = _directory(topology, data_dir)
    for a in directory.agencies():
        typer.echo(orjson.dumps(a).decode())


# --- users ----------------------------------------------------------------------------------------
@user_app.command("add")
def user_add(
    subject_id: str,
    agency: Annotated[str, typer.Option()],
    role: Annotated[list[str], typer.Option(help="Repeat for several roles")],
    by: ByOpt,
    system: Annotated[bool, typer.Option(help="A system (CAD, RMS) rather than a person")] = False,
    name: Annotated[str | None, typer.Option()] = None,
    unit: Annotated[str | None, typer.Option(help="Patrol unit, for field alerts")] = None,
    topology: TopoOpt = Path("topology.yaml"),
    data_dir: DataOpt = None,
) -> None:
    """Add or update a user or system with its agency and roles."""
    _change(
        topology,
        data_dir,
        by,
        f"subject:{subject_id}",
        lambda d: d.add_subject(subject_id, agency, role, kind="system" if system else "user", name=name, unit=unit),
        action="user add",
        agency=agency,
        roles=role,
    )


@user_app.command("roles")
def user_roles(
    subject_id: str,
    role: Annotated[list[str], typer.Option(help="The full new set; repeat for several")],
    by: ByOpt,
    topology: TopoOpt = Path("topology.yaml"),
    data_dir: DataOpt = None,
) -> None:
    """Replace a subject's roles."""
    _change(
        topology,
        data_dir,
        by,
        f"subject:{subject_id}",
        lambda d: d.set_roles(subject_id, role),
        action="roles",
        roles=role,
    )


@user_app.command("member")
def user_member(
    subject_id: str,
    by: ByOpt,
    case: Annotated[list[str] | None, typer.Option(help="Case ids (e.g. a crime series)")] = None,
    dissemination_list: Annotated[list[str] | None, typer.Option("--list", help="Dissemination lists")] = None,
    remove: Annotated[bool, typer.Option(help="Remove instead of add")] = False,
    topology: TopoOpt = Path("topology.yaml"),
    data_dir: DataOpt = None,
) -> None:
    """Add (or --remove) case and dissemination-list memberships: the need-to-know."""

    def apply(d: IdentityDirectory) -> None:
        for kind, names in (("case", case or []), ("list", dissemination_list or [])):
            for n in names:
                (d.remove_member if remove else d.add_member)(subject_id, kind, n)

    _change(
        topology,
        data_dir,
        by,
        f"subject:{subject_id}",
        apply,
        action="member remove" if remove else "member add",
        cases=case or [],
        lists=dissemination_list or [],
    )


@user_app.command("disable")
def user_disable(
    subject_id: str, by: ByOpt, topology: TopoOpt = Path("topology.yaml"), data_dir: DataOpt = None
) -> None:
    _change(topology, data_dir, by, f"subject:{subject_id}", lambda d: d.disable(subject_id), action="disable")


@user_app.command("list")
def user_list(topology: TopoOpt = Path("topology.yaml"), data_dir: DataOpt = None) -> None:
    directory = _directory(topology, data_dir)
    for s in directory.subjects():
        typer.echo(orjson.dumps(s).decode())


# --- keys and issuers -------------------------------------------------------------------------------
@key_app.command("create")
def key_create(subject_id: str, by: ByOpt, topology: TopoOpt = Path("topology.yaml"), data_dir: DataOpt = None) -> None:
    """Create an API key; it is printed once and only its hash is kept."""
    _change(topology, data_dir, by, f"subject:{subject_id}", lambda d: d.create_key(subject_id), action="key create")


@key_app.command("revoke")
def key_revoke(key_id: str, by: ByOpt, topology: TopoOpt = Path("topology.yaml"), data_dir: DataOpt = None) -> None:
    _change(topology, data_dir, by, f"key:{key_id}", lambda d: d.revoke_key(key_id), action="key revoke")


@admin_app.command("issuer")
def issuer_add(
    issuer: str,
    audience: Annotated[str, typer.Option()],
    public_key: Annotated[Path, typer.Option(help="PEM file of the issuer's public key")],
    by: ByOpt,
    algorithm: Annotated[list[str], typer.Option(help="RS256, ES256, EdDSA...")] = ["RS256"],  # noqa: B006
    topology: TopoOpt = Path("topology.yaml"),
    data_dir: DataOpt = None,
) -> None:
    """Trust an OIDC issuer's tokens (signature checked with its public key)."""
    pem = public_key.read_text()
    _change(
        topology,
        data_dir,
        by,
        f"issuer:{issuer}",
        lambda d: d.add_issuer(issuer, audience, pem, algorithm),
        action="issuer add",
        audience=audience,
    )


# --- audit --------------------------------------------------------------------------------------------
def _head(value: str | None) -> tuple[int, str] | None:
    if value is None:
        return None
    seq, _, h = value.partition(":")
    if not seq.isdigit() or not h:
        raise typer.BadParameter("SEQ:HASH, as `argus audit head` printed it", param_hint="--expect-head")
    return int(seq), h


@audit_app.command("verify")
def audit_verify(
    expect_head: Annotated[
        str | None,
        typer.Option(help="A head kept elsewhere (SEQ:HASH from `argus audit head`): fails if entries were removed"),
    ] = None,
    topology: TopoOpt = Path("topology.yaml"),
    data_dir: DataOpt = None,
) -> None:
    """Recompute the keyed hash chain; exit 1 naming the first entry that does not match."""
    want = _head(expect_head)
    log = open_audit(load_checked(topology, data_dir))
    try:
        v = log.verify(want)
    finally:
        log.close()
    if v.ok:
        typer.echo(f"audit trail intact: {v.entries} entries, head {v.entries}:{v.head}")
        return
    typer.echo(
        f"audit trail BROKEN at entry {v.first_bad}: {v.problem} ({v.entries} entries verified before it)", err=True
    )
    raise typer.Exit(1)


@audit_app.command("head")
def audit_head(topology: TopoOpt = Path("topology.yaml"), data_dir: DataOpt = None) -> None:
    """The chain's head as SEQ:HASH, after verifying it: keep it outside Argus (an auditor's file,
    a partner, a ticket) and give it to `verify --expect-head` later to catch removed entries."""
    log = open_audit(load_checked(topology, data_dir))
    try:
        v = log.verify()
    finally:
        log.close()
    if not v.ok:
        typer.echo(f"audit trail BROKEN at entry {v.first_bad}: {v.problem}", err=True)
        raise typer.Exit(1)
    typer.echo(f"{v.entries}:{v.head}")


@audit_app.command("show")
def audit_show(
    actor: Annotated[str | None, typer.Option()] = None,
    action: Annotated[str | None, typer.Option()] = None,
    obj: Annotated[str | None, typer.Option("--object")] = None,
    since: Annotated[str | None, typer.Option(help="ISO 8601")] = None,
    limit: Annotated[int, typer.Option()] = 100,
    after: Annotated[int, typer.Option(help="Entries after this sequence number")] = 0,
    topology: TopoOpt = Path("topology.yaml"),
    data_dir: DataOpt = None,
) -> None:
    """Audit entries, one JSON object per line."""
    log = open_audit(load_checked(topology, data_dir))
    try:
        for e in log.query(actor=actor, action=action, object=obj, since=since, limit=limit, after=after):
            typer.echo(orjson.dumps(e).decode())
    finally:
        log.close()


# --- retention ----------------------------------------------------------------------------------------
def _retention(topology: Path, data_dir: Path | None, write: bool = False):  # type: ignore[no-untyped-def]
    from argus.cli import _reader
    from argus.security.retention import Retention

    topo = load_checked(topology, data_dir)
    bus, schemas = _reader(topo, write=write)
    return Retention(topo, bus, schemas, open_audit(topo)), bus


@retention_app.command("due")
def retention_due(
    as_of: Annotated[str | None, typer.Option(help="ISO date (default: now)")] = None,
    agency: Annotated[str | None, typer.Option()] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    topology: TopoOpt = Path("topology.yaml"),
    data_dir: DataOpt = None,
) -> None:
    """Records whose review-by date has come."""
    from argus.records import parse_time

    r, bus = _retention(topology, data_dir)
    with console.progress("reading records under review", total=r.size()) as done:
        rows = r.due(parse_time(as_of, "as_of") if as_of else None, agency, on_read=done)
    if as_json:
        for h in rows:
            typer.echo(orjson.dumps(h).decode())
    else:
        console.table(
            ("review by", "record", "agency", "type", "ratings", "criminal predicate", "revalidated"),
            [(h["review_by"][:10], h["record_id"], h["agency"], h["type"], h["ratings"], h["predicate"] or "",
              h["revalidated"]) for h in rows],
            whole=("record",),
        )  # fmt: skip
    typer.echo(f"{len(rows)} record(s) due for review", err=True)
    bus.close()
    r.close()


@retention_app.command("revalidate")
def retention_revalidate(
    record_id: str,
    reviewer: Annotated[str, typer.Option()],
    reason: Annotated[str, typer.Option()],
    years: Annotated[float, typer.Option(help="Until the next review (at most 5)")] = 5.0,
    topology: TopoOpt = Path("topology.yaml"),
    data_dir: DataOpt = None,
) -> None:
    """Keep a record: the reviewer states why; the next review is due in `years`."""
    from argus.security.retention import RetentionError

    r, bus = _retention(topology, data_dir)
    try:
        typer.echo(
            f"{record_id} revalidated by {reviewer}; next review by {r.revalidate(record_id, reviewer, reason, years)}"
        )
    except RetentionError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    finally:
        bus.close()
        r.close()


@retention_app.command("lapse")
def retention_lapse(
    record_id: str,
    reviewer: Annotated[str, typer.Option()],
    reason: Annotated[str, typer.Option()],
    topology: TopoOpt = Path("topology.yaml"),
    data_dir: DataOpt = None,
) -> None:
    """Let a record lapse: it is purged from the log, every store and the alert history."""
    from argus.security.retention import RetentionError

    r, bus = _retention(topology, data_dir, write=True)
    try:
        out = r.lapse(record_id, reviewer, reason)
    except RetentionError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    finally:
        bus.close()
        r.close()
    typer.echo(f"{record_id} lapsed and purged: erased from the log {out['erased']}; stores follow the purge record")
