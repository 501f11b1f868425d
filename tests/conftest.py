"""Shared test helpers: the repository root, the venv's snakemake, and a runner in private work dirs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "workflow"))

SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))


def snakemake(
    workdir: Path,
    *args: str,
    configfiles: tuple[str, ...] = ("presets/smoke.yaml",),
    check: bool = True,
    timeout: int = 2400,
    env: dict | None = None,
) -> subprocess.CompletedProcess:
    """Run the repository's Snakefile with ``workdir`` as working directory (results land in workdir/results)."""
    cmd = [SNAKEMAKE, "-s", str(ROOT / "Snakefile"), "-d", str(workdir)]
    if configfiles:
        cmd += ["--configfile", *[str(ROOT / c) for c in configfiles]]
    cmd += list(args)
    proc = subprocess.run(
        cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})}
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"snakemake failed ({proc.returncode}): {' '.join(cmd)}\n"
            f"--- stdout\n{proc.stdout[-4000:]}\n--- stderr\n{proc.stderr[-6000:]}"
        )
    return proc


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory) -> Path:
    """One full smoke-preset run shared by every workflow test that only reads its outputs."""
    wd = tmp_path_factory.mktemp("smoke")
    snakemake(wd, "--cores", "2")
    return wd
