"""The co-occurrence ablation's figure: the month ring of the data and of each ablation model, per window set.

One row per source (the data's month-indicator PCA, then each model of ``analysis.models.ablation``: the PCA of its
L2-normalised month rows), one column per window set (full, ablated, control). Each panel joins the group's words in
their cyclic order as a closed polygon; its title gives the chance-corrected order agreement and the adjacent pairs
of the ablation table, the column header how many training windows the set removed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from .drawing import NotAvailable, unavailable_panel
from .months import fit_limits, short_label
from .theme import WIDTH, new_figure, season_colour

__all__ = ["ring_points", "ablation_rings"]

SET_TITLES = {"full": "full", "ablated": "ablated (no two {groups})", "control": "control (random drop)"}


def ring_points(df: pd.DataFrame | None, group: str, source: str) -> pd.DataFrame:
    """``pos, word, x, y`` of ``group``'s words with finite coordinates: the data ring table's ``pc1, pc2``
    (``source`` = ``data``) or a model groups table's unit-vector plane ``npc1, npc2``."""
    cols = ("pc1", "pc2") if source == "data" else ("npc1", "npc2")
    if df is None or not len(df):
        return pd.DataFrame(columns=["pos", "word", "x", "y"])
    g = df[df["group"].astype(str) == group]
    out = pd.DataFrame({"pos": g["pos"].astype(int), "word": g["word"].astype(str), "x": g[cols[0]], "y": g[cols[1]]})
    out = out[np.isfinite(out["x"].astype(float)) & np.isfinite(out["y"].astype(float))]
    return out.sort_values("pos").reset_index(drop=True)


def _polygon(ax: Any, pts: pd.DataFrame, group: str) -> None:
    x, y = pts["x"].to_numpy(dtype=float), pts["y"].to_numpy(dtype=float)
    ax.plot(np.r_[x, x[:1]], np.r_[y, y[:1]], "-", color="#555555", lw=1.0, zorder=2)
    colours = [season_colour(p) if group == "Months" else "C0" for p in pts["pos"]]
    ax.scatter(x, y, c=colours, s=22, zorder=3, edgecolors="white", linewidths=0.5)
    for xi, yi, word, pos in zip(x, y, pts["word"], pts["pos"]):
        ax.annotate(short_label(word, pos, group), (xi, yi), xytext=(2, 2), textcoords="offset points", fontsize=6)
    fit_limits(ax, x, y, pad=0.15)
    ax.set_xticks([])
    ax.set_yticks([])


def _row_label(source: str) -> str:
    """A model row's label: its table tag ``relu/L400_wd4.0_seed1`` as ``relu L400 wd4.0 seed1``."""
    return source.replace("/", " ").replace("_", " ")


def _panel_title(row: pd.Series | None) -> str:
    if row is None:
        return "no ring metrics"
    corrected, adjacent, total = row["order_agreement_corrected"], row["adjacent_pairs"], row["pairs_total"]
    if not np.isfinite(corrected):
        return str(row["status"])
    return f"A* = {corrected:.2f}, {adjacent:.0f}/{total:.0f} adjacent"


def _column_title(wset: str, table: pd.DataFrame, groups: str) -> str:
    rows = table[table["window_set"] == wset]
    head = SET_TITLES.get(wset, wset).format(groups=groups)
    if not len(rows):
        return head
    r = rows.iloc[0]
    if wset == "full":
        return f"{head}\n{int(r['windows_kept']):,} windows"
    share = r["windows_removed"] / r["windows_total"] if r["windows_total"] else float("nan")
    return f"{head}\n−{int(r['windows_removed']):,} windows ({100 * share:.1f} %)"


def ablation_rings(
    table: pd.DataFrame,
    data_rings: Mapping[str, pd.DataFrame | None],
    model_groups: Mapping[tuple[str, str], pd.DataFrame | None],
    group: str,
    window_sets: Sequence[str],
    model_tags: Sequence[str],
    width: float = WIDTH,
) -> Figure:
    """The rings of ``group``: row "data" from ``data_rings`` (window set → data ring table), one row per model tag
    from ``model_groups`` ((window set, tag) → groups table), one column per window set; titles from ``table``
    (the ablation summary). Raises :class:`NotAvailable` when the table holds no row of ``group``."""
    if not len(table[table["group"] == group]):
        raise NotAvailable(f"the ablation table has no {group} rows")
    sources = ["data", *model_tags]
    ncols, nrows = len(window_sets), len(sources)
    fig, axes = new_figure(
        ncols=ncols, nrows=nrows, width=width * 1.1, height=width * 0.38 * nrows + 0.4, squeeze=False
    )
    for i, source in enumerate(sources):
        for j, wset in enumerate(window_sets):
            ax = axes[i][j]
            df = data_rings.get(wset) if source == "data" else model_groups.get((wset, source))
            pts = ring_points(df, group, source)
            sel = table[(table["window_set"] == wset) & (table["source"] == source) & (table["group"] == group)]
            row = sel.iloc[0] if len(sel) else None
            if len(pts) < 3:
                unavailable_panel(ax, f"fewer than 3 {group} words placed")
            else:
                _polygon(ax, pts, group)
                ax.set_title(_panel_title(row), fontsize="small", fontweight="normal")
            if i == 0:
                ax.annotate(
                    _column_title(wset, table, group),
                    (0.5, 1.22),
                    xycoords="axes fraction",
                    ha="center",
                    va="bottom",
                    fontsize="small",
                    fontweight="bold",
                )
            if j == 0:
                ax.set_ylabel(
                    f"data ({group} indicators)" if source == "data" else _row_label(source), fontsize="small"
                )
                ax.yaxis.label.set_visible(True)
    fig.suptitle(f"{group} ring without co-occurrence: data and models", fontweight="bold")
    return fig
