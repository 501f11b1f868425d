"""Aggregates across the training grid: the structure sweep (paper §6.4), losses and loss-vs-L power laws, clusters.

Sweep: for each word group and latent size L at the configured weight decay, the off-diagonal Gram norm
(raw and cosine) and mean |cos| per seed; summary = mean and SD (ddof = 1) over seeds.
Loss fit: final held-out (and training) loss of every model, fit loss = c·L^(−α) per (variant, weight decay) with a
bootstrap CI (see :func:`bows.metrics.peers.power_law_fit`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..grid import ModelSpec
from .peers import power_law_fit

__all__ = [
    "sweep_tables",
    "losses_table",
    "loss_fits",
    "cluster_table",
    "read_history",
    "subspace_table",
    "SUBSPACE_COLUMNS",
]

SWEEP_METRICS = ("offdiag_raw", "offdiag_cos", "mean_abs_cos")


def sweep_tables(metrics: pd.DataFrame, variant: str, wd: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(sweep, sweep_summary) from the tidy per-model metrics."""
    m = metrics[
        (metrics["model"] != "data")
        & (metrics["variant"] == variant)
        & np.isclose(metrics["wd"].astype(float), float(wd))
        & metrics["metric"].isin(SWEEP_METRICS)
        & (metrics["scope"] != "model")
    ]
    cols = ["group", "variant", "wd", "latent", "seed", *SWEEP_METRICS, "status"]
    if not len(m):
        return pd.DataFrame(columns=cols), pd.DataFrame(
            columns=["group", "variant", "wd", "latent", "metric", "mean", "sd", "n_seeds"]
        )
    # one row per (group, model) that exists: a pivot over the product of the keys would add rows for latent × seed
    # pairs that were never trained
    wide = (
        m.groupby(["scope", "variant", "wd", "latent", "seed", "metric"])["value"]
        .first()
        .unstack("metric")
        .reset_index()
        .rename(columns={"scope": "group"})
    )
    wide.columns.name = None
    st = m[m["metric"] == "offdiag_raw"].set_index(["scope", "latent", "seed"])["status"]
    wide["status"] = [st.get((g, L, s), "ok") for g, L, s in zip(wide["group"], wide["latent"], wide["seed"])]
    for c in SWEEP_METRICS:
        if c not in wide:
            wide[c] = np.nan
    wide = wide[cols].sort_values(["group", "latent", "seed"]).reset_index(drop=True)
    long = wide.melt(
        id_vars=["group", "variant", "wd", "latent", "seed"], value_vars=list(SWEEP_METRICS), var_name="metric"
    )
    summ = (
        long.groupby(["group", "variant", "wd", "latent", "metric"])["value"]
        .agg(
            mean="mean",
            sd=lambda v: float(np.std(v.dropna(), ddof=1)) if v.notna().sum() > 1 else np.nan,
            n_seeds=lambda v: int(v.notna().sum()),
        )
        .reset_index()
    )
    return wide, summ


def read_history(run_json: str | Path) -> dict[str, list[float]]:
    """Per-epoch losses from a run.json (keys epoch, train_loss, heldout_loss/val_loss; missing → empty)."""
    path = Path(run_json)
    if not path.is_file():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    h = data.get("history") or data.get("summary", {}).get("history") or {}
    if not h and isinstance(data.get("losses"), Mapping):
        h = data["losses"]
    return {k: list(v) for k, v in h.items() if isinstance(v, list)}


def losses_table(runs: Iterable[tuple[ModelSpec, str | Path]]) -> pd.DataFrame:
    rows: list[dict[str, Any]] = []
    for spec, path in runs:
        h = read_history(path)
        tr = h.get("train_loss", [])
        va = h.get("heldout_loss", h.get("val_loss", []))
        ep = h.get("epoch", list(range(1, max(len(tr), len(va)) + 1)))
        for k, e in enumerate(ep):
            rows.append(
                {
                    "model": spec.tag,
                    "variant": spec.variant,
                    "latent": spec.latent,
                    "wd": spec.weight_decay,
                    "seed": spec.seed,
                    "epoch": int(e),
                    "train_loss": float(tr[k]) if k < len(tr) and tr[k] is not None else np.nan,
                    "val_loss": float(va[k]) if k < len(va) and va[k] is not None else np.nan,
                }
            )
    return pd.DataFrame(rows, columns=["model", "variant", "latent", "wd", "seed", "epoch", "train_loss", "val_loss"])


def loss_fits(losses: pd.DataFrame, n_boot: int = 1000, seed: int = 0) -> pd.DataFrame:
    """Power-law fit of the final-epoch loss vs L per (variant, wd, split)."""
    cols = [
        "variant",
        "wd",
        "split",
        "exponent",
        "exponent_lo",
        "exponent_hi",
        "prefactor",
        "n_models",
        "n_latents",
        "r2_log",
        "status",
    ]
    if not len(losses):
        return pd.DataFrame(columns=cols)
    last = losses.sort_values("epoch").groupby("model").tail(1)
    out = []
    for (variant, wd), g in last.groupby(["variant", "wd"]):
        for split, col in (("val", "val_loss"), ("train", "train_loss")):
            fit = power_law_fit(g["latent"].to_numpy(), g[col].to_numpy(), n_boot=n_boot, seed=seed)
            out.append({"variant": variant, "wd": wd, "split": split, **fit})
    return pd.DataFrame(out, columns=cols)


CLUSTER_METRICS = ("knn_purity", "silhouette_cos")


def cluster_table(metrics: pd.DataFrame) -> pd.DataFrame:
    """Cluster scores of every model with their nulls, one row per model × metric."""
    cols = [
        "model",
        "variant",
        "latent",
        "wd",
        "seed",
        "metric",
        "value",
        "null_mean",
        "null_sd",
        "p_value",
        "n_words",
        "status",
    ]
    m = metrics[(metrics["scope"] == "model") & (metrics["model"] != "data")]
    rows = []
    for model, g in m.groupby("model"):
        d = dict(zip(g["metric"], g["value"]))
        st = dict(zip(g["metric"], g["status"]))
        first = g.iloc[0]
        for name in CLUSTER_METRICS:
            if name not in d:
                continue
            rows.append(
                {
                    "model": model,
                    "variant": first["variant"],
                    "latent": first["latent"],
                    "wd": first["wd"],
                    "seed": first["seed"],
                    "metric": name,
                    "value": d[name],
                    "null_mean": d.get(f"{name}_null_mean", np.nan),
                    "null_sd": d.get(f"{name}_null_sd", np.nan),
                    "p_value": d.get(f"{name}_p", np.nan),
                    "n_words": d.get("n_category_words", np.nan),
                    "status": st.get(name, "ok"),
                }
            )
    return pd.DataFrame(rows, columns=cols)


SUBSPACE_METRICS = (
    "overlap_moment",
    "overlap_cov",
    "excess_moment",
    "excess_cov",
    "random_baseline",
    "frob2_per_latent",
)
SUBSPACE_COLUMNS = [
    "model",
    "variant",
    "latent",
    "wd",
    "seed",
    "decay_exposure",
    "decay_exposure_paper",
    "steps",
    *SUBSPACE_METRICS,
    "status",
]


def _exposure(run_json: str | Path) -> dict[str, Any]:
    path = Path(run_json)
    data = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    e = data.get("exposure") or {}
    return {
        "decay_exposure": e.get("decay_exposure", np.nan),
        "decay_exposure_paper": e.get("decay_exposure_paper", np.nan),
        "steps": data.get("steps", np.nan),
    }


def subspace_table(metrics: pd.DataFrame, runs: Iterable[tuple[ModelSpec, str | Path]]) -> pd.DataFrame:
    """One row per model: decay exposure (from run.json; NaN for pca), principal-subspace overlaps, ‖W‖²_F/L."""
    m = metrics[(metrics["scope"] == "subspace") & (metrics["model"] != "data")]
    rows = []
    for spec, path in runs:
        g = m[m["model"] == spec.tag]
        d = dict(zip(g["metric"], g["value"]))
        bad = sorted(set(g.loc[g["status"] != "ok", "status"]))
        rows.append(
            {
                "model": spec.tag,
                "variant": spec.variant,
                "latent": spec.latent,
                "wd": spec.weight_decay,
                "seed": spec.seed,
                **_exposure(path),
                **{k: d.get(k, np.nan) for k in SUBSPACE_METRICS},
                "status": "; ".join(bad) if bad else ("ok" if len(g) else "no subspace metrics"),
            }
        )
    return pd.DataFrame(rows, columns=SUBSPACE_COLUMNS)
