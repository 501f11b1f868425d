"""Mechanism figure of constructive interference (paper §6.6–6.7) and Christmas vs the twelve months.

Notation: z_t(S) = b_t + Σ_{j∈S} ⟨w_t, w_j⟩ is target t's decoder pre-activation on window S (self term ‖w_t‖²
included), x̂_t = ReLU(z_t); the one-hot value is z_t({t}) = ‖w_t‖² + b_t.

Panel A: R² in context (solid) and one-hot R² (hatched; a "0" diamond when < 0.02) of the target's words
(``mechanism/r2``). Panel B: KDE of z_t over held-out windows containing t (``mechanism/density``), red where
x̂ = 0 (z ≤ 0), blue where x̂ > 0, with the one-hot value (orange) and the fraction of windows with z > 0.
Panel C: cumulative contribution towers from the bias b_t (``mechanism/towers``): t + correlated context,
t + uncorrelated context, correlated context without t; ReLU threshold at 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from .drawing import NotAvailable, unavailable_panel
from .theme import MONTH_ABBR, WIDTH, new_figure, season_colour, table_model_label

__all__ = [
    "r2_words",
    "panel_r2",
    "panel_density",
    "panel_towers",
    "mechanism_figure",
    "christmas_months",
]

TOWER_TITLES = {
    "correlated": "t + correlated",
    "uncorrelated": "t + uncorrelated",
    "correlated_no_target": "correlated, no t",
}
KIND_COLOURS = {"bias": "#7f7f7f", "self": "#e08214", "pos": "#2c7fb8", "neg": "#d7301f"}
NEG_COLOUR = "#d7301f"
POS_COLOUR = "#2c7fb8"
ONEHOT_COLOUR = "#f28e2b"


def r2_words(target: str) -> list[str]:
    """Words of Panel A for ``target`` (the paper's lists; other targets: the target then the default list)."""
    from ..wordlists import word_lists

    mech = word_lists()["mechanism"]
    spec = mech["targets"].get(target)
    if spec is not None:
        return list(spec["r2_words"])
    return [target] + [w for w in mech["default_r2_words"] if w != target]


def _target_status(metrics: pd.DataFrame, target: str) -> tuple[dict[str, float], str]:
    """The target's scalar metrics and status from ``mechanism/metrics`` (status "missing: …" when absent)."""
    d = metrics[(metrics["scope"].astype(str) == target) & (metrics["item"].fillna("").astype(str) == "")]
    if d.empty:
        return {}, "missing: target not analysed (not in analysis.mechanism_targets)"
    vals = {str(m): float(v) for m, v in zip(d["metric"], d["value"])}
    if "status" not in d.columns:
        return vals, "ok"
    nw = d[d["metric"].astype(str) == "n_windows"]
    return vals, str((nw if len(nw) else d)["status"].iloc[0])


def _lookup(r2: pd.DataFrame, word: str) -> pd.Series | None:
    """Row of ``word`` in the R² table: exact match, else the first case-insensitive match."""
    exact = r2[r2["word"].astype(str) == word]
    if len(exact):
        return exact.iloc[0]
    ci = r2[r2["word"].astype(str).str.lower() == word.lower()]
    return ci.iloc[0] if len(ci) else None


def panel_r2(ax: Any, r2: pd.DataFrame, words: Sequence[str]) -> list[str]:
    """Panel A: horizontal R² bars per word (context solid, one-hot hatched). Returns the words not drawn."""
    rows, missing = [], []
    for w in words:
        r = _lookup(r2, w)
        if r is None or not (np.isfinite(float(r["r2_ctx"])) or np.isfinite(float(r["r2_onehot"]))):
            missing.append(w)
        else:
            rows.append((str(r["word"]), float(r["r2_ctx"]), float(r["r2_onehot"])))
    if not rows:
        raise NotAvailable("none of " + ", ".join(words) + " has an R² (not in the vocabulary or never seen)")
    y = np.arange(len(rows))[::-1].astype(float)
    h = 0.38
    ctx = np.array([r[1] for r in rows])
    one = np.array([r[2] for r in rows])
    ax.barh(y + h / 2, np.nan_to_num(ctx), height=h, color=POS_COLOUR, label="in context")
    ax.barh(
        y - h / 2,
        np.where(one >= 0.02, one, 0.0),
        height=h,
        facecolor="white",
        edgecolor=ONEHOT_COLOUR,
        hatch="///",
        lw=1.0,
        label="one-hot",
    )
    small = one < 0.02
    if small.any():
        ax.scatter(
            np.zeros(small.sum()),
            (y - h / 2)[small],
            marker="D",
            s=70,
            facecolor="white",
            edgecolor=ONEHOT_COLOUR,
            zorder=3,
        )
        for yy in (y - h / 2)[small]:
            ax.text(0, yy, "0", ha="center", va="center", fontsize="xx-small", color=ONEHOT_COLOUR, zorder=4)
    ax.set_yticks(y, [r[0] for r in rows])
    ax.axvline(0, color="black", lw=0.8)
    lo = min(-0.05 if small.any() else 0.0, float(np.nanmin(np.r_[ctx, one])) * 1.1)
    hi = max(1.0, float(np.nanmax(np.r_[ctx, one])) * 1.05)
    ax.set_xlim(lo, hi)
    ax.set_xlabel("R²")
    ax.legend(loc="lower right", fontsize="x-small")
    ax.set_title("A  reconstruction R²", loc="left")
    return missing


def panel_density(
    ax: Any,
    density: pd.DataFrame,
    onehot_z: float,
    frac_pos: float,
    frac_better: float | None = None,
    n_windows: float | None = None,
) -> None:
    """Panel B: KDE of z_t split at 0 (red x̂ = 0, blue x̂ > 0), one-hot marker, fraction of windows with z > 0."""
    d = density.sort_values("z")
    if d.empty:
        raise NotAvailable("the target's pre-activation density is empty (fewer than 2 distinct held-out values)")
    z = d["z"].to_numpy(dtype=float)
    f = d["density"].to_numpy(dtype=float)
    neg = z <= 0
    ax.fill_between(z, 0, f, where=neg, color=NEG_COLOUR, alpha=0.45, lw=0, label="x̂ = 0 (z ≤ 0)", interpolate=True)
    ax.fill_between(z, 0, f, where=~neg, color=POS_COLOUR, alpha=0.45, lw=0, label="x̂ > 0", interpolate=True)
    ax.plot(z, f, color="black", lw=0.8)
    ax.axvline(0, color="black", lw=0.8, ls="--")
    ax.axvline(onehot_z, color=ONEHOT_COLOUR, lw=2, label=f"one-hot z = {onehot_z:.2f}")
    if (~neg).any():
        zp, fp = z[~neg], f[~neg]
        mode = float(zp[np.argmax(fp)])
        if mode > onehot_z:
            ytop = float(fp.max())
            ax.annotate(
                "",
                xy=(mode, ytop * 0.75),
                xytext=(onehot_z, ytop * 0.75),
                arrowprops={"arrowstyle": "->", "color": "black", "lw": 1.2},
            )
            ax.text(
                (mode + onehot_z) / 2,
                ytop * 0.8,
                "interference\nis beneficial",
                ha="center",
                va="bottom",
                fontsize="x-small",
            )
    txt = f"z > 0 in {100 * frac_pos:.0f}% of windows"
    if frac_better is not None and np.isfinite(frac_better):
        txt += f"\nbetter than one-hot: {100 * frac_better:.0f}%"
    if n_windows is not None and np.isfinite(n_windows):
        txt += f"\n({int(n_windows):,} held-out windows)"
    ax.text(
        0.02,
        0.97,
        txt,
        transform=ax.transAxes,
        va="top",
        ha="left",
        fontsize="x-small",
        bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "none"},
    )
    ax.set_ylim(0, float(f.max()) * 1.35)
    ax.set_xlabel("pre-activation z_t")
    ax.set_ylabel("density")
    ax.legend(loc="upper right", fontsize="x-small")
    ax.set_title("B  pre-activation in context", loc="left")


def _fmt(v: float) -> str:
    """Signed value with 3 significant digits; float noise below 1e-12 prints as 0."""
    return "0" if abs(v) < 1e-12 else f"{v:+.3g}"


def _waterfall(ax: Any, steps: pd.DataFrame, x0: float) -> tuple[list[float], list[str], float, float]:
    """Floating bars from ``start`` to ``end`` of each step, from x0 on.

    Returns the x positions, tick labels, final level and x of the last drawn bar."""
    xs, labels = [], []
    level, last_x = np.nan, x0
    for k, (_, r) in enumerate(steps.sort_values("step").iterrows()):
        x = x0 + k
        c = float(r["contribution"]) if pd.notna(r["contribution"]) else np.nan
        start, end = float(r["start"]), float(r["end"])
        kind = str(r["kind"])
        xs.append(x)
        labels.append(("bias" if kind == "bias" else str(r["word"])) + ("" if np.isfinite(c) else " (missing)"))
        if not np.isfinite(c):
            continue
        colour = (
            KIND_COLOURS["bias"]
            if kind == "bias"
            else KIND_COLOURS["self"]
            if kind == "self"
            else (KIND_COLOURS["pos"] if c >= 0 else KIND_COLOURS["neg"])
        )
        ax.bar(x, end - start, bottom=start, width=0.7, color=colour, edgecolor="black", lw=0.5)
        if k > 0:
            ax.plot([x - 1 + 0.35, x - 0.35], [start, start], color="#555555", lw=0.7)
        level, last_x = end, x
    return xs, labels, level, last_x


def panel_towers(
    ax: Any,
    towers: pd.DataFrame,
    target: str,
    order: Sequence[str] = ("correlated", "uncorrelated", "correlated_no_target"),
) -> None:
    """Panel C: the three cumulative towers as waterfalls (bias, self, context words), ReLU threshold at 0."""
    t = towers[towers["target"].astype(str) == target]
    if t.empty:
        raise NotAvailable(f"no contribution towers for '{target}'")
    ticks, labels, x0 = [], [], 0.0
    bias = np.nan
    for name in order:
        d = t[t["tower"].astype(str) == name]
        if d.empty:
            continue
        xs, labs, final, last_x = _waterfall(ax, d, x0)
        b = d[d["kind"].astype(str) == "bias"]
        if len(b):
            bias = float(b["end"].iloc[0])
        ticks += xs
        labels += labs
        if np.isfinite(final):
            ax.text(last_x + 0.4, final, _fmt(final), va="center", ha="left", fontsize="x-small", fontweight="bold")
        ax.text(
            (xs[0] + xs[-1]) / 2,
            1.0,
            TOWER_TITLES.get(name, name),
            transform=ax.get_xaxis_transform(),
            ha="center",
            va="bottom",
            fontsize="x-small",
            fontweight="bold",
        )
        if name == "uncorrelated":
            ctx = d[d["kind"].astype(str) == "context"]["contribution"].astype(float)
            ax.text(
                (xs[0] + xs[-1]) / 2,
                0.02,
                f"Σ context = {_fmt(np.nansum(ctx))}",
                transform=ax.get_xaxis_transform(),
                ha="center",
                va="bottom",
                fontsize="x-small",
            )
        x0 = xs[-1] + 2.0
    ax.axhline(0, color="black", lw=1.0, label="ReLU threshold (0)")
    if np.isfinite(bias):
        ax.axhline(bias, color=KIND_COLOURS["bias"], lw=0.9, ls="--", label=f"bias b_t = {bias:.3g}")
    ax.set_xticks(ticks, labels, rotation=60, ha="right", fontsize="x-small")
    ax.set_xlim(min(ticks) - 0.7, max(ticks) + 1.4)
    ax.use_sticky_edges = False  # floating bars would otherwise pin the y-limits to their edges
    ax.margins(y=0.2)
    ax.set_ylabel("cumulative pre-activation")
    ax.legend(loc="best", fontsize="x-small")
    ax.grid(axis="x", visible=False)
    ax.set_title("C  contributions", loc="left", pad=16)


def mechanism_figure(
    target: str,
    r2: pd.DataFrame,
    density: pd.DataFrame,
    towers: pd.DataFrame,
    metrics: pd.DataFrame,
    words: Sequence[str] | None = None,
    width: float = WIDTH,
) -> Figure:
    """The three-panel mechanism figure of ``target``. Raises :class:`NotAvailable` when the target is not in the
    vocabulary or occurs in no held-out window (its status in ``mechanism/metrics``)."""
    vals, status = _target_status(metrics, target)
    if status.startswith("missing"):
        raise NotAvailable(f"'{target}': {status}")
    fig, axes = new_figure(
        ncols=3, width=width * 2.3, height=width * 0.7, gridspec_kw={"width_ratios": [0.8, 1.0, 1.5]}
    )
    missing: list[str] = []
    try:
        missing = panel_r2(axes[0], r2, words if words is not None else r2_words(target))
    except NotAvailable as err:
        unavailable_panel(axes[0], str(err), title="A  reconstruction R²")
    try:
        if status != "ok":
            raise NotAvailable(f"'{target}': {status}")
        panel_density(
            axes[1],
            density[density["target"].astype(str) == target],
            vals.get("onehot_z", np.nan),
            vals.get("frac_pos", np.nan),
            vals.get("frac_better_than_onehot"),
            vals.get("n_windows"),
        )
    except NotAvailable as err:
        unavailable_panel(axes[1], str(err), title="B  pre-activation in context")
    try:
        panel_towers(axes[2], towers, target)
    except NotAvailable as err:
        unavailable_panel(axes[2], str(err), title="C  contributions")
    model = table_model_label(metrics)
    fig.suptitle(f"Mechanism: '{target}'" + (f" ({model})" if model else ""), fontweight="bold")
    if missing:
        fig.text(0.005, 0.005, "not in vocabulary: " + ", ".join(missing), fontsize="x-small", color="#666666")
    return fig


def christmas_months(
    towers: pd.DataFrame, metrics: pd.DataFrame, target: str = "Christmas", width: float = WIDTH
) -> Figure:
    """Christmas + correlated context (left) vs the 12 month contributions ⟨w_Christmas, w_month⟩ (right):
    one bar per month coloured by season, and their sum Σ (paper: months together give ~0 net; December alone
    is constructive)."""
    vals, status = _target_status(metrics, target)
    if status.startswith("missing"):
        raise NotAvailable(f"'{target}': {status}")
    t = towers[towers["target"].astype(str) == target]
    m = t[t["tower"].astype(str) == "months"].sort_values("step")
    if m.empty:
        raise NotAvailable(f"no month contributions for '{target}'")
    fig, axes = new_figure(ncols=2, width=width * 1.7, height=width * 0.65, gridspec_kw={"width_ratios": [1.0, 1.6]})
    panel_towers(axes[0], t, target, order=("correlated",))
    axes[0].set_title(f"{target} + correlated context", loc="left", pad=16)
    c = m["contribution"].to_numpy(dtype=float)
    x = np.arange(len(c))
    cols = [season_colour(k) for k in range(len(c))]
    axes[1].bar(x, np.nan_to_num(c), color=cols, edgecolor="black", lw=0.5)
    total = float(np.nansum(c))
    axes[1].bar(len(c) + 0.6, total, width=0.9, facecolor="white", edgecolor="black", hatch="xx", lw=0.8)
    axes[1].text(
        len(c) + 0.6,
        total,
        _fmt(total),
        ha="center",
        va="bottom" if total >= 0 else "top",
        fontsize="x-small",
        fontweight="bold",
    )
    labels = [MONTH_ABBR[k] if k < 12 else str(w) for k, w in enumerate(m["word"])] + ["Σ"]
    axes[1].set_xticks(list(x) + [len(c) + 0.6], labels, rotation=60, ha="right", fontsize="x-small")
    axes[1].axhline(0, color="black", lw=1.0)
    axes[1].use_sticky_edges = False
    axes[1].margins(y=0.12)
    axes[1].set_ylabel(f"⟨w_{target}, w_month⟩")
    axes[1].grid(axis="x", visible=False)
    axes[1].set_title(f"{target} vs the twelve months", loc="left", pad=16)
    model = table_model_label(metrics)
    fig.suptitle(f"Interference from the months on '{target}'" + (f" ({model})" if model else ""), fontweight="bold")
    return fig
