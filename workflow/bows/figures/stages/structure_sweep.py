"""Rule fig_structure_sweep: the structure sweep of the paper (§6.4, Fig. 6) on the raw or the cosine Gram matrix,
chosen by the rule's ``gram`` wildcard, with the snapshot latent sizes (``analysis.snapshot_latents``) marked."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ...stage import Job, Section, Stage

STAGE = Stage(
    __name__,
    figures=("structure_sweep",),
    sections=("figures", Section("analysis", only=("snapshot_latents",))),
)

#: the ``gram`` wildcard → the sweep table's metric
METRICS = {"raw": "offdiag_raw", "cos": "offdiag_cos"}


def run(job: Job) -> None:
    draw_structure_sweep(
        METRICS[job.wildcards["gram"]],
        dict(job.input.items()),
        job.config["figures"],
        job.figure_paths("structure_sweep"),
        snapshot_latents=job.config["analysis"]["snapshot_latents"],
    )


def draw_structure_sweep(
    metric: str,
    tables: Mapping[str, str],
    figures: Mapping[str, Any],
    paths: Sequence[str | Path],
    snapshot_latents: Sequence[int] = (),
) -> list[Path]:
    """Draw the sweep curves of ``metric`` (offdiag_raw | offdiag_cos) from the ``sweep`` and ``summary`` tables to
    every path of ``paths``, with dotted lines at ``snapshot_latents``."""
    from ..drawing import PAPER_ASPECT, draw
    from ..structure import sweep_figure
    from ..theme import figure_width, settings

    def make():
        return sweep_figure(
            pd.read_parquet(tables["sweep"]),
            pd.read_parquet(tables["summary"]),
            metric=metric,
            groups=settings(figures)["sweep_groups"],
            snapshot_latents=snapshot_latents,
            width=figure_width(figures),
        )

    title = f"Structure sweep ({metric})"
    return draw(make, title, paths, figures, inputs=tables, unavailable_aspect=PAPER_ASPECT)
