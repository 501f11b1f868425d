"""Rule ``sae_figures``: the benchmark panels and per-word recovery against frequency, from the summary tables."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ... import io
from ...figures.sae import benchmark_figure, recovery_figure
from ...figures.theme import NotAvailable, apply_theme, save_outputs, unavailable_figure

__all__ = ["draw_figures"]


def draw_figures(
    scores: str,
    hedging: str,
    words: str,
    summary: str,
    figures: Mapping[str, Any],
    benchmark_out: Sequence[str],
    recovery_out: Sequence[str],
) -> list[Path]:
    """Rule ``sae_figures``: the benchmark panels and per-word recovery against frequency."""
    s = apply_theme(figures)
    true_l0 = {m: r["true_l0_heldout"] for m, r in io.read_json(summary)["models"].items()}
    written = []
    for draw, outs, title, args in (
        (
            benchmark_figure,
            benchmark_out,
            "SAE benchmark",
            (pd.read_parquet(scores), pd.read_parquet(hedging), true_l0),
        ),
        (recovery_figure, recovery_out, "SAE recovery", (pd.read_parquet(words),)),
    ):
        try:
            fig = draw(*args)
        except NotAvailable as err:
            fig = unavailable_figure(title, str(err))
        written += save_outputs(fig, outs, s, {"scores": scores, "hedging": hedging, "words": words})
    return written
