"""Rule fig_sweeps: our figures over the training grid (loss scaling, feature dimensionality, circularity, cluster
scores and the principal subspace), from the metric tables of every grid model.

The per-model ``words`` tables carry no model columns; the rule names their models in the param ``models`` (the
fields of each :class:`~bows.grid.ModelSpec`, in the order of the ``words`` inputs).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ...grid import ModelSpec
from ...stage import Job, Stage

STAGE = Stage(
    __name__, figures=("loss", "dimensionality", "circularity", "clusters", "subspace"), sections=("figures",)
)

#: figure → its title (also the title of its "not available" figure)
TITLES = {
    "loss": "Loss against latent size",
    "dimensionality": "Feature dimensionality",
    "circularity": "Circularity of cyclic groups",
    "clusters": "Semantic cluster scores",
    "subspace": "Weight decay and the principal subspace",
}
#: the metric tables the figures read
TABLES = ("losses", "loss_fit", "metrics_all", "clusters", "subspace")


def run(job: Job) -> None:
    models = [ModelSpec(**fields) for fields in job.params["models"]]
    draw_sweeps(
        {name: job.input[name] for name in TABLES},
        dict(zip(models, job.input.words, strict=True)),
        job.config["figures"],
        {name: job.figure_paths(name) for name in STAGE.figures},
    )


def read_words(words: Mapping[ModelSpec, str | Path]) -> pd.DataFrame:
    """The per-model ``words`` tables in one, with the columns ``model, variant, latent, wd, seed`` of each model."""
    columns = ["word", "norm", "dim_frac"]
    frames = [
        pd.read_parquet(path, columns=columns).assign(
            model=spec.tag, variant=spec.variant, latent=spec.latent, wd=spec.weight_decay, seed=spec.seed
        )
        for spec, path in words.items()
    ]
    if not frames:
        return pd.DataFrame(columns=[*columns, "model", "variant", "latent", "wd", "seed"])
    return pd.concat(frames, ignore_index=True)


def draw_sweeps(
    tables: Mapping[str, str],
    words: Mapping[ModelSpec, str],
    figures: Mapping[str, Any],
    outputs: Mapping[str, Sequence[str | Path]],
) -> dict[str, list[Path]]:
    """Draw every sweep figure of ``outputs`` (figure → its paths, one per format) from the metric tables of
    :data:`TABLES` and the per-model ``words`` tables."""
    from .. import sweeps
    from ..drawing import draw
    from ..subspace import subspace_figure
    from ..theme import figure_width

    unknown = sorted(set(outputs) - set(STAGE.figures))
    if unknown:
        raise KeyError(f"unknown sweep figures {unknown}; expected some of {STAGE.figures}")
    width = figure_width(figures)
    losses, loss_fit = pd.read_parquet(tables["losses"]), pd.read_parquet(tables["loss_fit"])
    # the geometry figures draw the paper's ReLU models (one line per weight decay); the linear and pca baselines
    # are drawn beside them in the loss and subspace figures and listed in the tables
    metrics_all = sweeps.relu_only(pd.read_parquet(tables["metrics_all"]))
    clusters = sweeps.relu_only(pd.read_parquet(tables["clusters"]))
    word_paths = [str(path) for path in words.values()]
    makers = {
        "loss": (lambda: sweeps.loss_figure(losses, loss_fit, width=width), ("losses", "loss_fit")),
        "dimensionality": (
            lambda: sweeps.dimensionality_figure(metrics_all, sweeps.relu_only(read_words(words)), width=width),
            ("metrics_all",),
        ),
        "circularity": (lambda: sweeps.circularity_figure(metrics_all, width=width), ("metrics_all",)),
        "clusters": (lambda: sweeps.cluster_figure(clusters, width=width), ("clusters",)),
        "subspace": (lambda: subspace_figure(pd.read_parquet(tables["subspace"]), width=width), ("subspace",)),
    }
    drawn = {}
    for name, paths in outputs.items():
        make, drawn_from = makers[name]
        inputs: dict[str, Any] = {table: tables[table] for table in drawn_from}
        if name == "dimensionality":
            inputs["words"] = word_paths
        drawn[name] = draw(make, TITLES[name], paths, figures, inputs=inputs)
    return drawn
