"""Rule sae_figures: the SAE benchmark (MCC against L0 and width, word groups merged against width) and the
per-word recovery against word frequency (:mod:`bows.figures.sae`), from the tables of ``sae_summary``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ... import io
from ...stage import Job, Stage

STAGE = Stage(__name__, figures=("benchmark", "recovery"), sections=("figures",))

TITLES = {"benchmark": "SAE benchmark", "recovery": "SAE recovery"}


def run(job: Job) -> None:
    tables = {name: job.input[name] for name in ("scores", "hedging", "words")}
    outputs = {name: job.figure_paths(name) for name in STAGE.figures}
    draw_sae_figures(tables, job.input.summary, job.config["figures"], outputs)


def draw_sae_figures(
    tables: Mapping[str, str], summary: str, figures: Mapping[str, Any], outputs: Mapping[str, Sequence[str | Path]]
) -> list[Path]:
    """Draw the figures of ``outputs`` (figure → its paths) from the ``scores``, ``hedging`` and ``words`` tables
    and the true L0 of every model in ``summary.json``."""
    from ..drawing import draw
    from ..sae import benchmark_figure, recovery_figure

    true_l0 = {model: record["true_l0_heldout"] for model, record in io.read_json(summary)["models"].items()}
    scores, hedging, words = (pd.read_parquet(tables[name]) for name in ("scores", "hedging", "words"))
    makers = {
        "benchmark": lambda: benchmark_figure(scores, hedging, true_l0),
        "recovery": lambda: recovery_figure(words),
    }
    written: list[Path] = []
    for name, paths in outputs.items():
        written += draw(makers[name], TITLES[name], paths, figures, inputs=tables)
    return written
