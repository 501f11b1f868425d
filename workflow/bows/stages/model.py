"""Rule metrics_model: every per-model metric of one grid model."""

from __future__ import annotations

import logging
import time
from typing import Any, Mapping

import pandas as pd

from ..metrics.model_metrics import model_metrics
from ..metrics.subspace import load_subspace, subspace_metrics
from ..metrics.tables import Rows, save, spec_from_tag
from .common import load_model

log = logging.getLogger("bows.metrics")


def run_model(model: str, vocab: str, cooc: str | None, out: Mapping[str, str], analysis: Mapping[str, Any],
              tag: str, config: Mapping[str, Any] | None = None, subspace: str | None = None) -> None:
    """Every per-model metric, with the principal-subspace overlap when ``subspace`` names the eigenvector file."""
    index, groups, W, b = load_model(model, vocab, analysis)
    cooc_df = pd.read_parquet(cooc) if cooc else None
    rows = Rows(spec_from_tag(tag))
    t0 = time.perf_counter()
    words, gtab, gram = model_metrics(W, b, index, groups, rows, cooc_df, int(analysis["null_permutations"]),
                                      int(analysis["seed"]), int(analysis["knn_k"]))
    values, status = subspace_metrics(W, load_subspace(subspace) if subspace else None)
    always = ("frob2_per_latent", "random_baseline")
    rows.add_many("subspace", {k: values.pop(k) for k in always})
    rows.add_many("subspace", values, status=status)
    log.info("model metrics of %s in %.1f s", tag, time.perf_counter() - t0)
    ins = {"model": model, "vocab": vocab}
    save(rows.frame(), out["metrics"], config, ins)
    save(words, out["words"], config, ins)
    save(gtab, out["groups"], config, ins)
    save(gram, out["gram"], config, ins)
