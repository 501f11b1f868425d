"""The whole workflow through Snakemake: the smoke preset end to end, dry runs of every preset, lint."""

from __future__ import annotations

import json
import re

import bows.config as bcfg
import pandas as pd
import pytest
import torch
from bows.ablation import ablation_models
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
    # trained models, and pca baselines (computed, not trained); the co-occurrence ablation's models again on its two
    # window sets, and the full set's pca baseline when the grid lacks it
    grid = bcfg.model_grid(cfg)
    ablation = ablation_models(cfg) if cfg["windows"]["exclude_cooccurrence"] else []
    expected = len(grid) + 2 * len(ablation) + len(set(ablation) - set(grid))
    assert jobs.get("train_model", 0) + jobs.get("pca_model", 0) == expected
    if preset == ("presets/paper.yaml",):
        assert jobs["train_model"] == 54 + 2  # the paper's grid, and the months model on the ablation's two sets


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
    models = sorted(res.glob("models/V400_G5_S1/relu/*/model.safetensors"))  # the full window set's
    assert len(models) == 8
    state = torch.load(models[0], weights_only=True)
    assert set(state) == {"W", "b"} and state["W"].shape[1] == 400
    assert list(res.glob("metrics/**/*.parquet")), "no metric tables"
    crit = list((res / "metrics").glob("*/criteria.json"))  # the reproduction criteria (references/ has its own)
    assert len(crit) == 1, crit
    data = json.loads(crit[0].read_text())
    assert [c["id"] for c in data["criteria"]] == list(range(1, 18))
    pngs = list(res.glob("figures/**/*.png"))
    assert len(pngs) >= 5, pngs
    assert list((smoke_run / "results" / "synthetic").rglob("*.png"))
    claims = pd.read_csv(smoke_run / "results" / "synthetic" / "claims.csv")
    assert set(claims["structure"]) == {"circular", "iid"}
    assert claims["held in seeds"].str.fullmatch(r"[0-3]/3").all()  # the default's three seeds


def _claims_files(run) -> list:
    """Every claims table the smoke run wrote: the criteria, the synthetic claims, the SAE claims (JSON)."""
    res = run / "results"
    return [
        *res.glob("smoke/metrics/*/criteria.json"),
        res / "synthetic" / "claims.json",
        *res.glob("smoke/sae/*/claims.json"),
    ]


def test_no_claim_of_the_smoke_run_is_an_error(smoke_run):
    """A claim whose test raised is a bug to fix, whatever the scale: no claims table of the run holds one, and
    every claim that was not tested says why."""
    files = _claims_files(smoke_run)
    assert len(files) == 3, files
    for path in files:
        doc = json.loads(path.read_text())
        records = doc[path.stem]
        errors = {r["id"]: r["reason"] for r in records if r["status"] == "error"}
        assert not errors, f"{path}: claims whose test raised: {errors}"
        assert doc["summary"]["error"] == 0 and sum(doc["summary"].values()) == len(records) > 0
        assert all(r["reason"] for r in records if r["status"] == "not_applicable"), path
        table = pd.read_csv(path.with_suffix(".csv"))
        assert "error" not in set(table["status"]) and len(table) == len(records)


def test_smoke_criteria_statuses(smoke_run):
    """The criteria's statuses on the smoke preset, as its settings decide them: vocabulary and window counts hold on
    any corpus; V = 400 holds 1 of the 9 seasonal words (6), fewer than two Roman numerals (8, 9) and none of the
    mechanism targets often enough (11, 12); 2 epochs of batch 128 give wd 4 a decay exposure of 0.02, too little
    for the principal-subspace overlap to rise (17). The other criteria are decided either way."""
    data = json.loads(next((smoke_run / "results").glob("smoke/metrics/*/criteria.json")).read_text())
    status = {c["id"]: c["status"] for c in data["criteria"]}
    assert {i for i, s in status.items() if s == "not_applicable"} == {6, 8, 9, 11, 12}
    assert status[1] == status[2] == "pass" and status[17] == "fail"
    assert set(status.values()) <= {"pass", "fail", "not_applicable"}
    assert data["summary"]["not_applicable"] == 5 and data["summary"]["error"] == 0
    assert data["summary"]["pass"] + data["summary"]["fail"] == 12


def test_report_is_written(smoke_run):
    out = smoke_run / "results" / "report.html"
    snakemake(smoke_run, "--cores", "1", "--report", str(out))
    html = out.read_text(errors="replace")
    assert out.stat().st_size > 10_000 and "<html" in html.lower()
