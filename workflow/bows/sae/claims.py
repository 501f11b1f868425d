"""The two SAE papers' claims as flags with the numbers behind them, per BOWS model.

* ``mcc_peaks_near_true_l0`` ("sparse but wrong": a TopK SAE recovers the true features best when its L0 matches the
  data's): over the ``sae.l0_targets`` sweep of the TopK SAE at the width nearest the number of ground-truth words,
  the k of the highest MCC lies within a factor ``sae.claims.l0_peak_factor`` of the held-out true L0. A peak at
  an end of the sweep is reported (``at_edge``): the true peak may then lie outside it.
* ``narrow_merges_more`` ("feature hedging": narrow dictionaries merge correlated features): the mean merged fraction
  of the word groups (:func:`bows.sae.scores.hedging`: 1 − distinct best latents / group words) is larger for the
  narrowest TopK SAE than for the widest, both at the k nearest the true L0. The flag reads the merged fraction, not
  the hedging energy: the word directions of a BOWS model are themselves far from orthogonal within a group (the
  ground-truth dictionary's own hedging is high), so the energy confounds merging with the model's geometry; the
  hedging values are reported beside it.

Both read the tidy tables of :mod:`bows.sae.steps.scores` (``scores``: one row per SAE × metric; ``hedging``: one
row per SAE × group × metric). Thresholds come from the config and were set before the first run.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["FLAG_CLAIMS", "CLAIM_TEXT", "l0_peak", "hedging_narrow_wide", "claims", "claims_table"]

FLAG_CLAIMS = ("mcc_peaks_near_true_l0", "narrow_merges_more")
CLAIM_TEXT = {
    "mcc_peaks_near_true_l0": "MCC peaks near the true L0 (TopK, L0 sweep)",
    "narrow_merges_more": "narrow dictionaries merge correlated words more than wide ones",
}


def _wide(scores: pd.DataFrame) -> pd.DataFrame:
    keys = ["model", "architecture", "width", "sparsity"]
    return scores.pivot_table(index=keys, columns="metric", values="value").reset_index()


def _nearest(values: np.ndarray, target: float) -> float:
    """The value nearest ``target`` on a log scale (the larger one on a tie)."""
    return float(min(set(values.tolist()), key=lambda v: (abs(math.log(v / target)), -v)))


def l0_peak(
    wide: pd.DataFrame, true_l0: float, n_words: int, factor: float, architecture: str = "topk"
) -> dict[str, Any] | None:
    """The first claim for one model's rows of the wide score table (None without ≥ 2 k values)."""
    d = wide[wide["architecture"] == architecture]
    if d["sparsity"].nunique() < 2:
        return None
    width = int(_nearest(d["width"].to_numpy(float), n_words))
    d = d[d["width"] == width].sort_values("sparsity")
    best = d.loc[d["mcc"].idxmax()]
    k = float(best["sparsity"])
    ratio = k / true_l0
    return {
        "architecture": architecture,
        "width": width,
        "true_l0": true_l0,
        "peak_k": k,
        "peak_mcc": float(best["mcc"]),
        "ratio": ratio,
        "factor": factor,
        "at_edge": bool(k in (d["sparsity"].min(), d["sparsity"].max())),
        "mcc_by_k": {f"{s:g}": round(float(v), 4) for s, v in zip(d["sparsity"], d["mcc"])},
        "holds": bool(abs(math.log(ratio)) <= math.log(factor)),
    }


def hedging_narrow_wide(
    wide: pd.DataFrame, hedge: pd.DataFrame, true_l0: float, architecture: str = "topk"
) -> dict[str, Any] | None:
    """The second claim for one model (None without two widths or without a group of ≥ 2 ground-truth words)."""
    d = wide[wide["architecture"] == architecture]
    if d["width"].nunique() < 2 or hedge.empty:
        return None
    k = _nearest(d["sparsity"].to_numpy(float), true_l0)
    narrow, wide_w = int(d["width"].min()), int(d["width"].max())
    h = hedge[(hedge["architecture"] == architecture) & (hedge["sparsity"] == k)].dropna(subset=["value"])
    per = {
        (met, w): h[(h["width"] == w) & (h["metric"] == met)].set_index("group")["value"]
        for met in ("merged_fraction", "hedging")
        for w in (narrow, wide_w)
    }
    groups = sorted(set(per["merged_fraction", narrow].index) & set(per["merged_fraction", wide_w].index))
    if not groups:
        return None
    mean = {key: float(np.mean([v[g] for g in groups])) for key, v in per.items()}
    return {
        "architecture": architecture,
        "k": k,
        "narrow_width": narrow,
        "wide_width": wide_w,
        "groups": groups,
        "merged_narrow": mean["merged_fraction", narrow],
        "merged_wide": mean["merged_fraction", wide_w],
        "hedging_narrow": mean["hedging", narrow],
        "hedging_wide": mean["hedging", wide_w],
        "per_group_merged": {
            g: [round(float(per["merged_fraction", w][g]), 4) for w in (narrow, wide_w)] for g in groups
        },
        "holds": bool(mean["merged_fraction", narrow] > mean["merged_fraction", wide_w]),
    }


def claims(
    scores: pd.DataFrame, hedge: pd.DataFrame, data: Mapping[str, Mapping[str, Any]], sae: Mapping[str, Any]
) -> dict[str, Any]:
    """Per model (``data``: model tag → its activations record with ``true_l0_heldout`` and ``words``)."""
    factor = float(sae["claims"]["l0_peak_factor"])
    wide = _wide(scores)
    out: dict[str, Any] = {"l0_peak_factor": factor, "models": {}}
    for model, rec in data.items():
        w = wide[wide["model"] == model]
        c = {
            "mcc_peaks_near_true_l0": l0_peak(w, float(rec["true_l0_heldout"]), int(rec["n_words"]), factor),
            "narrow_merges_more": hedging_narrow_wide(w, hedge[hedge["model"] == model], float(rec["true_l0_heldout"])),
        }
        out["models"][model] = {k: v for k, v in c.items() if v is not None}
    return out


def _detail(name: str, c: Mapping[str, Any]) -> str:
    if name == "mcc_peaks_near_true_l0":
        edge = "; peak at the end of the sweep" if c["at_edge"] else ""
        return (
            f"width {c['width']}: best MCC {c['peak_mcc']:.3f} at k = {c['peak_k']:g}, true L0 "
            f"{c['true_l0']:.2f} (ratio {c['ratio']:.2f}, allowed ×{c['factor']:g}){edge}; MCC by k "
            f"{c['mcc_by_k']}"
        )
    per = "; ".join(f"{g} {a:.2f} vs {b:.2f}" for g, (a, b) in c["per_group_merged"].items())
    return (
        f"k = {c['k']:g}: merged fraction {c['merged_narrow']:.3f} at width {c['narrow_width']} vs "
        f"{c['merged_wide']:.3f} at width {c['wide_width']} (per group: {per}; hedging "
        f"{c['hedging_narrow']:.3f} vs {c['hedging_wide']:.3f})"
    )


def claims_table(c: Mapping[str, Any], scale: Mapping[str, str]) -> pd.DataFrame:
    """One row per (model, flagged claim): verdict, numbers, and the scale it was measured at."""
    rows = []
    for model, cl in c["models"].items():
        for name in FLAG_CLAIMS:
            if name in cl:
                rows.append(
                    {
                        "model": model,
                        "claim": CLAIM_TEXT[name],
                        "holds": "yes" if cl[name]["holds"] else "no",
                        "numbers": _detail(name, cl[name]),
                        "scale": scale.get(model, ""),
                    }
                )
    return pd.DataFrame(rows, columns=["model", "claim", "holds", "numbers", "scale"])
