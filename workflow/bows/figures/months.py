"""Month figures of the paper (§6.1–6.3): correlation matrix, data and weight PCA rings, months with seasonal words.

Tables (see the metrics stage): ``data/cooc`` (one row per word pair of a group), ``months/ring`` (``source`` ∈ data,
weights_norm, weights_raw; ``pc1, pc2`` per month), ``months/seasonal`` (months and seasonal words projected on the
3-PC PCA of the raw month rows).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from .drawing import NotAvailable
from .theme import MONTH_ABBR, SEASON_COLOURS, WIDTH, new_figure, season_colour

__all__ = [
    "corr_vmax",
    "corr_matrix",
    "ring",
    "ring_axes",
    "months_seasonal",
    "short_label",
    "note",
    "fit_limits",
    "evr_from_metrics",
]


def short_label(word: str, pos: int, group: str) -> str:
    """Month words → ``Jan``…``Dec`` (by position); other words unchanged."""
    if group == "Months" and 0 <= int(pos) < 12:
        return MONTH_ABBR[int(pos)]
    return str(word)


def _ok(df: pd.DataFrame) -> pd.DataFrame:
    """Rows with status "ok" (or no status column)."""
    if "status" in df.columns:
        return df[df["status"].astype(str) == "ok"]
    return df


def corr_vmax(mat: np.ndarray, q: float = 95.0, lo: float = 0.3, hi: float = 0.6) -> float:
    """Colour-scale maximum: clip(q-th percentile of |off-diagonal entries|, lo, hi) (paper §6.1)."""
    m = np.asarray(mat, dtype=float)
    off = np.abs(m[~np.eye(m.shape[0], dtype=bool)])
    off = off[np.isfinite(off)]
    if off.size == 0:
        return hi
    return float(np.clip(np.percentile(off, q), lo, hi))


def corr_matrix(
    cooc: pd.DataFrame, group: str = "Months", value: str = "corr_cond", title: str | None = None, width: float = WIDTH
) -> Figure:
    """Heat map of ``value`` between the words of ``group`` (coolwarm, vmin 0, vmax by :func:`corr_vmax`).

    ``corr_cond`` is the Pearson correlation of the month indicators over windows with at least one month (Fig 4a).
    Cells of words missing from the vocabulary (NaN) are left blank.
    """
    import seaborn as sns

    g = cooc[cooc["group"].astype(str) == group]
    if g.empty:
        raise NotAvailable(f"no co-occurrence rows for the group '{group}'")
    g = g.assign(pos_i=g["pos_i"].astype(int), pos_j=g["pos_j"].astype(int))
    if not np.isfinite(g[value].to_numpy(dtype=float)).any():
        reasons = sorted(set(g["status"].astype(str)) - {"ok"}) if "status" in g.columns else []
        raise NotAvailable(f"every '{group}' correlation is undefined ({'; '.join(reasons) or 'no data'})")
    mat = g.pivot_table(index="pos_i", columns="pos_j", values=value, aggfunc="first", dropna=False)
    order = sorted(set(g["pos_i"]) | set(g["pos_j"]))
    mat = mat.reindex(index=order, columns=order)
    names = g.drop_duplicates("pos_i").set_index("pos_i")["word_i"].reindex(order)
    labels = [short_label(w, p, group) for p, w in zip(order, names)]
    arr = mat.to_numpy(dtype=float)
    vmax = corr_vmax(arr)
    fig, ax = new_figure(width=width * 0.85, height=width * 0.72)
    sns.heatmap(
        pd.DataFrame(arr, index=labels, columns=labels),
        ax=ax,
        cmap="coolwarm",
        vmin=0.0,
        vmax=vmax,
        square=True,
        linewidths=0.4,
        linecolor="white",
        cbar_kws={
            "label": "Pearson r (windows with a month)" if value == "corr_cond" else value,
            "extend": "max",
            "shrink": 0.85,
        },
    )
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.tick_params(axis="x", rotation=90)
    ax.tick_params(axis="y", rotation=0)
    n = int(g["n_windows"].max()) if "n_windows" in g.columns and len(g) else None
    ax.set_title(title or f"{group}: co-occurrence correlation" + (f" ({n:,} windows)" if n else ""))
    return fig


def ring_axes(
    ax: Any, pts: pd.DataFrame, group: str, spokes: bool, colour_by_season: bool, polygon_colour: str = "#555555"
) -> None:
    """Closed polygon through ``pts`` (sorted by ``pos``), spokes from (0, 0), labelled points."""
    pts = pts.sort_values("pos")
    x = pts["pc1"].to_numpy(dtype=float)
    y = pts["pc2"].to_numpy(dtype=float)
    ax.plot(np.r_[x, x[:1]], np.r_[y, y[:1]], "-", color=polygon_colour, lw=1.2, zorder=2)
    if spokes:
        for xi, yi in zip(x, y):
            ax.plot([0, xi], [0, yi], color="#bbbbbb", lw=0.7, zorder=1)
        ax.plot([0], [0], "+", color="#888888", ms=6, zorder=1)
    cols = [season_colour(p) if colour_by_season and group == "Months" else "C0" for p in pts["pos"]]
    ax.scatter(x, y, c=cols, s=36, zorder=3, edgecolors="white", linewidths=0.6)
    span = max(np.ptp(x) if x.size else 1.0, np.ptp(y) if y.size else 1.0) or 1.0
    cx, cy = float(np.mean(x)), float(np.mean(y))
    for xi, yi, w, p in zip(x, y, pts["word"], pts["pos"]):
        d = np.array([xi - cx, yi - cy])
        d = d / (np.linalg.norm(d) or 1.0) * 0.06 * span
        ax.annotate(
            short_label(w, p, group),
            (xi, yi),
            xytext=(xi + d[0], yi + d[1]),
            ha="center",
            va="center",
            fontsize="small",
            zorder=4,
        )
    fit_limits(ax, np.r_[x, 0.0] if spokes else x, np.r_[y, 0.0] if spokes else y)


def note(ax: Any, text: str, width: int = 60) -> None:
    """A small grey footnote in the lower-left corner of ``ax``, wrapped to ``width`` characters."""
    import textwrap

    ax.text(
        0.01,
        0.01,
        "\n".join(textwrap.wrap(text, width)),
        transform=ax.transAxes,
        fontsize="x-small",
        color="#666666",
        va="bottom",
        ha="left",
    )


def fit_limits(ax: Any, x: np.ndarray, y: np.ndarray, pad: float = 0.2) -> None:
    """Equal-aspect limits around the points, padded by ``pad``·(largest range) for their labels."""
    x = np.asarray(x, dtype=float)[np.isfinite(x)]
    y = np.asarray(y, dtype=float)[np.isfinite(y)]
    if not x.size or not y.size:
        return
    p = pad * (max(np.ptp(x), np.ptp(y)) or 1.0)
    ax.set_xlim(x.min() - p, x.max() + p)
    ax.set_ylim(y.min() - p, y.max() + p)
    ax.set_aspect("equal", adjustable="box")


def _season_legend(ax: Any) -> None:
    from matplotlib.lines import Line2D

    handles = [
        Line2D([], [], marker="o", ls="", color=colour, label=season) for season, colour in SEASON_COLOURS.items()
    ]
    ax.legend(handles=handles, loc="best", fontsize="small", handletextpad=0.2)


def ring(
    ring_df: pd.DataFrame,
    source: str | None = None,
    group: str = "Months",
    title: str | None = None,
    evr: Sequence[float] | None = None,
    spokes: bool = True,
    width: float = WIDTH,
) -> Figure:
    """PCA ring: the group's points (pc1, pc2) joined as a closed polygon in group order, with spokes from (0, 0).

    ``ring_df`` has ``word, pos, pc1, pc2`` (+ ``source``/``group``/``status``); ``source`` picks the rows of
    ``months/ring`` (``data`` = Fig 4b, ``weights_norm`` = Fig 4c: PCA of L2-normalised month rows).
    """
    df = ring_df
    if source is not None and "source" in df.columns:
        df = df[df["source"].astype(str) == source]
    if "group" in df.columns:
        df = df[df["group"].astype(str) == group]
    ok = _ok(df).dropna(subset=["pc1", "pc2"])
    if len(ok) < 3:
        missing = sorted(set(df["word"].astype(str)) - set(ok["word"].astype(str)))
        raise NotAvailable(
            f"{group} ring needs at least 3 words with PCA coordinates, found {len(ok)}"
            + (f" (missing: {', '.join(missing)})" if missing else "")
        )
    fig, ax = new_figure(width=width * 0.8, height=width * 0.8)
    ring_axes(ax, ok, group, spokes=spokes, colour_by_season=True)
    if evr is None and {"evr1", "evr2"} <= set(ok.columns):
        evr = (float(ok["evr1"].iloc[0]), float(ok["evr2"].iloc[0]))
    _pc_labels(ax, evr)
    if group == "Months":
        _season_legend(ax)
    ax.set_title(title or f"{group}: PCA ring")
    skipped = sorted(set(df["word"].astype(str)) - set(ok["word"].astype(str)))
    if skipped:
        note(ax, "not drawn: " + ", ".join(skipped))
    return fig


def _pc_labels(ax: Any, evr: Sequence[float] | None, fallback: str = "") -> None:
    """Axis labels PC1/PC2 with their explained-variance shares when known, else with ``fallback``."""
    if evr is not None and np.all(np.isfinite(evr)):
        ax.set_xlabel(f"PC1 ({100 * evr[0]:.0f}% var.)")
        ax.set_ylabel(f"PC2 ({100 * evr[1]:.0f}% var.)")
    else:
        ax.set_xlabel(f"PC1{fallback}")
        ax.set_ylabel(f"PC2{fallback}")


def months_seasonal(
    seasonal: pd.DataFrame, title: str | None = None, evr: Sequence[float] | None = None, width: float = WIDTH
) -> Figure:
    """Months (closed calendar polygon) and seasonal words projected on PC1–PC2 of the raw month rows (teaser).

    Seasonal words are stars coloured by their season; a word's label carries its ``plane_share`` (share of its
    centred squared norm in the month plane, §6.3). Raises :class:`NotAvailable` when fewer than 3 months or no
    seasonal word have coordinates.
    """
    months = _ok(seasonal[seasonal["kind"].astype(str) == "month"]).dropna(subset=["pc1", "pc2"])
    words = seasonal[seasonal["kind"].astype(str) == "seasonal"]
    found = _ok(words).dropna(subset=["pc1", "pc2"])
    if len(months) < 3:
        raise NotAvailable(f"only {len(months)} months have PCA coordinates in the months model")
    missing = [str(w) for w in words["word"] if str(w) not in set(found["word"].astype(str))]
    if found.empty:
        raise NotAvailable("no seasonal word is in the vocabulary (" + ", ".join(missing) + ")")
    fig, ax = new_figure(width=width * 0.85, height=width * 0.8)
    ring_axes(ax, months, "Months", spokes=False, colour_by_season=True, polygon_colour="#999999")
    for _, r in found.iterrows():
        c = SEASON_COLOURS.get(str(r["season"]), "#333333")
        ax.scatter([r["pc1"]], [r["pc2"]], marker="*", s=150, color=c, edgecolors="black", linewidths=0.5, zorder=5)
        share = r.get("plane_share", np.nan)
        lab = str(r["word"]) + (f" ({100 * share:.0f}%)" if pd.notna(share) else "")
        ax.annotate(
            lab,
            (r["pc1"], r["pc2"]),
            xytext=(5, 4),
            textcoords="offset points",
            fontsize="small",
            color=c,
            fontweight="bold",
            zorder=6,
        )
    fit_limits(
        ax,
        np.r_[months["pc1"].to_numpy(dtype=float), found["pc1"].to_numpy(dtype=float)],
        np.r_[months["pc2"].to_numpy(dtype=float), found["pc2"].to_numpy(dtype=float)],
    )
    _pc_labels(ax, evr, " (raw month rows)")
    _season_legend(ax)
    ax.set_title(title or "Months and seasonal words")
    if missing:
        note(ax, "not in vocabulary: " + ", ".join(missing))
    return fig


def evr_from_metrics(metrics: pd.DataFrame | None) -> tuple[float, float] | None:
    """(evr_1, evr_2) from the ``months/metrics`` table, or None."""
    if metrics is None or metrics.empty:
        return None
    m = metrics.set_index("metric")["value"]
    if "evr_1" in m and "evr_2" in m:
        return float(m["evr_1"]), float(m["evr_2"])
    return None
