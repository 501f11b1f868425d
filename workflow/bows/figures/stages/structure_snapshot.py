"""Rule fig_structure_snapshot: the PCA snapshots of the word groups at one latent size (paper §6.4, Fig. 6 insets),
of the structure sweep's lowest-seed model at that size (param ``model``; none when the grid has no such model)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ...grid import ModelSpec
from ...stage import Job, Stage

STAGE = Stage(__name__, figures=("structure_snapshot",), sections=("figures",))


def run(job: Job) -> None:
    model = job.params["model"]
    draw_structure_snapshot(
        int(job.wildcards["latent"]),
        job.input.get("groups"),
        ModelSpec(**model) if model else None,
        job.config["figures"],
        job.figure_paths("structure_snapshot"),
    )


def draw_structure_snapshot(
    latent: int,
    groups: str | None,
    model: ModelSpec | None,
    figures: Mapping[str, Any],
    paths: Sequence[str | Path],
) -> list[Path]:
    """Draw the snapshots at ``latent`` of model ``model`` from its ``groups`` table (None: the grid trains no such
    model, which the figure says) to every path of ``paths``."""
    from ..drawing import PAPER_ASPECT, draw
    from ..structure import snapshot_figure
    from ..theme import figure_width, settings

    def make():
        table = pd.read_parquet(groups) if groups else None
        chosen = tuple(settings(figures)["snapshot_groups"])
        return snapshot_figure(table, latent, groups=chosen, model=model, width=figure_width(figures))

    title = f"PCA snapshots at L = {latent}"
    inputs = {"groups": groups} if groups else {}
    return draw(make, title, paths, figures, inputs=inputs, unavailable_aspect=PAPER_ASPECT)
