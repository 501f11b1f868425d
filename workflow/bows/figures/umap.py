"""UMAP of the word embeddings coloured by semantic category (paper §6.5), and the category legend.

Table ``umap/{tag}``: ``index, word, category ("Other" for unclaimed words), x, y``. Other words are grey (α 0.4)
and drawn first; the 12 categories get fixed colours (tab20 order of the paper's category list), so a category has
the same colour in every model's figure and in the legend figure.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..grid import ModelSpec
from .drawing import NotAvailable
from .theme import WIDTH, model_rows, new_figure

__all__ = ["categories", "category_colours", "umap_scatter", "umap_legend", "cluster_note"]

OTHER = "Other"
OTHER_COLOUR = "#9a9a9a"
# tab20 shades without its greys (14, 15), so no category looks like Other: the 9 dark ones, then light ones
_TAB20_ORDER = (0, 2, 4, 6, 8, 10, 12, 16, 18, 1, 5, 9, 3, 7, 11, 13, 17, 19)


def categories() -> list[str]:
    """The paper's 12 semantic categories, in the order of its list."""
    from ..wordlists import word_lists

    return list(word_lists()["semantic_categories"])


def category_colours(names: Sequence[str] | None = None) -> dict[str, Any]:
    """Category → colour (tab20 even shades first, then odd), plus grey for Other."""
    import matplotlib

    names = list(names) if names is not None else categories()
    cmap = matplotlib.colormaps["tab20"]
    out = {c: cmap(_TAB20_ORDER[k % len(_TAB20_ORDER)]) for k, c in enumerate(names)}
    out[OTHER] = OTHER_COLOUR
    return out


def umap_scatter(
    df: pd.DataFrame, title: str = "", legend: bool = True, names: Sequence[str] | None = None, width: float = WIDTH
) -> Figure:
    """Scatter of the UMAP coordinates: Other in grey underneath, each category in its colour on top.

    Raises :class:`NotAvailable` when the table is empty or no word belongs to a category.
    """
    if df.empty:
        raise NotAvailable("the UMAP table has no rows")
    cat = df["category"].astype(str)
    if (cat != OTHER).sum() == 0:
        raise NotAvailable("no vocabulary word belongs to a semantic category")
    names = list(names) if names is not None else categories()
    extra = sorted(set(cat) - set(names) - {OTHER})
    colours = category_colours(names + extra)
    fig, ax = new_figure(width=width * (1.55 if legend else 1.0), height=width * 0.8)
    size = float(np.clip(4000.0 / max(len(df), 1), 3.0, 30.0))  # marker area: fewer words, bigger points
    other = df[cat == OTHER]
    if len(other):
        ax.scatter(
            other["x"],
            other["y"],
            s=size * 0.6,
            color=OTHER_COLOUR,
            alpha=0.4,
            lw=0,
            label=f"{OTHER} ({len(other):,})",
            rasterized=True,
        )
    for c in names + extra:
        d = df[cat == c]
        if d.empty:
            continue
        ax.scatter(
            d["x"], d["y"], s=size, color=colours[c], alpha=0.8, lw=0, label=f"{c} ({len(d):,})", rasterized=True
        )
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("UMAP 1")
    ax.set_ylabel("UMAP 2")
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_title(title or "UMAP of word embeddings")
    if legend:
        ax.legend(
            loc="center left",
            bbox_to_anchor=(1.01, 0.5),
            fontsize="small",
            markerscale=max(1.0, 6.0 / np.sqrt(size)),
            handletextpad=0.2,
            title="category (words)",
            title_fontsize="small",
        )
    return fig


def umap_legend(names: Sequence[str] | None = None, width: float = WIDTH) -> Figure:
    """The colour legend of the semantic categories alone (paper ``legend_semantic_categories``)."""
    from matplotlib.lines import Line2D

    names = list(names) if names is not None else categories()
    colours = category_colours(names)
    handles = [Line2D([], [], marker="o", ls="", ms=8, color=colours[c], label=c) for c in names]
    handles.append(Line2D([], [], marker="o", ls="", ms=8, color=OTHER_COLOUR, alpha=0.6, label=OTHER))
    fig, ax = new_figure(width=width, height=0.32 * (len(handles) + 1) / 2 + 0.5)
    ax.set_axis_off()
    ax.legend(handles=handles, loc="center", ncols=2, fontsize="medium", title="Semantic categories", frameon=False)
    return fig


def cluster_note(clusters: pd.DataFrame | None, spec: ModelSpec) -> str:
    """ "kNN category purity 0.31 (null 0.12 ± 0.01)" for model ``spec``, from the ``clusters`` table."""
    if clusters is None or clusters.empty:
        return ""
    purity = model_rows(clusters, spec)
    purity = purity[purity["metric"].astype(str) == "knn_purity"]
    if purity.empty or not np.isfinite(float(purity["value"].iloc[0])):
        return ""
    row = purity.iloc[0]
    return (
        f"kNN category purity {float(row['value']):.2f} "
        f"(null {float(row['null_mean']):.2f} ± {float(row['null_sd']):.2f})"
    )
