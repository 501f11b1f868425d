"""Rule fig_umap_legend: the colours of the semantic categories, the same in every UMAP figure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ...stage import Job, Stage

STAGE = Stage(__name__, figures=("umap_legend",), sections=("figures",))


def run(job: Job) -> None:
    draw_umap_legend(job.config["figures"], job.figure_paths("umap_legend"))


def draw_umap_legend(figures: Mapping[str, Any], paths: Sequence[str | Path]) -> list[Path]:
    """Draw the category legend to every path of ``paths``."""
    from ..drawing import draw
    from ..theme import figure_width
    from ..umap import umap_legend

    return draw(lambda: umap_legend(width=figure_width(figures)), "Semantic categories", paths, figures)
