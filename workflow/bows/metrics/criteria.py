"""The paper's reproduction criteria (reference §10, criteria 1–16) and ours (17) as claims of :mod:`bows.claims`.

Each criterion is a small test of the metric tables (:class:`Inputs`) and the pass thresholds (``analysis.thresholds``,
each named with its default and description in the config schema; the defaults are the reference's proposals, marked
★ there). A test returns an :class:`~bows.claims.Outcome` (pass or fail) or raises
:class:`~bows.claims.NotApplicable` with the reason this run cannot test the claim; any other exception becomes the
status ``error``. :data:`CRITERIA` lists them in order and :func:`evaluate` runs them all.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..claims import Claim, NotApplicable, Outcome, Record
from ..claims import evaluate as evaluate_claims
from ..grid import TRAINED_VARIANTS, ModelSpec, model_ref, sweep_models
from ..wordlists import paper_forced_tokens, stopwords, word_lists

__all__ = ["thresholds", "evaluate", "Inputs", "CRITERIA"]

# ------------------------------------------------------------------------------------------ the paper's references
# where the paper makes each claim (its scale and models): the ``claimed_at`` of the criteria
PAPER_SCALE = "WikiText-103, V=10000, G=20"
PAPER_DATA = f"{PAPER_SCALE}, train windows"
PAPER_MONTHS_MODEL = "L1000 wd4.0"  # the months figures (Fig. 1, 4)
PAPER_MECHANISM_MODEL = "L1000 wd1.0"  # the mechanism figures (§5)
PAPER_SWEEP = "L = 50…10000 (=V), wd1.0, seeds 1–3"
PAPER_SNAPSHOT_LATENTS = (400, 4000)  # the two snapshots of Fig. 6, when analysis.snapshot_latents is empty
PAPER_CLUSTER_MODELS = "L800 at wd 0/1/4"
PAPER_SMALL_LATENT = 400  # criterion 7: "months are far from orthogonal at L ≤ 400"
PAPER_GAP_WORDS = ("mbar", "inHg", "Beatles", "Christmas")  # the words Fig. 7 names at the top of the R² gap
SUMMER_MONTHS = ("June", "July", "August")


def thresholds(cfg: Mapping[str, Any]) -> dict[str, float]:
    """The pass thresholds: ``analysis.thresholds`` of a validated config (named, with their defaults, in the
    schema; :func:`bows.config.defaults` gives them without a config file)."""
    return {k: float(v) for k, v in cfg.items()}


@dataclass
class Inputs:
    """Tables the criteria read (any may be None when its stage produced nothing) and the validated config."""

    config: Mapping[str, Any]
    vocab: pd.DataFrame | None = None
    windows: Mapping[str, Any] = field(default_factory=dict)
    data_metrics: pd.DataFrame | None = None
    metrics_all: pd.DataFrame | None = None
    months_metrics: pd.DataFrame | None = None
    mechanism: pd.DataFrame | None = None
    r2_gap: pd.DataFrame | None = None
    sweep: pd.DataFrame | None = None
    clusters: pd.DataFrame | None = None
    subspace: pd.DataFrame | None = None

    def __post_init__(self) -> None:
        self.windows = self.windows or {}

    def value(
        self, df: pd.DataFrame | None, scope: str, metric: str, model: str | None = None, item: str | None = None
    ) -> float:
        """The first value of a tidy table's rows with this scope and metric (and model, item); NaN if none."""
        if df is None or not len(df):
            return float("nan")
        rows = (df["scope"] == scope) & (df["metric"] == metric)
        if model is not None:
            rows &= df["model"] == model
        if item is not None:
            rows &= df["item"] == item
        values = df.loc[rows, "value"]
        return float(values.iloc[0]) if len(values) else float("nan")

    def model(self, key: str) -> str:
        """The tag of the model that ``analysis.models.<key>`` names."""
        return model_ref(self.config["analysis"]["models"][key]).tag

    def sweep_specs(self) -> list[ModelSpec]:
        return sweep_models(self.config)


def finite(x: Any) -> bool:
    try:
        return math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def scaled_count(of_12: float, n: float) -> int:
    """A threshold stated for the 12 months, scaled to the ``n`` months found: ⌈of_12 · n / 12⌉."""
    return int(math.ceil(of_12 * n / 12 - 1e-9))


# ------------------------------------------------------------------------------------------------ data (1–4)
def vocabulary_integrity(inp: Inputs, th: Mapping[str, float]) -> Outcome:
    cfg = inp.config["vocab"]
    if inp.vocab is None:
        raise NotApplicable("vocab.tsv not available")
    words = inp.vocab.sort_values("index")["word"].astype(str).tolist()
    present = set(words)
    forced = paper_forced_tokens() if cfg["forced_tokens"] == "paper" else sorted(set(cfg["forced_tokens"]))
    stops = stopwords(cfg["stopwords"])
    numbers = {str(k) for k in range(0, int(cfg["numbers_max"]) + 1)}
    nonforced = words[len(forced) :]
    checks = {
        "size_equals_config": len(words) == int(cfg["size"]),
        "forced_first_sorted": words[: len(forced)] == forced,
        "months_present": set(word_lists()["word_groups"]["Months"]) <= present
        if cfg["forced_tokens"] == "paper"
        else True,
        "no_lowercase_stopword": not any(w.isalpha() and w.islower() and w in stops for w in nonforced),
        "The_present": "The" in present if not cfg["lowercase"] else True,
        "alpha_or_number": all(w.isalpha() or w in numbers for w in nonforced),
    }
    failed = [k for k, ok in checks.items() if not ok]
    return Outcome(
        len(words),
        int(cfg["size"]),
        passed=not failed,
        evaluated_at=f"V={cfg['size']}",
        details={"failed_checks": failed, "checks": checks},
    )


def window_counts(inp: Inputs, th: Mapping[str, float]) -> Outcome:
    w = inp.windows
    if not w or "windows" not in w or "records" not in w:
        raise NotApplicable("windows.json not available")
    G, S = int(w["group_size"]), int(w["stride"])  # windows.json records the settings it was built with
    expected = {split: max(0, (int(n) - G) // S + 1) for split, n in w["records"].items()}
    ok = all(int(w["windows"].get(split, -1)) == n for split, n in expected.items())
    return Outcome(
        dict(w["windows"]),
        expected,
        passed=ok,
        evaluated_at=f"G={G}, S={S}",
        details={"mean_ids_per_window": w.get("mean_ids_per_window")},
    )


def month_correlation(inp: Inputs, th: Mapping[str, float]) -> Outcome:
    rho = inp.value(inp.data_metrics, "Months", "corr_dist_spearman")
    inversions = inp.value(inp.data_metrics, "Months", "corr_dist_inversions")
    at = "train windows (analysis.max_windows)"
    if not (finite(rho) and finite(inversions)):
        raise NotApplicable("month correlations undefined (months too rare?)", evaluated_at=at)
    profile = [inp.value(inp.data_metrics, "Months", f"corr_dist_{k}") for k in range(1, 7)]
    ok = inversions <= th["corr_dist_max_inversions"] and rho <= th["corr_dist_max_spearman"]
    return Outcome(
        {"spearman": rho, "inversions": inversions},
        {"spearman_max": th["corr_dist_max_spearman"], "inversions_max": th["corr_dist_max_inversions"]},
        passed=ok,
        evaluated_at=at,
        details={"profile": profile},
    )


def ring_verdict(
    adjacent: float, winding: float, n: float, th: Mapping[str, float], evaluated_at: str, reason: str, **details: Any
) -> Outcome:
    """A month ring: at least ``ring_min_adjacent_of_12`` (scaled to the ``n`` months found) angular neighbours are
    calendar neighbours, and the months wind once around the centroid."""
    value = {"adjacent_pairs": adjacent, "winding": winding}
    if not (finite(adjacent) and finite(winding) and finite(n)):
        raise NotApplicable(
            reason, value=value, threshold={"adjacent_min": 0, "winding": 1}, evaluated_at=evaluated_at, **details
        )
    need = scaled_count(th["ring_min_adjacent_of_12"], int(n))
    return Outcome(
        value,
        {"adjacent_min": need, "winding": 1},
        passed=bool(adjacent >= need and abs(winding) == 1),
        evaluated_at=evaluated_at,
        details=details,
    )


def data_ring(inp: Inputs, th: Mapping[str, float]) -> Outcome:
    d = inp.data_metrics
    return ring_verdict(
        inp.value(d, "Months", "ring_adjacent_pairs"),
        inp.value(d, "Months", "ring_winding"),
        inp.value(d, "Months", "ring_pairs_total"),
        th,
        "train windows",
        "ring undefined (months too rare)",
        order_agreement=inp.value(d, "Months", "order_agreement"),
        order_agreement_p=inp.value(d, "Months", "order_agreement_p"),
    )


# ------------------------------------------------------------------------------------------------ months (5–7)
def weight_ring(inp: Inputs, th: Mapping[str, float]) -> Outcome:
    tag, m = inp.model("months"), inp.metrics_all
    return ring_verdict(
        inp.value(m, "Months", "ring_adjacent_pairs", tag),
        inp.value(m, "Months", "ring_winding", tag),
        inp.value(m, "Months", "n_found", tag),
        th,
        tag,
        "months model metrics missing",
        order_agreement=inp.value(m, "Months", "order_agreement", tag),
        order_agreement_p=inp.value(m, "Months", "order_agreement_p", tag),
    )


def seasonal_alignment(inp: Inputs, th: Mapping[str, float]) -> Outcome:
    tag = inp.model("months")
    hits = inp.value(inp.months_metrics, "Months", "seasonal_in_expected")
    found = inp.value(inp.months_metrics, "Months", "seasonal_found")
    total = inp.value(inp.months_metrics, "Months", "seasonal_total")
    need = th["seasonal_min_in_expected_of_9"]
    if not finite(found) or found < need:
        raise NotApplicable(
            f"only {found} of {total} seasonal words are in the vocabulary (need {need})",
            value=hits,
            threshold=need,
            evaluated_at=tag,
        )
    return Outcome(hits, need, passed=bool(hits >= need), evaluated_at=tag, details={"found": found})


def months_nonorthogonal(inp: Inputs, th: Mapping[str, float]) -> Outcome:
    specs = inp.sweep_specs()
    first_seed = min((s.seed for s in specs), default=None)
    tags = [inp.model("months")] + [s.tag for s in specs if s.latent <= PAPER_SMALL_LATENT and s.seed == first_seed]
    threshold = {
        "mean_abs_cos_min": th["months_min_mean_abs_cos"],
        "adjacent_gt_opposite_min_of_12": th["months_min_adjacent_gt_opposite_of_12"],
    }
    per_model = {}
    for tag in tags:
        mac = inp.value(inp.metrics_all, "Months", "mean_abs_cos", tag)
        ago = inp.value(inp.metrics_all, "Months", "adjacent_gt_opposite", tag)
        n = inp.value(inp.metrics_all, "Months", "n_found", tag)
        if finite(mac) and finite(ago) and finite(n):
            ok = mac >= th["months_min_mean_abs_cos"] and ago >= scaled_count(
                th["months_min_adjacent_gt_opposite_of_12"], n
            )
            per_model[tag] = {"mean_abs_cos": mac, "adjacent_gt_opposite": ago, "pass": bool(ok)}
    if not per_model:
        raise NotApplicable("no months metrics", value=per_model, threshold=threshold)
    return Outcome(
        per_model,
        threshold,
        passed=all(v["pass"] for v in per_model.values()),
        evaluated_at=", ".join(per_model),
    )


# ------------------------------------------------------------------------------------------------ sweep (8–10)
def sweep_curve(inp: Inputs, group: str, metric: str = "offdiag_raw") -> pd.Series:
    """The sweep summary's mean of ``metric`` for ``group`` by latent size."""
    s = inp.sweep
    if s is None or not len(s):
        return pd.Series(dtype=float)
    rows = s[(s["group"] == group) & (s["metric"] == metric)]
    return rows.set_index("latent")["mean"].sort_index()


def first_latent_below(curve: pd.Series, level: float) -> float:
    """The first latent size where ``curve`` falls below ``level`` × its maximum (inf: never; NaN: no curve)."""
    if not len(curve) or not np.isfinite(curve.max()):
        return float("nan")
    below = curve[curve < level * curve.max()]
    return float(below.index[0]) if len(below) else float("inf")


def months_orthogonalise(inp: Inputs, th: Mapping[str, float]) -> Outcome:
    months, roman = sweep_curve(inp, "Months"), sweep_curve(inp, "Roman numerals")
    V = int(inp.config["vocab"]["size"])
    if len(months) < 2:
        raise NotApplicable("fewer than 2 latent sizes in the sweep")
    final = float(months.iloc[-1] / months.max()) if months.max() > 0 else float("nan")
    months_half = first_latent_below(months, th["sweep_half_level"])
    roman_half = first_latent_below(roman, th["sweep_half_level"])
    value = {
        "final_fraction_of_max": final,
        "months_first_L_below_half": months_half,
        "roman_first_L_below_half": roman_half,
    }
    threshold = {"final_fraction_max": th["sweep_max_final_fraction"], "half_level": th["sweep_half_level"]}
    at = f"L = {int(months.index.min())}…{int(months.index.max())} (V={V})"
    details = {
        "months_curve": {int(k): float(v) for k, v in months.items()},
        "roman_curve": {int(k): float(v) for k, v in roman.items()},
        "months_cos_curve": {int(k): float(v) for k, v in sweep_curve(inp, "Months", "offdiag_cos").items()},
        "largest_L_below_V": bool(months.index.max() < V),
    }
    undecided = ""
    if np.isnan(months_half) or np.isnan(roman_half):
        undecided = "Months or Roman numerals have no sweep curve"
    elif np.isinf(months_half) and np.isinf(roman_half):
        undecided = "neither group falls below half its maximum within the grid's latent sizes"
    if undecided:
        raise NotApplicable(undecided, value=value, threshold=threshold, evaluated_at=at, **details)
    ok = final <= th["sweep_max_final_fraction"] and months_half < roman_half
    return Outcome(value, threshold, passed=bool(ok), evaluated_at=at, details=details)


def snapshots(inp: Inputs, th: Mapping[str, float]) -> Outcome:
    specs = inp.sweep_specs()
    if not specs:
        raise NotApplicable("no sweep models")
    wanted = list(inp.config["analysis"]["snapshot_latents"]) or list(PAPER_SNAPSHOT_LATENTS)
    latents = sorted({s.latent for s in specs})
    small = min(latents, key=lambda L: abs(L - wanted[0]))
    large = min(latents, key=lambda L: abs(L - wanted[-1]))
    seed = min(s.seed for s in specs)
    small_tag = next(s.tag for s in specs if s.latent == small and s.seed == seed)
    large_tag = next(s.tag for s in specs if s.latent == large and s.seed == seed)
    m = inp.metrics_all
    adjacent = inp.value(m, "Months", "ring_adjacent_pairs_raw", small_tag)
    winding = inp.value(m, "Months", "ring_winding_raw", small_tag)
    n = inp.value(m, "Months", "n_found", small_tag)
    months_cos = inp.value(m, "Months", "mean_abs_cos", large_tag)
    roman_cos = inp.value(m, "Roman numerals", "mean_abs_cos", large_tag)
    value = {
        "small_ring_adjacent": adjacent,
        "small_ring_winding": winding,
        "large_months_mean_abs_cos": months_cos,
        "large_roman_mean_abs_cos": roman_cos,
    }
    ring_defined = finite(adjacent) and finite(winding) and finite(n)
    need = scaled_count(th["ring_min_adjacent_of_12"], int(n)) if ring_defined else 0
    threshold = {"adjacent_min": need, "months_mean_abs_cos_max": th["snapshot_max_mean_abs_cos"]}
    at = f"{small_tag} and {large_tag}"
    undefined = [
        name
        for name, v in (
            ("small-L month ring", adjacent),
            ("large-L months |cos|", months_cos),
            ("large-L Roman numerals |cos| (fewer than 2 numerals found?)", roman_cos),
        )
        if not finite(v)
    ]
    if not ring_defined or undefined:
        raise NotApplicable("undefined: " + ", ".join(undefined), value=value, threshold=threshold, evaluated_at=at)
    ring_ok = adjacent >= need and abs(winding) == 1
    large_ok = months_cos < th["snapshot_max_mean_abs_cos"] and roman_cos > months_cos
    return Outcome(value, threshold, passed=bool(ring_ok and large_ok), evaluated_at=at)


def seed_stability(inp: Inputs, th: Mapping[str, float]) -> Outcome:
    s = inp.sweep
    if s is None or not len(s):
        raise NotApplicable("no sweep")
    months = s[(s["group"] == "Months") & (s["metric"] == "offdiag_raw")].sort_values("latent")
    months = months[months["n_seeds"] >= 2]
    if not len(months):
        raise NotApplicable("fewer than 2 seeds per latent size", threshold=th["seed_max_cv"])
    counted = months[months["mean"] > th["seed_min_mean_fraction"] * months["mean"].max()]
    cv = (counted["sd"] / counted["mean"]).to_numpy()
    at = f"{int(months['n_seeds'].min())}+ seeds"
    cv_by_latent = {int(L): float(c) for L, c in zip(counted["latent"], cv)}
    if not cv.size:
        raise NotApplicable(
            "no latent size where the months' interference is above its counted fraction of the maximum",
            threshold=th["seed_max_cv"],
            evaluated_at=at,
            cv_by_L=cv_by_latent,
        )
    return Outcome(
        float(np.nanmax(cv)),
        th["seed_max_cv"],
        passed=bool(np.all(cv < th["seed_max_cv"])),
        evaluated_at=at,
        details={"cv_by_L": cv_by_latent},
    )


# ------------------------------------------------------------------------------------------------ mechanism (11–16)
def target_values(inp: Inputs, metrics: Sequence[str]) -> tuple[dict[str, list[float]], list[str]]:
    """Per mechanism target, the values of ``metrics`` (in order); targets lacking any of them are listed apart."""
    found, missing = {}, []
    for target in inp.config["analysis"]["mechanism_targets"]:
        values = [inp.value(inp.mechanism, target, m) for m in metrics]
        if all(finite(v) for v in values):
            found[target] = values
        else:
            missing.append(target)
    return found, missing


def with_missing(tag: str, missing: Sequence[str], what: str) -> str:
    """``evaluated_at`` of a mechanism criterion: the model, and the targets it could not read."""
    return f"{tag}; {what}: {list(missing)}" if missing else tag


def onehot_failure(inp: Inputs, th: Mapping[str, float]) -> Outcome:
    tag = inp.model("mechanism")
    found, missing = target_values(inp, ("onehot_z", "r2_ctx"))
    per_target = {
        t: {"onehot_z": one, "r2_ctx": r2, "pass": bool(one < 0 and r2 > 0)} for t, (one, r2) in found.items()
    }
    threshold = {"onehot_z": "< 0", "r2_ctx": "> 0"}
    at = with_missing(tag, missing, "targets absent or rare")
    if not per_target:
        raise NotApplicable(
            f"targets absent or rare: {missing}", value={}, threshold=threshold, evaluated_at=tag, missing=missing
        )
    return Outcome(
        per_target,
        threshold,
        passed=all(v["pass"] for v in per_target.values()),
        evaluated_at=at,
        details={"missing": missing},
    )


CONSTRUCTIVE_METRICS = (
    "frac_pos",
    "tower_correlated_end",
    "sum_correlated_context",
    "sum_uncorrelated_context",
    "tower_correlated_no_target_end",
)


def constructive_checks(inp: Inputs, target: str, values: Sequence[float], th: Mapping[str, float]) -> dict:
    frac_pos, corr_end, sum_corr, sum_uncorr, no_target_end = values
    checks = {
        "frac_pos": frac_pos >= th["constructive_min_frac_pos"],
        "corr_tower_crosses_0": corr_end > 0,
        "uncorr_small": abs(sum_uncorr) < th["uncorrelated_max_ratio"] * sum_corr,
        "no_target_tower_below_0": no_target_end < 0,
    }
    return {
        "frac_pos": frac_pos,
        "frac_better_than_onehot": inp.value(inp.mechanism, target, "frac_better_than_onehot"),
        "tower_correlated_end": corr_end,
        "sum_correlated": sum_corr,
        "sum_uncorrelated": sum_uncorr,
        "tower_no_target_end": no_target_end,
        "checks": checks,
    }


def constructive_context(inp: Inputs, th: Mapping[str, float]) -> Outcome:
    tag = inp.model("mechanism")
    found, missing = target_values(inp, CONSTRUCTIVE_METRICS)
    per_target = {t: constructive_checks(inp, t, values, th) for t, values in found.items()}
    threshold = {"frac_pos_min": th["constructive_min_frac_pos"], "uncorr_ratio_max": th["uncorrelated_max_ratio"]}
    what = "targets absent, rare, or with missing context words"
    if not per_target:
        raise NotApplicable(f"{what}: {missing}", value={}, threshold=threshold, evaluated_at=tag, missing=missing)
    return Outcome(
        per_target,
        threshold,
        passed=all(all(v["checks"].values()) for v in per_target.values()),
        evaluated_at=with_missing(tag, missing, what),
        details={"missing": missing},
    )


def christmas_months(inp: Inputs, th: Mapping[str, float]) -> Outcome:
    tag = inp.model("mechanism")
    df = inp.mechanism
    if df is None or not len(df):
        raise NotApplicable("no mechanism table", evaluated_at=tag)
    rows = df[(df["scope"].str.lower() == "christmas") & (df["metric"] == "month_contribution")]
    contrib = dict(zip(rows["item"], rows["value"]))
    if len(contrib) < 12 or not all(finite(v) for v in contrib.values()):
        raise NotApplicable(
            "Christmas not a mechanism target, not in the vocabulary, or months missing",
            value=contrib,
            evaluated_at=tag,
        )
    december = contrib.get("December", np.nan)
    largest = max(contrib, key=lambda k: contrib[k])
    total = float(sum(contrib.values()))
    checks = {
        "december_largest_and_positive": largest == "December" and december > 0,
        "a_summer_month_negative": any(contrib.get(k, np.nan) < 0 for k in SUMMER_MONTHS),
        "months_cancel": abs(total) < december,
    }
    return Outcome(
        {"december": december, "largest": largest, "sum": total},
        {"december": "largest and > 0", "June/July/August": "one < 0", "|sum of months|": "< December"},
        passed=all(checks.values()),
        evaluated_at=tag,
        details={"checks": checks, "contributions": contrib},
    )


def r2_gap(inp: Inputs, th: Mapping[str, float]) -> Outcome:
    tag = inp.model("mechanism")
    gap = inp.r2_gap
    if gap is None or not len(gap):
        raise NotApplicable("no gap table", evaluated_at=tag)
    n_large = int(((gap["delta"] > th["gap_min_delta"]) & (gap["freq_count"] >= th["gap_min_freq"])).sum())
    top_n = int(math.ceil(th["gap_top_fraction"] * len(gap)))
    ranks = {w: int(gap.loc[gap["word"] == w, "rank"].iloc[0]) for w in PAPER_GAP_WORDS if (gap["word"] == w).any()}
    in_top = {w: r <= top_n for w, r in ranks.items()}
    absent = [w for w in PAPER_GAP_WORDS if w not in ranks]
    return Outcome(
        {"n_words_delta_gt": n_large, "ranks": ranks},
        {
            "min_words": th["gap_min_words"],
            "delta": th["gap_min_delta"],
            "min_freq": th["gap_min_freq"],
            "top_rank_max": top_n,
        },
        passed=bool(n_large >= th["gap_min_words"] and all(in_top.values())),
        evaluated_at=with_missing(tag, sorted(absent), "paper words absent from the gap table"),
        details={"in_top_decile": in_top},
    )


def wd_pairs(table: pd.DataFrame, keys: Sequence[str], wd: str = "wd") -> dict[tuple, tuple[pd.DataFrame, ...]]:
    """For every group of ``keys`` trained at weight decay 0 and a larger one: (rows at wd 0, rows at the largest)."""
    out = {}
    for key, rows in table.groupby(list(keys)):
        wds = sorted(rows[wd].astype(float).unique())
        if len(wds) >= 2 and wds[0] == 0.0:
            out[key] = (rows[rows[wd].astype(float) == wds[0]], rows[rows[wd].astype(float) == wds[-1]])
    return out


def clusters_with_wd(inp: Inputs, th: Mapping[str, float]) -> Outcome:
    c = inp.clusters
    reason = "no latent size trained at weight decay 0 and a larger one"
    threshold = "wd_max > wd0 for both scores"
    if c is None or not len(c):
        raise NotApplicable("no cluster table", threshold=threshold)
    per_model = {}
    for (L, seed, variant), (lo, hi) in wd_pairs(c, ["latent", "seed", "variant"]).items():
        wd_lo, wd_hi = float(lo["wd"].iloc[0]), float(hi["wd"].iloc[0])
        scores = {}
        for metric in ("silhouette_cos", "knn_purity"):
            a, b = lo.loc[lo["metric"] == metric, "value"], hi.loc[hi["metric"] == metric, "value"]
            if len(a) and len(b) and finite(a.iloc[0]) and finite(b.iloc[0]):
                scores[metric] = {
                    f"wd{wd_lo}": float(a.iloc[0]),
                    f"wd{wd_hi}": float(b.iloc[0]),
                    "higher_with_wd": bool(b.iloc[0] > a.iloc[0]),
                }
        if len(scores) == 2:
            per_model[f"{variant}/L{L}_seed{seed}"] = scores
    if not per_model:
        raise NotApplicable(reason, value=per_model, threshold=threshold)
    return Outcome(
        per_model,
        threshold,
        passed=all(s["higher_with_wd"] for scores in per_model.values() for s in scores.values()),
        evaluated_at=", ".join(per_model),
    )


def months_r2(inp: Inputs, th: Mapping[str, float]) -> Outcome:
    tag = inp.model("mechanism")
    lstsq = inp.value(inp.mechanism, "Months", "r2_mean", item="lstsq_h")
    if not finite(lstsq):
        raise NotApplicable("months R² undefined", threshold=th["months_min_r2"], evaluated_at=tag)
    return Outcome(
        lstsq,
        th["months_min_r2"],
        passed=bool(lstsq >= th["months_min_r2"]),
        evaluated_at=tag,
        details={
            "tied_linear_r2": inp.value(inp.mechanism, "Months", "r2_mean", item="tied_linear"),
            "lstsq_sd": inp.value(inp.mechanism, "Months", "r2_sd", item="lstsq_h"),
        },
    )


# ------------------------------------------------------------------------------------------------ ours (17)
def principal_subspace(inp: Inputs, th: Mapping[str, float]) -> Outcome:
    """Weight decay pushes W towards the data's principal subspace: at the same L, the overlap with the top-L
    covariance eigenvectors rises and ‖W‖²_F/L falls from wd 0 to the largest wd."""
    sub = inp.subspace
    threshold = {"min_overlap_rise": th["subspace_min_overlap_rise"], "max_norm_ratio": th["subspace_max_norm_ratio"]}
    if sub is None or not len(sub):
        raise NotApplicable("no subspace table")
    trained = sub[sub["variant"].isin(TRAINED_VARIANTS)]
    per_model = {}
    for (variant, L, seed), (lo_rows, hi_rows) in wd_pairs(trained, ["variant", "latent", "seed"]).items():
        lo, hi = lo_rows.iloc[0], hi_rows.iloc[0]
        if not (finite(lo["overlap_cov"]) and finite(hi["overlap_cov"]) and finite(lo["frob2_per_latent"])):
            continue
        rise = float(hi["overlap_cov"] - lo["overlap_cov"])
        ratio = float(hi["frob2_per_latent"] / lo["frob2_per_latent"])
        per_model[f"{variant}/L{L}_seed{seed}"] = {
            "wd": [float(lo["wd"]), float(hi["wd"])],
            "exposure": [lo["decay_exposure"], hi["decay_exposure"]],
            "overlap_cov": [float(lo["overlap_cov"]), float(hi["overlap_cov"])],
            "overlap_rise": rise,
            "frob2_per_latent": [float(lo["frob2_per_latent"]), float(hi["frob2_per_latent"])],
            "norm_ratio": ratio,
            "pass": bool(rise >= th["subspace_min_overlap_rise"] and ratio <= th["subspace_max_norm_ratio"]),
        }
    if not per_model:
        raise NotApplicable(
            "no latent size trained at weight decay 0 and a larger one", value=per_model, threshold=threshold
        )
    return Outcome(
        per_model,
        threshold,
        passed=all(v["pass"] for v in per_model.values()),
        evaluated_at=", ".join(per_model),
    )


CRITERIA: list[Claim] = [
    Claim(1, "vocabulary integrity", "|vocab| = 10000, 39 forced tokens first", vocabulary_integrity),
    Claim(2, "window counts", "n_windows = n_records − 19 (1,801,331 / 3,741 / 4,339)", window_counts),
    Claim(3, "month correlation is circulant-like", PAPER_DATA, month_correlation),
    Claim(4, "data PCA ring", PAPER_DATA, data_ring),
    Claim(5, "weight PCA ring (normalised month rows)", PAPER_MONTHS_MODEL, weight_ring),
    Claim(6, "seasonal alignment", PAPER_MONTHS_MODEL, seasonal_alignment),
    Claim(
        7,
        "non-orthogonality of months",
        f"{PAPER_MONTHS_MODEL} and L ≤ {PAPER_SMALL_LATENT} wd1.0",
        months_nonorthogonal,
    ),
    Claim(
        8,
        "months orthogonalise with L (and before Roman numerals)",
        f"{PAPER_SWEEP}; {PAPER_SCALE}",
        months_orthogonalise,
    ),
    Claim(
        9,
        "snapshot check",
        f"L{PAPER_SNAPSHOT_LATENTS[0]} (ring) and L{PAPER_SNAPSHOT_LATENTS[1]} (orthogonal months) wd1.0",
        snapshots,
    ),
    Claim(10, "seed stability", "seeds 1–3 at every L", seed_stability),
    Claim(11, "one-hot failure", f"{PAPER_MECHANISM_MODEL}; mbar, Beatles, Christmas", onehot_failure),
    Claim(12, "constructive context", f"{PAPER_MECHANISM_MODEL}; paper ≈ 0.81 for Beatles", constructive_context),
    Claim(13, "Christmas and months", PAPER_MECHANISM_MODEL, christmas_months),
    Claim(14, "R² gap distribution", PAPER_MECHANISM_MODEL, r2_gap),
    Claim(15, "clustering increases with weight decay", PAPER_CLUSTER_MODELS, clusters_with_wd),
    Claim(
        16,
        "months linear R² (least-squares decoder from h)",
        "0.98 ± 0.00015 (model and protocol unknown)",
        months_r2,
    ),
    Claim(
        17,
        "weight decay moves W towards the principal subspace",
        "overlap → 1 and WᵀW → projector as wd grows (V10000, L up to 10000)",
        principal_subspace,
    ),
]


def evaluate(inp: Inputs) -> list[Record]:
    """Every criterion of :data:`CRITERIA` on ``inp`` with the thresholds of its config, in order."""
    return evaluate_claims(CRITERIA, inp, thresholds(inp.config["analysis"]["thresholds"]))
