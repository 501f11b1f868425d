"""The reproduction-criteria dashboard and the criteria table of the report (rule fig_criteria:
:mod:`bows.figures.stages.criteria`).

The dashboard draws every record of ``criteria.json`` (:mod:`bows.claims`): its status (pass / fail / not
applicable / error) as a coloured badge, its value against its threshold, the scale at which the paper makes the
claim and this run's models (or, when it was not tested, the reason). The table is the same records in the
report's layout for every set of claims (:func:`bows.claims.write_claims_html`).
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch

from ..claims import STATUS_COLOURS, STATUS_LABELS, claims_frame, counts_text, read_claims, write_claims_html
from .drawing import NotAvailable, draw
from .theme import WIDTH, figure_width, new_figure

__all__ = ["criteria_table", "criteria_figure", "render_criteria", "COLUMNS"]

COLUMNS = ["id", "claim", "status", "value", "threshold", "claimed_at", "evaluated_at", "reason"]
TITLE = "Reproduction criteria"

# the dashboard's columns in axes fractions: (x, wrap width in characters, header)
DASHBOARD_COLUMNS = (
    (0.005, 4, "#"),
    (0.03, 24, "criterion"),
    (0.215, None, "status"),
    (0.28, 40, "value  (threshold)"),
    (0.57, 28, "paper's claim at"),
    (0.775, 30, "this run / reason"),
)
ROW_HEIGHT = 0.7


def criteria_table(criteria_json: str | Path) -> pd.DataFrame:
    """One row per criterion of ``criteria.json``: ``id, claim, status, value, threshold, claimed_at,
    evaluated_at, reason`` (value and threshold as compact text)."""
    return claims_frame(read_claims(criteria_json))[COLUMNS]


def _wrap(text: str, width: int, max_lines: int = 3) -> str:
    lines = textwrap.wrap(str(text), width=width) or [""]
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][: max(0, width - 1)] + "…"
    return "\n".join(lines)


def _badge(ax: Any, x: float, y: float, status: str) -> None:
    ax.text(
        x + 0.028,
        y,
        STATUS_LABELS.get(status, status),
        ha="center",
        va="center",
        fontsize="small",
        fontweight="bold",
        color="white",
        bbox={"boxstyle": "round,pad=0.3", "facecolor": STATUS_COLOURS.get(status, "#757575"), "edgecolor": "none"},
    )


def _row(ax: Any, i: int, r: Any) -> None:
    y = i + 0.55
    if i % 2 == 0:
        shade = FancyBboxPatch(
            (0, y - 0.48), 1, 0.96, boxstyle="square,pad=0", facecolor="#f5f5f5", edgecolor="none", zorder=0
        )
        ax.add_patch(shade)
    status = str(r.status)
    this_run = f"{r.reason} ({r.evaluated_at})" if r.reason and r.evaluated_at else (r.reason or r.evaluated_at)
    texts = [str(r.id), r.claim, None, f"{r.value}  ({r.threshold})", r.claimed_at, this_run]
    for (x, wrap, _), text in zip(DASHBOARD_COLUMNS, texts):
        if text is None:
            _badge(ax, x, y, status)
            continue
        last = x > 0.7
        ax.text(
            x,
            y,
            _wrap(text, wrap, max_lines=4 if last else 3),
            ha="left",
            va="center",
            fontsize="small",
            linespacing=1.05,
            color=STATUS_COLOURS["error"] if (last and status == "error") else "black",
        )


def criteria_figure(table: pd.DataFrame, width: float = WIDTH) -> Figure:
    """The dashboard: one row per criterion of :func:`criteria_table` under a title with the counts by status."""
    if table is None or table.empty:
        raise NotAvailable("criteria.json lists no criteria")
    n = len(table)
    fig, ax = new_figure(width=max(width * 2.0, 12.0), height=0.9 + ROW_HEIGHT * (n + 1))
    ax.set_axis_off()
    ax.set_xlim(0, 1)
    ax.set_ylim(n + 0.8, -0.9)
    for x, _, head in DASHBOARD_COLUMNS:
        ax.text(x, -0.35, head, ha="left", va="center", fontsize="medium", fontweight="bold")
    ax.plot([0, 1], [0.05, 0.05], color="0.3", lw=0.8, transform=ax.transData)
    for i, r in enumerate(table.itertuples(index=False)):
        _row(ax, i, r)
    by_status = table["status"].value_counts().to_dict()
    ax.set_title(f"{TITLE}: {counts_text(by_status)}", loc="left", fontsize="medium")
    return fig


def render_criteria(
    criteria_json: str | Path,
    outputs: Sequence[str | Path],
    figures: Mapping[str, Any] | None,
    html: str | Path | None = None,
) -> list[Path]:
    """Draw the dashboard of ``criteria.json`` to every path of ``outputs`` (one per format) and, with ``html``,
    write the criteria table in the report's layout. Returns the figure paths."""
    if html is not None:
        write_claims_html(read_claims(criteria_json), html, TITLE)
    width = figure_width(figures)
    inputs = {"criteria": str(criteria_json)}
    return draw(lambda: criteria_figure(criteria_table(criteria_json), width=width), TITLE, outputs, figures, inputs)
