"""Rule fig_dynamics: the training-dynamics figure of one latent size (bows.figures.dynamics) and the settling of
its models as a CSV the figure's caption quotes (``settle_csv``, a report table)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..stage import Job, Section, Stage

STAGE = Stage(
    __name__,
    figures=("dynamics",),
    files=("settle_csv",),
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


def write_figure_settle(settle: str, out: str, latent: int | None = None) -> None:
    """The figure's models' settling (bows.metrics.dynamics.figure_settle) as CSV, for the caption."""
    import pandas as pd

    from .. import io
    from ..metrics.dynamics import figure_settle

    with io.atomic_path(out) as tmp:
        figure_settle(pd.read_parquet(settle), latent).to_csv(tmp, index=False, float_format="%.6g")


def run(job: Job) -> None:
    write_figure_settle(job.input.settle, job.output.settle_csv, job.config["dynamics"]["latent"])
    render_dynamics(
        table=job.input.table,
        outputs=job.figure_paths("dynamics"),
        figures=job.config["figures"],
        latent=job.config["dynamics"]["latent"],
    )
