"""`argus er train`: fit the person model to a deployment's holdings, unsupervised, and keep it.

It reads every person mention on the topic carrying report.v2 (the deduplicated reports), fits
u from random pairs and m by EM (argus/linkage/train.py), with the possible matches since found
to be one person (analysts' decisions) as labels, and writes the model as JSON. Entity
resolution uses it once its node's `model:` names the file (topology.yaml) and the node restarts;
every weight in it is shown, so an analyst can read what a field is worth.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import orjson
import typer

from argus import console
from argus.load import DataOpt, TopoOpt, load_checked

er_app = typer.Typer(help="Entity resolution: fit the person model.", no_args_is_help=True)


@er_app.command("train")
def train_cmd(
    out: Annotated[Path, typer.Option("--out", "-o", help="Where to write the model (JSON)")],
    topology: TopoOpt = Path("topology.yaml"),
    data_dir: DataOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the fitted weights as JSON")] = False,
) -> None:
    """Fit m and u to the persons of every report on the bus and write the model."""
    from argus.backends import read_topic
    from argus.cli import _reader
    from argus.linkage.person import LEVELS
    from argus.linkage.train import train

    topo = load_checked(topology, data_dir)
    topic = next((n for n, t in topo.topics.items() if t.schema_ == "report.v2"), None)
    if topic is None:
        typer.echo("this topology has no topic carrying report.v2", err=True)
        raise typer.Exit(2)
    bus, schemas = _reader(topo)
    try:
        persons = [p for r in read_topic(bus, schemas, topic) for p in (r.value["body"].get("persons") or [])]
    finally:
        bus.close()
    confirmed = _confirmed(topo)
    if len(persons) < 2:
        typer.echo(f"{topic}: {len(persons)} person mentions; at least two are needed to fit a model", err=True)
        raise typer.Exit(1)
    model = train(persons, confirmed=confirmed)
    model.save(out)
    if as_json:
        doc = {"mentions": len(persons), "confirmed": len(confirmed), "out": str(out), "weights": model.w}
        typer.echo(orjson.dumps(doc).decode())
        return
    rows = [(f, lvl, f"{w:+.2f}") for f, ws in model.w.items() for lvl, w in zip(LEVELS[f], ws, strict=True)]
    title = f"Person model fitted to {len(persons):,} mentions and {len(confirmed)} confirmed matches ({out})"
    console.table(("field", "level", "bits"), rows, title=title)


def _confirmed(topo: Any) -> list[Any]:
    """The possible matches since found to be one person (an analyst's SAME, or a record that
    bridged them), as comparison vectors: the labels the fit takes as certain."""
    from argus.backends import open_store
    from argus.linkage.model import vector_of

    g = open_store(topo, "graph")
    try:
        edges = g.edges_by_rel("POSSIBLE_SAME_AS", 1_000_000)
        return [
            vector_of(e["props"].get("evidence", [])) for e in edges if g.canonical(e["src"]) == g.canonical(e["dst"])
        ]
    finally:
        g.close()
