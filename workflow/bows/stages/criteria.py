"""Rule metrics_criteria: criteria.json (paper §10 items 1–16 and ours), with provenance embedded."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..io import provenance, read_json, write_json
from ..metrics.criteria import Inputs, evaluate
from .common import load_index

log = logging.getLogger("bows.metrics")


def _parquet(p: str | None) -> pd.DataFrame | None:
    return pd.read_parquet(p) if p and Path(p).is_file() else None


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
    """Evaluate every criterion on the tables that exist (a missing one makes its criteria not applicable)."""
    _, vdf = load_index(vocab) if vocab else (None, None)
    inp = Inputs(
        config,
        vocab=vdf,
        windows=read_json(windows_json) if windows_json else None,
        data_metrics=_parquet(data_metrics),
        metrics_all=_parquet(metrics_all),
        months_metrics=_parquet(months_metrics),
        mechanism=_parquet(mechanism),
        r2_gap=_parquet(r2_gap),
        sweep=_parquet(sweep_summary),
        clusters=_parquet(clusters),
        subspace=_parquet(subspace),
    )
    res = json_clean(evaluate(inp))
    ins = {
        k: v
        for k, v in dict(
            vocab=vocab,
            windows=windows_json,
            data_metrics=data_metrics,
            metrics_all=metrics_all,
            months=months_metrics,
            mechanism=mechanism,
            r2_gap=r2_gap,
            sweep=sweep_summary,
            clusters=clusters,
            subspace=subspace,
        ).items()
        if v
    }
    res["provenance"] = provenance({"analysis": dict(config["analysis"])}, ins, hash_inputs=False)
    write_json(out, res)
    log.info("criteria: %s", res["summary"])
    return res


def json_clean(obj: Any) -> Any:
    """Replace NaN/±inf by None (strict JSON for browsers) and numpy scalars by Python ones, recursively."""
    if isinstance(obj, Mapping):
        return {str(k): json_clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_clean(v) for v in obj]
    if isinstance(obj, (np.bool_, bool)):
        return bool(obj)
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return float(obj) if np.isfinite(obj) else None
    return obj
