"""Rule fig_mechanism: the mechanism figure of one target word (paper §6.6–6.7), chosen by the rule's ``target``
wildcard."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ...stage import Job, Stage

STAGE = Stage(__name__, figures=("mechanism",), sections=("figures",))

#: the tables of the mechanism metrics it draws
TABLES = ("r2", "density", "towers", "metrics")


def run(job: Job) -> None:
    tables = {name: job.input[name] for name in TABLES}
    draw_mechanism(job.wildcards["target"], tables, job.config["figures"], job.figure_paths("mechanism"))


def draw_mechanism(
    target: str, tables: Mapping[str, str], figures: Mapping[str, Any], paths: Sequence[str | Path]
) -> list[Path]:
    """Draw the mechanism figure of ``target`` from the tables of :data:`TABLES` to every path of ``paths``."""
    from ..drawing import PAPER_ASPECT, draw
    from ..mechanism import mechanism_figure
    from ..theme import figure_width

    def make():
        frames = {name: pd.read_parquet(tables[name]) for name in TABLES}
        return mechanism_figure(
            target, frames["r2"], frames["density"], frames["towers"], frames["metrics"], width=figure_width(figures)
        )

    return draw(make, f"Mechanism: '{target}'", paths, figures, inputs=tables, unavailable_aspect=PAPER_ASPECT)
