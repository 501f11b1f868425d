"""The whole workflow through Snakemake: the smoke preset end to end, dry runs of every preset, lint."""

from __future__ import annotations

import json
import re

import bows.config as bcfg
import pandas as pd
import pytest
import torch
from conftest import ROOT, snakemake

pytestmark = pytest.mark.workflow


def _jobs(dry_run_stdout: str) -> dict[str, int]:
    """The job-count table of a dry run: rule name → count."""
    counts = {}
    for line in dry_run_stdout.splitlines():
        m = re.match(r"^(\w+)\s+(\d+)$", line.strip())
        if m and m.group(1) != "total":
            counts[m.group(1)] = int(m.group(2))
    return counts


def test_lint_is_clean(tmp_path):
    proc = snakemake(tmp_path, "--lint", configfiles=(), check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Lints for" not in proc.stdout + proc.stderr


@pytest.mark.parametrize("preset", [(), ("presets/smoke.yaml",), ("presets/paper.yaml",)])
def test_dry_run_lists_every_training_job(tmp_path, preset):
    proc = snakemake(tmp_path, "-n", configfiles=preset)
    cfg = bcfg.load_config(ROOT / "config.yaml", *[ROOT / p for p in preset])
    jobs = _jobs(proc.stdout)
    # trained models, and pca baselines (computed, not trained)
    assert jobs.get("train_model", 0) + jobs.get("pca_model", 0) == len(bcfg.model_grid(cfg))
    if preset == ("presets/paper.yaml",):
        assert jobs["train_model"] == 54


@pytest.mark.parametrize("profile", ["profiles/default", "profiles/slurm", "profiles/gpu"])
def test_profiles_dry_run(tmp_path, profile):
    """Every profile plans the whole smoke DAG the documented way (conda itself cannot run here, so the SLURM
    profile's conda environments are swapped for env-modules, which a dry run does not load)."""
    extra = ["--workflow-profile", "none", "--sdm", "env-modules"] if profile == "profiles/slurm" else []
    proc = snakemake(tmp_path, "-n", "--profile", str(ROOT / profile), *extra, check=False)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]


def test_smoke_run_leaves_every_stage(smoke_run):
    res = smoke_run / "results" / "smoke"
    for split in ("train", "validation", "test"):
        assert (res / "corpus" / f"{split}.parquet").is_file()
    assert (res / "V400" / "vocab.tsv").is_file()
    models = sorted(res.glob("models/*/relu/*/model.safetensors"))
    assert len(models) == 8
    state = torch.load(models[0], weights_only=True)
    assert set(state) == {"W", "b"} and state["W"].shape[1] == 400
    assert list(res.glob("metrics/**/*.parquet")), "no metric tables"
    crit = list((res / "metrics").rglob("criteria.json"))
    assert len(crit) == 1, crit
    data = json.loads(crit[0].read_text())
    assert [c["id"] for c in data["criteria"]] == list(range(1, 18))
    assert data["summary"] == {
        s: sum(c["status"] == s for c in data["criteria"]) for s in ("pass", "fail", "not_applicable")
    }
    pngs = list(res.glob("figures/**/*.png"))
    assert len(pngs) >= 5, pngs
    assert list((smoke_run / "results" / "synthetic").rglob("*.png"))
    claims = pd.read_csv(smoke_run / "results" / "synthetic" / "claims.csv")
    assert set(claims["structure"]) == {"circular", "iid"}
    assert claims["held in seeds"].str.fullmatch(r"[0-3]/3").all()  # the default's three seeds


def test_report_is_written(smoke_run):
    out = smoke_run / "results" / "report.html"
    snakemake(smoke_run, "--cores", "1", "--report", str(out))
    html = out.read_text(errors="replace")
    assert out.stat().st_size > 10_000 and "<html" in html.lower()
