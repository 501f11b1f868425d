"""Rule fig_ablation: the co-occurrence ablation's rings, data and models, per window set
(:mod:`bows.figures.ablation`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..stage import Job, Stage

STAGE = Stage(__name__, figures=("ablation_rings",), sections=("figures",))


def draw_ablation(
    summary: str,
    data_rings: Mapping[str, str],
    model_groups: Mapping[tuple[str, str], str],
    group: str | None,
    window_sets: Sequence[str],
    model_tags: Sequence[str],
    figures: Mapping[str, Any],
    outputs: Sequence[str],
) -> list:
    """Draw and save the figure (every format of ``outputs``); a ring that cannot be drawn at this scale, or no
    cyclic group ablated (``group`` None), gives the "not available" figure."""
    import pandas as pd

    from ..figures.ablation import ablation_rings
    from ..figures.drawing import NotAvailable, draw
    from ..figures.theme import figure_width

    def make():
        if group is None:
            raise NotAvailable("no cyclic word group is ablated (windows.exclude_cooccurrence)")
        return ablation_rings(
            pd.read_parquet(summary),
            {wset: pd.read_parquet(p) for wset, p in data_rings.items()},
            {key: pd.read_parquet(p) for key, p in model_groups.items()},
            group,
            window_sets,
            model_tags,
            width=figure_width(figures),
        )

    inputs = {"summary": summary, **{f"data_{k}": v for k, v in data_rings.items()}}
    return draw(make, "Co-occurrence ablation: rings", outputs, figures, inputs=inputs)


def run(job: Job) -> None:
    """Inputs are lists in the order of params ``window_sets`` (and ``model_tags`` within each set)."""
    sets, tags = list(job.params["window_sets"]), list(job.params["model_tags"])
    keys = [(wset, tag) for wset in sets for tag in tags]
    draw_ablation(
        summary=str(job.input.summary),
        data_rings={wset: str(p) for wset, p in zip(sets, job.input.data_rings, strict=True)},
        model_groups={key: str(p) for key, p in zip(keys, job.input.model_groups, strict=True)},
        group=job.params["group"],
        window_sets=sets,
        model_tags=tags,
        figures=job.config["figures"],
        outputs=job.figure_paths("ablation_rings"),
    )
