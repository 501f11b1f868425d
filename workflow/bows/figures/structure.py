"""Structure sweep (paper §6.4, Fig 6): how group structure disappears as the latent size L grows.

Metric per group and model: ‖G − diag G‖_F with G = W_g W_gᵀ the Gram matrix of the group's embedding rows
(``offdiag_raw``), or of their cosines (``offdiag_cos``). Tables: ``sweep`` (one row per group × model) and
``sweep_summary`` (mean and sd, ddof = 1, over seeds). Snapshots: centred 2-D PCA of the raw group rows
(``models/{tag}/groups``: ``pc1, pc2``), drawn as a closed polygon in the group's order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..grid import ModelSpec
from .drawing import NotAvailable, unavailable_panel
from .months import note, ring_axes
from .theme import FIGURE_DEFAULTS, WIDTH, model_label, new_figure

__all__ = [
    "METRIC_LABELS",
    "sweep_line",
    "sweep_band",
    "sweep_figure",
    "group_snapshot",
    "snapshot_figure",
]

METRIC_LABELS = {
    "offdiag_raw": "‖G − diag G‖_F  (raw Gram)",
    "offdiag_cos": "‖C − diag C‖_F  (cosine Gram)",
    "mean_abs_cos": "mean |cos|",
}
_STYLES = {"Months": ("C0", "-", "o"), "Roman numerals": ("C3", "-", "s"), "Roman numerals (no I)": ("C3", "--", "^")}


def _style(group: str, k: int) -> tuple[str, str, str]:
    return _STYLES.get(group, (f"C{(k + 4) % 10}", "-", "D"))


def _snap_lines(ax: Any, snapshot_latents: Sequence[int], latents: np.ndarray) -> None:
    """Vertical dotted lines at the snapshot latent sizes inside the plotted range."""
    if latents.size == 0:
        return
    lo, hi = latents.min(), latents.max()
    for k, L in enumerate(snapshot_latents):
        if lo <= L <= hi:
            ax.axvline(L, color="#777777", ls=":", lw=1.1, zorder=0, label="snapshot L" if k == 0 else None)


def _latent_ticks(ax: Any, latents: np.ndarray) -> None:
    """Log-x axis ticked at the trained latent sizes, in plain numbers."""
    from matplotlib.ticker import FixedLocator, NullLocator

    ls = np.unique(latents[np.isfinite(latents)])
    ax.set_xscale("log")
    if ls.size:
        ax.xaxis.set_major_locator(FixedLocator(ls))
        ax.xaxis.set_minor_locator(NullLocator())
        ax.set_xticks(
            ls,
            [f"{int(v):d}" for v in ls],
            rotation=45 if ls.size > 6 else 0,
            fontsize="small" if ls.size > 6 else None,
        )


def _select(df: pd.DataFrame, groups: Sequence[str]) -> tuple[pd.DataFrame, list[str]]:
    present = [g for g in groups if g in set(df["group"].astype(str))]
    return df[df["group"].astype(str).isin(present)], present


def sweep_line(
    ax: Any,
    sweep: pd.DataFrame,
    groups: Sequence[str],
    metric: str = "offdiag_raw",
    seed: int | None = None,
    snapshot_latents: Sequence[int] = (),
) -> int:
    """Seed-``seed`` (default: the smallest seed) curve of ``metric`` vs L per group on log-x. Returns the seed."""
    df, present = _select(sweep, groups)
    if df.empty:
        raise NotAvailable(f"no sweep rows for the groups {', '.join(groups)}")
    seed = int(df["seed"].min()) if seed is None else int(seed)
    df = df[df["seed"].astype(int) == seed]
    for k, g in enumerate(present):
        d = df[df["group"].astype(str) == g].sort_values("latent")
        d = d[np.isfinite(d[metric].to_numpy(dtype=float))]
        if d.empty:
            continue
        c, ls, mk = _style(g, k)
        ax.plot(
            d["latent"].to_numpy(dtype=float), d[metric].to_numpy(dtype=float), color=c, ls=ls, marker=mk, ms=4, label=g
        )
    _snap_lines(ax, snapshot_latents, df["latent"].to_numpy(dtype=float))
    _latent_ticks(ax, df["latent"].to_numpy(dtype=float))
    ax.set_xlabel("latent size L")
    ax.set_ylabel(METRIC_LABELS.get(metric, metric))
    ax.set_title(f"seed {seed}")
    return seed


def sweep_band(
    ax: Any,
    summary: pd.DataFrame,
    groups: Sequence[str],
    metric: str = "offdiag_raw",
    snapshot_latents: Sequence[int] = (),
) -> int:
    """Mean ± 2 sd (ddof = 1) across seeds of ``metric`` vs L per group; returns the largest seed count."""
    df, present = _select(summary[summary["metric"].astype(str) == metric], groups)
    if df.empty:
        raise NotAvailable(f"no sweep summary rows of {metric} for the groups {', '.join(groups)}")
    for k, g in enumerate(present):
        d = df[df["group"].astype(str) == g].sort_values("latent")
        d = d[np.isfinite(d["mean"].to_numpy(dtype=float))]
        if d.empty:
            continue
        c, ls, mk = _style(g, k)
        x = d["latent"].to_numpy(dtype=float)
        m = d["mean"].to_numpy(dtype=float)
        sd = np.nan_to_num(d["sd"].to_numpy(dtype=float), nan=0.0)
        ax.plot(x, m, color=c, ls=ls, marker=mk, ms=4, label=g)
        ax.fill_between(x, m - 2 * sd, m + 2 * sd, color=c, alpha=0.18, lw=0)
    _snap_lines(ax, snapshot_latents, df["latent"].to_numpy(dtype=float))
    n = int(df["n_seeds"].max())
    _latent_ticks(ax, df["latent"].to_numpy(dtype=float))
    ax.set_xlabel("latent size L")
    ax.set_ylabel(METRIC_LABELS.get(metric, metric))
    ax.set_title(f"mean ± 2 sd over {n} seed{'s' if n != 1 else ''}")
    return n


def sweep_figure(
    sweep: pd.DataFrame,
    summary: pd.DataFrame,
    metric: str = "offdiag_raw",
    groups: Sequence[str] = tuple(FIGURE_DEFAULTS["sweep_groups"]),
    snapshot_latents: Sequence[int] = (),
    seed: int | None = None,
    width: float = WIDTH,
) -> Figure:
    """Two panels sharing y: the seed-1 curve (paper ``metrics_curves3``) and the mean ± 2 sd band
    (``metrics_curves_fill``) of ``metric`` vs L per group, with vertical markers at the snapshot latent sizes."""
    if sweep.empty:
        raise NotAvailable("the sweep table is empty (no model at the sweep's weight decay)")
    fig, axes = new_figure(ncols=2, width=width * 1.6, height=width * 0.62, sharey=True)
    sweep_line(axes[0], sweep, groups, metric, seed=seed, snapshot_latents=snapshot_latents)
    try:
        sweep_band(axes[1], summary, groups, metric, snapshot_latents=snapshot_latents)
    except NotAvailable as err:
        unavailable_panel(axes[1], str(err), title="mean ± 2 sd")
    axes[1].set_ylabel("")
    h, lab = axes[0].get_legend_handles_labels()
    fig.legend(h, lab, loc="outside lower center", ncols=min(4, len(lab)), fontsize="small")
    wd = sweep["wd"].dropna()
    variant = sweep["variant"].dropna()
    sub = f"{variant.iloc[0]}, wd {float(wd.iloc[0]):g}" if len(wd) and len(variant) else ""
    kind = "raw" if metric == "offdiag_raw" else ("cosine" if metric == "offdiag_cos" else metric)
    fig.suptitle(
        f"Structure sweep: off-diagonal Gram norm ({kind}) vs L" + (f" ({sub})" if sub else ""), fontweight="bold"
    )
    return fig


def group_snapshot(ax: Any, groups_df: pd.DataFrame, group: str, title: str | None = None) -> None:
    """PCA snapshot of one group on ``ax``: raw-row PC1–PC2 as a closed polygon in group order."""
    d = groups_df[groups_df["group"].astype(str) == group]
    ok = d[(d["status"].astype(str) == "ok") if "status" in d.columns else slice(None)]
    ok = ok.dropna(subset=["pc1", "pc2"])
    if len(ok) < 3:
        missing = sorted(set(d["word"].astype(str)) - set(ok["word"].astype(str)))
        raise NotAvailable(
            f"'{group}': {len(ok)} word(s) with PCA coordinates, at least 3 needed"
            + (
                f"; not in vocabulary: {', '.join(missing)}"
                if missing
                else " (the group is too small in this vocabulary)"
            )
        )
    ring_axes(ax, ok, group, spokes=False, colour_by_season=True)
    evr = [float(ok[c].iloc[0]) for c in ("evr1", "evr2") if c in ok.columns]
    if len(evr) == 2 and np.all(np.isfinite(evr)):
        ax.set_xlabel(f"PC1 ({100 * evr[0]:.0f}%)")
        ax.set_ylabel(f"PC2 ({100 * evr[1]:.0f}%)")
    else:
        ax.set_xlabel("PC1")
        ax.set_ylabel("PC2")
    skipped = sorted(set(d["word"].astype(str)) - set(ok["word"].astype(str)))
    if skipped:
        note(ax, "not drawn: " + ", ".join(skipped), width=50)
    ax.set_title(title or group)


def snapshot_figure(
    groups_df: pd.DataFrame | None,
    latent: int,
    groups: Sequence[str] = tuple(FIGURE_DEFAULTS["snapshot_groups"]),
    model: ModelSpec | None = None,
    width: float = WIDTH,
) -> Figure:
    """One figure per latent size: a PCA snapshot panel per group (paper ``Months_ls{L}``, ``Roman numerals_ls{L}``).
    A group that cannot be drawn gets a "not available" panel."""
    if groups_df is None:
        raise NotAvailable(f"no model with L = {latent} at the sweep's weight decay in train.grid")
    fig, axes = new_figure(ncols=len(groups), width=width * 0.72 * len(groups), height=width * 0.72)
    axes = np.atleast_1d(axes)
    for ax, g in zip(axes, groups):
        try:
            group_snapshot(ax, groups_df, g)
        except NotAvailable as err:
            unavailable_panel(ax, str(err), title=g)
    fig.suptitle(f"PCA snapshots at L = {latent}" + (f" ({model_label(model)})" if model else ""), fontweight="bold")
    return fig
