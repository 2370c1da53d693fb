"""`argus playbook validate|import|export|list`: CACAO playbooks from the command line, through the
same validation and store as the API (an operator's import is audited under --by)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import orjson
import typer

from argus import console
from argus.load import DataOpt, TopoOpt, load_checked
from argus.playbooks.model import Playbook
from argus.playbooks.service import PlaybookRefused, Playbooks
from argus.playbooks.stix import bundle, from_stix, to_coa
from argus.playbooks.validation import InvalidPlaybook, Problem
from argus.security.audit import open_audit
from argus.security.cli import ByOpt
from argus.security.policy import Recipient
from argus.stores.search import Audience
from argus.workflows.sar_review import Actor

playbook_app = typer.Typer(help="CACAO v2.0 playbooks: validate, import, export, list.", no_args_is_help=True)
AgencyOpt = Annotated[str, typer.Option(help="ORI of the agency the playbook is held for")]


def _read(path: Path) -> bytes:
    raw = sys.stdin.buffer.read() if str(path) == "-" else path.read_bytes()
    try:
        inner = from_stix(orjson.loads(raw))
    except orjson.JSONDecodeError:
        return raw
    return raw if inner is None else inner


def _problems(problems: list[Problem]) -> None:
    rows = [(p.step, p.rule, p.message) for p in problems[:200]]
    console.table(("step", "rule", "problem"), rows, title=f"{len(problems)} problem(s)", whole=("step",))


@playbook_app.command("validate")
def validate_cmd(
    path: Annotated[Path, typer.Argument(help="A CACAO JSON file, a STIX course-of-action, or -")],
) -> None:
    """Check a playbook against the official schemas and the rules they cannot express."""
    doc, problems = Playbooks(None, None).check(_read(path))  # type: ignore[arg-type]
    if problems:
        _problems(problems)
        raise typer.Exit(1)
    typer.echo(f"valid: {doc['name'] if doc else path} ({len((doc or {}).get('workflow', {}))} steps)")


@playbook_app.command("import")
def import_cmd(path: Path, agency: AgencyOpt, by: ByOpt, topology: TopoOpt, data_dir: DataOpt = None) -> None:
    """Store a playbook (a new version by its `modified`) for an agency."""
    topo = load_checked(topology, data_dir)
    from argus.backends import open_store

    store, audit = open_store(topo, "playbooks"), open_audit(topo)
    try:
        held, new = Playbooks(store, audit).import_(_read(path), Actor(by, agency, "supervisor", "cli"),
                                                    Recipient(agency, "supervisor"))  # fmt: skip
    except InvalidPlaybook as e:
        _problems(e.problems)
        raise typer.Exit(1) from None
    except PlaybookRefused as e:
        typer.echo(f"refused: {e.field}: {e.problem}", err=True)
        raise typer.Exit(1) from None
    finally:
        store.close()
        audit.close()
    typer.echo(f"{'imported' if new else 'already held'}: {held.id} {held.modified} TLP:{held.marking.tlp}")


@playbook_app.command("export")
def export_cmd(
    playbook_id: str, topology: TopoOpt, data_dir: DataOpt = None,
    modified: Annotated[str | None, typer.Option(help="That version (default: the latest)")] = None,
    stix: Annotated[bool, typer.Option(help="As a STIX 2.1 course-of-action bundle")] = False,
    out: Annotated[Path | None, typer.Option("--out", "-o")] = None,
) -> None:  # fmt: skip
    """Write a playbook exactly as it was imported (or as STIX)."""
    from argus.backends import open_store

    store = open_store(load_checked(topology, data_dir), "playbooks")
    try:
        held = store.get(playbook_id, modified)
    finally:
        store.close()
    if held is None:
        typer.echo(f"no playbook {playbook_id}", err=True)
        raise typer.Exit(1)
    body = bundle(to_coa(Playbook(orjson.loads(held.text)), held.text)) if stix else held.text.encode()
    if out is None:
        sys.stdout.buffer.write(body)
    else:
        out.write_bytes(body)


@playbook_app.command("list")
def list_cmd(agency: AgencyOpt, topology: TopoOpt, data_dir: DataOpt = None) -> None:
    """The playbooks an agency sees: the latest version of each."""
    from argus.backends import open_store

    store = open_store(load_checked(topology, data_dir), "playbooks")
    try:
        rows = store.listing(Audience(agency, True, (agency,), (), (), True), 500)
    finally:
        store.close()
    console.table(("id", "version", "name", "TLP", "held for", "triggers"),
                  [(r.id, r.modified, r.name, r.marking.tlp, r.marking.agency, len(r.triggers)) for r in rows],
                  whole=("id",))  # fmt: skip
