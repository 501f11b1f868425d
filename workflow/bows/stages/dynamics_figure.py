"""Rule fig_dynamics: the training-dynamics figure of one latent size (bows.figures.dynamics)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..stage import Job, Section, Stage

STAGE = Stage(
    __name__,
    figures=("dynamics",),
    sections=("figures", Section("dynamics", only=("latent",))),
)


def render_dynamics(table: str, outputs: Sequence[str], figures: Mapping[str, Any], latent: int | None = None) -> None:
    """Draw the figure from the gathered ``dynamics`` table (or the "not available" figure, with the reason)."""
    import pandas as pd

    from ..figures.drawing import draw
    from ..figures.dynamics import dynamics_figure
    from ..figures.theme import figure_width

    width = figure_width(figures)
    draw(
        lambda: dynamics_figure(pd.read_parquet(table), latent, width=width),
        "Training dynamics",
        outputs,
        figures,
        {"dynamics": table},
    )


def run(job: Job) -> None:
    render_dynamics(
        table=job.input.table,
        outputs=job.figure_paths("dynamics"),
        figures=job.config["figures"],
        latent=job.config["dynamics"]["latent"],
    )
