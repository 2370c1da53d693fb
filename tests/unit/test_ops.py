"""The dashboards and alert rules in ops/ may only name metrics Argus exports."""

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from prometheus_client import REGISTRY

import argus.api.product_metrics
import argus.metrics  # noqa: F401 - registers the metrics
import processors.dedup  # noqa: F401

OPS = Path(__file__).resolve().parents[2] / "ops"
METRIC = re.compile(r"\bargus_[a-z_]+")


def families() -> set[str]:
    """Metric family names (a counter's family drops `_total`); labelled metrics with no
    children yet export no samples, so families are what to compare against."""
    return {m.name for m in REGISTRY.collect()}


def test_dashboard_and_rules_use_only_exported_metrics() -> None:
    exprs = []
    for name in ("argus-pipeline.json", "argus-programme.json"):
        dash = json.loads((OPS / "grafana" / name).read_text())
        exprs += [t["expr"] for p in dash["panels"] for t in p["targets"]]
    rules = yaml.safe_load((OPS / "alerts.rules.yml").read_text())
    exprs += [r["expr"] for g in rules["groups"] for r in g["rules"]]
    used = {m for e in exprs for m in METRIC.findall(e)}
    assert used, "no argus metrics referenced"
    have = families()
    missing = {m for m in used if re.sub(r"_(total|bucket|sum|count)$", "", m) not in have and m not in have}
    assert not missing, missing


def test_runbooks_named_by_rules_exist() -> None:
    rules = yaml.safe_load((OPS / "alerts.rules.yml").read_text())
    for g in rules["groups"]:
        for r in g["rules"]:
            assert (OPS.parent / r["annotations"]["runbook_url"]).exists()


# --- the alert rules, evaluated by Prometheus's own rule engine (promtool) ----------------------
def promtool() -> str:
    tool = shutil.which("promtool")
    if tool is None:
        pytest.skip("promtool not found: apt-get install prometheus (Debian), or a Prometheus release")
    return tool


def test_prometheus_accepts_the_rules_and_the_scrape_config() -> None:
    tool = promtool()
    for args in (["check", "rules", str(OPS / "alerts.rules.yml")], ["check", "config", str(OPS / "prometheus.yml")]):
        r = subprocess.run([tool, *args], capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stdout + r.stderr


def _owned(instance: str, task: str, values: str) -> dict[str, str]:
    return {"series": f'argus_tasks_owned{{instance="{instance}",task="{task}"}}', "values": values}


def _case(alert: str, at: str, severity: str | None = None, summary: str = "") -> dict:
    """What promtool should find at `at`: the alert firing with these labels, or (no severity) not."""
    fired = {"exp_labels": {"severity": severity}, "exp_annotations": {"summary": summary, "runbook_url": RUNBOOK}}
    return {"alertname": alert, "eval_time": at, "exp_alerts": [fired] if severity else []}


RUNBOOK = "ops/runbooks/scale-out.md"


def test_the_group_alerts_fire_when_a_task_is_unheld_or_held_twice_and_clear_on_takeover(tmp_path: Path) -> None:
    """Four tasks on two workers; w2 dies at 3 m holding c and d, and no one takes them until w3
    joins at 8 m: ArgusTasksUnheld fires (value 2) once that has lasted its 2 m, and is gone once
    w3 holds them. Task a is reported by w1 and by a stuck w4 throughout: ArgusTaskHeldTwice. A
    takeover whose p90 is 114 s: ArgusSlowTakeover."""
    series = [
        *({"series": f'argus_tasks_planned{{instance="{w}"}}', "values": "4x15"} for w in ("w1", "w3")),
        _owned("w1", "a", "1x15"),
        _owned("w1", "b", "1x15"),
        _owned("w2", "c", "1 1 1 1 stale"),
        _owned("w2", "d", "1 1 1 1 stale"),
        _owned("w3", "c", "_x8 1x7"),
        _owned("w3", "d", "_x8 1x7"),
        _owned("w4", "a", "1x15"),
    ]
    buckets = {"30": "0x40", "60": "0x40", "120": "0+1x40", "+Inf": "0+1x40"}
    series += [{"series": f'argus_task_takeover_seconds_bucket{{le="{le}"}}', "values": v} for le, v in buckets.items()]
    cases = [
        _case("ArgusTasksUnheld", "5m"),  # unheld since 4 m: not yet for 2 m
        _case("ArgusTasksUnheld", "7m", "page", "2 Argus task(s) held by no worker"),
        _case("ArgusTasksUnheld", "12m"),  # w3 took them over
        _case("ArgusTaskHeldTwice", "4m"),  # not yet for 5 m
        _case("ArgusTaskHeldTwice", "6m", "ticket", "An Argus task is reported by two workers"),
        _case(
            "ArgusSlowTakeover",
            "35m",
            "ticket",
            "Workers take over a minute to take over tasks (state changelogs are long)",
        ),
    ]
    spec = {
        "rule_files": [str(OPS / "alerts.rules.yml")],
        "evaluation_interval": "1m",
        "tests": [{"interval": "1m", "input_series": series, "alert_rule_test": cases}],
    }
    test = tmp_path / "group_test.yml"
    test.write_text(yaml.safe_dump(spec, sort_keys=False))
    r = subprocess.run([promtool(), "test", "rules", str(test)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr


def test_a_stale_taxii_feed_raises_a_ticket_and_the_compose_stack_routes_alerts(tmp_path: Path) -> None:
    """argus_taxii_lag_seconds past an hour for 15 minutes: ArgusTaxiiFeedStale, per feed, linking
    its runbook; and Prometheus in the compose stack sends alerts to its Alertmanager."""
    series = [
        {"series": 'argus_taxii_lag_seconds{feed="neighbour"}', "values": "3000+60x60"},
        {"series": 'argus_taxii_lag_seconds{feed="fresh"}', "values": "10x60"},
    ]
    stale = {
        "exp_labels": {"severity": "ticket", "feed": "neighbour"},
        "exp_annotations": {
            "summary": "TAXII feed neighbour last read to its end 1h 23m 0s ago",
            "runbook_url": "ops/runbooks/taxii-feeds.md",
        },
    }
    cases = [
        {"alertname": "ArgusTaxiiFeedStale", "eval_time": "10m", "exp_alerts": []},
        {"alertname": "ArgusTaxiiFeedStale", "eval_time": "33m", "exp_alerts": [stale]},
    ]
    spec = {
        "rule_files": [str(OPS / "alerts.rules.yml")],
        "evaluation_interval": "1m",
        "tests": [{"interval": "1m", "input_series": series, "alert_rule_test": cases}],
    }
    test = tmp_path / "taxii_test.yml"
    test.write_text(yaml.safe_dump(spec, sort_keys=False))
    r = subprocess.run([promtool(), "test", "rules", str(test)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert (OPS.parent / "ops/runbooks/taxii-feeds.md").exists()
    compose_prom = yaml.safe_load((OPS / "prometheus.compose.yml").read_text())
    assert compose_prom["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] == ["alertmanager:9093"]
    am = yaml.safe_load((OPS / "alertmanager.yml").read_text())
    assert am["route"]["receiver"] in {r["name"] for r in am["receivers"]}
