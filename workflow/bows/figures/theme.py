"""One theme for every figure, an atomic PDF/PNG writer, and the "not available at this scale" panel.

Usage (in a figure script)::

    from bows.figures.theme import apply_theme, save_figure
    apply_theme(config["figures"])
    fig = some_figure(table, ...)
    save_figure(fig, "results/.../figures/name", formats=["pdf", "png"], dpi=150)

Figure functions that cannot draw their figure from the data at hand (a word missing from a small vocabulary, a
model not in the grid, a table with no rows) raise :class:`NotAvailable` with the reason; the writer then draws an
explicit panel that says so, so the report shows *why* a figure is empty instead of silently omitting it.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # figures are files; never open a window

import matplotlib.pyplot as plt  # noqa: E402
import seaborn as sns  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from ..io import atomic_path  # noqa: E402
from ..schema import defaults  # noqa: E402

__all__ = [
    "NotAvailable",
    "apply_theme",
    "settings",
    "save_figure",
    "output_paths",
    "unavailable_figure",
    "unavailable_panel",
    "read_table",
    "save_outputs",
    "new_figure",
    "MONTH_ABBR",
    "FIGURE_DEFAULTS",
    "WIDTH",
    "season_colour",
]

#: the schema's figure settings: default width (inches), dpi and the structure figures' word groups
FIGURE_DEFAULTS = defaults()["figures"]
WIDTH = float(FIGURE_DEFAULTS["width"])

MONTH_ABBR = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# Seasons (northern hemisphere) for colouring months and seasonal words consistently across figures.
_SEASON_OF_MONTH = (
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
_SEASON_COLOURS = {"winter": "#3b6fb6", "spring": "#3a9d4c", "summer": "#e0a21b", "autumn": "#c0522b"}


class NotAvailable(Exception):
    """The figure cannot be drawn from this run's data; ``str(err)`` says why (shown in the figure)."""


def settings(cfg: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """``config["figures"]`` (plus any keys a rule adds), missing or null keys taken from the schema's defaults."""
    out = defaults()["figures"]
    out.update({k: v for k, v in (cfg or {}).items() if v is not None})
    return out


def apply_theme(cfg: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Set the seaborn/matplotlib theme from ``config["figures"]`` (context, style, palette, font_scale).

    Returns the completed settings. Fonts are embedded as TrueType (type 42) in PDFs, so text stays editable, and
    PDFs carry no creation date, so re-drawing an unchanged figure gives identical bytes.
    """
    s = settings(cfg)
    sns.set_theme(context=s["context"], style=s["style"], palette=s["palette"], font_scale=float(s["font_scale"]))
    matplotlib.rcParams.update(
        {
            "figure.dpi": 100,
            "savefig.dpi": int(s["dpi"]),
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
    return s


def new_figure(
    ncols: int = 1, nrows: int = 1, width: float | None = None, height: float | None = None, **kwargs: Any
) -> tuple[Figure, Any]:
    """``plt.subplots`` with the theme's width and constrained layout (labels never overlap)."""
    w = float(width if width is not None else WIDTH)
    h = float(height if height is not None else w * 0.75 * nrows / max(1, ncols) ** 0.5)
    fig, axes = plt.subplots(nrows, ncols, figsize=(w, h), layout="constrained", **kwargs)
    return fig, axes


def unavailable_panel(ax: Any, reason: str, title: str | None = None) -> None:
    """Turn ``ax`` into a panel that reads "not available at this scale: <reason>"."""
    ax.set_axis_off()
    text = "\n".join(textwrap.wrap(f"not available at this scale: {reason}", width=48))
    ax.text(
        0.5,
        0.5,
        text,
        ha="center",
        va="center",
        transform=ax.transAxes,
        fontsize="medium",
        color="#444444",
        bbox={"boxstyle": "round,pad=0.8", "facecolor": "#f4f4f4", "edgecolor": "#b0b0b0"},
        wrap=True,
    )
    if title:
        ax.set_title(title)


def unavailable_figure(title: str, reason: str, width: float = WIDTH, height: float = 3.0) -> Figure:
    """A whole figure saying why it could not be drawn at this scale."""
    fig, ax = new_figure(width=width, height=height)
    unavailable_panel(ax, reason, title=title)
    return fig


def output_paths(stem: str | os.PathLike, formats: Iterable[str]) -> list[Path]:
    """``stem`` (with or without a suffix) → ``[stem.pdf, stem.png, ...]`` in the order of ``formats``."""
    stem = Path(stem)
    if stem.suffix.lstrip(".") in {"pdf", "png", "svg"}:
        stem = stem.with_suffix("")
    return [stem.with_name(f"{stem.name}.{fmt}") for fmt in formats]


def save_figure(
    fig: Figure,
    stem: str | os.PathLike,
    formats: Sequence[str] = ("pdf", "png"),
    dpi: int = int(FIGURE_DEFAULTS["dpi"]),
    close: bool = True,
) -> list[Path]:
    """Write ``fig`` to ``{stem}.{fmt}`` for each format, each atomically (temp file + rename).

    PDF/SVG metadata omits creation dates so unchanged figures are byte-identical across runs. Returns the paths.
    """
    if not formats:
        raise ValueError("save_figure: formats is empty; set figures.formats in the config (e.g. [pdf, png])")
    paths = output_paths(stem, formats)
    for path in paths:
        fmt = path.suffix.lstrip(".")
        meta: dict[str, Any] | None
        if fmt == "pdf":
            meta = {"CreationDate": None, "ModDate": None}
        elif fmt == "svg":
            meta = {"Date": None}
        else:
            meta = None
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format=fmt, dpi=int(dpi), metadata=meta)
    if close:
        plt.close(fig)
    return paths


def season_colour(month_index: int) -> str:
    """Colour of calendar month ``month_index`` (0 = January) by northern-hemisphere season."""
    return _SEASON_COLOURS[_SEASON_OF_MONTH[int(month_index) % 12]]


SEASON_COLOURS = _SEASON_COLOURS
SEASON_OF_MONTH = _SEASON_OF_MONTH


def read_table(path: str):
    """A metric table (parquet, or CSV by suffix) with pandas' default dtypes for plotting."""
    import pandas as pd

    p = str(path)
    return pd.read_csv(p) if p.endswith(".csv") else pd.read_parquet(p)


def save_outputs(
    fig: Figure, outputs: Sequence[str | os.PathLike], settings: Mapping[str, Any], tables: Mapping[str, Any]
) -> list:
    """Save ``fig`` to every path of ``outputs`` (one per format, same stem) with a provenance sidecar each.

    The sidecar records the figure settings and the tables drawn (with their sha256).
    """
    from ..io import write_sidecar

    paths = [Path(p) for p in outputs]
    by_stem: dict[Path, list[str]] = {}
    for p in paths:
        by_stem.setdefault(p.with_suffix(""), []).append(p.suffix.lstrip("."))
    written = []
    for stem, formats in by_stem.items():
        written += save_figure(fig, stem, formats=formats, dpi=int(settings["dpi"]), close=False)
    plt.close(fig)
    for p in written:
        write_sidecar(p, {"figures": dict(settings)}, inputs=dict(tables))
    return written
