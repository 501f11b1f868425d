"""What the figures over the training grid share: a log axis of the latent sizes, one colour per weight decay, and
one legend below all panels (:mod:`bows.figures.sweeps`, :mod:`bows.figures.subspace`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, NullFormatter

__all__ = ["wd_colours", "log_latent_axis", "shared_legend"]


def wd_colours(weight_decays: Iterable[float]) -> dict[float, Any]:
    """One palette colour per weight decay, in increasing order (stable across figures)."""
    import seaborn as sns

    ordered = sorted({float(w) for w in weight_decays})
    palette = sns.color_palette(n_colors=max(3, len(ordered)))
    return {wd: palette[i] for i, wd in enumerate(ordered)}


def log_latent_axis(ax: Any, latents: Iterable[int]) -> None:
    """Log-scaled x axis with one tick per latent size actually present, labelled where labels do not crowd."""
    present = sorted({int(v) for v in latents if np.isfinite(v)})
    ax.set_xscale("log")
    if present:
        # label latent sizes at least a factor 1.8 apart (no overlapping labels); the others get a bare tick
        labelled = [present[0]]
        for latent in present[1:]:
            if latent / labelled[-1] >= 1.8:
                labelled.append(latent)
        ax.xaxis.set_major_locator(FixedLocator(labelled))
        ax.xaxis.set_minor_locator(FixedLocator([v for v in present if v not in labelled]))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xticklabels([str(v) for v in labelled])
        if len(present) == 1:
            ax.set_xlim(present[0] / 1.6, present[0] * 1.6)
    ax.set_xlabel("latent size L")


def shared_legend(fig: Figure, axes: Iterable[Any], ncols: int = 4) -> None:
    """One legend for the whole figure, below the panels, with every distinct label of ``axes``."""
    handles: dict[str, Any] = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(label, handle)
    if handles:
        fig.legend(
            list(handles.values()),
            list(handles.keys()),
            loc="outside lower center",
            ncols=min(ncols, len(handles)),
            fontsize="small",
        )
