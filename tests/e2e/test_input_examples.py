"""The input reference (docs/integrator.md) holds: every sample under examples/inputs/ is taken
whole, and each mistake it lists gets exactly the dead-letter reason it says."""

from __future__ import annotations

import shutil
from pathlib import Path

import orjson
import pytest

from argus.demo import prepare
from argus.runtime.core import Runtime
from argus.topology import load_topology
from tests.conftest import REPO

SAMPLES = REPO / "examples" / "inputs"
INBOX = {
    "rms.jsonl": "rms",
    "rms.csv": "rms_csv",
    "cad_incidents.jsonl": "cad/incidents",
    "cad_queries.jsonl": "cad/queries",
    "sar.json": "sar",
    "stix_bundle.json": "stix",
}
DOC = (REPO / "docs" / "integrator.md").read_text()


def _site(tmp_path: Path) -> Path:
    topo = prepare(tmp_path)
    for sub in INBOX.values():
        (tmp_path / "inbox" / sub).mkdir(parents=True, exist_ok=True)
    return topo


def test_every_sample_is_taken_whole(tmp_path: Path) -> None:
    topo = _site(tmp_path)
    for name, sub in INBOX.items():
        shutil.copy(SAMPLES / name, tmp_path / "inbox" / sub / name)
    with Runtime(load_topology(topo)) as rt:
        rt.run_until_idle()
        assert [r.value["reason"] for r in rt.read_topic("deadletters")] == []
        assert rt.ingest_counts() == (9, 0)  # 2 RMS lines, 1 CSV row, 1 incident, 2 queries, 1 SAR, 2 STIX


def _first(name: str) -> dict:
    text = (SAMPLES / name).read_bytes()
    doc = orjson.loads(text.splitlines()[0]) if name.endswith(".jsonl") else orjson.loads(text)
    return doc[0] if isinstance(doc, list) else doc


MISTAKES = [
    ("rms.jsonl", {"tlp": "TLP:PURPLE"}, "unknown TLP marking 'TLP:PURPLE'"),
    ("rms.jsonl", {"agency": "FRESNO"}, "agency: expected a 9-character ORI"),
    ("rms.jsonl", {"reliability": None, "validity": None}, "reliability/validity: required"),
    ("rms.jsonl", {"category": "criminal_intelligence"}, "predicate: criminal intelligence must name"),
    ("rms.jsonl", {"offenses": ["999X"]}, "offenses: '999X' is not a NIBRS offense code"),
    ("rms.jsonl", {"occurred_at": "yesterday"}, "occurred_at: not an ISO 8601 timestamp"),
    ("rms.jsonl", {"occurred_at": "9999-12-31T23:00:00-05:00"}, "is out of range (years 1800-2199, UTC)"),
    ("rms.jsonl", {"version": 2**40}, "version: expected a whole number from 1 to 2147483647"),
    ("rms.jsonl", {"narrative": "a\u202eb"}, "narrative: contains control character U+202E"),
    ("rms.jsonl", {"vehicles": [{"role": "suspect"}]}, "needs a plate or a VIN"),
    ("sar.json", {"behavior": "LOITER"}, "behavior: 'LOITER' is not an ISE-SAR category"),
    ("cad_queries.jsonl", {"plate": None, "name": None}, "a query needs a plate, a VIN or a name"),
]


@pytest.mark.parametrize(("sample", "change", "reason"), MISTAKES)
def test_each_documented_mistake_gets_its_reason(tmp_path: Path, sample: str, change: dict, reason: str) -> None:
    assert reason in DOC, f"docs/integrator.md does not list the reason {reason!r}"
    topo = _site(tmp_path)
    bad = {**_first(sample), **change}
    target = tmp_path / "inbox" / INBOX[sample] / sample
    target.write_bytes(orjson.dumps([bad] if sample.endswith(".json") else bad) + b"\n")
    with Runtime(load_topology(topo)) as rt:
        rt.run_until_idle()
        reasons = [r.value["reason"] for r in rt.read_topic("deadletters")]
    assert len(reasons) == 1 and reason in reasons[0], reasons
