"""Rule synthetic_metrics_figure: the synthetic metrics against the latent size, one panel per metric and (data
variant, structure) (:func:`bows.figures.synthetic.metrics_vs_latent`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ...stage import Job, Stage

STAGE = Stage(__name__, figures=("metrics_vs_latent",), sections=("figures",))


def run(job: Job) -> None:
    draw_metrics_figure(job.input.table, job.config["figures"], job.figure_paths("metrics_vs_latent"))


def draw_metrics_figure(table: str | Path, figures: Mapping[str, Any], paths: Sequence[str | Path]) -> list[Path]:
    """Draw the metrics of the synthetic ``table`` (every variant and structure) to every path of ``paths``."""
    from ..drawing import draw
    from ..synthetic import metrics_vs_latent

    return draw(
        lambda: metrics_vs_latent(pd.read_parquet(table)), "synthetic metrics", paths, figures, {"table": str(table)}
    )
