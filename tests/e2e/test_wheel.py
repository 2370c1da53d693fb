"""The built wheel, installed into a clean virtualenv outside the checkout, runs: an editable
install would hide a file the package forgot to ship (the Avro schemas, the production topology,
the pipelines)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from tests.conftest import REPO


@pytest.mark.slow
def test_the_wheel_installs_and_runs_outside_the_checkout(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    # built from a copy without the checkout's build/ (a stale build there would hide a file the
    # package data forgot), its virtualenvs, caches and node_modules
    src = tmp_path / "src"
    skip = shutil.ignore_patterns(
        ".git", ".venv", "build", "dist", "node_modules", ".cache", "var", "__pycache__", "*.egg-info"
    )
    shutil.copytree(REPO, src, ignore=skip)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(dist), str(src)], check=True, timeout=600
    )
    (wheel,) = dist.glob("argus_fusion-*.whl")
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    py = env_dir / "bin" / "python"
    subprocess.run([str(py), "-m", "pip", "install", "-q", str(wheel)], check=True, timeout=900)
    site = tmp_path / "elsewhere"
    site.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{env_dir / 'bin'}:{env['PATH']}"

    def argus(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["argus", *args], cwd=site, env=env, capture_output=True, text=True, timeout=300)

    where = subprocess.run([str(py), "-c", "import argus; print(argus.__file__)"], cwd=site, capture_output=True,
                           text=True, check=True).stdout  # fmt: skip
    assert str(env_dir) in where and str(REPO) not in where, where
    init = argus("init", "mysite")
    assert init.returncode == 0, init.stderr
    check = argus("check", "-t", "mysite/topology.yaml")
    assert check.returncode == 0 and "OK" in check.stdout, check.stderr
    demo = argus("demo", "--background", "20", "--workdir", "demo")
    assert demo.returncode == 0, demo.stderr[-2000:]
    assert "ALERT" in demo.stdout.upper() and "2A31" in demo.stdout, demo.stdout[-2000:]
    # the workbench's bundle is package data too: the shell and every asset it names are installed
    listing = "from argus.api.workbench import STATIC; import os; print(sorted(os.listdir(STATIC / 'assets')))"
    shipped = subprocess.run(
        [str(py), "-c", listing], cwd=site, env=env, capture_output=True, text=True, check=True
    ).stdout
    built = sorted(p.name for p in (REPO / "argus" / "api" / "static" / "assets").iterdir())
    assert shipped.strip() == str(built), (shipped, built)
    index = subprocess.run(
        [str(py), "-c", "from argus.api.workbench import STATIC; print((STATIC / 'index.html').is_file())"],
        cwd=site, env=env, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert index.strip() == "True"
