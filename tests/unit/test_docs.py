"""The README is a product README and the docs site builds; neither narrates how the code was
built (that is CHANGELOG.md's job), and no comment points at a README section that is gone."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

HISTORY = re.compile(
    r"\b(first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth|thirteenth|"
    r"fourteenth|fifteenth|sixteenth) session|\bthis session\b|\bissue \d+\b|\bbefore 2026-|\buntil 2026-|"
    r"README, \"|README \"",
    re.IGNORECASE,
)


def _sources() -> list[Path]:
    out = [REPO / "README.md", *(REPO / "docs").glob("*.md"), *(REPO / "ops").rglob("*.md")]
    for pkg in ("argus", "connectors", "processors", "sinks", "pipelines", "bench", "examples", "tests"):
        out += [p for p in (REPO / pkg).rglob("*.py") if p.name != "test_docs.py"]
    return out


def test_the_readme_is_short_and_gives_the_two_commands() -> None:
    text = (REPO / "README.md").read_text()
    assert len(text.splitlines()) <= 300
    assert "pip install -e . && argus demo" in text and "make test" in text


def test_nothing_narrates_development_history() -> None:
    found = [
        f"{p.relative_to(REPO)}:{n}: {line.strip()[:100]}"
        for p in _sources()
        for n, line in enumerate(p.read_text(errors="replace").splitlines(), 1)
        if HISTORY.search(line)
    ]
    assert not found, "history belongs in CHANGELOG.md:\n" + "\n".join(found)


def test_the_docs_site_builds_strictly(tmp_path: Path) -> None:
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    r = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(tmp_path / "site")],
        cwd=REPO, capture_output=True, text=True, timeout=300, env=env,
    )  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    assert (tmp_path / "site" / "security" / "index.html").exists()
