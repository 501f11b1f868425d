"""The reproduction-criteria dashboard: every criterion of ``criteria.json``, its value against its threshold, its
status (pass / fail / not applicable, with the reason) and the scale at which the paper makes the claim.

:func:`criteria_table` flattens ``criteria.json`` into one row per criterion (also written as ``criteria.csv``);
:func:`criteria_figure` draws that table as a figure; :func:`render_criteria` does both from the file.
"""

from __future__ import annotations

import json
import math
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch

from .drawing import NotAvailable
from .theme import WIDTH, new_figure

__all__ = ["STATUS_COLOURS", "compact", "criteria_table", "criteria_figure", "render_criteria"]

STATUS_COLOURS = {"pass": "#2e7d32", "fail": "#c62828", "not_applicable": "#757575"}
_STATUS_TEXT = {"pass": "PASS", "fail": "FAIL", "not_applicable": "N/A"}
COLUMNS = ["id", "name", "status", "value", "threshold", "claimed_at", "evaluated_at", "reason"]


def compact(value: Any, limit: int = 90) -> str:
    """A short human-readable rendering of a criterion value or threshold (numbers to 3 significant digits,
    dicts as ``key: value`` pairs, nested dicts summarised by their ``pass`` flag when they have one)."""

    def one(v: Any, depth: int = 0) -> str:
        if v is None:
            return "—"
        if isinstance(v, bool):
            return "yes" if v else "no"
        if isinstance(v, (int,)) and not isinstance(v, bool):
            return str(v)
        if isinstance(v, float):
            return "nan" if math.isnan(v) else f"{v:.3g}"
        if isinstance(v, Mapping):
            if not v:
                return "—"
            if depth > 0 and "pass" in v:
                return "pass" if v["pass"] else "fail"
            return ", ".join(f"{k}: {one(x, depth + 1)}" for k, x in v.items())
        if isinstance(v, (list, tuple)):
            return "[" + ", ".join(one(x, depth + 1) for x in v) + "]"
        return str(v)

    text = one(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def criteria_table(criteria: Mapping[str, Any]) -> pd.DataFrame:
    """One row per criterion: ``id, name, status, value, threshold, claimed_at, evaluated_at, reason``
    (``value``/``threshold`` as compact text; ``reason`` from ``details.reason``, empty when there is none)."""
    rows = []
    for c in criteria.get("criteria", []) or []:
        details = c.get("details") or {}
        rows.append(
            {
                "id": int(c.get("id", len(rows) + 1)),
                "name": str(c.get("name", "")),
                "status": str(c.get("status", "not_applicable")),
                "value": compact(c.get("value"), limit=400),
                "threshold": compact(c.get("threshold"), limit=400),
                "claimed_at": str(c.get("claimed_at") or ""),
                "evaluated_at": str(c.get("evaluated_at") or ""),
                "reason": str(details.get("reason") or "") if isinstance(details, Mapping) else "",
            }
        )
    return pd.DataFrame(rows, columns=COLUMNS)


def _wrap(text: str, width: int, max_lines: int = 3) -> str:
    lines = textwrap.wrap(str(text), width=width) or [""]
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][: max(0, width - 1)] + "…"
    return "\n".join(lines)


def criteria_figure(table: pd.DataFrame, width: float = WIDTH) -> Figure:
    """A dashboard: one row per criterion with a coloured status badge, the value against the threshold, the
    paper's scale and this run's models (or, when not applicable, the reason)."""
    if table is None or table.empty:
        raise NotAvailable("criteria.json lists no criteria")
    n = len(table)
    counts = table["status"].value_counts()
    # column layout in axes fractions: (x, wrap width in characters, header)
    cols = [
        (0.005, 4, "#"),
        (0.03, 24, "criterion"),
        (0.215, None, "status"),
        (0.28, 40, "value  (threshold)"),
        (0.57, 28, "paper's claim at"),
        (0.775, 30, "this run / reason"),
    ]
    row_h = 0.7
    fig_w = max(width * 2.0, 12.0)
    fig, ax = new_figure(width=fig_w, height=0.9 + row_h * (n + 1))
    ax.set_axis_off()
    ax.set_xlim(0, 1)
    ax.set_ylim(n + 0.8, -0.9)
    for x, _, head in cols:
        ax.text(x, -0.35, head, ha="left", va="center", fontsize="medium", fontweight="bold")
    ax.plot([0, 1], [0.05, 0.05], color="0.3", lw=0.8, transform=ax.transData)
    for i, r in enumerate(table.itertuples(index=False)):
        y = i + 0.55
        if i % 2 == 0:
            ax.add_patch(
                FancyBboxPatch(
                    (0, y - 0.48), 1, 0.96, boxstyle="square,pad=0", facecolor="#f5f5f5", edgecolor="none", zorder=0
                )
            )
        status = str(r.status)
        colour = STATUS_COLOURS.get(status, "#757575")
        vt = f"{r.value}  ({r.threshold})"
        other = f"{r.reason} ({r.evaluated_at})" if r.reason else r.evaluated_at
        texts = [str(r.id), r.name, None, vt, r.claimed_at, other]
        for (x, wrap, _), t in zip(cols, texts):
            if t is None:
                ax.text(
                    x + 0.028,
                    y,
                    _STATUS_TEXT.get(status, status),
                    ha="center",
                    va="center",
                    fontsize="small",
                    fontweight="bold",
                    color="white",
                    bbox={"boxstyle": "round,pad=0.3", "facecolor": colour, "edgecolor": "none"},
                )
                continue
            ax.text(
                x,
                y,
                _wrap(t, wrap, max_lines=4 if x > 0.7 else 3),
                ha="left",
                va="center",
                fontsize="small",
                linespacing=1.05,
                color="#444444" if (x > 0.7 and status == "not_applicable") else "black",
            )
    summary = " · ".join(
        f"{int(counts.get(k, 0))} {_STATUS_TEXT[k].lower() if k != 'not_applicable' else 'not applicable'}"
        for k in ("pass", "fail", "not_applicable")
    )
    ax.set_title(f"Reproduction criteria: {summary}", loc="left", fontsize="medium")
    return fig


def render_criteria(
    criteria_json: str | Path,
    outputs: Sequence[str | Path],
    csv: str | Path,
    figures: Mapping[str, Any] | None,
    html: str | Path | None = None,
) -> list[Path]:
    """Read ``criteria.json``, write the flat table to ``csv`` (and ``html``) and the dashboard to every path in
    ``outputs``."""
    from .. import io
    from .drawing import draw
    from .theme import apply_theme

    s = apply_theme(figures)
    with open(criteria_json, encoding="utf-8") as fh:
        crit = json.load(fh)
    table = criteria_table(crit)
    with io.atomic_path(csv) as tmp:
        table.to_csv(tmp, index=False)
    io.write_sidecar(csv, {"figures": dict(figures or {})}, inputs={"criteria": str(criteria_json)})
    if html is not None:
        import html as _html

        shown = table.astype(str).map(_html.escape)
        shown["status"] = [
            f"<b style='color:{STATUS_COLOURS.get(s, '#757575')}'>{_html.escape(s)}</b>" for s in table["status"]
        ]
        io.write_html_table(shown, html, "criteria", escape=False, align="left")
    return draw(
        lambda: criteria_figure(table, width=float(s["width"])),
        "Reproduction criteria",
        outputs,
        figures,
        inputs={"criteria": str(criteria_json)},
    )
