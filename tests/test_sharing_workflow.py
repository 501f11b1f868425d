"""Sharing inside the workflow, on the smoke preset: the shared smoke run's export validates (the card's header as
a hub reads it, the RO-Crate with every file's checksum, weights equal to the trained files), and a second work
directory started from that export (train.source) plans and runs no training job, yet gives the same metric tables.
A run whose vocabulary does not match is refused when the workflow starts, with the fix."""

from __future__ import annotations

import re
import shutil

import bows
import bows.config as bcfg
import pandas as pd
import pytest
import yaml
from bows.grid import model_grid
from bows.io import file_sha256, read_json
from bows.sharing import crate, layout
from bows.sharing.card import criteria_rows
from conftest import ROOT, snakemake

pytestmark = pytest.mark.workflow

EXPORT = "results/smoke/export/V400_G5_S1"
MODELS = "results/smoke/models/V400_G5_S1"
METRICS = "results/smoke/metrics/V400_G5_S1"
TRAINING_RULES = ("train_model", "pca_model")


def smoke_config() -> dict:
    return bcfg.load_config(ROOT / "config.yaml", ROOT / "presets/smoke.yaml")


def planned_rules(proc) -> dict[str, int]:
    """Rule → job count from the job stats table of a dry run's output."""
    text = proc.stdout + proc.stderr
    table = text[text.index("Job stats:") :]
    counts = {}
    for line in table.splitlines()[3:]:
        match = re.fullmatch(r"(\w+)\s+(\d+)", line.strip())
        if not match:
            break
        counts[match.group(1)] = int(match.group(2))
    return counts


def start_file(path, export_dir) -> str:
    """A config file starting the run from ``export_dir``; snapshots and the ablation off: they need training."""
    start = {"train": {"source": {"export": str(export_dir)}, "snapshots": {"count": 0}}}
    path.write_text(yaml.safe_dump({**start, "windows": {"exclude_cooccurrence": []}}))
    return str(path)


@pytest.fixture(scope="module")
def exported(smoke_run):
    """The shared smoke run's export (a target on request: only the export jobs run)."""
    snakemake(smoke_run, "--cores", "2", "export")
    return smoke_run


def test_smoke_export_validates(exported):
    from huggingface_hub import ModelCard

    smoke_run = exported
    root = smoke_run / EXPORT
    meta = ModelCard.load(root / layout.CARD).data.to_dict()
    assert meta["library_name"] == "bows" and meta["license"] == smoke_config()["export"]["license"]
    assert "superposition" in meta["tags"] and meta["datasets"] == []  # the bundled text is in no hub dataset
    assert crate.check_crate(root) == []  # ro-crate-py reads it; every file listed with its size and sha256
    grid = bows.load(root, validate=True)
    specs = model_grid(smoke_config())
    assert grid.specs == specs
    for spec in specs:
        trained = smoke_run / MODELS / spec.tag / "model.safetensors"
        assert file_sha256(root / spec.tag / layout.WEIGHTS) == file_sha256(trained)  # byte for byte
    for name in layout.TABLES:
        pd.testing.assert_frame_equal(grid.table(name), pd.read_parquet(smoke_run / METRICS / f"{name}.parquet"))


@pytest.fixture(scope="module")
def imported(exported, tmp_path_factory):
    """A second work dir started from the smoke run's export: its dry run, then metrics and figures."""
    smoke_run = exported
    wd = tmp_path_factory.mktemp("imported")
    start = start_file(wd / "start.yaml", smoke_run / EXPORT)
    configs = ("presets/smoke.yaml", start)
    dry = snakemake(wd, "-n", configfiles=configs)
    run = snakemake(wd, "--cores", "2", "metrics", "figures", configfiles=configs)
    return wd, configs, dry, run


def test_import_plans_no_training_job(imported):
    _, _, dry, _ = imported
    planned = planned_rules(dry)
    assert planned["import_model"] == len(model_grid(smoke_config()))
    assert not set(planned) & set(TRAINING_RULES), planned
    assert {"metrics_model", "fig_sweeps", "sae_train"} <= set(planned)  # the analyses of `all` still run


def test_imported_run_trains_nothing_and_gives_equal_tables(imported, smoke_run):
    wd, configs, _, run = imported
    log = run.stdout + run.stderr
    assert "rule import_model" in log and not any(f"rule {r}" in log for r in TRAINING_RULES)
    for spec in model_grid(smoke_config()):
        assert file_sha256(wd / MODELS / spec.tag / "model.safetensors") == file_sha256(
            smoke_run / MODELS / spec.tag / "model.safetensors"
        )
    for name in layout.TABLES:
        ours = pd.read_parquet(wd / METRICS / f"{name}.parquet")
        pd.testing.assert_frame_equal(ours, pd.read_parquet(smoke_run / METRICS / f"{name}.parquet"))
    theirs = criteria_rows(bows.load(smoke_run / EXPORT).criteria)
    ours = criteria_rows(read_json(wd / METRICS / "criteria.json"))
    assert [(c["id"], c["status"], c["value"]) for c in ours] == [(c["id"], c["status"], c["value"]) for c in theirs]
    assert list((wd / "results/smoke/figures/V400_G5_S1").glob("sweeps_*.png"))
    again = snakemake(wd, "-n", "metrics", "figures", configfiles=configs)
    assert "Nothing to be done" in again.stdout + again.stderr  # imported models stay up to date


def test_mismatched_vocabulary_is_refused_at_start(imported, smoke_run, tmp_path):
    wd, configs, _, _ = imported
    bigger = tmp_path / "bigger.yaml"
    bigger.write_text(yaml.safe_dump({"vocab": {"size": 300}}))
    proc = snakemake(wd, "-n", configfiles=(*configs, str(bigger)), check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert (
        "made on another vocabulary" in out
        and "vocab.size = 400 in the export (all 11 models), 300 here" in out
        and "fix:" in out
    )
    # same size, other words: a copy of the export whose vocabulary swaps two words, against the run's vocab.tsv
    other = tmp_path / "other"
    shutil.copytree(smoke_run / EXPORT, other)
    lines = (other / layout.VOCAB).read_text().splitlines()
    cells = [line.split("\t") for line in lines]
    cells[41][1], cells[42][1] = cells[42][1], cells[41][1]
    (other / layout.VOCAB).write_text("\n".join("\t".join(c) for c in cells) + "\n")
    proc = snakemake(wd, "-n", configfiles=("presets/smoke.yaml", start_file(tmp_path / "s.yaml", other)), check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "is not this run's" in out and "2 of 400 positions hold other words (40:" in out
