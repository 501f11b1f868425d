"""Rule synthetic_gram_grid: the Gram grid of one synthetic structure (paper §7, Fig. 2): WᵀW / tr(WᵀW) of every
model, one row per (activation, weight decay) of :func:`bows.synthetic.variants.figure_rows`, one column per latent
size. Reads the figure keys of the ``synthetic`` section, resolved for the job's data variant."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ...stage import Job, Section, Stage
from ...synthetic.variants import figure_rows

#: the keys of a resolved synthetic variant the figure reads: its rows and columns, the seed it shows, and the data
#: settings in its title
FIGURE_KEYS = (
    "variant",
    "activations",
    "weight_decay",
    "figure_rows",
    "figure_latents",
    "seeds",
    "kappa",
    "beta",
    "sigma",
)
STAGE = Stage(__name__, figures=("gram_grid",), sections=("figures", Section("synthetic", only=FIGURE_KEYS)))


def run(job: Job) -> None:
    draw_gram_grid(
        job.input.gram,
        job.wildcards["structure"],
        job.config["synthetic"],
        job.config["figures"],
        job.figure_paths("gram_grid"),
    )


def draw_gram_grid(
    gram: str | Path,
    structure: str,
    synthetic: Mapping[str, Any],
    figures: Mapping[str, Any],
    paths: Sequence[str | Path],
) -> list[Path]:
    """Draw the Gram grid of ``structure`` from its ``gram`` table to every path of ``paths``; ``synthetic`` is the
    section resolved for its data variant (:func:`bows.synthetic.variants.variants`)."""
    from ..drawing import draw
    from ..synthetic import gram_grid

    table = pd.read_parquet(gram)
    features = int(table["i"].max()) + 1 if len(table) else 0
    seed = int(synthetic["seeds"][0])
    title = (
        f"{structure} ({synthetic['variant']}): WᵀW / tr(WᵀW), F = {features}, κ = {synthetic['kappa']:g}, "
        f"β = {synthetic['beta']:g}, σ = {synthetic['sigma']:g}, seed {seed}"
    )

    def make():
        return gram_grid(table, figure_rows(synthetic), synthetic["figure_latents"], seed=seed, title=title)

    return draw(make, f"{structure} Gram grid", paths, figures, inputs={"gram": str(gram)})
