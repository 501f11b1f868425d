"""Rule metrics_criteria: the reproduction criteria (paper §10 and ours) as criteria.{parquet,csv,json}."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from ..claims import write_claims
from ..io import read_json
from ..metrics.criteria import Inputs, evaluate, thresholds
from ..stage import Job, Section, Stage
from .common import load_index

log = logging.getLogger("bows.metrics")

# the criteria read the vocabulary settings, the grid (which models the sweep and snapshots hold) and the analysis
# section (reference models, word groups, thresholds)
STAGE = Stage(
    __name__,
    tables=("criteria",),
    files=("json",),
    sections=("vocab", Section("train", only=("grid",)), "analysis"),
)


def _parquet(path: str | None) -> pd.DataFrame | None:
    return pd.read_parquet(path) if path and Path(path).is_file() else None


def run_criteria(
    out: str,
    config: Mapping[str, Any],
    vocab: str | None = None,
    windows_json: str | None = None,
    data_metrics: str | None = None,
    metrics_all: str | None = None,
    months_metrics: str | None = None,
    mechanism: str | None = None,
    r2_gap: str | None = None,
    sweep_summary: str | None = None,
    clusters: str | None = None,
    subspace: str | None = None,
) -> dict[str, Any]:
    """Evaluate every criterion on the tables that exist (a missing one makes its criteria not applicable) and
    write ``out`` (criteria.json) with criteria.parquet and criteria.csv beside it. Returns the JSON's content."""
    tables = {
        "data_metrics": data_metrics,
        "metrics_all": metrics_all,
        "months_metrics": months_metrics,
        "mechanism": mechanism,
        "r2_gap": r2_gap,
        "sweep": sweep_summary,
        "clusters": clusters,
        "subspace": subspace,
    }
    inp = Inputs(
        config,
        vocab=load_index(vocab)[1] if vocab else None,
        windows=read_json(windows_json) if windows_json else None,
        **{name: _parquet(path) for name, path in tables.items()},
    )
    records = evaluate(inp)
    write_claims(
        records,
        str(out).removesuffix(".json"),
        config=STAGE.config_slice(config),
        inputs={"vocab": vocab, "windows": windows_json, **tables},
        extra={"thresholds": thresholds(config["analysis"]["thresholds"])},
    )
    return read_json(out)


def run(job: Job) -> None:
    """Rule metrics_criteria: every criterion on the metric tables the job's inputs name."""
    i = job.input
    run_criteria(
        out=job.output.json,
        config=job.config,
        vocab=i.vocab,
        windows_json=i.windows,
        data_metrics=i.data,
        metrics_all=i.metrics_all,
        months_metrics=i.months,
        mechanism=i.mechanism,
        r2_gap=i.r2_gap,
        sweep_summary=i.sweep,
        clusters=i.clusters,
        subspace=i.subspace,
    )
