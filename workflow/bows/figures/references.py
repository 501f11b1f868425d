"""Figures of the references analysis, drawn from its tables only (coords, geometry, alignment).

- ``references_rings``: the months (top row) and days (bottom row) on their first two principal components (of the
  unit-normalised vectors, as the ring measures see them) in the data's PPMI rows, the months model, a PCA model
  and each reference at its best layer for the months (:func:`bows.references.layers.best_layer`).
- ``references_layers``: RSA and linear CKA of the months model against every layer of the first language-model
  reference, for the months and the top words, with the band of the permutation null (2.5 %–97.5 %) and the same
  numbers for the data's PPMI rows and the two controls.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..grid import ModelSpec
from ..references.layers import best_layer
from .drawing import NotAvailable, unavailable_figure, unavailable_panel
from .months import fit_limits, note, short_label
from .theme import WIDTH, apply_theme, new_figure, season_colour

__all__ = ["rings_figure", "layers_figure", "ring_columns", "pca_beside", "draw"]

GROUPS = ("Months", "Days")
SCOPES = ("Months", "Top words")
PMI = "data/ppmi"
CONTROLS = {"data/ppmi": ("#6b8e23", "--"), "control/unigram": ("#8c564b", ":"), "control/init": ("#999999", "-.")}


def pca_beside(grid: Sequence[ModelSpec], months_model: ModelSpec) -> ModelSpec | None:
    """The PCA model drawn beside the months model: the grid's PCA model of its latent size, else the largest."""
    pcas = sorted((s for s in grid if s.variant == "pca"), key=lambda s: (s.latent != months_model.latent, -s.latent))
    return pcas[0] if pcas else None


def ring_columns(
    geometry: pd.DataFrame, months_model: str, pca_model: str | None, references: Sequence[str]
) -> list[tuple[str, str, str]]:
    """(object, layer, title) of every column of the rings figure."""
    cols = [(PMI, "", "data: PPMI rows"), (months_model, "", f"BOWS {months_model}")]
    if pca_model:
        cols.append((pca_model, "", f"PCA {pca_model}"))
    for ref in references:
        best = best_layer(geometry, ref, "Months")
        layer = best.layer if best else ""
        cols.append((ref, layer, f"{ref} {layer}".strip()))
    return cols


def _adjacency(geometry: pd.DataFrame, obj: str, layer: str, group: str) -> tuple[float, float]:
    m = (geometry["object"] == obj) & (geometry["layer"] == layer) & (geometry["scope"] == group)
    sub = geometry[m].set_index("metric")["value"]
    return float(sub.get("ring_adjacent_pairs", np.nan)), float(sub.get("n_found", np.nan))


def _ring_panel(ax: Any, pts: pd.DataFrame, group: str) -> None:
    pts = pts.sort_values("pos")
    x, y = pts["npc1"].to_numpy(float), pts["npc2"].to_numpy(float)
    ax.plot(np.r_[x, x[:1]], np.r_[y, y[:1]], "-", color="#555555", lw=1.0, zorder=2)
    colours = [season_colour(p) if group == "Months" else "C0" for p in pts["pos"]]
    ax.scatter(x, y, c=colours, s=22, zorder=3, edgecolors="white", linewidths=0.5)
    for xi, yi, w, p in zip(x, y, pts["word"], pts["pos"]):
        ax.annotate(
            short_label(str(w), int(p), group),
            (xi, yi),
            xytext=(2, 2),
            textcoords="offset points",
            fontsize="x-small",
            zorder=4,
        )
    fit_limits(ax, x, y)
    ax.set_xticks([])
    ax.set_yticks([])


def rings_figure(
    coords: pd.DataFrame,
    geometry: pd.DataFrame,
    months_model: str,
    pca_model: str | None,
    references: Sequence[str],
    width: float = WIDTH,
) -> Figure:
    """The months and days of every column (:func:`ring_columns`) on their first two PCs."""
    cols = ring_columns(geometry, months_model, pca_model, references)
    fig, axes = new_figure(ncols=len(cols), nrows=len(GROUPS), width=width * 1.6, height=width * 0.62)
    axes = np.atleast_2d(axes)
    for r, group in enumerate(GROUPS):
        for c, (obj, layer, title) in enumerate(cols):
            ax = axes[r, c]
            pts = coords[(coords["object"] == obj) & (coords["layer"] == layer) & (coords["group"] == group)]
            pts = pts.dropna(subset=["npc1", "npc2"])
            head = title if r == 0 else ""
            if len(pts) < 3:
                reason = f"{group}: {len(pts)} words with a vector in {obj} {layer}".strip()
                unavailable_panel(ax, reason + " (the reference's words table says why)", head)
                continue
            _ring_panel(ax, pts, group)
            adj, n = _adjacency(geometry, obj, layer, group)
            ax.set_title(head, fontsize="small")
            note(ax, f"{group}: {adj:.0f}/{n:.0f} adjacent", width=40)
    return fig


def _lines(ax: Any, rows: pd.DataFrame, colour: str, style: str, label: str, band: bool) -> None:
    rows = rows.sort_values("layer_index")
    x = rows["layer_index"].to_numpy(float)
    if band:
        ax.fill_between(
            x,
            rows["null_lo"].to_numpy(float),
            rows["null_hi"].to_numpy(float),
            color=colour,
            alpha=0.15,
            lw=0,
            label=f"{label}: null 95 %",
        )
    ax.plot(x, rows["value"].to_numpy(float), style, color=colour, lw=1.4, marker="o", ms=2.5, label=label)


def layers_figure(
    alignment: pd.DataFrame, geometry: pd.DataFrame, months_model: str, references: Sequence[str], width: float = WIDTH
) -> Figure:
    """RSA and CKA per layer of the first multi-layer reference (module docstring)."""
    multi = [r for r in references if alignment.loc[alignment["reference"] == r, "layer"].nunique() > 1]
    if not multi:
        raise NotAvailable(
            "no language-model reference in references.use (word vectors have one layer): "
            + (", ".join(references) or "none")
        )
    ref = multi[0]
    sub = alignment[alignment["reference"] == ref]
    best = best_layer(geometry, ref, "Months")
    fig, axes = new_figure(ncols=2, nrows=len(SCOPES), width=width * 1.3, height=width * 0.85, sharex=True)
    for r, scope in enumerate(SCOPES):
        for c, metric in enumerate(("rsa", "cka")):
            ax = axes[r, c]
            rows = sub[(sub["scope"] == scope) & (sub["metric"] == metric)]
            model_rows = rows[rows["object"] == months_model].dropna(subset=["value"])
            if not len(model_rows):
                reason = rows["status"].iloc[0] if len(rows) else f"no {scope} alignment of {months_model}"
                unavailable_panel(ax, str(reason)[:160], f"{scope}: {metric.upper()}")
                continue
            _lines(ax, model_rows, "C0", "-", months_model, band=True)
            if metric == "rsa":
                part = sub[(sub["scope"] == scope) & (sub["metric"] == "partial_rsa") & (sub["object"] == months_model)]
                if part["value"].notna().any():
                    _lines(ax, part, "C3", "-", "partial RSA | PPMI", band=False)
            for obj, (colour, style) in CONTROLS.items():
                o = rows[rows["object"] == obj].dropna(subset=["value"])
                if len(o):
                    _lines(ax, o, colour, style, obj, band=False)
            if best is not None:
                ax.axvline(best.layer_index, color="#444444", lw=0.8, ls=":")
            ax.axhline(0, color="#bbbbbb", lw=0.6)
            lo, hi = int(model_rows["n_words"].min()), int(model_rows["n_words"].max())
            words = f"{hi} words" if lo == hi else f"{lo}–{hi} words by layer"
            ax.set_title(f"{scope} ({words}): {'RSA' if metric == 'rsa' else 'linear CKA'}", fontsize="small")
            if r == len(SCOPES) - 1:
                ax.set_xlabel(f"{ref} layer (−1 = token embedding)")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="outside lower center", ncols=3, fontsize="x-small")
    return fig


def draw(
    coords: pd.DataFrame,
    geometry: pd.DataFrame,
    alignment: pd.DataFrame,
    months_model: str,
    pca_model: str | None,
    references: Sequence[str],
    figures: Mapping[str, Any],
) -> dict[str, Figure]:
    """Both figures (a figure that cannot be drawn is the "not available" panel with the reason)."""
    settings = apply_theme(figures)
    width = float(settings["width"])
    out = {}
    for name, fn in (
        ("references_rings", lambda: rings_figure(coords, geometry, months_model, pca_model, references, width)),
        ("references_layers", lambda: layers_figure(alignment, geometry, months_model, references, width)),
    ):
        try:
            out[name] = fn()
        except NotAvailable as err:
            out[name] = unavailable_figure(name.replace("_", " "), str(err), width=width)
    return out
