"""Figures regenerate without retraining: a plot setting or a plotting-code change reruns figure jobs only.

One full smoke run (the shared ``smoke_run``) is copied to a private work dir; then
1. a ``figures`` override (dpi) in an extra config file: the dry run lists figure jobs only, a real rerun redraws
   them, and no model, metric table or corpus file is touched;
2. a comment appended to a plotting module in a copy of the repository: the dry run of the copy's Snakefile lists
   our figure jobs (their params hold a hash of workflow/bows/figures/*.py) and nothing upstream.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT, SNAKEMAKE, snakemake

pytestmark = pytest.mark.workflow

#: rules allowed to rerun for a figure change (ours, the paper figures, the synthetic figures, the target rules)
FIGURE_RULE = re.compile(r"^(fig_\w+|synthetic_gram_grid|synthetic_metrics_figure|all|figures|synthetic)$")
UPSTREAM = re.compile(r"^(prepare_corpus|build_vocab|encode_docs|index_windows|train_model|metrics_\w+|"
                      r"synthetic_(data|train|metrics|summary))$")


def planned_jobs(output: str) -> dict[str, int]:
    """Rule → job count from the "Job stats" table of a ``snakemake -n`` run ({} when nothing is to be done)."""
    jobs: dict[str, int] = {}
    m = re.search(r"Job stats:\n.*?\n-+\s+-+\n(.*?)\n(?:total|\n)", output, re.S)
    if not m:
        return jobs
    for line in m.group(1).splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit():
            jobs[parts[0]] = int(parts[1])
    return jobs


def _mtimes(root: Path, patterns: tuple[str, ...]) -> dict[str, int]:
    return {str(p): p.stat().st_mtime_ns for pat in patterns for p in root.glob(pat) if p.is_file()}


@pytest.fixture(scope="module")
def run_copy(smoke_run: Path, tmp_path_factory) -> Path:
    """A private copy of the shared smoke run (mtimes and Snakemake metadata kept), brought up to date."""
    wd = tmp_path_factory.mktemp("regen") / "wd"
    shutil.copytree(smoke_run, wd, symlinks=True)
    snakemake(wd, "--cores", "2")  # anything the shared run left stale (another test may have changed it)
    return wd


def test_planned_jobs_parser() -> None:
    out = ("Job stats:\njob              count\n---------------  -------\nfig_sweeps             1\n"
           "all                    1\ntotal                  2\n\n")
    assert planned_jobs(out) == {"fig_sweeps": 1, "all": 1}
    assert planned_jobs("Nothing to be done (all requested files are present and up to date).") == {}


def test_figure_setting_reruns_only_figure_jobs(run_copy: Path, tmp_path: Path) -> None:
    override = tmp_path / "figures.yaml"
    override.write_text("figures:\n  dpi: 61\n")
    configs = ("presets/smoke.yaml", str(override))

    proc = snakemake(run_copy, "-n", configfiles=configs)
    jobs = planned_jobs(proc.stdout + proc.stderr)
    assert {"fig_sweeps", "fig_criteria"} <= set(jobs), jobs
    assert all(FIGURE_RULE.match(r) for r in jobs), f"non-figure jobs planned for a dpi change: {jobs}"
    assert not [r for r in jobs if UPSTREAM.match(r)]

    upstream = ("results/*/models/**/model.pt", "results/*/models/**/run.json", "results/*/metrics/**/*.parquet",
                "results/*/metrics/**/criteria.json", "results/*/corpus/*", "results/*/V*/vocab.tsv",
                "results/synthetic/*/*/models.npz")
    before = _mtimes(run_copy, upstream)
    assert any(k.endswith("model.pt") for k in before)
    fig = next((run_copy / "results").glob("*/figures/*/sweeps_loss.png"))
    fig_before = fig.stat().st_mtime_ns

    proc = snakemake(run_copy, "--cores", "2", configfiles=configs)
    ran = set(re.findall(r"^(?:local)?rule (\w+):", proc.stdout + proc.stderr, re.M))
    assert ran and all(FIGURE_RULE.match(r) for r in ran), f"rules run for a dpi change: {sorted(ran)}"
    assert _mtimes(run_copy, upstream) == before, "a figure setting touched a model, metric or corpus file"
    assert fig.stat().st_mtime_ns > fig_before, "the loss figure was not redrawn"
    assert planned_jobs((p := snakemake(run_copy, "-n", configfiles=configs)).stdout + p.stderr) == {}


def _repo_copy(dest: Path) -> Path:
    ignore = shutil.ignore_patterns(".venv", ".git", "results", ".snakemake", ".pytest_cache", ".hypothesis",
                                    "__pycache__", "*.pyc")
    shutil.copytree(ROOT, dest, ignore=ignore, symlinks=True)
    return dest


def test_plotting_code_change_reruns_only_figure_jobs(run_copy: Path, tmp_path: Path) -> None:
    repo = _repo_copy(tmp_path / "repo")
    base = [SNAKEMAKE, "-s", str(repo / "Snakefile"), "-d", str(run_copy), "--configfile",
            str(repo / "presets" / "smoke.yaml")]
    cmd = [*base, "-n"]
    # bring the run up to date with this frozen snapshot of the code first
    sync = subprocess.run([*base, "--cores", "2"], cwd=repo, capture_output=True, text=True, timeout=900)
    assert sync.returncode == 0, sync.stderr[-3000:]

    unchanged = subprocess.run(cmd, cwd=repo, capture_output=True, text=True, timeout=600)
    assert unchanged.returncode == 0, unchanged.stderr[-3000:]
    assert planned_jobs(unchanged.stdout + unchanged.stderr) == {}, "an identical copy of the code reruns jobs"

    module = repo / "workflow" / "bows" / "figures" / "sweeps.py"
    module.write_text(module.read_text() + "\n# a plotting-code change\n")
    changed = subprocess.run(cmd, cwd=repo, capture_output=True, text=True, timeout=600)
    assert changed.returncode == 0, changed.stderr[-3000:]
    out = changed.stdout + changed.stderr
    jobs = planned_jobs(out)
    assert {"fig_sweeps", "fig_criteria"} <= set(jobs), jobs
    assert all(FIGURE_RULE.match(r) for r in jobs), f"non-figure jobs planned for a plotting change: {jobs}"
    assert "Params have changed" in out
