"""Rule fig_months: one month figure of the paper (§6.1–6.3), chosen by the rule's ``kind`` wildcard."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ...stage import Job, Stage

STAGE = Stage(__name__, figures=("months",), sections=("figures",))

#: figure kind → its title (also the title of its "not available" figure)
TITLES = {
    "corr": "Months: co-occurrence correlation (data)",
    "ring_data": "Months: PCA of the data",
    "ring_weights": "Months: PCA of the weights",
    "seasonal": "Months and seasonal words",
}


def run(job: Job) -> None:
    draw_months(job.wildcards["kind"], dict(job.input.items()), job.config["figures"], job.figure_paths("months"))


def draw_months(
    kind: str, tables: Mapping[str, str], figures: Mapping[str, Any], paths: Sequence[str | Path]
) -> list[Path]:
    """Draw month figure ``kind`` (corr | ring_data | ring_weights | seasonal) from its tables (``cooc``;
    ``ring``; ``ring`` + ``metrics``; ``seasonal`` + ``metrics``) to every path of ``paths``."""
    from .. import months
    from ..drawing import PAPER_ASPECT, draw
    from ..theme import figure_width, table_model_label

    if kind not in TITLES:
        raise ValueError(f"unknown months figure kind {kind!r}; expected one of {sorted(TITLES)}")
    width = figure_width(figures)

    def make():
        if kind == "corr":
            return months.corr_matrix(pd.read_parquet(tables["cooc"]), width=width)
        if kind == "ring_data":
            title = "Months: PCA of the data (row-centred)"
            return months.ring(pd.read_parquet(tables["ring"]), source="data", title=title, width=width)
        metrics = pd.read_parquet(tables["metrics"])
        model = table_model_label(metrics)
        if kind == "ring_weights":
            title = f"Months: PCA of normalised weights\n{model}"
            return months.ring(pd.read_parquet(tables["ring"]), source="weights_norm", width=width, title=title)
        return months.months_seasonal(
            pd.read_parquet(tables["seasonal"]),
            evr=months.evr_from_metrics(metrics),
            width=width,
            title=f"Months and seasonal words\n{model}",
        )

    return draw(make, TITLES[kind], paths, figures, inputs=tables, unavailable_aspect=PAPER_ASPECT)
