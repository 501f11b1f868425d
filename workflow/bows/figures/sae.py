"""Figures of the SAE benchmark: MCC against L0 (true L0 marked) and against width, hedging against width, and
per-word best recovery against word frequency. Tables in (see :mod:`bows.sae.steps`), Figures out."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from .drawing import NotAvailable

__all__ = ["benchmark_figure", "recovery_figure"]

ARCH_LABEL = {"relu": "ReLU + L1", "topk": "TopK", "matryoshka": "Matryoshka TopK"}


def _wide(scores: pd.DataFrame) -> pd.DataFrame:
    d = scores[scores["architecture"] != "ground_truth"]
    return d.pivot_table(
        index=["model", "architecture", "width", "sparsity"], columns="metric", values="value"
    ).reset_index()


def _mcc_vs_l0(ax, w: pd.DataFrame, true_l0: float) -> None:
    for arch, g in w.groupby("architecture"):
        for i, (width, gw) in enumerate(g.groupby("width")):
            gw = gw.sort_values("l0")
            ax.plot(
                gw["l0"],
                gw["mcc"],
                "-o",
                ms=3,
                lw=1,
                alpha=0.4 + 0.6 * (i + 1) / g["width"].nunique(),
                color=f"C{list(ARCH_LABEL).index(arch) if arch in ARCH_LABEL else 3}",
                label=f"{ARCH_LABEL.get(arch, arch)}, m={width}",
            )
    ax.axvline(true_l0, color="0.3", ls="--", lw=1)
    ax.text(true_l0, 0.02, " true L0", transform=ax.get_xaxis_transform(), fontsize="x-small", color="0.3")
    ax.set_xscale("log")
    ax.set_xlabel("held-out L0 of the SAE")
    ax.set_ylabel("MCC")


def _by_width(ax, table: pd.DataFrame, column: str, ylabel: str, true_l0: float, relu: bool = True) -> None:
    for arch, g in table.groupby("architecture"):
        if arch == "relu" and not relu:
            continue
        ks = g["sparsity"].unique()
        k = ks[np.argmin(np.abs(np.log(np.maximum(ks, 1e-9)) - np.log(true_l0)))] if arch != "relu" else None
        sel = g if k is None else g[g["sparsity"] == k]
        best = sel.groupby("width")[column].max() if k is None else sel.groupby("width")[column].mean()
        tag = "best λ" if k is None else f"k={k:g}"
        ax.plot(
            best.index,
            best.values,
            "-o",
            ms=3,
            label=f"{ARCH_LABEL.get(arch, arch)} ({tag})",
            color=f"C{list(ARCH_LABEL).index(arch) if arch in ARCH_LABEL else 3}",
        )
    ax.set_xscale("log", base=2)
    ax.set_xlabel("dictionary width m")
    ax.set_ylabel(ylabel)


def benchmark_figure(scores: pd.DataFrame, hedging: pd.DataFrame, true_l0: Mapping[str, float]) -> Figure:
    """One row per BOWS model: MCC vs held-out L0 (one line per architecture × width, true L0 dashed), MCC vs width
    (TopK-type SAEs at the k nearest the true L0; ReLU + L1 at its best λ) and the merged fraction of the word groups
    vs width (1 − distinct best latents / group words, mean over groups; TopK-type SAEs at the k nearest the true
    L0; the ground truth's is 0)."""
    w = _wide(scores)
    if w.empty:
        raise NotAvailable("no SAE was scored")
    models = list(dict.fromkeys(w["model"]))
    fig, axes = plt.subplots(len(models), 3, figsize=(12, 3.6 * len(models)), squeeze=False, layout="constrained")
    for r, model in enumerate(models):
        wm, l0 = w[w["model"] == model], float(true_l0[model])
        _mcc_vs_l0(axes[r, 0], wm, l0)
        axes[r, 0].set_title(f"{model}: MCC vs L0", fontsize="small")
        _by_width(axes[r, 1], wm, "mcc", "MCC", l0)
        axes[r, 1].set_title("MCC vs width", fontsize="small")
        h = hedging[(hedging["model"] == model) & (hedging["metric"] == "merged_fraction")]
        hm = h[h["architecture"] != "ground_truth"].groupby(["architecture", "width", "sparsity"])["value"].mean()
        _by_width(
            axes[r, 2], hm.rename("merged").reset_index(), "merged", "merged fraction (mean of groups)", l0, relu=False
        )
        axes[r, 2].set_ylim(bottom=0)
        axes[r, 2].set_title("word groups merged by shared latents vs width", fontsize="small")
    for ax in axes.ravel():
        ax.tick_params(labelsize="x-small")
    axes[0, 1].legend(fontsize="x-small")
    axes[0, 0].legend(fontsize="xx-small", ncol=2)
    return fig


def recovery_figure(words: pd.DataFrame) -> Figure:
    """Per-word best |cos| against word frequency for the widest SAE of each architecture (at its median sparsity
    setting), one panel per BOWS model."""
    if words.empty:
        raise NotAvailable("no SAE was scored")
    models = list(dict.fromkeys(words["model"]))
    fig, axes = plt.subplots(1, len(models), figsize=(5 * len(models), 3.6), squeeze=False, layout="constrained")
    for c, model in enumerate(models):
        ax = axes[0, c]
        d = words[words["model"] == model]
        for arch, g in d.groupby("architecture"):
            g = g[g["width"] == g["width"].max()]
            ks = np.sort(g["sparsity"].unique())
            g = g[g["sparsity"] == ks[len(ks) // 2]]
            ax.scatter(
                g["frequency"],
                g["best_cos"],
                s=6,
                alpha=0.6,
                label=f"{ARCH_LABEL.get(arch, arch)} (m={g['width'].iloc[0]}, {ks[len(ks) // 2]:g})",
            )
        ax.set_xscale("log")
        ax.set_xlabel("word frequency (share of samples)")
        ax.set_ylabel("best |cos| with any latent")
        ax.set_title(model, fontsize="small")
        ax.legend(fontsize="x-small")
    return fig
