"""`argus playbook`: validate names the step and rule and exits 1; import, list and export go
through the same store, and export gives back the file byte for byte (or as STIX)."""

from __future__ import annotations

from pathlib import Path

import orjson

from argus.playbooks.samples import block_ip
from argus.playbooks.stix import from_stix
from tests.e2e.conftest import argus, make_workdir


def test_validate_import_list_export(tmp_path: Path) -> None:
    topo = make_workdir(tmp_path / "work", background=5)
    doc = block_ip("https://fw.example.org/.well-known/openc2", tlp="AMBER")
    good = tmp_path / "pb.json"
    good.write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2))
    bad = tmp_path / "bad.json"
    bad.write_bytes(orjson.dumps(doc | {"playbook_variables": {"__ip__": {"type": "ipv4-addr", "value": "nope"}}}))
    v = argus("playbook", "validate", str(bad))
    assert v.returncode == 1 and "variable-type" in v.stdout
    assert argus("playbook", "validate", str(good)).returncode == 0
    t = ["-t", str(topo)]
    imp = argus("playbook", "import", str(good), "--agency", "CA0190000", "--by", "ops.lee", *t)
    assert imp.returncode == 0 and "imported" in imp.stdout, imp.stderr
    listed = argus("playbook", "list", "--agency", "CA0190000", *t, env={"COLUMNS": "240"})
    assert doc["id"] in listed.stdout and "AMBER" in listed.stdout
    assert doc["id"] not in argus("playbook", "list", "--agency", "CA0100000", *t).stdout  # AMBER stays home
    out = tmp_path / "out.json"
    assert argus("playbook", "export", doc["id"], "-o", str(out), *t).returncode == 0
    assert out.read_bytes() == good.read_bytes()
    stix = argus("playbook", "export", doc["id"], "--stix", *t)
    assert from_stix(orjson.loads(stix.stdout)) == good.read_bytes()
