"""The synthetic branch's figure jobs: the Gram grid of one structure, and the metrics against the latent size of
all of them. Apart from the metric and claim jobs (:mod:`.pipeline`), so that only these jobs' code hash takes in the
plotting code."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from .. import io
from .runs import _provenance_config
from .variants import figure_rows

__all__ = ["draw_gram_grid", "draw_metrics_figure"]


def _save(fig, outputs: Sequence[str | Path], figures: Mapping[str, Any], prov: dict, inputs: dict) -> list[Path]:
    from ..figures.theme import save_figure

    outputs = [Path(p) for p in outputs]
    formats = [p.suffix.lstrip(".") for p in outputs]
    paths = save_figure(fig, outputs[0].with_suffix(""), formats=formats, dpi=int(figures["dpi"]))
    for path in paths:
        io.write_sidecar(path, prov, inputs=inputs)
    return paths


def draw_gram_grid(
    gram_table: str | Path,
    structure: str,
    syn: Mapping[str, Any],
    figures: Mapping[str, Any],
    outputs: Sequence[str | Path],
) -> list[Path]:
    """Draw the Gram grid of one structure (rows from :func:`figure_rows`) to every path in ``outputs``."""
    from ..figures.synthetic import gram_grid
    from ..figures.theme import NotAvailable, apply_theme, unavailable_figure

    apply_theme(figures)
    gram = pd.read_parquet(gram_table)
    F = int(gram["i"].max()) + 1 if len(gram) else 0
    title = (
        f"{structure} ({syn['variant']}): WᵀW / tr(WᵀW), F = {F}, κ = {syn['kappa']:g}, "
        f"β = {syn['beta']:g}, σ = {syn['sigma']:g}, seed {syn['seeds'][0]}"
    )
    try:
        fig = gram_grid(gram, figure_rows(syn), syn["figure_latents"], seed=int(syn["seeds"][0]), title=title)
    except NotAvailable as err:
        fig = unavailable_figure(f"{structure} Gram grid", str(err))
    return _save(fig, outputs, figures, _provenance_config(syn, structure), {"gram": str(gram_table)})


def draw_metrics_figure(table: str | Path, figures: Mapping[str, Any], outputs: Sequence[str | Path]) -> list[Path]:
    """Draw the metrics-vs-latent figure of every structure to every path in ``outputs``."""
    from ..figures.synthetic import metrics_vs_latent
    from ..figures.theme import NotAvailable, apply_theme, unavailable_figure

    apply_theme(figures)
    try:
        fig = metrics_vs_latent(pd.read_parquet(table))
    except NotAvailable as err:
        fig = unavailable_figure("synthetic metrics", str(err))
    return _save(fig, outputs, figures, {"figures": dict(figures)}, {"table": str(table)})
