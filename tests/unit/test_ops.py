"""The dashboards and alert rules in ops/ may only name metrics Argus exports."""

import json
import re
from pathlib import Path

import yaml
from prometheus_client import REGISTRY

import argus.metrics  # noqa: F401 - registers the metrics
import processors.dedup  # noqa: F401

OPS = Path(__file__).resolve().parents[2] / "ops"
METRIC = re.compile(r"\bargus_[a-z_]+")


def families() -> set[str]:
    """Metric family names (a counter's family drops `_total`); labelled metrics with no
    children yet export no samples, so families are what to compare against."""
    return {m.name for m in REGISTRY.collect()}


def test_dashboard_and_rules_use_only_exported_metrics() -> None:
    dash = json.loads((OPS / "grafana" / "argus-pipeline.json").read_text())
    exprs = [t["expr"] for p in dash["panels"] for t in p["targets"]]
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
            assert (OPS.parent / r["annotations"]["runbook"]).exists()
