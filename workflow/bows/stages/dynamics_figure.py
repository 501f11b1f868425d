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

    from ..figures.dynamics import dynamics_figure
    from ..figures.theme import NotAvailable, apply_theme, save_outputs, unavailable_figure

    settings = apply_theme(figures)
    try:
        fig = dynamics_figure(pd.read_parquet(table), latent, width=float(settings["width"]))
    except NotAvailable as why:
        fig = unavailable_figure("Training dynamics", str(why))
    save_outputs(fig, outputs, settings, {"dynamics": table})


def run(job: Job) -> None:
    render_dynamics(
        table=job.input.table,
        outputs=job.figure_paths("dynamics"),
        figures=job.config["figures"],
        latent=job.config["dynamics"]["latent"],
    )
