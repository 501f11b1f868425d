"""The paper's synthetic claims (§7.5, Fig. 2) as numbers and as claims of :mod:`bows.claims`, per (variant,
structure) of the synthetic branch.

Each claim is measured on the wide metric table of one seed (:func:`measure`: one row per model, one column per
metric) by a small function that returns its numbers with a ``holds`` flag, or None when the grid cannot test it.
"Weak" and "strong" are the smallest and largest of ``synthetic.weight_decay``; the linear model at the same m and
wd is the baseline of every ReLU claim:

* ``strong_wd_keeps_ring_longer``: ReLU at the strong wd keeps the ring (corr(off-diagonal Ĝ, data covariance) ≥
  ``synthetic.ring_corr_threshold``) at a larger share of m than at the weak wd, up to at least the same largest m;
* ``relu_antipodal_pairs``: the largest antipodal score of ReLU (weak wd) over F/2 ≤ m < F (the paper's 6–10 for
  F = 12) reaches ``synthetic.antipodal_threshold`` and exceeds the linear model's;
* ``relu_pairs_follow_data``: at that m, the ReLU model's antipodal partners sit among each feature's covariances
  on the validation samples (``partner_cov_percentile_heldout``: 0 = the least co-active feature, about ½ =
  chance) at most at ``synthetic.partner_percentile_threshold``, and the pairs hold. Antipodal pairs also form on
  sparse uncorrelated data, where the model pairs features by the noise of its training sample
  (``partner_cov_percentile``, on all samples, is low there too); held-out samples do not share that noise, so only
  correlations of the data-generating process keep the held-out percentile low;
* ``relu_negative_bias``: the mean decoder bias is negative at more than half of m (ReLU, weak wd);
* ``relu_beats_linear``: val MSE(ReLU) < val MSE(linear) at more than half of m (weak wd).

Besides these flags, ``summary.json`` carries, per (activation, wd), the latent sizes that keep the ring (``ring``),
every metric per m (``per_latent``) and ``relu_leaves_ring``: Spearman ρ(m, cov_corr) for ReLU at the weak wd
(negative: it leaves the ring as m grows), with the linear model's beside it.

:func:`claim_records` turns the numbers into one :class:`~bows.claims.Record` per (variant/structure, claim): the
first seed's verdict (the seed the figures show), at how many trained seeds the claim holds, and its verdict on the
iid null of the same variant (a claim that holds there too is a property of the decoder, not of the correlations).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..claims import Claim, NotApplicable, Outcome, Record, evaluate

__all__ = ["KEYS", "FLAG_CLAIMS", "CLAIMS", "wide", "measure", "claims", "claim_records"]

KEYS = ["variant", "structure", "activation", "weight_decay", "latent", "seed"]
PAPER_FIGURE = "§7, Fig. 2: F = 12 features on a ring, m = 2…12"
PER_LATENT_METRICS = (
    "cov_corr",
    "val_mse",
    "bias_mean",
    "frob_sq_per_m",
    "antipodal_score",
    "partner_cov_percentile",
    "partner_cov_percentile_heldout",
    "circulant_fit",
    "features_represented",
)


def wide(table: pd.DataFrame) -> pd.DataFrame:
    """The tidy synthetic metric table as one row per model and one column per metric."""
    return table.pivot_table(index=KEYS, columns="metric", values="value").reset_index()


# ------------------------------------------------------------------------------------------------ one seed's numbers
def _weak_strong(syn: Mapping[str, Any]) -> tuple[float, float]:
    wds = sorted(float(w) for w in syn["weight_decay"])
    return wds[0], wds[-1]


def _rows(df: pd.DataFrame, activation: str, wd: float) -> pd.DataFrame:
    return df[(df["activation"] == activation) & (df["weight_decay"] == wd)].sort_values("latent")


def ring_extent(rows: pd.DataFrame, threshold: float) -> dict[str, Any]:
    """Latent sizes whose Gram keeps the data's co-activation pattern: cov_corr ≥ threshold."""
    kept = [int(m) for m, v in zip(rows["latent"], rows["cov_corr"]) if np.isfinite(v) and v >= threshold]
    return {"latents": kept, "share": len(kept) / max(1, len(rows)), "max_m": max(kept) if kept else 0}


def _spearman(rows: pd.DataFrame) -> float:
    return float(pd.Series(rows["latent"].to_numpy()).corr(pd.Series(rows["cov_corr"].to_numpy()), method="spearman"))


def strong_wd_keeps_ring_longer(df: pd.DataFrame, syn: Mapping[str, Any]) -> dict[str, Any] | None:
    weak, strong = _weak_strong(syn)
    if strong == weak or "relu" not in syn["activations"]:
        return None
    threshold = float(syn["ring_corr_threshold"])
    a, b = _rows(df, "relu", weak), _rows(df, "relu", strong)
    if not (len(a) and len(b)):
        return None
    a, b = ring_extent(a, threshold), ring_extent(b, threshold)
    return {
        "weak_wd": weak,
        "strong_wd": strong,
        "share_weak": a["share"],
        "share_strong": b["share"],
        "max_m_weak": a["max_m"],
        "max_m_strong": b["max_m"],
        "holds": bool(b["share"] > a["share"] and b["max_m"] >= a["max_m"]),
    }


def relu_leaves_ring(df: pd.DataFrame, syn: Mapping[str, Any]) -> dict[str, Any] | None:
    weak, _ = _weak_strong(syn)
    relu, linear = _rows(df, "relu", weak), _rows(df, "linear", weak)
    if len(relu) < 3:
        return None
    return {
        "wd": weak,
        "spearman_m_cov_corr": _spearman(relu),
        "linear_spearman_m_cov_corr": _spearman(linear) if len(linear) >= 3 else None,
    }


def _relu_against_linear(df: pd.DataFrame, syn: Mapping[str, Any]) -> tuple[float, pd.DataFrame]:
    """(weak wd, ReLU and linear rows at the weak wd joined on m, suffixes _relu and _linear)."""
    weak, _ = _weak_strong(syn)
    joined = _rows(df, "relu", weak).merge(_rows(df, "linear", weak), on="latent", suffixes=("_relu", "_linear"))
    return weak, joined


def _antipodal_best(df: pd.DataFrame, syn: Mapping[str, Any]) -> tuple[float, pd.DataFrame, pd.Series] | None:
    """(weak wd, the joined rows with F/2 ≤ m < F, the row of the largest ReLU antipodal score) or None."""
    weak, joined = _relu_against_linear(df, syn)
    F = int(syn["features"])
    mid = joined[(joined["latent"] >= F / 2) & (joined["latent"] < F)]
    if not len(mid):
        return None
    return weak, mid, mid.loc[mid["antipodal_score_relu"].idxmax()]


def relu_antipodal_pairs(df: pd.DataFrame, syn: Mapping[str, Any]) -> dict[str, Any] | None:
    found = _antipodal_best(df, syn)
    if found is None:
        return None
    weak, mid, best = found
    linear_max = float(mid["antipodal_score_linear"].max())
    score = float(best["antipodal_score_relu"])
    return {
        "wd": weak,
        "latents": mid["latent"].astype(int).tolist(),
        "max_relu": score,
        "at_m": int(best["latent"]),
        "max_linear": linear_max,
        "holds": bool(score >= float(syn["antipodal_threshold"]) and score > linear_max),
    }


def relu_pairs_follow_data(df: pd.DataFrame, syn: Mapping[str, Any]) -> dict[str, Any] | None:
    found = _antipodal_best(df, syn)
    if found is None:
        return None
    weak, _, best = found
    pairs = relu_antipodal_pairs(df, syn)
    heldout = float(best.get("partner_cov_percentile_heldout_relu", np.nan))
    return {
        "wd": weak,
        "at_m": int(best["latent"]),
        "partner_cov_percentile_heldout": heldout,
        "partner_cov_percentile": float(best.get("partner_cov_percentile_relu", np.nan)),
        "holds": bool(
            pairs["holds"] and np.isfinite(heldout) and heldout <= float(syn["partner_percentile_threshold"])
        ),
    }


def relu_negative_bias(df: pd.DataFrame, syn: Mapping[str, Any]) -> dict[str, Any] | None:
    weak, _ = _weak_strong(syn)
    relu = _rows(df, "relu", weak)
    if not len(relu):
        return None
    share = float((relu["bias_mean"] < 0).mean())
    return {
        "wd": weak,
        "share_of_m": share,
        "mean_bias": float(relu["bias_mean"].mean()),
        "min_bias": float(relu["bias_mean"].min()),
        "holds": share > 0.5,
    }


def relu_beats_linear(df: pd.DataFrame, syn: Mapping[str, Any]) -> dict[str, Any] | None:
    weak, joined = _relu_against_linear(df, syn)
    if not len(joined):
        return None
    share = float((joined["val_mse_relu"] < joined["val_mse_linear"]).mean())
    return {
        "wd": weak,
        "share_of_m": share,
        "mean_mse_relu": float(joined["val_mse_relu"].mean()),
        "mean_mse_linear": float(joined["val_mse_linear"].mean()),
        "holds": share > 0.5,
    }


#: the flagged claims, in report order: name → its measurement on one seed's rows
MEASURES: dict[str, Callable[[pd.DataFrame, Mapping[str, Any]], dict[str, Any] | None]] = {
    "strong_wd_keeps_ring_longer": strong_wd_keeps_ring_longer,
    "relu_antipodal_pairs": relu_antipodal_pairs,
    "relu_pairs_follow_data": relu_pairs_follow_data,
    "relu_negative_bias": relu_negative_bias,
    "relu_beats_linear": relu_beats_linear,
}
FLAG_CLAIMS = tuple(MEASURES)


def measure(df: pd.DataFrame, syn: Mapping[str, Any]) -> dict[str, Any]:
    """Every number of one (variant, structure) and one seed (``df``: that seed's wide rows): ``ring`` and
    ``per_latent`` per (activation, wd), ``relu_leaves_ring`` and each flagged claim that the grid can test."""
    threshold = float(syn["ring_corr_threshold"])
    out: dict[str, Any] = {"ring": {}}
    for (act, wd), rows in df.sort_values("latent").groupby(["activation", "weight_decay"]):
        out["ring"][f"{act}_wd{wd}"] = ring_extent(rows, threshold)
        out.setdefault("per_latent", {})[f"{act}_wd{wd}"] = {
            k: dict(zip(rows["latent"].astype(int).astype(str), rows[k].round(4)))
            for k in PER_LATENT_METRICS
            if k in rows
        }
    leaves = relu_leaves_ring(df, syn)
    if leaves is not None:
        out["relu_leaves_ring"] = leaves
    for name, fn in MEASURES.items():
        numbers = fn(df, syn)
        if numbers is not None:
            out[name] = numbers
    return out


def claims(table: pd.DataFrame, syn: Mapping[str, Any]) -> dict[str, Any]:
    """The numbers of every (variant, structure) of the wide table (``summary.json``'s ``claims``): the
    thresholds, the first of ``synthetic.seeds`` (whose numbers are given) and, per ``"variant/structure"``, that
    seed's :func:`measure` with ``seeds``: for every flagged claim, whether it holds at each trained seed."""
    seed = int(syn["seeds"][0])
    out: dict[str, Any] = {
        "ring_corr_threshold": float(syn["ring_corr_threshold"]),
        "antipodal_threshold": float(syn["antipodal_threshold"]),
        "partner_percentile_threshold": float(syn["partner_percentile_threshold"]),
        "seed": seed,
        "structures": {},
    }
    for (variant, structure), df in table.groupby(["variant", "structure"], sort=False):
        trained = [int(x) for x in syn["seeds"] if (df["seed"] == int(x)).any()]
        if seed not in trained:
            continue
        per_seed = {sd: measure(df[df["seed"] == sd], syn) for sd in trained}
        numbers = per_seed[seed]
        numbers["seeds"] = {}
        for name in FLAG_CLAIMS:
            flags = {str(sd): bool(m[name]["holds"]) for sd, m in per_seed.items() if name in m}
            if flags:
                numbers["seeds"][name] = {"per_seed": flags, "held_in": sum(flags.values()), "of": len(flags)}
        out["structures"][f"{variant}/{structure}"] = numbers
    return out


# ------------------------------------------------------------------------------------------------ the claims
class Subject:
    """One (variant, structure) as the claims' tests see it: its numbers, its iid null's and the thresholds."""

    def __init__(self, key: str, numbers: Mapping[str, Any], null: Mapping[str, Any] | None, c: Mapping[str, Any]):
        self.key, self.numbers, self.null, self.c = key, numbers, null, c

    def outcome(self, name: str, value: Any, threshold: Any, why_not: str) -> Outcome:
        """The claim ``name``'s outcome at the first seed, or NotApplicable(``why_not``) when it was not measured."""
        if name not in self.numbers:
            raise NotApplicable(why_not, evaluated_at=self.key)
        numbers = self.numbers[name]
        seeds = self.numbers["seeds"].get(name, {"held_in": int(numbers["holds"]), "of": 1})
        on_null = "—" if self.null is None or name not in self.null else ("yes" if self.null[name]["holds"] else "no")
        return Outcome(
            value(numbers),
            threshold,
            passed=bool(numbers["holds"]),
            evaluated_at=f"{self.key}, seed {self.c['seed']}",
            details=dict(numbers),
            notes={"held in seeds": f"{seeds['held_in']}/{seeds['of']}", "holds on the iid null": on_null},
        )


def ring_longer_test(s: Subject) -> Outcome:
    thr = s.c["ring_corr_threshold"]
    return s.outcome(
        "strong_wd_keeps_ring_longer",
        lambda n: {
            f"share of m at wd {n['strong_wd']:g}": n["share_strong"],
            f"share of m at wd {n['weak_wd']:g}": n["share_weak"],
            f"largest m at wd {n['strong_wd']:g}": n["max_m_strong"],
            f"largest m at wd {n['weak_wd']:g}": n["max_m_weak"],
        },
        f"cov_corr ≥ {thr:g}: share larger and largest m no smaller at the strong wd",
        "needs ReLU models at two weight decays",
    )


def antipodal_test(s: Subject) -> Outcome:
    return s.outcome(
        "relu_antipodal_pairs",
        lambda n: {
            "ReLU": n["max_relu"],
            "at m": n["at_m"],
            "linear": n["max_linear"],
            "m range": f"{n['latents'][0]}–{n['latents'][-1]}",
        },
        f"largest antipodal score of ReLU ≥ {s.c['antipodal_threshold']:g} and above linear's",
        "no latent size with F/2 ≤ m < F trained for both ReLU and linear",
    )


def pairs_follow_data_test(s: Subject) -> Outcome:
    return s.outcome(
        "relu_pairs_follow_data",
        lambda n: {
            "held-out percentile": n["partner_cov_percentile_heldout"],
            "all-sample percentile": n["partner_cov_percentile"],
            "at m": n["at_m"],
        },
        f"pairs hold and held-out percentile ≤ {s.c['partner_percentile_threshold']:g} (chance ½)",
        "no latent size with F/2 ≤ m < F trained for both ReLU and linear",
    )


def negative_bias_test(s: Subject) -> Outcome:
    return s.outcome(
        "relu_negative_bias",
        lambda n: {"share of m with bias < 0": n["share_of_m"], "mean bias": n["mean_bias"]},
        "share > 0.5",
        "no ReLU model at the weak weight decay",
    )


def beats_linear_test(s: Subject) -> Outcome:
    return s.outcome(
        "relu_beats_linear",
        lambda n: {
            "share of m with lower val MSE": n["share_of_m"],
            "mean val MSE ReLU": n["mean_mse_relu"],
            "mean val MSE linear": n["mean_mse_linear"],
        },
        "share > 0.5",
        "no latent size trained for both ReLU and linear at the weak weight decay",
    )


CLAIMS: list[Claim] = [
    Claim(
        "strong_wd_keeps_ring_longer", "strong weight decay keeps the ring to larger m", PAPER_FIGURE, ring_longer_test
    ),
    Claim("relu_antipodal_pairs", "ReLU forms antipodal pairs (F/2 ≤ m < F)", "§7, Fig. 2: m = 6–10", antipodal_test),
    Claim(
        "relu_pairs_follow_data",
        "the pairs are features anti-correlated in the data",
        "§7, Fig. 2: opposite ring features",
        pairs_follow_data_test,
    ),
    Claim("relu_negative_bias", "ReLU uses negative biases", "§7: the bias filters interference", negative_bias_test),
    Claim("relu_beats_linear", "ReLU beats linear on MSE", PAPER_FIGURE, beats_linear_test),
]


def claim_records(c: Mapping[str, Any]) -> list[Record]:
    """One record per (variant/structure, claim of :data:`CLAIMS`) of :func:`claims`' output, keyed by variant
    and structure, with the seeds at which it holds and its verdict on the variant's iid null as notes."""
    records = []
    for key, numbers in c["structures"].items():
        variant, structure = key.split("/", 1)
        null = c["structures"].get(f"{variant}/iid") if structure != "iid" else None
        subject = Subject(key, numbers, null, c)
        records += evaluate(CLAIMS, subject, keys={"variant": variant, "structure": structure})
    return records
