"""What a person at a terminal sees: progress on long work, tables for lookups, and JSON behind
--json; and that a log file or a pipe gets no progress drawing at all."""

from __future__ import annotations

from pathlib import Path

import orjson

from tests.e2e.conftest import argus, make_workdir

ATTACK = Path(__file__).parents[1] / "data" / "stix" / "attack-ics-sample.json"
TERMINAL = {"TTY_INTERACTIVE": "1", "TTY_COMPATIBLE": "1", "COLUMNS": "160"}  # what rich reads off a real terminal
BAR = "━"  # rich's bar


def test_long_work_shows_progress_on_a_terminal_only(tmp_path: Path) -> None:
    topo = make_workdir(tmp_path, background=60)
    t = ["-t", str(topo)]
    piped = argus("run", "--until-idle", "--metrics-port", "0", *t)
    assert piped.returncode == 0, piped.stderr
    assert "records handled" not in piped.stderr and "ingested" in piped.stdout
    load = ["attack", "load", str(ATTACK), "--agency", "CA0190000", "--by", "admin1", *t]
    shown = argus(*load, env=TERMINAL)
    assert shown.returncode == 0, shown.stderr
    assert BAR in shown.stderr and "50/50" in shown.stderr, shown.stderr  # a bar, to the whole bundle
    assert BAR not in argus(*load).stderr
    due = argus("retention", "due", "--as-of", "2099-01-01", *t, env=TERMINAL)
    assert due.returncode == 0 and "reading records under review" in due.stderr and BAR in due.stderr


def test_run_until_idle_counts_on_a_terminal(tmp_path: Path) -> None:
    topo = make_workdir(tmp_path, background=60)
    r = argus("run", "--until-idle", "--metrics-port", "0", "-t", str(topo), env=TERMINAL)
    assert r.returncode == 0, r.stderr
    assert "until idle" in r.stderr and "records handled" in r.stderr


def test_lookups_are_tables_and_json_behind_a_flag(tmp_path: Path) -> None:
    topo = make_workdir(tmp_path, background=20)
    t = ["-t", str(topo)]
    assert argus("run", "--until-idle", "--metrics-port", "0", *t).returncode == 0
    status = argus("status", *t, env={"COLUMNS": "160"})
    assert status.returncode == 0 and "┃ node" in status.stdout and "correlation" in status.stdout, status.stdout
    as_json = orjson.loads(argus("status", "--json", *t).stdout)
    assert as_json["lag"]["correlation"] == 0
    assert argus("attack", "load", str(ATTACK), "--agency", "CA0190000", "--by", "a", *t).returncode == 0
    table = argus("attack", "show", "techniques", "--id", "T0800", "--related", *t, env={"COLUMNS": "200"}).stdout
    assert "┃ ATT&CK id" in table and "T0800" in table and "M0807" in table, table
    (t0800,) = map(
        orjson.loads, argus("attack", "show", "techniques", "--id", "T0800", "--json", *t).stdout.splitlines()
    )
    assert t0800["attack_id"] == "T0800"
    dlq = argus("dlq", "list", *t, env={"COLUMNS": "160"})
    assert "┃ id" in dlq.stdout and "dead letter(s)" in dlq.stdout
    for line in argus("dlq", "list", "--json", *t).stdout.splitlines():
        d = orjson.loads(line)
        assert d["reason"] and d["node"] and d["failed_at"][:2] == "20"
