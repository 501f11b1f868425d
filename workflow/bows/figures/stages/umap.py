"""Rule fig_umap: the UMAP of one model's word embeddings by semantic category (paper §6.5), with its kNN category
purity against the permutation null in the subtitle."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ...grid import ModelSpec
from ...stage import Job, Stage

STAGE = Stage(__name__, figures=("umap",), sections=("figures",))


def run(job: Job) -> None:
    draw_umap(job.model, dict(job.input.items()), job.config["figures"], job.figure_paths("umap"))


def draw_umap(
    model: ModelSpec, tables: Mapping[str, str], figures: Mapping[str, Any], paths: Sequence[str | Path]
) -> list[Path]:
    """Draw the UMAP of ``model`` from its ``umap`` table (and the ``clusters`` table, when given, for the
    subtitle) to every path of ``paths``."""
    from ..drawing import PAPER_ASPECT, draw
    from ..theme import figure_width, model_label
    from ..umap import cluster_note, umap_scatter

    title = f"UMAP of word embeddings: {model_label(model)}"

    def make():
        clusters = pd.read_parquet(tables["clusters"]) if tables.get("clusters") else None
        note = cluster_note(clusters, model)
        subtitle = f"\n{note}" if note else ""
        return umap_scatter(pd.read_parquet(tables["umap"]), title=title + subtitle, width=figure_width(figures))

    return draw(make, title, paths, figures, inputs=tables, unavailable_aspect=PAPER_ASPECT)
