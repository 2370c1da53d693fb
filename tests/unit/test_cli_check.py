"""`argus check` says every problem of a topology at once, with what a misspelt key probably
meant; a server that does not answer is one line naming it and what to check, exit 69."""

from __future__ import annotations

from pathlib import Path

import yaml
from typer.testing import CliRunner

from argus.cli import app as cli
from argus.demo import prepare


def _site(tmp_path: Path, **change: object) -> Path:
    topo = prepare(tmp_path)
    doc = yaml.safe_load(topo.read_text())
    for key, value in change.items():
        node, _, field = key.partition("__")
        if field:
            doc["nodes"][node]["config"][field] = value
        else:
            doc[key] = value
    topo.write_text(yaml.safe_dump(doc))
    return topo


def test_every_problem_at_once_with_did_you_mean(tmp_path: Path) -> None:
    topo = _site(tmp_path, metrics_prot=9464, rms__patern="*.jsonl")
    r = CliRunner().invoke(cli, ["check", "-t", str(topo)])
    assert r.exit_code == 2
    assert "metrics_prot: unknown key; did you mean 'metrics_port'?" in r.output
    assert "config.patern: unknown key; did you mean 'pattern'?" in r.output  # in the same pass


def test_an_unreachable_server_is_one_line_and_exit_69(tmp_path: Path, monkeypatch) -> None:
    topo = _site(tmp_path)
    monkeypatch.setenv("ARGUS_SEARCH", "http://127.0.0.1:9")  # nothing listens on the discard port
    r = CliRunner().invoke(cli, ["status", "-t", str(topo)])
    assert r.exit_code == 69, r.output
    lines = [x for x in r.output.splitlines() if x.strip()]
    assert len(lines) == 1 and lines[0].startswith("cannot reach opensearch for the search at http://127.0.0.1:9")
    assert "is OpenSearch running" in lines[0] and "Traceback" not in r.output
    r = CliRunner().invoke(cli, ["check", "--connect", "-t", str(topo)])
    assert r.exit_code == 69 and "search    http://127.0.0.1:9: UNREACHABLE" in r.output
    assert "bus       embedded://" in r.output and ": embedded" in r.output
    assert CliRunner().invoke(cli, ["check", "-t", str(topo)]).exit_code == 0  # offline check: no servers asked
