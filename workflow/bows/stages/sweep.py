"""Rule metrics_sweep: every model's metrics in one table; sweep, losses, loss fits, clusters, subspace tables."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from ..grid import ModelSpec, model_grid
from ..metrics.sweep import cluster_table, loss_fits, losses_table, subspace_table, sweep_tables
from ..metrics.tables import concat, save
from ..stage import Job, Section, Stage

# the analysis settings (thresholds only matter to the criteria) and the grid, which names the models
STAGE = Stage(
    __name__,
    tables=("metrics_all", "sweep", "sweep_summary", "losses", "loss_fit", "clusters", "subspace"),
    sections=(Section("analysis", without=("thresholds",)), Section("train", only=("grid",))),
)


def run_sweep(
    model_metrics: Sequence[str],
    data_metrics: str,
    runs: Sequence[str],
    out: Mapping[str, str],
    specs: Sequence[ModelSpec],
    config: Mapping[str, Any],
) -> None:
    """Concatenate the per-model metric tables and derive the sweep-level tables from them. ``specs[k]`` is the
    model of ``runs[k]`` (its ``run.json``); ``config`` holds the sections of :data:`STAGE` (a whole validated
    config also serves)."""
    if len(specs) != len(runs):
        raise ValueError(f"{len(runs)} run records for {len(specs)} models: give one run.json per model")
    config = STAGE.config_slice(config)
    analysis = config["analysis"]
    metrics_all = concat([pd.read_parquet(p) for p in model_metrics] + [pd.read_parquet(data_metrics)])
    sweep_models = analysis["models"]["sweep"]
    sweep, summary = sweep_tables(metrics_all, sweep_models["variant"], float(sweep_models["weight_decay"]))
    model_runs = list(zip(specs, runs))
    losses = losses_table(model_runs)
    tables = {
        "metrics_all": metrics_all,
        "sweep": sweep,
        "sweep_summary": summary,
        "losses": losses,
        "loss_fit": loss_fits(losses, n_boot=int(analysis["null_permutations"]), seed=int(analysis["seed"])),
        "clusters": cluster_table(metrics_all),
        "subspace": subspace_table(metrics_all, model_runs),
    }
    for name in STAGE.tables:
        save(tables[name], out[name], config, {"models": list(model_metrics)})


def run(job: Job) -> None:
    """Rule metrics_sweep: ``job.input.models`` and ``job.input.runs`` hold one file per model of the grid, in
    :func:`bows.grid.model_grid` order."""
    run_sweep(
        model_metrics=list(job.input.models),
        data_metrics=job.input.data,
        runs=list(job.input.runs),
        out=job.tables(STAGE.tables),
        specs=model_grid(job.config),
        config=job.config,
    )
