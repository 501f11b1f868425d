"""The training-dynamics figure: the geometry metrics of one latent size's models over their snapshots.

Six panels against the optimiser step (symmetric-log axis: the snapshots are log-spaced, step 0 is the
initialisation): held-out loss, ‖W‖²_F/L, the overlap with the covariance's top-L principal subspace (the random
baseline L/V dotted), the effective rank of W, and the month ring's adjacent pairs and order agreement (days dashed).
One colour per weight decay (seed: the smallest at each wd). The top axis of every panel gives the learning-rate sum
Σ_{t<s} lr_t reached at step s, which is the decay exposure E at wd 1 (E = wd · Σ lr_t: multiply by the model's wd);
the legend gives each model's E at the end.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..metrics.dynamics import figure_latent
from .drawing import NotAvailable
from .latent_axes import wd_colours
from .theme import WIDTH, new_figure

__all__ = ["PANELS", "dynamics_figure"]

#: (scope, metric, title) per panel; scope None = every cyclic group (Months solid, the others dashed)
PANELS = (
    ("model", "heldout_loss", "held-out loss"),
    ("subspace", "frob2_per_latent", r"$\|W\|_F^2\,/\,L$"),
    ("subspace", "overlap_cov", "overlap with top-L covariance subspace"),
    ("model", "effective_rank", "effective rank of W"),
    (None, "ring_adjacent_pairs", "ring: adjacent pairs"),
    (None, "order_agreement", "ring: order agreement"),
)
_GROUP_STYLES = ("-", "--", ":", "-.")


def _latent(table: pd.DataFrame, latent: int | None) -> int:
    L = figure_latent(table, latent)
    if L is None:
        raise NotAvailable("no ReLU model has snapshots (train.snapshots.count is 0?)")
    present = sorted({int(v) for v in table.loc[table["variant"] == "relu", "latent"]})
    if L not in present:
        raise NotAvailable(f"no snapshots at dynamics.latent = {L} (latent sizes: {present})")
    return L


def _models(table: pd.DataFrame, latent: int) -> list[tuple[float, pd.DataFrame]]:
    """(wd, rows) of the relu models at ``latent``, the smallest seed per weight decay, by increasing wd."""
    t = table[(table["variant"] == "relu") & (table["latent"].astype(int) == latent)]
    out = []
    for wd, g in t.groupby("wd", sort=True):
        seed = g["seed"].min()
        out.append((float(wd), g[g["seed"] == seed]))
    return out


def _series(rows: pd.DataFrame, scope: str, metric: str) -> pd.Series:
    sel = rows[(rows["scope"] == scope) & (rows["metric"] == metric)]
    return sel.set_index("step")["value"].astype(float).sort_index()


def _lr_sum_axis(ax: Any, steps: np.ndarray, lr_sum: np.ndarray) -> None:
    """A top axis with Σ lr_t at each step (monotone: interpolated both ways between the snapshots)."""
    order = np.argsort(steps)
    s, e = steps[order].astype(float), lr_sum[order].astype(float)

    def forward(x: Any) -> Any:
        return np.interp(x, s, e)

    def inverse(x: Any) -> Any:
        return np.interp(x, e, s)

    top = ax.secondary_xaxis("top", functions=(forward, inverse))
    top.set_xlabel("Σ lr (= E at wd 1)", fontsize="x-small", labelpad=2)
    top.tick_params(labelsize="x-small")
    ticks = np.interp(np.geomspace(1.0, max(s[-1], 1.0), 3), s, e) if s[-1] > 1 else [e[-1]]
    top.set_xticks(ticks, [f"{t:.2g}" for t in ticks])


def dynamics_figure(table: pd.DataFrame, latent: int | None = None, width: float = WIDTH) -> Figure:
    """The figure of the models at one latent size (see the module docstring)."""
    if table is None or table.empty:
        raise NotAvailable("no dynamics table (train.snapshots.count is 0?)")
    L = _latent(table, latent)
    models = _models(table, L)
    colours = wd_colours([wd for wd, _ in models])
    groups = sorted(set(table.loc[table["metric"] == "ring_adjacent_pairs", "scope"]), key=lambda g: (g != "Months", g))
    fig, axes = new_figure(ncols=3, nrows=2, width=width * 2.0, height=width * 1.05)
    lr_sum = _series(models[0][1], "model", "lr_sum") if models else pd.Series(dtype=float)
    for ax, (scope, metric, title) in zip(np.ravel(axes), PANELS):
        for wd, rows in models:
            E = _series(rows, "model", "decay_exposure")
            label = f"wd {wd:g}" + (f" (E = {E.iloc[-1]:.2g})" if wd > 0 and len(E) else "")
            for k, group in enumerate(groups if scope is None else [scope]):
                y = _series(rows, group, metric)
                if y.empty:
                    continue
                ax.plot(
                    y.index,
                    y.values,
                    ls=_GROUP_STYLES[k % len(_GROUP_STYLES)],
                    marker="o",
                    ms=3,
                    color=colours[wd],
                    label=label if k == 0 else None,
                )
        if metric == "overlap_cov" and models:
            base = _series(models[0][1], "subspace", "random_baseline")
            if len(base):
                ax.axhline(float(base.iloc[0]), color="grey", ls=":", lw=1, label=f"random L/V = {base.iloc[0]:.3g}")
        if scope is None and groups:
            n = _series(models[0][1], groups[0], "n_found")
            if metric == "ring_adjacent_pairs" and len(n):
                ax.set_ylim(-0.5, float(n.max()) + 0.5)
            styles = ", ".join(f"{g} {_GROUP_STYLES[k % 4]}" for k, g in enumerate(groups))
            title = f"{title} ({styles})"
        ax.set_title(title, fontsize="small", pad=30 if len(lr_sum) > 1 else 6)
        ax.set_xscale("symlog", linthresh=1.0)
        if len(lr_sum):
            ax.set_xlim(-0.2, float(lr_sum.index.max()) * 1.3)
        ax.ticklabel_format(axis="y", useOffset=False)
        ax.set_xlabel("optimiser step", fontsize="small")
        ax.tick_params(labelsize="x-small")
        if len(lr_sum) > 1:
            _lr_sum_axis(ax, lr_sum.index.to_numpy(), lr_sum.to_numpy())
    handles, labels = np.ravel(axes)[0].get_legend_handles_labels()
    h2, l2 = np.ravel(axes)[2].get_legend_handles_labels()
    extra = [(h, lab) for h, lab in zip(h2, l2) if lab.startswith("random")]
    fig.legend(
        handles + [h for h, _ in extra],
        labels + [lab for _, lab in extra],
        loc="outside lower center",
        ncols=min(6, len(labels) + len(extra)),
        fontsize="small",
    )
    fig.suptitle(f"Training dynamics at L = {L} (relu; snapshots over training)", fontsize="medium")
    return fig
