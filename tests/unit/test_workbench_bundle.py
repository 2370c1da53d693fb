"""The workbench shipped in the package is what web/ builds from its lock file, typed from the
API's own OpenAPI document, and its component tests pass. Node is needed here (CI installs it
and runs `npm ci`); a Python user installing Argus never needs it."""

from __future__ import annotations

import filecmp
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from argus.api.app import openapi_document
from tests.conftest import REPO

WEB = REPO / "web"
STATIC = REPO / "argus" / "api" / "static"


def _npx() -> str:
    npx = shutil.which("npx")
    if npx is None or not (WEB / "node_modules").is_dir():
        msg = "Node.js and web/node_modules are needed: apt-get install nodejs npm, then npm ci in web/"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    return npx


def test_the_client_types_come_from_the_apis_openapi_document() -> None:
    assert (WEB / "openapi.json").read_text() == openapi_document(), (
        "web/openapi.json is not the API's: run `argus api --print-openapi > web/openapi.json`, "
        "then `npm run build` in web/"
    )


def test_the_shipped_bundle_is_what_the_lock_file_builds(tmp_path: Path) -> None:
    npx = _npx()
    types = tmp_path / "schema.d.ts"
    subprocess.run(
        [npx, "openapi-typescript", "openapi.json", "-o", str(types)], cwd=WEB, check=True, capture_output=True
    )
    assert types.read_text() == (WEB / "src" / "api" / "schema.d.ts").read_text(), "web/src/api/schema.d.ts is stale"
    subprocess.run([npx, "tsc", "--noEmit"], cwd=WEB, check=True, capture_output=True)
    out = tmp_path / "static"
    subprocess.run(
        [npx, "vite", "build", "--outDir", str(out), "--emptyOutDir"], cwd=WEB, check=True, capture_output=True
    )
    cmp = filecmp.dircmp(out, STATIC)
    stack, differ = [cmp], []
    while stack:
        c = stack.pop()
        differ += [*c.left_only, *c.right_only, *c.diff_files]
        stack += c.subdirs.values()
    assert not differ, f"argus/api/static differs from a fresh build ({differ}): run `npm run build` in web/ and commit"


def test_the_component_tests_pass() -> None:
    npx = _npx()
    r = subprocess.run([npx, "vitest", "run"], cwd=WEB, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    assert " passed" in r.stdout


def test_the_shell_loads_nothing_inline_and_nothing_from_elsewhere() -> None:
    html = (STATIC / "index.html").read_text()
    assert "<script>" not in html and "<style" not in html and "http://" not in html and "https://" not in html
    for asset in (STATIC / "assets").iterdir():
        if asset.suffix in (".js", ".css"):
            text = asset.read_text(errors="replace")
            for cdn in ("fonts.googleapis", "unpkg.com", "cdn.jsdelivr", "cdnjs.cloudflare", "tile.openstreetmap"):
                assert cdn not in text, (asset.name, cdn)
