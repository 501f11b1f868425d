"""Tidy tables shared by the metric stages (schema in docs/metrics.md: model × scope × item × metric)."""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from ..grid import ModelSpec
from ..io import atomic_path, write_sidecar

TIDY_COLUMNS = ["model", "variant", "latent", "wd", "seed", "scope", "item", "metric", "value", "status"]

__all__ = ["TIDY_COLUMNS", "Rows", "save", "metric_tables", "concat"]


class Rows:
    """Collects tidy metric rows for one model (or for the data when ``spec`` is None)."""

    def __init__(self, spec: ModelSpec | None = None):
        self.spec = spec
        self.rows: list[dict[str, Any]] = []

    def add(self, scope: str, metric: str, value: Any, item: str = "", status: str = "ok") -> None:
        try:
            v = float(value) if value is not None else float("nan")
        except (TypeError, ValueError):
            v = float("nan")
        if status == "ok" and not math.isfinite(v):
            status = "undefined"
        s = self.spec
        self.rows.append(
            {
                "model": s.tag if s else "data",
                "variant": s.variant if s else None,
                "latent": s.latent if s else None,
                "wd": s.weight_decay if s else None,
                "seed": s.seed if s else None,
                "scope": scope,
                "item": item,
                "metric": metric,
                "value": v,
                "status": status,
            }
        )

    def add_many(self, scope: str, values: Mapping[str, Any], item: str = "", status: str = "ok") -> None:
        for k, v in values.items():
            if isinstance(v, str):
                continue
            self.add(scope, k, v, item, status)

    def frame(self) -> pd.DataFrame:
        df = pd.DataFrame(self.rows, columns=TIDY_COLUMNS)
        return df.astype({"latent": "Int64", "seed": "Int64", "wd": "Float64", "value": "float64"})


def save(
    df: pd.DataFrame,
    path: str | os.PathLike,
    config: Mapping[str, Any] | None = None,
    inputs: Mapping[str, Any] | None = None,
) -> None:
    """Write ``<stem>.parquet`` and ``<stem>.csv`` atomically, plus the parquet's provenance sidecar.

    ``path`` is the parquet path or the stem; stems may contain dots (``L16_wd1.0_seed1``), so suffixes are
    appended, never replaced.
    """
    s = str(path)
    for ext in (".parquet", ".csv"):
        if s.endswith(ext):
            s = s[: -len(ext)]
    pq, csv = Path(s + ".parquet"), Path(s + ".csv")
    with atomic_path(pq) as tmp:
        df.to_parquet(tmp, index=False)
    with atomic_path(csv) as tmp:
        df.to_csv(tmp, index=False)
    write_sidecar(pq, config=config, inputs=inputs, hash_inputs=False)


def metric_tables(stem: str, *names: str) -> dict[str, str]:
    """Snakemake output names of tables under ``stem`` (:func:`bows.stage.table_outputs`): ``name`` → parquet,
    ``name_csv`` → CSV."""
    from ..stage import table_outputs

    return table_outputs(stem, names)


def concat(frames: Iterable[pd.DataFrame]) -> pd.DataFrame:
    frames = [f for f in frames if f is not None and len(f)]
    if not frames:
        return pd.DataFrame(columns=TIDY_COLUMNS)
    return pd.concat(frames, ignore_index=True)
