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
row per SAE × group × metric). Thresholds come from the config and were set before the first run. :func:`claims`
gives their numbers (summary.json), :func:`claim_records` the claims of :mod:`bows.claims`, one record per
(model, claim): not applicable when the SAE grid cannot test it (one k, one width, no group of two words).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..claims import Claim, NotApplicable, Outcome, Record, evaluate

__all__ = ["FLAG_CLAIMS", "CLAIMS", "l0_peak", "hedging_narrow_wide", "claims", "claim_records"]

FLAG_CLAIMS = ("mcc_peaks_near_true_l0", "narrow_merges_more")


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


# ------------------------------------------------------------------------------------------------ the claims
class Subject:
    """One BOWS model's claim numbers (of :func:`claims`) and the scale the SAEs were measured at."""

    def __init__(self, model: str, numbers: Mapping[str, Any], scale: str):
        self.model, self.numbers, self.scale = model, numbers, scale

    def outcome(self, name: str, value: Any, threshold: str, why_not: str) -> Outcome:
        if name not in self.numbers:
            raise NotApplicable(why_not, evaluated_at=self.scale)
        numbers = self.numbers[name]
        return Outcome(
            value(numbers), threshold, passed=bool(numbers["holds"]), evaluated_at=self.scale, details=dict(numbers)
        )


def l0_peak_test(s: Subject) -> Outcome:
    def value(c: Mapping[str, Any]) -> dict[str, Any]:
        out = {"width": c["width"], "best k": c["peak_k"], "best MCC": c["peak_mcc"], "true L0": c["true_l0"]}
        out.update({"k / true L0": c["ratio"], "peak at an end of the sweep": c["at_edge"]})
        return out

    factor = s.numbers.get("mcc_peaks_near_true_l0", {}).get("factor")
    return s.outcome(
        "mcc_peaks_near_true_l0",
        value,
        f"best k within ×{factor:g} of the true L0" if factor else "",
        "the TopK L0 sweep has fewer than two k",
    )


def merging_test(s: Subject) -> Outcome:
    return s.outcome(
        "narrow_merges_more",
        lambda c: {
            "k": c["k"],
            f"merged at width {c['narrow_width']}": c["merged_narrow"],
            f"merged at width {c['wide_width']}": c["merged_wide"],
            f"hedging at width {c['narrow_width']}": c["hedging_narrow"],
            f"hedging at width {c['wide_width']}": c["hedging_wide"],
        },
        "mean merged fraction of the groups larger at the narrowest width",
        "needs two TopK widths and a word group with two ground-truth words",
    )


CLAIMS: list[Claim] = [
    Claim(
        "mcc_peaks_near_true_l0",
        "MCC peaks near the true L0 (TopK, L0 sweep)",
        '"sparse but wrong": SAEs on LLM activations and synthetic data',
        l0_peak_test,
    ),
    Claim(
        "narrow_merges_more",
        "narrow dictionaries merge correlated words more than wide ones",
        '"feature hedging": SAEs on LLM activations and synthetic data',
        merging_test,
    ),
]


def claim_records(c: Mapping[str, Any], scale: Mapping[str, str]) -> list[Record]:
    """One record per (model, claim of :data:`CLAIMS`) of :func:`claims`' output; ``scale``: model → the scale it
    was measured at (the records' ``evaluated_at``)."""
    records = []
    for model, numbers in c["models"].items():
        subject = Subject(model, numbers, scale.get(model, model))
        records += evaluate(CLAIMS, subject, keys={"model": model})
    return records
