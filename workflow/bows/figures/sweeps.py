"""Figures over the training grid: loss scaling, feature dimensionality, circularity and cluster scores.

Every ``*_figure`` function takes tidy metric tables (see the metrics stage) and returns a matplotlib Figure; it
raises :class:`~bows.figures.drawing.NotAvailable` when the tables hold nothing it could draw. The stage
:mod:`bows.figures.stages.sweeps` reads the tables, draws these figures and the principal-subspace figure
(:mod:`bows.figures.subspace`) and writes them.

Quantities drawn (W ∈ ℝ^{L×V}, w_i its column i):
    loss scaling        final held-out (and training) loss per model against L, log–log, with the fitted power law
                        loss = c·L^(−α) of the ``loss_fit`` table and its 95 % bootstrap CI on α.
    dimensionality      D_i = ‖w_i‖² / Σ_j (ŵ_i·w_j)² per word (Elhage et al. 2022) and D* = L/‖W‖_F²;
                        φ½, φ1 = share of words with ‖w_i‖ > ½, > 1; mean squared overlap mean_{i≠j}(ŵ_i·ŵ_j)²
                        against the random (1/L) and Welch ((n−L)/(L(n−1))) baselines; ‖W‖_F²/L (= 1 for a rank-L
                        orthogonal projector, the linear-superposition solution).
    circularity         order agreement A and circulant R² of each cyclic group against L, with the shuffled-order
                        null (mean ± 2 sd) and the value measured on the data.
    clusters            kNN category purity and cosine silhouette against L and weight decay, with the
                        label-permutation null (mean ± 2 sd).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from .drawing import NotAvailable, unavailable_panel
from .latent_axes import log_latent_axis, shared_legend, wd_colours
from .theme import WIDTH, new_figure

__all__ = [
    "final_losses",
    "fit_label",
    "loss_figure",
    "dimensionality_figure",
    "circularity_figure",
    "cluster_figure",
    "cyclic_groups",
    "relu_only",
    "DIM_METRICS",
]


# ------------------------------------------------------------------------------------------------ shared pieces
def _ok(df: pd.DataFrame) -> pd.DataFrame:
    """Rows whose ``status`` is "ok" (all rows when there is no status column) and whose value is finite."""
    out = df
    if "status" in out.columns:
        out = out[out["status"].fillna("ok").astype(str) == "ok"]
    if "value" in out.columns:
        out = out[np.isfinite(out["value"].astype(float))]
    return out


def _log_y(ax: Any) -> None:
    """Log-scaled y axis with plain number labels (1–9 × 10^k ticks when the data span less than a decade)."""
    ax.set_yscale("log")
    lo, hi = ax.get_ylim()
    if lo > 0 and hi / lo < 10:
        ax.yaxis.set_major_locator(LogLocator(base=10, subs=tuple(np.arange(1.0, 10.0)), numticks=20))
        ax.yaxis.set_minor_formatter(NullFormatter())
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.3g}"))


def _seed_stats(df: pd.DataFrame, keys: Sequence[str], value: str = "value") -> pd.DataFrame:
    """Mean, sd (ddof 1; 0 for one seed) and count of ``value`` over seeds, per ``keys``."""
    g = df.groupby(list(keys), dropna=False)[value]
    out = g.agg(mean="mean", sd="std", n="count").reset_index()
    out["sd"] = out["sd"].fillna(0.0)
    return out


# ------------------------------------------------------------------------------------------------ loss scaling
def final_losses(losses: pd.DataFrame) -> pd.DataFrame:
    """Last epoch of every model: ``model, variant, latent, wd, seed, train_loss, val_loss``."""
    if losses is None or losses.empty:
        return pd.DataFrame(columns=["model", "variant", "latent", "wd", "seed", "train_loss", "val_loss"])
    last = losses.sort_values("epoch").groupby("model", sort=True).tail(1)
    return last.drop(columns=["epoch"]).reset_index(drop=True)


def fit_label(row: Mapping[str, Any]) -> str:
    """Legend text of one ``loss_fit`` row: ``α = 0.047 [0.037, 0.055]`` (95 % CI), or why there is no fit."""
    if str(row.get("status", "ok")) != "ok" or not np.isfinite(float(row.get("exponent", np.nan))):
        n_lat = row.get("n_latents")
        if n_lat is not None and np.isfinite(float(n_lat)) and int(n_lat) < 2:
            return f"no fit ({int(n_lat)} latent size)"
        return f"no fit ({str(row.get('status', 'no fit'))[:40]})"
    lo, hi = float(row.get("exponent_lo", np.nan)), float(row.get("exponent_hi", np.nan))
    ci = f" [{lo:.3f}, {hi:.3f}]" if np.isfinite(lo) and np.isfinite(hi) else ""
    return f"α = {float(row['exponent']):.3f}{ci}"


def loss_figure(losses: pd.DataFrame, loss_fit: pd.DataFrame, width: float = WIDTH) -> Figure:
    """Final loss against L per weight decay (log–log), one panel per split (held-out, training).

    Points are single models (marker per seed); lines are the fitted power law c·L^(−α) of ``loss_fit`` over the
    range of L it was fitted on, labelled with α and its 95 % bootstrap CI.
    """
    last = final_losses(losses)
    if last.empty:
        raise NotAvailable("no training losses (losses table is empty)")
    fit = loss_fit if loss_fit is not None else pd.DataFrame()
    colours = wd_colours(last["wd"])
    fig, axes = new_figure(ncols=2, width=width * 1.6, height=width * 0.8, sharey=False)
    splits = (("val", "val_loss", "held-out loss"), ("train", "train_loss", "training loss (last epoch)"))
    for ax, (split, col, title) in zip(axes, splits):
        data = last[np.isfinite(last[col].astype(float))]
        if data.empty:
            unavailable_panel(ax, f"no finite {title}", title=title)
            continue
        for (variant, wd), grp in data.groupby(["variant", "wd"], sort=True):
            c = colours[float(wd)]
            rows = (
                fit[(fit.get("variant") == variant) & (fit.get("wd") == wd) & (fit.get("split") == split)]
                if not fit.empty
                else fit
            )
            label = f"{variant}, wd {wd:g}"
            if not rows.empty:
                r = rows.iloc[0].to_dict()
                label += f": {fit_label(r)}"
                if str(r.get("status")) == "ok" and np.isfinite(float(r.get("exponent", np.nan))):
                    ls = np.geomspace(grp["latent"].min(), grp["latent"].max(), 50)
                    ax.plot(
                        ls,
                        float(r["prefactor"]) * ls ** (-float(r["exponent"])),
                        color=c,
                        lw=1.5,
                        ls="--" if variant == "linear" else "-",
                    )
            ax.scatter(
                grp["latent"],
                grp[col],
                color=c,
                s=22,
                zorder=3,
                label=label,
                marker="s" if variant == "linear" else "o",
                edgecolor="white",
                linewidth=0.5,
            )
        _log_y(ax)
        log_latent_axis(ax, data["latent"])
        ax.set_ylabel(title)
        ax.set_title(title)
        ax.legend(
            loc="upper center",
            bbox_to_anchor=(0.5, -0.2),
            fontsize="small",
            ncols=1,
            title=r"fit: loss $= c\,L^{-\alpha}$, $\alpha$ [95% CI]",
            title_fontsize="small",
        )
    fig.suptitle("Loss against latent size, per weight decay")
    return fig


# ------------------------------------------------------------------------------------------- dimensionality
def _model_metric(metrics_all: pd.DataFrame, names: Sequence[str]) -> pd.DataFrame:
    """scope="model" rows of ``names`` (status ok, finite), for trained models only."""
    m = metrics_all[
        (metrics_all["scope"] == "model") & metrics_all["metric"].isin(names) & (metrics_all["model"] != "data")
    ]
    m = _ok(m).copy()
    m["value"] = m["value"].astype(float)
    m["latent"] = m["latent"].astype(int)
    m["wd"] = m["wd"].astype(float)
    return m


def _lines_vs_latent(
    ax: Any,
    stats: pd.DataFrame,
    colours: Mapping[float, Any],
    label_fmt: str = "wd {wd:g}",
    ls: str = "-",
    marker: str = "o",
    extra_label: str = "",
) -> None:
    """Mean ± sd over seeds against L, one line per weight decay (dodged by a few % in L so that weight decays
    trained at the same L stay visible side by side)."""
    groups = list(stats.groupby("wd", sort=True))
    for k, (wd, grp) in enumerate(groups):
        grp = grp.sort_values("latent")
        dodge = 1.04 ** (k - (len(groups) - 1) / 2)
        ax.errorbar(
            grp["latent"] * dodge,
            grp["mean"],
            yerr=grp["sd"],
            color=colours[float(wd)],
            ls=ls,
            marker=marker,
            ms=4,
            lw=1.3,
            capsize=2,
            label=label_fmt.format(wd=float(wd)) + extra_label,
        )


DIM_METRICS = [
    "d_star",
    "dim_frac_mean",
    "phi_half",
    "phi_one",
    "msq_overlap",
    "msq_random",
    "msq_welch",
    "frob2_over_latent",
]


def dimensionality_figure(metrics_all: pd.DataFrame, words: pd.DataFrame, width: float = WIDTH) -> Figure:
    """Four panels: (a) D_i distribution per L with D* and mean D_i, (b) φ½ and φ1 vs L, (c) mean squared overlap
    vs L with the random and Welch baselines, (d) ‖W‖_F²/L vs L (1 = rank-L projector)."""
    m = _model_metric(metrics_all, DIM_METRICS) if metrics_all is not None and not metrics_all.empty else pd.DataFrame()
    if m.empty and (words is None or words.empty):
        raise NotAvailable("no per-model dimensionality metrics (metrics_all has no scope='model' rows)")
    colours = wd_colours(set(m["wd"]) if not m.empty else set(words["wd"]))
    fig, axes = new_figure(ncols=2, nrows=2, width=width * 1.7, height=width * 1.35)
    ax_d, ax_phi, ax_ov, ax_fr = axes.ravel()
    _dim_frac_panel(ax_d, words, m, colours)
    _metric_panel(
        ax_phi,
        m,
        colours,
        [("phi_half", "-", r"$\varphi_{1/2}$"), ("phi_one", "--", r"$\varphi_1$")],
        r"(b) represented words: $\varphi_{1/2}$ ($\|w\| > \frac{1}{2}$), $\varphi_1$ ($\|w\| > 1$)",
        "share of words",
    )
    if not m.empty and m["metric"].isin(["phi_half", "phi_one"]).any():
        ax_phi.set_ylim(-0.03, 1.03)
    _overlap_panel(ax_ov, m, colours)
    _metric_panel(ax_fr, m, colours, [("frob2_over_latent", "-", "norm")], "(d) norm argument", r"$\|W\|_F^2 / L$")
    if not m.empty and (m["metric"] == "frob2_over_latent").any():
        ax_fr.axhline(1.0, color="0.35", ls=":", lw=1.2, label="rank-L projector")
        ax_fr.legend(fontsize="small", loc="best")
    if ax_phi.get_legend_handles_labels()[0]:
        ax_phi.legend(fontsize="small", loc="best", ncols=2)
    fig.suptitle("Feature dimensionality and interference against latent size")
    return fig


def _dim_frac_panel(ax: Any, words: pd.DataFrame | None, m: pd.DataFrame, colours: Mapping[float, Any]) -> None:
    """(a) D_i per word as boxes per L, at the weight decay with the most latent sizes (first seed of each model),
    with mean D_i and D* = L/‖W‖_F²."""
    if words is None or words.empty or not np.isfinite(words["dim_frac"]).any():
        unavailable_panel(ax, "no per-word D_i (words tables missing or empty)", title=r"(a) $D_i$ per word")
        return
    wd0 = float(words.groupby("wd")["latent"].nunique().idxmax())
    w = words[(words["wd"] == wd0)]
    w = w[w["seed"] == w.groupby("latent")["seed"].transform("min")]
    latents = sorted(w["latent"].unique())
    data = [w.loc[w["latent"] == L, "dim_frac"].to_numpy(float) for L in latents]
    pos = np.arange(len(latents))
    ax.boxplot(
        data,
        positions=pos,
        widths=0.55,
        showfliers=False,
        patch_artist=True,
        boxprops={"facecolor": colours[wd0], "alpha": 0.35},
        medianprops={"color": "black"},
    )
    ax.plot(pos, [d.mean() for d in data], "o", color=colours[wd0], ms=5, label=r"mean $D_i$")
    if not m.empty:
        ds = m[(m["metric"] == "d_star") & (m["wd"] == wd0)]
        ds = ds[ds["seed"] == ds.groupby("latent")["seed"].transform("min")].set_index("latent")["value"]
        ax.plot(pos, [ds.get(L, np.nan) for L in latents], "D", color="#c0392b", ms=5, label=r"$D^* = L/\|W\|_F^2$")
    ax.set_xticks(pos, [str(L) for L in latents], rotation=45 if len(latents) > 8 else 0)
    ax.set_xlabel("latent size L")
    ax.set_ylabel("dimensions per feature")
    _log_y(ax)
    ax.set_title(rf"(a) $D_i$ per word (boxes), wd {wd0:g}")
    ax.legend(fontsize="small", loc="best")


def _metric_panel(
    ax: Any,
    m: pd.DataFrame,
    colours: Mapping[float, Any],
    metric_styles: Sequence[tuple[str, str, str]],
    title: str,
    ylabel: str,
    logy: bool = False,
) -> None:
    """Seed mean and range of the given model metrics against L, one line per weight decay and metric."""
    sub = m[m["metric"].isin([s[0] for s in metric_styles])] if not m.empty else m
    if sub.empty:
        unavailable_panel(ax, f"no {', '.join(s[0] for s in metric_styles)} values", title=title)
        return
    for metric, ls, label in metric_styles:
        stats = _seed_stats(sub[sub["metric"] == metric], ["wd", "latent"])
        if stats.empty:
            continue
        _lines_vs_latent(
            ax,
            stats,
            colours,
            label_fmt=label.replace("{", "{{").replace("}", "}}") + ", wd {wd:g}",
            ls=ls,
            marker="o" if ls == "-" else "s",
        )
    log_latent_axis(ax, sub["latent"])
    if logy:
        _log_y(ax)
    ax.set_ylabel(ylabel)
    ax.set_title(title)


def _overlap_panel(ax: Any, m: pd.DataFrame, colours: Mapping[float, Any]) -> None:
    """(c) mean squared overlap against L, with the random 1/L and Welch baselines (which depend on L only, so
    they are drawn once, in grey)."""
    if m.empty or not (m["metric"] == "msq_overlap").any():
        unavailable_panel(ax, "no mean squared overlap values", title="(c) interference vs baselines")
        return
    _metric_panel(
        ax,
        m,
        colours,
        [("msq_overlap", "-", "overlap")],
        "(c) interference vs baselines",
        r"mean $(\hat w_i \cdot \hat w_j)^2$, $i \neq j$",
        logy=True,
    )
    for metric, ls, label in (("msq_random", ":", "random 1/L"), ("msq_welch", "-.", "Welch bound")):
        b = m[m["metric"] == metric].groupby("latent")["value"].mean().sort_index()
        if not b.empty:
            ax.plot(b.index, b.to_numpy(), ls=ls, color="0.35", lw=1.3, label=label)
    ax.legend(fontsize="small", loc="best")


# ------------------------------------------------------------------------------------------------ circularity
def cyclic_groups(metrics_all: pd.DataFrame) -> list[str]:
    """Groups with a cyclic order: those whose data rows carry ``order_agreement`` (metrics_data computes it for
    cyclic groups only); Months and Days as a fallback when there are no data rows."""
    d = metrics_all[(metrics_all["model"] == "data") & (metrics_all["metric"] == "order_agreement")]
    groups = list(dict.fromkeys(d["scope"].astype(str)))
    if not groups:
        present = set(metrics_all.loc[metrics_all["metric"] == "order_agreement", "scope"].astype(str))
        groups = [g for g in ("Months", "Days") if g in present]
    return groups


def circularity_figure(metrics_all: pd.DataFrame, width: float = WIDTH) -> Figure:
    """Order agreement A and circulant R² of every cyclic group against L (per weight decay), with the
    shuffled-order null (grey: mean ± 2 sd over models) and the data's own value (dashed black)."""
    if metrics_all is None or metrics_all.empty:
        raise NotAvailable("metrics_all is empty")
    groups = cyclic_groups(metrics_all)
    if not groups:
        raise NotAvailable("no cyclic word group (Months, Days) has circularity metrics")
    metrics = (("order_agreement", "order agreement A"), ("circulant_r2", "circulant R²"))
    models = metrics_all[(metrics_all["model"] != "data") & metrics_all["scope"].isin(groups)]
    colours = wd_colours(models["wd"].dropna().astype(float)) if not models.empty else {}
    fig, axes = new_figure(
        ncols=len(groups), nrows=2, width=width * (0.8 + 0.55 * len(groups)), height=width * 1.05, squeeze=False
    )
    for j, group in enumerate(groups):
        for i, (metric, label) in enumerate(metrics):
            ax = axes[i, j]
            title = f"{group}: {label}"
            rows = _ok(models[(models["scope"] == group) & (models["metric"] == metric)]).copy()
            if rows.empty:
                unavailable_panel(
                    ax, f"{metric} is NaN or missing for every model ({group} words absent?)", title=title
                )
                continue
            rows["latent"] = rows["latent"].astype(int)
            rows["wd"] = rows["wd"].astype(float)
            null = models[
                (models["scope"] == group) & (models["metric"].isin([f"{metric}_null_mean", f"{metric}_null_sd"]))
            ]
            null = null.pivot_table(index=["latent"], columns="metric", values="value", aggfunc="mean")
            if not null.empty and {f"{metric}_null_mean", f"{metric}_null_sd"} <= set(null.columns):
                null = null.sort_index()
                mu, sd = null[f"{metric}_null_mean"].to_numpy(float), null[f"{metric}_null_sd"].to_numpy(float)
                xs = null.index.to_numpy(float)
                if len(xs) == 1:
                    xs = np.array([xs[0] / 1.3, xs[0] * 1.3])
                    mu, sd = np.repeat(mu, 2), np.repeat(sd, 2)
                ax.fill_between(
                    xs, mu - 2 * sd, mu + 2 * sd, color="0.6", alpha=0.3, lw=0, label="shuffled null ± 2 sd"
                )
                ax.plot(xs, mu, color="0.45", lw=1, ls=":")
            _lines_vs_latent(ax, _seed_stats(rows, ["wd", "latent"]), colours)
            # the data's value is drawn whenever it is finite; a caveat in its status goes into the legend
            data = metrics_all[
                (metrics_all["model"] == "data") & (metrics_all["scope"] == group) & (metrics_all["metric"] == metric)
            ]
            data = data[np.isfinite(data["value"].astype(float))]
            if not data.empty:
                status = str(data["status"].iloc[0]) if "status" in data.columns else "ok"
                ax.axhline(
                    float(data["value"].iloc[0]),
                    color="black",
                    ls="--",
                    lw=1.1,
                    label="measured on the data" + ("" if status == "ok" else f" ({status})"),
                )
            log_latent_axis(ax, rows["latent"])
            ax.set_ylabel(label)
            ax.set_title(title)
    shared_legend(fig, axes.ravel())
    fig.suptitle("Circularity of cyclic groups against latent size (1 = calendar order / circulant)")
    return fig


# ------------------------------------------------------------------------------------------------- clusters
def cluster_figure(clusters: pd.DataFrame, width: float = WIDTH) -> Figure:
    """kNN category purity and cosine silhouette against L, per weight decay, with the label-permutation null."""
    if clusters is None or clusters.empty:
        raise NotAvailable("no cluster scores (clusters table is empty; no category words in the vocabulary?)")
    c = clusters.copy()
    c = c[np.isfinite(c["value"].astype(float))]
    if "status" in c.columns:
        c = c[c["status"].fillna("ok").astype(str) == "ok"]
    if c.empty:
        reasons = "; ".join(sorted(set(clusters.get("status", pd.Series(["NaN"])).astype(str))))[:120]
        raise NotAvailable(f"every cluster score is NaN ({reasons})")
    c["latent"] = c["latent"].astype(int)
    c["wd"] = c["wd"].astype(float)
    colours = wd_colours(c["wd"])
    metrics = (("knn_purity", "kNN category purity"), ("silhouette_cos", "cosine silhouette"))
    fig, axes = new_figure(ncols=2, width=width * 1.6, height=width * 0.7)
    for ax, (metric, label) in zip(axes, metrics):
        rows = c[c["metric"] == metric]
        if rows.empty:
            unavailable_panel(ax, f"no {metric} values", title=label)
            continue
        null = rows.groupby("latent")[["null_mean", "null_sd"]].mean().sort_index()
        xs = null.index.to_numpy(float)
        mu, sd = null["null_mean"].to_numpy(float), null["null_sd"].to_numpy(float)
        if len(xs) == 1:
            xs, mu, sd = np.array([xs[0] / 1.3, xs[0] * 1.3]), np.repeat(mu, 2), np.repeat(sd, 2)
        ax.fill_between(xs, mu - 2 * sd, mu + 2 * sd, color="0.6", alpha=0.3, lw=0, label="label-shuffled ± 2 sd")
        ax.plot(xs, mu, color="0.45", lw=1, ls=":")
        _lines_vs_latent(ax, _seed_stats(rows, ["wd", "latent"]), colours)
        # a single L per weight decay: put the weight decays side by side so they can be compared at that L
        log_latent_axis(ax, rows["latent"])
        ax.set_ylabel(label)
        n = int(rows["n_words"].max()) if "n_words" in rows and np.isfinite(rows["n_words"]).any() else 0
        ax.set_title(f"{label} ({n} category words)" if n else label)
    shared_legend(fig, axes)
    fig.suptitle("Semantic cluster scores against latent size and weight decay")
    return fig


def relu_only(df: pd.DataFrame) -> pd.DataFrame:
    """Rows of ReLU models (and model-less data rows)."""
    return df[df["variant"].isna() | (df["variant"] == "relu")] if "variant" in df else df
