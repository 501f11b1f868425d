"""Results follow the code; figures regenerate without retraining.

One full smoke run (the shared ``smoke_run``) is copied to a private work dir; then
1. a ``figures`` override (dpi) in an extra config file: the dry run lists figure jobs only, a real rerun redraws
   them, and no model, metric table or corpus file is touched;
2. edits to a copy of the repository, each checked by a dry run of the copy's Snakefile (every rule's params hold
   the code hash of its stage module's or script's import closure, bows.codehash):
   - comments, docstrings and formatting in library modules: nothing to be done;
   - a changed plotting function: the figure jobs that draw with it only (the SAE plots: the SAE figure job only;
     the shared drawing helpers: every figure job);
   - a changed SAE training function: SAE training and what follows it, never the SAE activations or BOWS training;
   - a changed metric function: metric and figure jobs, never training or anything upstream of it;
   - a changed model function: training and what follows it, nothing upstream of training.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import ROOT, SNAKEMAKE, snakemake

pytestmark = pytest.mark.workflow

#: rules allowed to rerun for a figure change (ours, the paper figures, the synthetic figures, the report's front
#: page, which embeds some of them, the target rules)
FIGURE_RULE = re.compile(
    r"^(fig_\w+|synthetic_gram_grid|synthetic_metrics_figure|sae_figures|report_front_page|all|figures|synthetic|sae)$"
)
UPSTREAM = re.compile(
    r"^(prepare_corpus|build_vocab|encode_docs|index_windows|train_model|metrics_\w+|"
    r"synthetic_(data|train|metrics|summary))$"
)


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
    out = (
        "Job stats:\njob              count\n---------------  -------\nfig_sweeps             1\n"
        "all                    1\ntotal                  2\n\n"
    )
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

    upstream = (
        "results/*/models/**/model.safetensors",
        "results/*/models/**/run.json",
        "results/*/metrics/**/*.parquet",
        "results/*/metrics/**/criteria.json",
        "results/*/corpus/*",
        "results/*/V*/vocab.tsv",
        "results/synthetic/*/*/models.npz",
    )
    before = _mtimes(run_copy, upstream)
    assert any(k.endswith("model.safetensors") for k in before)
    fig = next((run_copy / "results").glob("*/figures/*/sweeps_loss.png"))
    fig_before = fig.stat().st_mtime_ns

    proc = snakemake(run_copy, "--cores", "2", configfiles=configs)
    ran = set(re.findall(r"^(?:local)?rule (\w+):", proc.stdout + proc.stderr, re.M))
    assert ran and all(FIGURE_RULE.match(r) for r in ran), f"rules run for a dpi change: {sorted(ran)}"
    assert _mtimes(run_copy, upstream) == before, "a figure setting touched a model, metric or corpus file"
    assert fig.stat().st_mtime_ns > fig_before, "the loss figure was not redrawn"
    assert planned_jobs((p := snakemake(run_copy, "-n", configfiles=configs)).stdout + p.stderr) == {}


def _repo_copy(dest: Path) -> Path:
    ignore = shutil.ignore_patterns(
        ".venv", ".git", "results", ".snakemake", ".pytest_cache", ".hypothesis", "__pycache__", "*.pyc"
    )
    shutil.copytree(ROOT, dest, ignore=ignore, symlinks=True)
    return dest


@pytest.fixture(scope="module")
def repo_copy(run_copy: Path, tmp_path_factory) -> Path:
    """A private copy of the repository's code, with the shared run brought up to date with it."""
    repo = _repo_copy(tmp_path_factory.mktemp("code") / "repo")
    sync = subprocess.run(
        _base(repo, run_copy) + ["--cores", "2"], cwd=repo, capture_output=True, text=True, timeout=900
    )
    assert sync.returncode == 0, sync.stderr[-3000:]
    return repo


def _base(repo: Path, wd: Path) -> list[str]:
    return [
        SNAKEMAKE,
        "-s",
        str(repo / "Snakefile"),
        "-d",
        str(wd),
        "--configfile",
        str(repo / "presets" / "smoke.yaml"),
    ]


def _append(text: str):
    return lambda source: source + text


def _reword_docstring(source: str) -> str:
    assert source.startswith('"""'), "the test expects a module docstring"
    return '"""A reworded docstring, ' + source[3:].replace("\n\n", "\n\n\n", 1)


CODE_CHANGE = _append("\n\ndef _changed():\n    return 1\n")


def _planned_after(repo: Path, wd: Path, edits: dict) -> dict[str, int]:
    """Rule → job count of a dry run after editing library files (path → function of the text; restored after)."""
    saved = {}
    try:
        for rel, edit in edits.items():
            path = repo / "workflow" / "bows" / rel
            saved[path] = path.read_text()
            path.write_text(edit(saved[path]))
        proc = subprocess.run(_base(repo, wd) + ["-n"], cwd=repo, capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stderr[-3000:]
        return planned_jobs(proc.stdout + proc.stderr)
    finally:
        for path, text in saved.items():
            path.write_text(text)


def test_identical_code_reruns_nothing(repo_copy: Path, run_copy: Path) -> None:
    assert _planned_after(repo_copy, run_copy, {}) == {}, "an identical copy of the code reruns jobs"


def test_comments_and_docstrings_rerun_nothing(repo_copy: Path, run_copy: Path) -> None:
    edits = {
        "metrics/geometry.py": _append("\n\n# a comment\n"),
        "train.py": _append("\n# a comment\n\n\n"),
        "model.py": _reword_docstring,
        "figures/sweeps.py": _reword_docstring,
    }
    assert _planned_after(repo_copy, run_copy, edits) == {}


def test_plotting_code_change_reruns_only_figure_jobs(repo_copy: Path, run_copy: Path) -> None:
    jobs = _planned_after(repo_copy, run_copy, {"figures/sweeps.py": CODE_CHANGE})
    assert "fig_sweeps" in jobs, jobs
    assert not {"fig_criteria", "fig_months", "sae_figures"} & set(jobs), f"figures that do not draw sweeps: {jobs}"
    assert all(FIGURE_RULE.match(r) for r in jobs), f"non-figure jobs planned for a plotting change: {jobs}"


def test_drawing_helper_change_reruns_every_figure_job_only(repo_copy: Path, run_copy: Path) -> None:
    jobs = _planned_after(repo_copy, run_copy, {"figures/drawing.py": CODE_CHANGE})
    every = {"fig_sweeps", "fig_criteria", "fig_months", "fig_umap_legend", "fig_value_coding"}
    assert every | {"synthetic_gram_grid", "synthetic_metrics_figure", "sae_figures"} <= set(jobs), jobs
    assert all(FIGURE_RULE.match(r) for r in jobs), f"non-figure jobs planned for a plotting change: {jobs}"


def test_synthetic_plotting_change_reruns_only_synthetic_figures(repo_copy: Path, run_copy: Path) -> None:
    jobs = _planned_after(repo_copy, run_copy, {"figures/synthetic.py": CODE_CHANGE})
    assert {"synthetic_gram_grid", "synthetic_metrics_figure"} <= set(jobs), jobs
    assert all(FIGURE_RULE.match(r) for r in jobs), f"non-figure jobs planned for a plotting change: {jobs}"


SAE_UPSTREAM = {"sae_activations", "sae_train", "sae_scores", "sae_summary"}


def test_sae_plotting_change_reruns_only_sae_figures(repo_copy: Path, run_copy: Path) -> None:
    jobs = _planned_after(repo_copy, run_copy, {"figures/sae.py": CODE_CHANGE})
    assert "sae_figures" in jobs, jobs
    assert all(FIGURE_RULE.match(r) for r in jobs), f"non-figure jobs planned for an SAE plotting change: {jobs}"
    assert not SAE_UPSTREAM & set(jobs), jobs


def test_sae_training_change_retrains_saes_never_the_bows_models(repo_copy: Path, run_copy: Path) -> None:
    jobs = _planned_after(repo_copy, run_copy, {"sae/training.py": CODE_CHANGE})
    assert {"sae_train", "sae_scores", "sae_summary", "sae_figures"} <= set(jobs), jobs
    assert "sae_activations" not in jobs, jobs
    assert not [r for r in jobs if UPSTREAM.match(r) or r.startswith(("fig_", "value_coding"))], jobs


def test_metric_change_reruns_metrics_and_figures_never_training(repo_copy: Path, run_copy: Path) -> None:
    jobs = _planned_after(repo_copy, run_copy, {"metrics/geometry.py": CODE_CHANGE})
    assert {"metrics_model", "metrics_criteria", "fig_sweeps"} <= set(jobs), jobs
    assert not {"train_model", "index_windows", "encode_docs", "build_vocab", "prepare_corpus"} & set(jobs), jobs
    # the synthetic metrics use geometry too and rerun (and the pca baselines, built from the recomputed
    # eigenvectors); the synthetic data and training never do
    assert not {"synthetic_data", "synthetic_train"} & set(jobs), jobs
    assert not [r for r in jobs if r.startswith(("value_coding", "sae_"))], jobs


def test_model_change_reruns_training(repo_copy: Path, run_copy: Path) -> None:
    jobs = _planned_after(repo_copy, run_copy, {"model.py": CODE_CHANGE})
    assert {"train_model", "metrics_model", "fig_sweeps"} <= set(jobs), jobs
    assert not {"index_windows", "encode_docs", "build_vocab", "prepare_corpus"} & set(jobs), jobs
