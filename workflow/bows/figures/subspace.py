"""The principal-subspace figure: overlap of W's row space with the data's top-L subspace against L.

One panel per (subspace, quantity): rows = centred covariance and uncentred second moment, columns = overlap
tr(P_W P_L)/L and normalised excess (overlap − L/V)/(1 − L/V) (see :mod:`bows.metrics.subspace`). ReLU models are
solid lines, one colour per weight decay (mean over seeds); trained linear autoencoders are dashed in the same
colours; the pca model (overlap 1 with the covariance subspace by construction) is black; the random baseline L/V is
a dotted grey line (0 on the excess panels). The legend gives each weight decay's decay exposure E = wd · Σ lr_t.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from .drawing import NotAvailable
from .latent_axes import log_latent_axis, shared_legend, wd_colours
from .theme import WIDTH, new_figure

__all__ = ["subspace_figure"]

_KINDS = (("cov", "centred covariance"), ("moment", "second moment"))
_QUANTITIES = (("overlap", "overlap tr(P_W P_L)/L"), ("excess", "excess over random"))


def _usable(table: pd.DataFrame | None) -> pd.DataFrame:
    if table is None or table.empty:
        raise NotAvailable("no subspace table (metrics_sweep wrote none)")
    t = table[np.isfinite(table["overlap_cov"].astype(float))].copy()
    if t.empty:
        reasons = "; ".join(sorted(set(table["status"].astype(str))))[:120]
        raise NotAvailable(f"no model has a finite overlap ({reasons})")
    t["latent"] = t["latent"].astype(int)
    t["wd"] = t["wd"].astype(float)
    return t


def _exposure_label(t: pd.DataFrame, variant: str, wd: float) -> str:
    e = t[(t["variant"] == variant) & (t["wd"] == wd)]["decay_exposure"].astype(float)
    e = e[np.isfinite(e)]
    suffix = f", E={e.iloc[0]:.2g}" if len(e) and wd > 0 else ""
    return f"{variant} wd {wd:g}{suffix}"


def _panel(ax: Any, t: pd.DataFrame, col: str, colours: dict[float, Any], excess: bool) -> None:
    for (variant, wd), g in t[t["variant"] != "pca"].groupby(["variant", "wd"]):
        m = g.groupby("latent")[col].mean().sort_index()
        ax.plot(
            m.index,
            m.values,
            ls="-" if variant == "relu" else "--",
            marker="o" if variant == "relu" else "s",
            ms=4,
            color=colours[wd],
            label=_exposure_label(t, variant, wd),
        )
    pca = t[t["variant"] == "pca"].groupby("latent")[col].mean().sort_index()
    if len(pca):
        ax.plot(pca.index, pca.values, color="black", lw=1.2, marker="^", ms=4, label="pca (optimal linear AE)")
    Ls = np.array(sorted(t["latent"].unique()), dtype=float)
    V = float(np.nanmedian(t["latent"] / t["random_baseline"]))
    ax.plot(Ls, np.zeros_like(Ls) if excess else Ls / V, color="0.5", ls=":", label="random L/V")
    log_latent_axis(ax, Ls)


def subspace_figure(table: pd.DataFrame, width: float = WIDTH) -> Figure:
    """Overlap and excess against L for every weight decay, with the linear, pca and random references."""
    t = _usable(table)
    colours = wd_colours(t["wd"])
    fig, axes = new_figure(ncols=2, nrows=2, width=width * 1.5, height=width * 1.1)
    for r, (kind, kind_label) in enumerate(_KINDS):
        for c, (q, q_label) in enumerate(_QUANTITIES):
            ax = axes[r][c]
            _panel(ax, t, f"{q}_{kind}", colours, excess=q == "excess")
            ax.set_ylabel(q_label)
            ax.set_title(f"{kind_label}: {q}")
    shared_legend(fig, [a for row in axes for a in row], ncols=3)
    fig.suptitle("Weight decay and the data's principal subspace")
    return fig
