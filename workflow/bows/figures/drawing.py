"""Drawing a figure job's figure: the theme, the "not available at this scale" panel, and saving every format.

Figure functions (``bows.figures.months`` and the others) take tables and return a matplotlib Figure. One that
cannot draw its figure from the data at hand (a word missing from a small vocabulary, a model not in the grid, a
table with no rows) raises :class:`NotAvailable` with the reason. :func:`draw` turns that into a figure that says
so, so the report shows *why* a figure is empty instead of silently omitting it, and writes the figure to every
requested format, atomically, each with a provenance sidecar::

    draw(lambda: ring(table, source="data"), "Months: PCA of the data", ["ring.png", "ring.pdf"], config["figures"])

PDFs and SVGs carry no creation date, so redrawing an unchanged figure gives identical bytes.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from ..io import atomic_path, write_sidecar
from .theme import FIGURE_DEFAULTS, WIDTH, apply_theme, new_figure

__all__ = [
    "NotAvailable",
    "PAPER_ASPECT",
    "draw",
    "unavailable_panel",
    "unavailable_figure",
    "output_paths",
    "save_figure",
    "save_outputs",
]

#: height (inches) of a "not available" figure unless the caller gives its aspect
UNAVAILABLE_HEIGHT = 3.0
#: height / width of the paper figures' "not available" figure
PAPER_ASPECT = 0.45


class NotAvailable(Exception):
    """The figure cannot be drawn from this run's data; ``str(err)`` says why (shown in the figure)."""


def draw(
    make: Callable[[], Figure],
    title: str,
    paths: Sequence[str | os.PathLike],
    figures: Mapping[str, Any] | None,
    inputs: Mapping[str, Any] | None = None,
    unavailable_aspect: float | None = None,
) -> list[Path]:
    """Apply the theme of ``figures`` (the ``figures`` config section), call ``make()`` for the Figure (or draw the
    "not available at this scale" figure titled ``title`` when it raises :class:`NotAvailable`: ``width`` wide and
    ``unavailable_aspect`` · width high, or :data:`UNAVAILABLE_HEIGHT`) and write it to every path of ``paths`` (one
    per format) with a sidecar naming ``inputs``."""
    chosen = apply_theme(figures)
    width = float(chosen["width"])
    try:
        fig = make()
    except NotAvailable as err:
        height = UNAVAILABLE_HEIGHT if unavailable_aspect is None else unavailable_aspect * width
        fig = unavailable_figure(title, str(err), width=width, height=height)
    return save_outputs(fig, paths, chosen, inputs or {})


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


def unavailable_figure(title: str, reason: str, width: float = WIDTH, height: float = UNAVAILABLE_HEIGHT) -> Figure:
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
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format=fmt, dpi=int(dpi), metadata=_undated(fmt))
    if close:
        plt.close(fig)
    return paths


def _undated(fmt: str) -> dict[str, Any] | None:
    """Metadata that leaves the date out of a PDF or SVG (None: the format's default)."""
    if fmt == "pdf":
        return {"CreationDate": None, "ModDate": None}
    if fmt == "svg":
        return {"Date": None}
    return None


def save_outputs(
    fig: Figure, outputs: Sequence[str | os.PathLike], settings: Mapping[str, Any], inputs: Mapping[str, Any]
) -> list[Path]:
    """Save ``fig`` to every path of ``outputs`` (one per format, same stem) with a provenance sidecar each.

    The sidecar records the figure settings and the input files drawn (with their sha256).
    """
    formats_by_stem: dict[Path, list[str]] = {}
    for path in map(Path, outputs):
        formats_by_stem.setdefault(path.with_suffix(""), []).append(path.suffix.lstrip("."))
    written: list[Path] = []
    for stem, formats in formats_by_stem.items():
        written += save_figure(fig, stem, formats=formats, dpi=int(settings["dpi"]), close=False)
    plt.close(fig)
    for path in written:
        write_sidecar(path, {"figures": dict(settings)}, inputs=dict(inputs))
    return written
