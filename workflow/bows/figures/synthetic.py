"""Figures of the synthetic experiments: the Gram grid (paper Fig. 2) and metrics against the latent size.

Both functions take tables (see :mod:`bows.synthetic.pipeline`) and return a matplotlib Figure; they never read or
write files.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from .drawing import NotAvailable

__all__ = ["gram_grid", "metrics_vs_latent", "seed_range", "row_label", "METRIC_LABELS"]

CMAP = "coolwarm"

METRIC_LABELS = {
    "cov_corr": "corr(off-diag Gram, data cov)",
    "val_mse": "validation MSE",
    "bias_mean": "mean decoder bias",
    "frob_sq_per_m": "‖W‖²_F / m",
    "antipodal_score": "antipodal score",
    "partner_cov_percentile": "partner's data-cov percentile",
    "circulant_fit": "circulant fit",
}


def row_label(activation: str, weight_decay: float) -> str:
    """``"Linear, wd 1"`` / ``"ReLU, wd 6"``."""
    name = {"linear": "Linear", "relu": "ReLU"}.get(activation, activation)
    return f"{name}, wd {float(weight_decay):g}"


def _matrix(g: pd.DataFrame, F: int) -> np.ndarray:
    M = np.full((F, F), np.nan)
    M[g["i"].to_numpy(), g["j"].to_numpy()] = g["value"].to_numpy()
    return M


def _blank(ax) -> None:
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    for side in ax.spines.values():
        side.set_visible(False)


def gram_grid(
    gram: pd.DataFrame,
    rows: Sequence[tuple[str, float]],
    latents: Sequence[int] | None = None,
    seed: int | None = None,
    title: str | None = None,
    panel: float = 1.0,
) -> Figure:
    """Trace-normalised Gram matrices WᵀW/tr(WᵀW) of one structure: one row per (activation, wd) in ``rows``, one
    column per latent size, and a first column with the data covariance.

    Every row has its own symmetric colour scale ±max|entry| over that row's Gram matrices (centred at 0, coolwarm);
    the covariance has its own symmetric scale ±max|cov| (unlike the official plot, which reuses the row's), since
    the two are in different units.
    """
    if gram.empty:
        raise NotAvailable("no Gram matrices in the table")
    cov = gram[gram["activation"] == "data"]
    models = gram[gram["activation"] != "data"]
    if seed is None:
        seed = int(models["seed"].min())
    models = models[models["seed"] == seed]
    F = int(gram["i"].max()) + 1
    all_m = sorted(int(m) for m in models["latent"].unique())
    cols = list(latents) if latents else all_m
    if not rows or not cols:
        raise NotAvailable("no rows or latent sizes to draw")
    nr, nc = len(rows), len(cols) + 1
    fig = plt.figure(figsize=(panel * nc + 1.4, panel * nr + 0.8), layout="constrained")
    gs = fig.add_gridspec(nr, nc + 2, width_ratios=[1, 0.08] + [1] * len(cols) + [0.08])
    C = _matrix(cov, F) if len(cov) else None
    cmax = float(np.nanmax(np.abs(C))) if C is not None else 1.0
    cov_im = None
    for r, (act, wd) in enumerate(rows):
        sel = models[(models["activation"] == act) & np.isclose(models["weight_decay"], wd)]
        mats = {int(m): _matrix(g, F) for m, g in sel.groupby("latent")}
        vmax = max((float(np.nanmax(np.abs(M))) for M in mats.values()), default=1.0) or 1.0
        ax = fig.add_subplot(gs[r, 0])
        _blank(ax)
        if C is not None:
            cov_im = ax.imshow(C, cmap=CMAP, vmin=-cmax, vmax=cmax, interpolation="nearest")
        ax.set_ylabel(row_label(act, wd), fontsize="small")
        if r == 0:
            ax.set_title("data cov", fontsize="small")
        im = None
        for c, m in enumerate(cols):
            ax = fig.add_subplot(gs[r, c + 2])
            _blank(ax)
            if r == 0:
                ax.set_title(f"m = {m}", fontsize="small")
            if m in mats:
                im = ax.imshow(mats[m], cmap=CMAP, vmin=-vmax, vmax=vmax, interpolation="nearest")
            else:
                ax.text(
                    0.5,
                    0.5,
                    "not\ntrained",
                    ha="center",
                    va="center",
                    fontsize="x-small",
                    color="0.4",
                    transform=ax.transAxes,
                )
        if im is not None:
            cb = fig.colorbar(im, cax=fig.add_subplot(gs[r, -1]))
            cb.ax.tick_params(labelsize="x-small")
    if cov_im is not None:
        cb = fig.colorbar(cov_im, cax=fig.add_subplot(gs[:, 1]))
        cb.ax.tick_params(labelsize="x-small")
    if title:
        fig.suptitle(title, fontsize="medium")
    return fig


def seed_range(d: pd.DataFrame) -> dict[tuple[str, float], pd.DataFrame]:
    """Per (activation, weight decay) with more than one seed: min and max of ``value`` over seeds at each latent
    size (index: latent, ascending)."""
    out = {}
    for key, g in d.groupby(["activation", "weight_decay"]):
        if g["seed"].nunique() > 1:
            out[key] = g.groupby("latent")["value"].agg(["min", "max"]).sort_index()
    return out


def metrics_vs_latent(
    table: pd.DataFrame,
    metrics: Sequence[str] = ("cov_corr", "val_mse", "bias_mean", "frob_sq_per_m", "antipodal_score"),
    seed: int | None = None,
) -> Figure:
    """One panel per (metric, variant × structure): the metric against m, one line per (activation, weight
    decay) at ``seed`` (default: the lowest), and, when several seeds were trained, a band from their minimum to
    their maximum at each m."""
    if table.empty:
        raise NotAvailable("the synthetic metric table is empty")
    if seed is None:
        seed = int(table["seed"].min())
    every = table[table["metric"].isin(metrics)].copy()
    if "variant" not in every:
        every["variant"] = ""
    t = every[every["seed"] == seed]
    panels = list(dict.fromkeys(zip(t["variant"], t["structure"])))
    several = len({v for v, _ in panels}) > 1
    metrics = [m for m in metrics if m in set(t["metric"])]
    fig, axes = plt.subplots(
        len(metrics),
        len(panels),
        figsize=(2.6 * len(panels) + 0.6, 1.9 * len(metrics) + 0.6),
        squeeze=False,
        sharex=True,
        layout="constrained",
    )
    groups = sorted({(a, w) for a, w in zip(t["activation"], t["weight_decay"])}, key=lambda x: (x[0], x[1]))
    palette = plt.rcParams["axes.prop_cycle"].by_key().get("color", ["C0", "C1", "C2", "C3"])
    style = {g: (palette[i % len(palette)], "--" if g[0] == "linear" else "-") for i, g in enumerate(groups)}
    for c, (v, s) in enumerate(panels):
        for r, met in enumerate(metrics):
            ax = axes[r, c]
            d = t[(t["variant"] == v) & (t["structure"] == s) & (t["metric"] == met)]
            spread = seed_range(every[(every["variant"] == v) & (every["structure"] == s) & (every["metric"] == met)])
            for (act, wd), g in d.groupby(["activation", "weight_decay"]):
                g = g.sort_values("latent")
                colour, ls = style[(act, wd)]
                band = spread.get((act, wd))
                if band is not None:
                    ax.fill_between(band.index, band["min"], band["max"], color=colour, alpha=0.2, lw=0)
                ax.plot(g["latent"], g["value"], ls, marker="o", ms=2.5, lw=1.2, color=colour, label=row_label(act, wd))
            if met in ("bias_mean", "cov_corr"):
                ax.axhline(0, color="0.5", lw=0.6)
            if r == 0:
                ax.set_title(f"{s} ({v})" if several else s, fontsize="small")
            if c == 0:
                ax.set_ylabel(METRIC_LABELS.get(met, met), fontsize="x-small")
            if r == len(metrics) - 1:
                ax.set_xlabel("latent size m", fontsize="small")
            ax.tick_params(labelsize="x-small")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=len(labels), fontsize="small")
    return fig
