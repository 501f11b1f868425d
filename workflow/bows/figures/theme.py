"""One look for every figure: the seaborn/matplotlib theme, a figure of the theme's width, season colours and
month names, and the label of the model a figure shows.

Usage (what :func:`bows.figures.drawing.draw` does for every figure job)::

    settings = apply_theme(config["figures"])
    fig = months.ring(table, source="data", width=float(settings["width"]))
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import matplotlib

matplotlib.use("Agg")  # figures are files; never open a window

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from ..grid import ModelSpec  # noqa: E402
from ..schema import defaults  # noqa: E402

__all__ = [
    "apply_theme",
    "settings",
    "figure_width",
    "new_figure",
    "MONTH_ABBR",
    "FIGURE_DEFAULTS",
    "WIDTH",
    "SEASON_COLOURS",
    "SEASON_OF_MONTH",
    "season_colour",
    "model_label",
    "table_model",
    "table_model_label",
    "model_rows",
]

#: the schema's figure settings: default width (inches), dpi and the structure figures' word groups
FIGURE_DEFAULTS = defaults()["figures"]
WIDTH = float(FIGURE_DEFAULTS["width"])

MONTH_ABBR = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# Seasons (northern hemisphere) for colouring months and seasonal words consistently across figures.
SEASON_OF_MONTH = (
    "winter",
    "winter",
    "spring",
    "spring",
    "spring",
    "summer",
    "summer",
    "summer",
    "autumn",
    "autumn",
    "autumn",
    "winter",
)
SEASON_COLOURS = {"winter": "#3b6fb6", "spring": "#3a9d4c", "summer": "#e0a21b", "autumn": "#c0522b"}


def settings(cfg: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """``config["figures"]`` (plus any keys a rule adds), missing or null keys taken from the schema's defaults."""
    out = defaults()["figures"]
    out.update({k: v for k, v in (cfg or {}).items() if v is not None})
    return out


def figure_width(cfg: Mapping[str, Any] | None = None) -> float:
    """The width (inches) of a one-panel figure under ``config["figures"]``."""
    return float(settings(cfg)["width"])


def apply_theme(cfg: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Set the seaborn/matplotlib theme from ``config["figures"]`` (context, style, palette, font_scale).

    Returns the completed settings. Fonts are embedded as TrueType (type 42) in PDFs, so text stays editable, and
    PDFs carry no creation date, so re-drawing an unchanged figure gives identical bytes.
    """
    chosen = settings(cfg)
    sns.set_theme(
        context=chosen["context"],
        style=chosen["style"],
        palette=chosen["palette"],
        font_scale=float(chosen["font_scale"]),
    )
    matplotlib.rcParams.update(
        {
            "figure.dpi": 100,
            "savefig.dpi": int(chosen["dpi"]),
            "savefig.bbox": "tight",
            "savefig.pad_inches": 0.05,
            "pdf.fonttype": 42,
            "ps.fonttype": 42,
            "axes.titleweight": "bold",
            "axes.titlesize": "medium",
            "legend.frameon": False,
            "image.cmap": "viridis",
            "figure.constrained_layout.use": False,
        }
    )
    return chosen


def new_figure(
    ncols: int = 1, nrows: int = 1, width: float | None = None, height: float | None = None, **kwargs: Any
) -> tuple[Figure, Any]:
    """``plt.subplots`` with the theme's width and constrained layout (labels never overlap)."""
    w = float(width if width is not None else WIDTH)
    h = float(height if height is not None else w * 0.75 * nrows / max(1, ncols) ** 0.5)
    fig, axes = plt.subplots(nrows, ncols, figsize=(w, h), layout="constrained", **kwargs)
    return fig, axes


def season_colour(month_index: int) -> str:
    """Colour of calendar month ``month_index`` (0 = January) by northern-hemisphere season."""
    return SEASON_COLOURS[SEASON_OF_MONTH[int(month_index) % 12]]


def model_label(spec: ModelSpec) -> str:
    """``relu L500 wd4.0 seed1``: the model in a figure's title."""
    return f"{spec.variant} L{spec.latent} wd{spec.wd} seed{spec.seed}"


def table_model(table: pd.DataFrame | None) -> ModelSpec | None:
    """The model of a one-model tidy table, from its ``variant, latent, wd, seed`` columns (None without them)."""
    columns = ("variant", "latent", "wd", "seed")
    if table is None or table.empty or not set(columns) <= set(table.columns):
        return None
    first = table[table["variant"].notna()]
    if first.empty:
        return None
    row = first.iloc[0]
    return ModelSpec(str(row["variant"]), int(row["latent"]), float(row["wd"]), int(row["seed"]))


def table_model_label(table: pd.DataFrame | None) -> str:
    """The label of the model of a one-model tidy table ('' when the table names none)."""
    spec = table_model(table)
    return model_label(spec) if spec else ""


def model_rows(table: pd.DataFrame, spec: ModelSpec) -> pd.DataFrame:
    """The rows of a tidy table that belong to model ``spec`` (by its ``variant, latent, wd, seed`` columns)."""
    return table[
        (table["variant"] == spec.variant)
        & (table["latent"] == spec.latent)
        & (table["wd"] == spec.weight_decay)
        & (table["seed"] == spec.seed)
    ]
