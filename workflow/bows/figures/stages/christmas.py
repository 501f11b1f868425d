"""Rule fig_mechanism_christmas: 'Christmas' against the twelve months (paper §6.7): its correlated tower and the
contribution of every month to its pre-activation."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ...stage import Job, Stage

STAGE = Stage(__name__, figures=("mechanism_christmas_months",), sections=("figures",))

TARGET = "Christmas"


def run(job: Job) -> None:
    tables = {name: job.input[name] for name in ("towers", "metrics")}
    draw_christmas(tables, job.config["figures"], job.figure_paths("mechanism_christmas_months"))


def draw_christmas(
    tables: Mapping[str, str], figures: Mapping[str, Any], paths: Sequence[str | Path], target: str = TARGET
) -> list[Path]:
    """Draw ``target`` against the months from the ``towers`` and ``metrics`` tables to every path of ``paths``."""
    from ..drawing import PAPER_ASPECT, draw
    from ..mechanism import christmas_months
    from ..theme import figure_width

    def make():
        towers, metrics = pd.read_parquet(tables["towers"]), pd.read_parquet(tables["metrics"])
        return christmas_months(towers, metrics, target=target, width=figure_width(figures))

    title = f"'{target}' vs the twelve months"
    return draw(make, title, paths, figures, inputs=tables, unavailable_aspect=PAPER_ASPECT)
