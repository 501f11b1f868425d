"""Reproduction criteria of the paper (reference §10, items 1–16) as numbers with thresholds and pass/fail.

Each criterion returns ``{"id", "name", "value", "threshold", "status", "claimed_at", "evaluated_at", "details"}``
with status ``pass``, ``fail`` or ``not_applicable`` (with the reason in ``details["reason"]``). Thresholds come from
``analysis.thresholds``, each one named with its default (the reference's proposals, marked ★ there) and
description in the config schema.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..grid import ModelSpec, model_ref, sweep_models
from ..wordlists import paper_forced_tokens, stopwords

__all__ = ["thresholds", "evaluate", "Inputs"]

PAPER_SCALE = "WikiText-103, V=10000, G=20"


def thresholds(cfg: Mapping[str, Any]) -> dict[str, float]:
    """The pass thresholds: ``analysis.thresholds`` of a validated config (named, with their defaults, in the
    schema; :func:`bows.config.defaults` gives them without a config file)."""
    return {k: float(v) for k, v in cfg.items()}


class Inputs:
    """Tables the criteria read (any may be None when its stage produced nothing)."""

    def __init__(
        self,
        config: Mapping[str, Any],
        vocab: pd.DataFrame | None = None,
        windows: Mapping[str, Any] | None = None,
        data_metrics: pd.DataFrame | None = None,
        metrics_all: pd.DataFrame | None = None,
        months_metrics: pd.DataFrame | None = None,
        mechanism: pd.DataFrame | None = None,
        r2_gap: pd.DataFrame | None = None,
        sweep: pd.DataFrame | None = None,
        clusters: pd.DataFrame | None = None,
        subspace: pd.DataFrame | None = None,
    ):
        self.config = config
        self.vocab, self.windows = vocab, windows or {}
        self.data_metrics, self.metrics_all = data_metrics, metrics_all
        self.months_metrics, self.mechanism, self.r2_gap = months_metrics, mechanism, r2_gap
        self.sweep, self.clusters = sweep, clusters
        self.subspace = subspace

    def value(
        self, df: pd.DataFrame | None, scope: str, metric: str, model: str | None = None, item: str | None = None
    ) -> float:
        if df is None or not len(df):
            return float("nan")
        m = (df["scope"] == scope) & (df["metric"] == metric)
        if model is not None:
            m &= df["model"] == model
        if item is not None:
            m &= df["item"] == item
        v = df.loc[m, "value"]
        return float(v.iloc[0]) if len(v) else float("nan")


def _f(x: Any) -> bool:
    try:
        return math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def _crit(
    id_: int,
    name: str,
    value: Any,
    threshold: Any,
    ok: bool | None,
    claimed: str,
    evaluated: str,
    reason: str = "",
    **details: Any,
) -> dict[str, Any]:
    status = "not_applicable" if ok is None else ("pass" if ok else "fail")
    d = dict(details)
    if reason:
        d["reason"] = reason
    return {
        "id": id_,
        "name": name,
        "value": value,
        "threshold": threshold,
        "status": status,
        "claimed_at": claimed,
        "evaluated_at": evaluated,
        "details": d,
    }


def _scaled(th: float, n: int) -> int:
    return int(math.ceil(th * n / 12 - 1e-9))


# ------------------------------------------------------------------------------------------------ data (1–4)
def c1_vocab(inp: Inputs, th: Mapping[str, float]) -> dict[str, Any]:
    cfg = inp.config["vocab"]
    if inp.vocab is None:
        return _crit(1, "vocabulary integrity", None, None, None, PAPER_SCALE, "", "vocab.tsv not available")
    words = inp.vocab.sort_values("index")["word"].astype(str).tolist()
    forced = paper_forced_tokens() if cfg["forced_tokens"] == "paper" else sorted(set(cfg["forced_tokens"]))
    stops = stopwords(cfg["stopwords"])
    months = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ]
    nmax = int(cfg["numbers_max"])
    numbers = {str(k) for k in range(0, nmax + 1)}
    nonforced = words[len(forced) :]
    checks = {
        "size_equals_config": len(words) == int(cfg["size"]),
        "forced_first_sorted": words[: len(forced)] == forced,
        "months_present": all(m in set(words) for m in months) if cfg["forced_tokens"] == "paper" else True,
        "no_lowercase_stopword": not any(w.isalpha() and w.islower() and w in stops for w in nonforced),
        "The_present": "The" in set(words) if not cfg["lowercase"] else True,
        "alpha_or_number": all(w.isalpha() or w in numbers for w in nonforced),
    }
    bad = [k for k, v in checks.items() if not v]
    return _crit(
        1,
        "vocabulary integrity",
        len(words),
        int(cfg["size"]),
        not bad,
        "|vocab| = 10000, 39 forced tokens first",
        f"V={cfg['size']}",
        failed_checks=bad,
        checks=checks,
    )


def c2_windows(inp: Inputs, th: Mapping[str, float]) -> dict[str, Any]:
    w = inp.windows
    if not w or "windows" not in w or "records" not in w:
        return _crit(2, "window counts", None, None, None, PAPER_SCALE, "", "windows.json not available")
    G, S = int(w["group_size"]), int(w["stride"])  # windows.json records the settings it was built with
    expected = {k: max(0, (int(n) - G) // S + 1) for k, n in w["records"].items()}
    ok = all(int(w["windows"].get(k, -1)) == v for k, v in expected.items())
    return _crit(
        2,
        "window counts",
        dict(w["windows"]),
        expected,
        ok,
        "n_windows = n_records − 19 (1,801,331 / 3,741 / 4,339)",
        f"G={G}, S={S}",
        mean_ids_per_window=w.get("mean_ids_per_window"),
    )


def c3_month_corr(inp: Inputs, th: Mapping[str, float]) -> dict[str, Any]:
    rho = inp.value(inp.data_metrics, "Months", "corr_dist_spearman")
    inv = inp.value(inp.data_metrics, "Months", "corr_dist_inversions")
    prof = [inp.value(inp.data_metrics, "Months", f"corr_dist_{k}") for k in range(1, 7)]
    if not (_f(rho) and _f(inv)):
        return _crit(
            3,
            "month correlation is circulant-like",
            None,
            None,
            None,
            PAPER_SCALE + ", train windows",
            "train windows",
            "month correlations undefined (months too rare?)",
        )
    ok = inv <= th["corr_dist_max_inversions"] and rho <= th["corr_dist_max_spearman"]
    return _crit(
        3,
        "month correlation is circulant-like",
        {"spearman": rho, "inversions": inv},
        {"spearman_max": th["corr_dist_max_spearman"], "inversions_max": th["corr_dist_max_inversions"]},
        ok,
        PAPER_SCALE + ", train windows",
        "train windows (analysis.max_windows)",
        profile=prof,
    )


def _ring(adj: float, wind: float, n: float, th: Mapping[str, float]) -> tuple[bool | None, int]:
    if not (_f(adj) and _f(wind) and _f(n)):
        return None, 0
    need = _scaled(th["ring_min_adjacent_of_12"], int(n))
    return bool(adj >= need and abs(wind) == 1), need


def c4_data_ring(inp: Inputs, th: Mapping[str, float]) -> dict[str, Any]:
    adj = inp.value(inp.data_metrics, "Months", "ring_adjacent_pairs")
    wind = inp.value(inp.data_metrics, "Months", "ring_winding")
    n = inp.value(inp.data_metrics, "Months", "ring_pairs_total")
    ok, need = _ring(adj, wind, n, th)
    return _crit(
        4,
        "data PCA ring",
        {"adjacent_pairs": adj, "winding": wind},
        {"adjacent_min": need, "winding": 1},
        ok,
        PAPER_SCALE + ", train windows",
        "train windows",
        "" if ok is not None else "ring undefined (months too rare)",
        order_agreement=inp.value(inp.data_metrics, "Months", "order_agreement"),
        order_agreement_p=inp.value(inp.data_metrics, "Months", "order_agreement_p"),
    )


# ------------------------------------------------------------------------------------------------ months (5–7)
def _tag(ref: Mapping[str, Any]) -> str:
    return model_ref(ref).tag


def c5_weight_ring(inp: Inputs, th: Mapping[str, float]) -> dict[str, Any]:
    tag = _tag(inp.config["analysis"]["models"]["months"])
    adj = inp.value(inp.metrics_all, "Months", "ring_adjacent_pairs", tag)
    wind = inp.value(inp.metrics_all, "Months", "ring_winding", tag)
    n = inp.value(inp.metrics_all, "Months", "n_found", tag)
    ok, need = _ring(adj, wind, n, th)
    return _crit(
        5,
        "weight PCA ring (normalised month rows)",
        {"adjacent_pairs": adj, "winding": wind},
        {"adjacent_min": need, "winding": 1},
        ok,
        "L1000 wd4.0",
        tag,
        "" if ok is not None else "months model metrics missing",
        order_agreement=inp.value(inp.metrics_all, "Months", "order_agreement", tag),
        order_agreement_p=inp.value(inp.metrics_all, "Months", "order_agreement_p", tag),
    )


def c6_seasonal(inp: Inputs, th: Mapping[str, float]) -> dict[str, Any]:
    tag = _tag(inp.config["analysis"]["models"]["months"])
    hits = inp.value(inp.months_metrics, "Months", "seasonal_in_expected")
    found = inp.value(inp.months_metrics, "Months", "seasonal_found")
    total = inp.value(inp.months_metrics, "Months", "seasonal_total")
    need = th["seasonal_min_in_expected_of_9"]
    if not _f(found) or found < need:
        return _crit(
            6,
            "seasonal alignment",
            hits,
            need,
            None,
            "L1000 wd4.0",
            tag,
            f"only {found} of {total} seasonal words are in the vocabulary (need {need})",
        )
    return _crit(6, "seasonal alignment", hits, need, bool(hits >= need), "L1000 wd4.0", tag, found=found)


def _sweep_specs(inp: Inputs) -> list[ModelSpec]:
    return sweep_models(inp.config)


def c7_nonorthogonal(inp: Inputs, th: Mapping[str, float]) -> dict[str, Any]:
    tags = [_tag(inp.config["analysis"]["models"]["months"])]
    small = [s for s in _sweep_specs(inp) if s.latent <= 400 and s.seed == min(x.seed for x in _sweep_specs(inp))]
    tags += [s.tag for s in small]
    vals, oks = {}, []
    for t in tags:
        mac = inp.value(inp.metrics_all, "Months", "mean_abs_cos", t)
        ago = inp.value(inp.metrics_all, "Months", "adjacent_gt_opposite", t)
        n = inp.value(inp.metrics_all, "Months", "n_found", t)
        if not (_f(mac) and _f(ago) and _f(n)):
            continue
        ok = mac >= th["months_min_mean_abs_cos"] and ago >= _scaled(th["months_min_adjacent_gt_opposite_of_12"], n)
        vals[t] = {"mean_abs_cos": mac, "adjacent_gt_opposite": ago, "pass": bool(ok)}
        oks.append(ok)
    return _crit(
        7,
        "non-orthogonality of months",
        vals,
        {
            "mean_abs_cos_min": th["months_min_mean_abs_cos"],
            "adjacent_gt_opposite_min_of_12": th["months_min_adjacent_gt_opposite_of_12"],
        },
        all(oks) if oks else None,
        "L1000 wd4.0 and L ≤ 400 wd1.0",
        ", ".join(vals),
        "" if oks else "no months metrics",
    )


# ------------------------------------------------------------------------------------------------ sweep (8–10)
def _curve(inp: Inputs, group: str, metric: str = "offdiag_raw") -> pd.Series:
    s = inp.sweep
    if s is None or not len(s):
        return pd.Series(dtype=float)
    g = s[(s["group"] == group) & (s["metric"] == metric)]
    return g.set_index("latent")["mean"].sort_index()


def _first_below(c: pd.Series, level: float) -> float:
    if not len(c) or not np.isfinite(c.max()):
        return float("nan")
    below = c[c < level * c.max()]
    return float(below.index[0]) if len(below) else float("inf")


def c8_orthogonalise(inp: Inputs, th: Mapping[str, float]) -> dict[str, Any]:
    m = _curve(inp, "Months")
    r = _curve(inp, "Roman numerals")
    V = int(inp.config["vocab"]["size"])
    if len(m) < 2:
        return _crit(
            8,
            "months orthogonalise with L",
            None,
            None,
            None,
            "L = 50…10000, wd1.0",
            "",
            "fewer than 2 latent sizes in the sweep",
        )
    frac = float(m.iloc[-1] / m.max()) if m.max() > 0 else float("nan")
    fm, fr = _first_below(m, th["sweep_half_level"]), _first_below(r, th["sweep_half_level"])
    ok1 = frac <= th["sweep_max_final_fraction"]
    if np.isnan(fm) or np.isnan(fr):
        ok2, why = None, "Months or Roman numerals have no sweep curve"
    elif np.isinf(fm) and np.isinf(fr):
        ok2, why = None, "neither group falls below half its maximum within the grid's latent sizes"
    else:
        ok2, why = bool(fm < fr), ""
    ok = bool(ok1 and ok2) if ok2 is not None else None
    cos_m = _curve(inp, "Months", "offdiag_cos")
    return _crit(
        8,
        "months orthogonalise with L (and before Roman numerals)",
        {"final_fraction_of_max": frac, "months_first_L_below_half": fm, "roman_first_L_below_half": fr},
        {"final_fraction_max": th["sweep_max_final_fraction"], "half_level": th["sweep_half_level"]},
        ok,
        f"L = 50…10000 (=V), wd1.0, seeds 1–3; {PAPER_SCALE}",
        f"L = {int(m.index.min())}…{int(m.index.max())} (V={V})",
        why,
        months_curve={int(k): float(v) for k, v in m.items()},
        roman_curve={int(k): float(v) for k, v in r.items()},
        months_cos_curve={int(k): float(v) for k, v in cos_m.items()},
        largest_L_below_V=bool(m.index.max() < V),
    )


def c9_snapshots(inp: Inputs, th: Mapping[str, float]) -> dict[str, Any]:
    specs = _sweep_specs(inp)
    if not specs:
        return _crit(9, "snapshot check", None, None, None, "L400 and L4000 wd1.0", "", "no sweep models")
    snaps = list(inp.config["analysis"]["snapshot_latents"]) or [400, 4000]
    Ls = sorted({s.latent for s in specs})
    small = min(Ls, key=lambda L: abs(L - snaps[0]))
    large = min(Ls, key=lambda L: abs(L - snaps[-1]))
    seed = min(s.seed for s in specs)
    ts = next(s.tag for s in specs if s.latent == small and s.seed == seed)
    tl = next(s.tag for s in specs if s.latent == large and s.seed == seed)
    adj = inp.value(inp.metrics_all, "Months", "ring_adjacent_pairs_raw", ts)
    wind = inp.value(inp.metrics_all, "Months", "ring_winding_raw", ts)
    n = inp.value(inp.metrics_all, "Months", "n_found", ts)
    ring_ok, need = _ring(adj, wind, n, th)
    mac_m = inp.value(inp.metrics_all, "Months", "mean_abs_cos", tl)
    mac_r = inp.value(inp.metrics_all, "Roman numerals", "mean_abs_cos", tl)
    large_ok = (mac_m < th["snapshot_max_mean_abs_cos"] and mac_r > mac_m) if _f(mac_m) and _f(mac_r) else None
    ok = None if ring_ok is None or large_ok is None else bool(ring_ok and large_ok)
    return _crit(
        9,
        "snapshot check",
        {
            "small_ring_adjacent": adj,
            "small_ring_winding": wind,
            "large_months_mean_abs_cos": mac_m,
            "large_roman_mean_abs_cos": mac_r,
        },
        {"adjacent_min": need, "months_mean_abs_cos_max": th["snapshot_max_mean_abs_cos"]},
        ok,
        "L400 (ring) and L4000 (orthogonal months) wd1.0",
        f"{ts} and {tl}",
        ""
        if ok is not None
        else "undefined: "
        + ", ".join(
            k
            for k, v in (
                ("small-L month ring", adj),
                ("large-L months |cos|", mac_m),
                ("large-L Roman numerals |cos| (fewer than 2 numerals found?)", mac_r),
            )
            if not _f(v)
        ),
    )


def c10_seeds(inp: Inputs, th: Mapping[str, float]) -> dict[str, Any]:
    s = inp.sweep
    if s is None or not len(s):
        return _crit(10, "seed stability", None, None, None, "seeds 1–3", "", "no sweep")
    g = s[(s["group"] == "Months") & (s["metric"] == "offdiag_raw")].sort_values("latent")
    g = g[g["n_seeds"] >= 2]
    if not len(g):
        return _crit(
            10, "seed stability", None, th["seed_max_cv"], None, "seeds 1–3", "", "fewer than 2 seeds per latent size"
        )
    mx = g["mean"].max()
    use = g[g["mean"] > th["seed_min_mean_fraction"] * mx]
    cv = (use["sd"] / use["mean"]).to_numpy()
    worst = float(np.nanmax(cv)) if cv.size else float("nan")
    return _crit(
        10,
        "seed stability",
        worst,
        th["seed_max_cv"],
        bool(np.all(cv < th["seed_max_cv"])) if cv.size else None,
        "seeds 1–3 at every L",
        f"{int(g['n_seeds'].min())}+ seeds",
        cv_by_L={int(L): float(c) for L, c in zip(use["latent"], cv)},
    )


# ------------------------------------------------------------------------------------------------ mechanism
def _target_values(inp: Inputs, metrics: Sequence[str]) -> tuple[dict[str, list[float]], list[str]]:
    """Per mechanism target, the values of ``metrics`` (in order); targets lacking any of them are listed apart."""
    found, missing = {}, []
    for t in inp.config["analysis"]["mechanism_targets"]:
        values = [inp.value(inp.mechanism, t, m) for m in metrics]
        if all(_f(v) for v in values):
            found[t] = values
        else:
            missing.append(t)
    return found, missing


def c11_onehot(inp: Inputs, th: Mapping[str, float]) -> dict[str, Any]:
    tag = _tag(inp.config["analysis"]["models"]["mechanism"])
    vals, oks = {}, []
    found, missing = _target_values(inp, ("onehot_z", "r2_ctx"))
    for t, (one, r2) in found.items():
        ok = one < 0 and r2 > 0
        vals[t] = {"onehot_z": one, "r2_ctx": r2, "pass": bool(ok)}
        oks.append(ok)
    return _crit(
        11,
        "one-hot failure",
        vals,
        {"onehot_z": "< 0", "r2_ctx": "> 0"},
        all(oks) if oks else None,
        "L1000 wd1.0; mbar, Beatles, Christmas",
        tag,
        f"targets absent or rare: {missing}" if missing else "",
        missing=missing,
    )


def c12_constructive(inp: Inputs, th: Mapping[str, float]) -> dict[str, Any]:
    tag = _tag(inp.config["analysis"]["models"]["mechanism"])
    vals, oks = {}, []
    found, missing = _target_values(
        inp,
        (
            "frac_pos",
            "tower_correlated_end",
            "sum_correlated_context",
            "sum_uncorrelated_context",
            "tower_correlated_no_target_end",
        ),
    )
    for t, (fp, ce, sc, su, nt) in found.items():
        checks = {
            "frac_pos": fp >= th["constructive_min_frac_pos"],
            "corr_tower_crosses_0": ce > 0,
            "uncorr_small": abs(su) < th["uncorrelated_max_ratio"] * sc,
            "no_target_tower_below_0": nt < 0,
        }
        vals[t] = {
            "frac_pos": fp,
            "frac_better_than_onehot": inp.value(inp.mechanism, t, "frac_better_than_onehot"),
            "tower_correlated_end": ce,
            "sum_correlated": sc,
            "sum_uncorrelated": su,
            "tower_no_target_end": nt,
            "checks": checks,
        }
        oks.append(all(checks.values()))
    return _crit(
        12,
        "constructive context",
        vals,
        {"frac_pos_min": th["constructive_min_frac_pos"], "uncorr_ratio_max": th["uncorrelated_max_ratio"]},
        all(oks) if oks else None,
        "L1000 wd1.0; paper ≈ 0.81 for Beatles",
        tag,
        f"targets absent, rare, or with missing context words: {missing}" if missing else "",
        missing=missing,
    )


def c13_christmas(inp: Inputs, th: Mapping[str, float]) -> dict[str, Any]:
    tag = _tag(inp.config["analysis"]["models"]["mechanism"])
    df = inp.mechanism
    if df is None or not len(df):
        return _crit(13, "Christmas and months", None, None, None, "L1000 wd1.0", tag, "no mechanism table")
    m = df[(df["scope"].str.lower() == "christmas") & (df["metric"] == "month_contribution")]
    contrib = dict(zip(m["item"], m["value"]))
    if len(contrib) < 12 or not all(_f(v) for v in contrib.values()):
        return _crit(
            13,
            "Christmas and months",
            contrib,
            None,
            None,
            "L1000 wd1.0",
            tag,
            "Christmas not a mechanism target, not in the vocabulary, or months missing",
        )
    dec = contrib.get("December", np.nan)
    top = max(contrib, key=lambda k: contrib[k])
    total = float(sum(contrib.values()))
    summer = [contrib.get(k, np.nan) for k in ("June", "July", "August")]
    checks = {
        "december_largest_and_positive": top == "December" and dec > 0,
        "a_summer_month_negative": any(v < 0 for v in summer),
        "months_cancel": abs(total) < dec,
    }
    return _crit(
        13,
        "Christmas and months",
        {"december": dec, "largest": top, "sum": total},
        "see checks",
        all(checks.values()),
        "L1000 wd1.0",
        tag,
        checks=checks,
        contributions=contrib,
    )


def c14_gap(inp: Inputs, th: Mapping[str, float]) -> dict[str, Any]:
    tag = _tag(inp.config["analysis"]["models"]["mechanism"])
    g = inp.r2_gap
    if g is None or not len(g):
        return _crit(14, "R² gap distribution", None, None, None, "L1000 wd1.0", tag, "no gap table")
    n_big = int(((g["delta"] > th["gap_min_delta"]) & (g["freq_count"] >= th["gap_min_freq"])).sum())
    top_n = int(math.ceil(th["gap_top_fraction"] * len(g)))
    ranks = {
        w: int(g.loc[g["word"] == w, "rank"].iloc[0])
        for w in ("mbar", "inHg", "Beatles", "Christmas")
        if (g["word"] == w).any()
    }
    in_top = {w: r <= top_n for w, r in ranks.items()}
    ok = n_big >= th["gap_min_words"] and all(in_top.values())
    return _crit(
        14,
        "R² gap distribution",
        {"n_words_delta_gt": n_big, "ranks": ranks},
        {
            "min_words": th["gap_min_words"],
            "delta": th["gap_min_delta"],
            "min_freq": th["gap_min_freq"],
            "top_rank_max": top_n,
        },
        ok,
        "L1000 wd1.0",
        tag,
        ""
        if len(ranks) == 4
        else f"paper words absent from the gap table: "
        f"{sorted(set(['mbar', 'inHg', 'Beatles', 'Christmas']) - set(ranks))}",
        in_top_decile=in_top,
    )


def c15_clusters(inp: Inputs, th: Mapping[str, float]) -> dict[str, Any]:
    c = inp.clusters
    if c is None or not len(c):
        return _crit(
            15, "clustering increases with weight decay", None, None, None, "L800 wd0/1/4", "", "no cluster table"
        )
    out, oks = {}, []
    for (L, seed, variant), g in c.groupby(["latent", "seed", "variant"]):
        wds = sorted(g["wd"].unique())
        if len(wds) < 2 or wds[0] != 0.0:
            continue
        lo, hi = wds[0], wds[-1]
        res = {}
        for metric in ("silhouette_cos", "knn_purity"):
            a = g[(g["wd"] == lo) & (g["metric"] == metric)]["value"]
            b = g[(g["wd"] == hi) & (g["metric"] == metric)]["value"]
            if len(a) and len(b) and _f(a.iloc[0]) and _f(b.iloc[0]):
                res[metric] = {
                    f"wd{lo}": float(a.iloc[0]),
                    f"wd{hi}": float(b.iloc[0]),
                    "higher_with_wd": bool(b.iloc[0] > a.iloc[0]),
                }
        if len(res) == 2:
            out[f"{variant}/L{L}_seed{seed}"] = res
            oks.append(all(r["higher_with_wd"] for r in res.values()))
    return _crit(
        15,
        "clustering increases with weight decay",
        out,
        "wd_max > wd0 for both scores",
        all(oks) if oks else None,
        "L800 at wd 0/1/4",
        ", ".join(out),
        "" if oks else "no latent size trained at weight decay 0 and a larger one",
    )


def c16_months_r2(inp: Inputs, th: Mapping[str, float]) -> dict[str, Any]:
    tag = _tag(inp.config["analysis"]["models"]["mechanism"])
    ls = inp.value(inp.mechanism, "Months", "r2_mean", item="lstsq_h")
    tied = inp.value(inp.mechanism, "Months", "r2_mean", item="tied_linear")
    if not _f(ls):
        return _crit(
            16,
            "months linear R²",
            None,
            th["months_min_r2"],
            None,
            "0.98 ± 0.00015 (model unknown)",
            tag,
            "months R² undefined",
        )
    return _crit(
        16,
        "months linear R² (least-squares decoder from h)",
        ls,
        th["months_min_r2"],
        bool(ls >= th["months_min_r2"]),
        "0.98 ± 0.00015 (model and protocol unknown)",
        tag,
        tied_linear_r2=tied,
        lstsq_sd=inp.value(inp.mechanism, "Months", "r2_sd", item="lstsq_h"),
    )


def _wd_pairs(sub: pd.DataFrame) -> dict[str, tuple[pd.Series, pd.Series]]:
    """{"relu/L400_seed1": (row at wd 0, row at the largest wd)} for every trained (variant, L, seed) with both."""
    out = {}
    trained = sub[sub["variant"].isin(["relu", "linear"])]
    for (variant, L, seed), g in trained.groupby(["variant", "latent", "seed"]):
        wds = sorted(g["wd"].astype(float).unique())
        if len(wds) >= 2 and wds[0] == 0.0:
            lo, hi = (g[g["wd"].astype(float) == w].iloc[0] for w in (wds[0], wds[-1]))
            out[f"{variant}/L{L}_seed{seed}"] = (lo, hi)
    return out


def c17_subspace(inp: Inputs, th: Mapping[str, float]) -> dict[str, Any]:
    """Weight decay pushes W towards the data's principal subspace: at the same L, the overlap with the top-L
    covariance eigenvectors rises and ‖W‖²_F/L falls from wd 0 to the largest wd."""
    claimed = "overlap → 1 and WᵀW → projector as wd grows (V10000, L up to 10000)"
    sub = inp.subspace
    if sub is None or not len(sub):
        return _crit(
            17,
            "weight decay moves W towards the principal subspace",
            None,
            None,
            None,
            claimed,
            "",
            "no subspace table",
        )
    out, oks = {}, []
    for name, (lo, hi) in _wd_pairs(sub).items():
        if not (_f(lo["overlap_cov"]) and _f(hi["overlap_cov"]) and _f(lo["frob2_per_latent"])):
            continue
        rise = float(hi["overlap_cov"] - lo["overlap_cov"])
        ratio = float(hi["frob2_per_latent"] / lo["frob2_per_latent"])
        ok = rise >= th["subspace_min_overlap_rise"] and ratio <= th["subspace_max_norm_ratio"]
        out[name] = {
            "wd": [float(lo["wd"]), float(hi["wd"])],
            "exposure": [lo["decay_exposure"], hi["decay_exposure"]],
            "overlap_cov": [float(lo["overlap_cov"]), float(hi["overlap_cov"])],
            "overlap_rise": rise,
            "frob2_per_latent": [float(lo["frob2_per_latent"]), float(hi["frob2_per_latent"])],
            "norm_ratio": ratio,
            "pass": ok,
        }
        oks.append(ok)
    return _crit(
        17,
        "weight decay moves W towards the principal subspace",
        out,
        {"min_overlap_rise": th["subspace_min_overlap_rise"], "max_norm_ratio": th["subspace_max_norm_ratio"]},
        all(oks) if oks else None,
        claimed,
        ", ".join(out),
        "" if oks else "no latent size trained at weight decay 0 and a larger one",
    )


CRITERIA: list[Callable[[Inputs, Mapping[str, float]], dict[str, Any]]] = [
    c1_vocab,
    c2_windows,
    c3_month_corr,
    c4_data_ring,
    c5_weight_ring,
    c6_seasonal,
    c7_nonorthogonal,
    c8_orthogonalise,
    c9_snapshots,
    c10_seeds,
    c11_onehot,
    c12_constructive,
    c13_christmas,
    c14_gap,
    c15_clusters,
    c16_months_r2,
    c17_subspace,
]


def evaluate(inp: Inputs) -> dict[str, Any]:
    """All criteria; a criterion that raises is reported as not_applicable with the error (never crashes)."""
    th = thresholds(inp.config["analysis"]["thresholds"])
    out = []
    for fn in CRITERIA:
        try:
            out.append(fn(inp, th))
        except Exception as err:  # noqa: BLE001 - one broken table must not hide the other criteria
            cid = int(re.match(r"c(\d+)_", fn.__name__).group(1))
            out.append(
                _crit(
                    cid,
                    fn.__name__[len(f"c{cid}_") :],
                    None,
                    None,
                    None,
                    "",
                    "",
                    f"could not evaluate: {type(err).__name__}: {err}",
                )
            )
    summary = {s: sum(c["status"] == s for c in out) for s in ("pass", "fail", "not_applicable")}
    return {"criteria": out, "summary": summary, "thresholds": th}
