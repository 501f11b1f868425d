"""A reference's best layer for a word group, chosen from the reference's own geometry (never from its alignment
with a BOWS model, so that the alignment tests at that layer are not selected after the fact).

Among the layers where the most of the group's words have a vector, the best layer has the most ring-adjacent
pairs on the first two principal components, then the highest order agreement, then the highest circulant R²;
remaining ties go to the earliest layer (the token embedding counts as layer −1). Order agreement and circulant R² are
compared to :data:`DIGITS` decimals: a perfect ring's order agreement is 1 only up to rounding (1 − 1e−16 at some
layers), which must not decide between layers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["BestLayer", "best_layer", "ring_by_layer", "DIGITS"]

DIGITS = 9  # decimals of the order agreement and circulant R² that rank layers


@dataclass(frozen=True)
class BestLayer:
    layer: str
    layer_index: int
    adjacent: float
    n_words: int
    order_agreement: float
    circulant_r2: float


def ring_by_layer(geometry: pd.DataFrame, reference: str, group: str = "Months") -> pd.DataFrame:
    """One row per layer of ``reference``: n_found, ring_adjacent_pairs, order_agreement, circulant_r2 of ``group``."""
    sub = geometry[(geometry["object"] == reference) & (geometry["kind"] == "reference") & (geometry["scope"] == group)]
    metrics = ["n_found", "ring_adjacent_pairs", "order_agreement", "circulant_r2"]
    sub = sub[sub["metric"].isin(metrics)]
    if not len(sub):
        return pd.DataFrame(columns=["layer", "layer_index", *metrics])
    wide = sub.pivot_table(index=["layer", "layer_index"], columns="metric", values="value", aggfunc="first")
    wide = wide.reindex(columns=metrics).reset_index().sort_values("layer_index", kind="stable")
    return wide.reset_index(drop=True)


def best_layer(geometry: pd.DataFrame, reference: str, group: str = "Months") -> BestLayer | None:
    """The best layer of ``reference`` for ``group`` (module docstring), or None when no layer has a ring measure."""
    wide = ring_by_layer(geometry, reference, group).dropna(subset=["ring_adjacent_pairs"])
    if not len(wide):
        return None
    wide = wide[wide["n_found"] == wide["n_found"].max()]
    key = wide[["ring_adjacent_pairs", "order_agreement", "circulant_r2"]].round(DIGITS).fillna(-np.inf)
    order = np.lexsort(
        (
            wide["layer_index"].to_numpy(),
            -key["circulant_r2"].to_numpy(),
            -key["order_agreement"].to_numpy(),
            -key["ring_adjacent_pairs"].to_numpy(),
        )
    )
    row = wide.iloc[int(order[0])]
    return BestLayer(
        str(row["layer"]),
        int(row["layer_index"]),
        float(row["ring_adjacent_pairs"]),
        int(row["n_found"]),
        float(row["order_agreement"]),
        float(row["circulant_r2"]),
    )
