"""Rule metrics_sweep: every model's metrics in one table; sweep, losses, loss fits, clusters, subspace tables."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from ..metrics.sweep import cluster_table, loss_fits, losses_table, subspace_table, sweep_tables
from ..metrics.tables import concat, save, spec_from_tag


def run_sweep(
    model_metrics: Sequence[str],
    data_metrics: str,
    runs: Sequence[str],
    out: Mapping[str, str],
    analysis: Mapping[str, Any],
    tags: Sequence[str],
    config: Mapping[str, Any] | None = None,
) -> None:
    """Concatenate the per-model metric tables and derive the sweep-level tables from them."""
    allm = concat([pd.read_parquet(p) for p in model_metrics] + [pd.read_parquet(data_metrics)])
    sw = analysis["models"]["sweep"]
    sweep, summ = sweep_tables(allm, sw["variant"], float(sw["weight_decay"]))
    specs = [(spec_from_tag(t), r) for t, r in zip(tags, runs)]
    losses = losses_table(specs)
    fits = loss_fits(losses, n_boot=int(analysis["null_permutations"]), seed=int(analysis["seed"]))
    ins = {"models": list(model_metrics)}
    save(allm, out["all"], config, ins)
    save(sweep, out["sweep"], config, ins)
    save(summ, out["summary"], config, ins)
    save(losses, out["losses"], config, ins)
    save(fits, out["loss_fit"], config, ins)
    save(cluster_table(allm), out["clusters"], config, ins)
    if "subspace" in out:
        save(subspace_table(allm, specs), out["subspace"], config, ins)
