"""The metric tables of the report, each written as CSV (download) and HTML (read in the report).

Most are a metric table as it is; two are views: ``model_metrics`` (one row per model, one column per scope="model"
metric of ``metrics_all``) and ``exposure`` (one row per weight decay of the trained models, with its decay exposure
E = wd · Σ lr_t from the ``subspace`` table, which the report's front page quotes).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from .. import io

__all__ = ["REPORT_TABLES", "model_metrics_wide", "exposure_table", "report_view", "write_report_table"]

#: report table → the metric table it is made from
REPORT_TABLES = {
    "model_metrics": "metrics_all",
    "loss_fit": "loss_fit",
    "clusters": "clusters",
    "sweep_summary": "sweep_summary",
    "subspace": "subspace",
    "exposure": "subspace",
}

MODEL_KEYS = ["model", "variant", "latent", "wd", "seed"]


def model_metrics_wide(metrics_all: pd.DataFrame) -> pd.DataFrame:
    """scope="model" metrics as one row per model and one column per metric (the per-model summary table)."""
    rows = metrics_all[(metrics_all["scope"] == "model") & (metrics_all["model"] != "data")]
    if rows.empty:
        return pd.DataFrame(columns=MODEL_KEYS)
    wide = (
        rows.groupby([*MODEL_KEYS, "metric"], dropna=False, sort=False)["value"].first().unstack("metric").reset_index()
    )
    wide.columns.name = None
    return wide.sort_values(["variant", "wd", "latent", "seed"]).reset_index(drop=True)


def exposure_table(subspace: pd.DataFrame) -> pd.DataFrame:
    """One row per weight decay of the trained models (pca models train nothing): ``wd, steps, decay_exposure,
    decay_exposure_paper, models``. E depends on the weight decay and the schedule only, so every model of a
    weight decay has the same E; ``models`` counts them."""
    columns = ["wd", "steps", "decay_exposure", "decay_exposure_paper", "models"]
    trained = subspace[(subspace["variant"] != "pca") & subspace["steps"].notna()]
    if trained.empty:
        return pd.DataFrame(columns=columns)
    table = (
        trained.groupby(["wd", "steps"], sort=True)
        .agg(
            decay_exposure=("decay_exposure", "first"),
            decay_exposure_paper=("decay_exposure_paper", "first"),
            models=("model", "count"),
        )
        .reset_index()
    )
    return table.astype({"wd": float, "steps": int})[columns]


def report_view(name: str, table: pd.DataFrame) -> pd.DataFrame:
    """Report table ``name`` made from its metric table (:data:`REPORT_TABLES`)."""
    views = {"model_metrics": model_metrics_wide, "exposure": exposure_table}
    return views[name](table) if name in views else table


def write_report_table(name: str, source: str | Path, outputs: Mapping[str, str | Path]) -> list[Path]:
    """Read the metric table ``source`` (parquet) and write report table ``name`` to ``outputs["csv"]`` and
    ``outputs["html"]``, each with a sidecar naming the source."""
    table = report_view(name, pd.read_parquet(source))
    csv, html = Path(outputs["csv"]), Path(outputs["html"])
    with io.atomic_path(csv) as tmp:
        table.to_csv(tmp, index=False)
    io.write_html_table(table, html, name, na_rep="NaN")
    for path in (csv, html):
        io.write_sidecar(path, None, inputs={"table": str(source)})
    return [csv, html]
