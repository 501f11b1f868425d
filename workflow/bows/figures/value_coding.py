"""Figures of the value-coding branch (paper §1.2, Table 1): the city map read back by the probe, and the Fourier
spectrum of the modular-addition embedding."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from .theme import new_figure

__all__ = ["city_map", "fourier_spectrum"]

PROBE_COLOURS = {"fit": "#d6609b", "held-out": "#2f6fb3"}  # probe-fit cities pink, held-out cities blue


def city_map(
    cities: pd.DataFrame, r2: float | None = None, labels: int = 12, drop: Sequence[str] = ("Honolulu", "Anchorage")
):
    """The probe's (lon, lat) for every city, coloured by probe split, with the largest cities labelled; the aspect
    is 1/cos(mean latitude). Cities in ``drop`` (far from the mainland) are left out, as in the paper."""
    df = cities[~cities["name"].isin(drop)]
    fig, ax = new_figure(height=None)
    for split, colour in PROBE_COLOURS.items():
        part = df[df["probe_split"] == split]
        ax.scatter(
            part["pred_lon"],
            part["pred_lat"],
            s=9,
            color=colour,
            alpha=0.8,
            linewidths=0,
            label=f"{split} ({len(part)})",
        )
    placed: list[tuple[float, float]] = []
    for _, row in df.sort_values("population", ascending=False).iterrows():
        if len(placed) >= labels:
            break
        x, y = float(row["pred_lon"]), float(row["pred_lat"])
        if any(abs(x - px) < 4.0 and abs(y - py) < 1.5 for px, py in placed):  # keep labels apart (NYC boroughs)
            continue
        placed.append((x, y))
        ax.annotate(row["name"], (x, y), fontsize="x-small", xytext=(3, 2), textcoords="offset points")
    ax.set_aspect(1.0 / math.cos(math.radians(float(df["lat"].mean()))))
    ax.set_xlabel("probe longitude (°)")
    ax.set_ylabel("probe latitude (°)")
    title = "City embeddings read by a linear probe"
    if r2 is not None:
        title += f" (held-out R² = {r2:.3f})"
    ax.set_title(title)
    ax.legend(loc="lower left", fontsize="small", title="probe split", title_fontsize="small")
    return fig


def fourier_spectrum(power: pd.DataFrame, modulus: int | None = None):
    """Share of the embedding's Fourier power per frequency; the key frequencies (the value space) highlighted."""
    df = power[power["frequency"] > 0]
    fig, ax = new_figure(height=3.0)
    colours = np.where(df["key"], "#c0522b", "#9a9a9a")
    ax.bar(df["frequency"], df["share"], color=colours, width=0.9)
    ax.set_xlabel("frequency k (cycles over the residues)")
    ax.set_ylabel("share of power")
    keys = df.loc[df["key"], "frequency"].tolist()
    title = "Modular addition: Fourier power of the embedding"
    if modulus:
        title += f" (p = {modulus})"
    ax.set_title(title)
    ax.text(
        0.99,
        0.97,
        f"key frequencies (value space): {len(keys)}",
        ha="right",
        va="top",
        transform=ax.transAxes,
        fontsize="small",
        color="#c0522b",
    )
    return fig
