"""Every reproduction criterion (paper §10 criteria 1–16; 17 in test_subspace_criterion.py) on a table where it must
pass and a mirrored one where it must fail (or, where the criterion says so, be not applicable).

The input tables are written by hand in the formats the stages document (tidy ``model × scope × item × metric``
rows, the sweep summary, the R² gap table, the cluster table, windows.json, vocab.tsv), never produced by the code
under test. Thresholds are the schema defaults (``analysis.thresholds``): a table sits on the side of a threshold
that the reference's wording puts it, and boundary cases check that ≤/≥ are the documented ones.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from bows.claims import Record, counts
from bows.config import load_config, word_lists
from bows.metrics import criteria
from conftest import ROOT

MONTHS = [
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

# the models the criteria read, set here so that the tables below do not depend on config.yaml's grid:
# months L400 wd4.0, mechanism L400 wd1.0, the sweep at wd1.0 over L = 25…400 with seeds 1 and 2, snapshots at
# L = 50 and 400
GRID = {
    "train": {
        "grid": [
            {"latent": [25, 50, 100, 200, 400], "weight_decay": [1.0], "seed": [1, 2]},
            {"latent": [400], "weight_decay": [0.0, 4.0], "seed": [1]},
        ]
    },
    "analysis": {
        "models": {
            "months": {"latent": 400, "weight_decay": 4.0, "seed": 1},
            "mechanism": {"latent": 400, "weight_decay": 1.0, "seed": 1},
            "sweep": {"weight_decay": 1.0},
            "umap": [{"latent": 400, "weight_decay": 1.0}],
        },
        "snapshot_latents": [50, 400],
        "mechanism_targets": ["Beatles", "Christmas", "mbar"],
    },
}
MONTHS_MODEL = "relu/L400_wd4.0_seed1"
SWEEP_SEED1 = [f"relu/L{L}_wd1.0_seed1" for L in (25, 50, 100, 200, 400)]
SNAP_SMALL, SNAP_LARGE = "relu/L50_wd1.0_seed1", "relu/L400_wd1.0_seed1"


def load(**overrides):
    return load_config(ROOT / "config.yaml", overrides={**GRID, **overrides})


@pytest.fixture(scope="module")
def cfg():
    return load()


def tidy(rows: list[tuple], model: str = "data") -> pd.DataFrame:
    """A tidy metric table from ``(scope, metric, value[, item])`` tuples (README: model × scope × item × metric)."""
    out = []
    for r in rows:
        scope, metric, value = r[:3]
        out.append(
            {
                "model": model,
                "scope": scope,
                "item": r[3] if len(r) > 3 else "",
                "metric": metric,
                "value": float(value),
                "status": "ok",
            }
        )
    return pd.DataFrame(out, columns=["model", "scope", "item", "metric", "value", "status"])


def run(cfg, **tables) -> dict[int, Record]:
    records = criteria.evaluate(criteria.Inputs(cfg, **tables))
    assert [c.id for c in records] == list(range(1, 18))
    return {c.id: c for c in records}


def status(cfg, cid: int, **tables) -> str:
    return run(cfg, **tables)[cid].status


# --------------------------------------------------------------------------------------------- 1: vocabulary
def _vocab(words: list[str]) -> pd.DataFrame:
    """vocab.tsv as read: index, word, count (rows in any order)."""
    df = pd.DataFrame({"index": np.arange(len(words)), "word": words, "count": np.arange(len(words), 0, -1)})
    return df.iloc[::-1].reset_index(drop=True)  # criterion 1 must sort by index itself


FORCED = sorted({w for ws in word_lists()["forced_tokens"].values() for w in ws})
FILLER = ["The", "river", "Paris", "London", "music", "house", "1", "2", "100", "Beatles", "war"]


@pytest.fixture(scope="module")
def vocab_cfg():
    grid = {"grid": [{"latent": [8], "weight_decay": [1.0, 4.0]}]}
    models = {
        "months": {"latent": 8, "weight_decay": 4.0},
        "mechanism": {"latent": 8},
        "sweep": {"weight_decay": 1.0},
        "umap": [{"latent": 8}],
    }
    return load_config(
        ROOT / "config.yaml",
        overrides={
            "vocab": {"size": len(FORCED) + len(FILLER)},
            "train": grid,
            "analysis": {"models": models},
            "sae": {"enabled": False},
        },
    )


def test_c1_vocabulary_passes_and_fails(vocab_cfg):
    assert len(FORCED) == 39 and all(m in FORCED for m in MONTHS)
    good = FORCED + FILLER
    c = run(vocab_cfg, vocab=_vocab(good))[1]
    assert c.status == "pass" and c.details["failed_checks"] == [] and c.value == 50
    bad = {
        "no_lowercase_stopword": FORCED + ["the" if w == "river" else w for w in FILLER],
        "alpha_or_number": FORCED + ["foo-bar" if w == "river" else w for w in FILLER],
        "forced_first_sorted": FORCED[::-1] + FILLER,
        "The_present": FORCED + ["Rome" if w == "The" else w for w in FILLER],
        "size_equals_config": FORCED + FILLER[:-1],
    }
    for check, words in bad.items():
        c = run(vocab_cfg, vocab=_vocab(words))[1]
        assert c.status == "fail" and c.details["failed_checks"] == [check], check
    # a number above numbers_max (100) is not a token
    c = run(vocab_cfg, vocab=_vocab(FORCED + ["101" if w == "100" else w for w in FILLER]))[1]
    assert c.details["failed_checks"] == ["alpha_or_number"]
    # a month missing: forced tokens no longer first and months incomplete
    no_may = [w for w in FORCED if w != "May"] + FILLER + ["Rome"]
    c = run(vocab_cfg, vocab=_vocab(no_may))[1]
    assert c.status == "fail" and "months_present" in c.details["failed_checks"]
    assert run(vocab_cfg)[1].status == "not_applicable"


# --------------------------------------------------------------------------------------------- 2: windows
def test_c2_window_counts_pass_and_fail(cfg):
    # n_windows = (n_records − G) // S + 1 : 1000 records, G = 20 → 981
    good = {
        "group_size": 20,
        "stride": 1,
        "records": {"train": 1000, "validation": 100, "test": 20},
        "windows": {"train": 981, "validation": 81, "test": 1},
    }
    c = run(cfg, windows=good)[2]
    assert c.status == "pass" and c.threshold == {"train": 981, "validation": 81, "test": 1}
    off_by_one = {**good, "windows": {"train": 982, "validation": 81, "test": 1}}
    assert status(cfg, 2, windows=off_by_one) == "fail"
    one_per_record = {**good, "windows": {"train": 1000, "validation": 100, "test": 20}}
    assert status(cfg, 2, windows=one_per_record) == "fail"
    # stride 3: (100 − 20) // 3 + 1 = 27; too few records give 0 windows
    strided = {
        "group_size": 20,
        "stride": 3,
        "records": {"train": 100, "test": 19},
        "windows": {"train": 27, "test": 0},
    }
    assert status(cfg, 2, windows=strided) == "pass"
    assert status(cfg, 2, windows={**strided, "windows": {"train": 81, "test": 0}}) == "fail"
    assert status(cfg, 2, windows={**strided, "windows": {"train": 27}}) == "fail"  # a split without its count
    assert status(cfg, 2) == "not_applicable"


# --------------------------------------------------------------------------------------------- 3: month correlation
def _profile(values, rho, inversions):
    return tidy(
        [("Months", f"corr_dist_{k}", v) for k, v in enumerate(values, start=1)]
        + [("Months", "corr_dist_spearman", rho), ("Months", "corr_dist_inversions", inversions)]
    )


def test_c3_month_correlation_pass_and_fail(cfg):
    # a monotone decreasing profile: Spearman ρ(k, corr) = −1, no inversion
    falling = _profile([0.5, 0.4, 0.3, 0.2, 0.1, 0.05], -1.0, 0)
    c = run(cfg, data_metrics=falling)[3]
    assert c.status == "pass" and c.details["profile"] == [0.5, 0.4, 0.3, 0.2, 0.1, 0.05]
    # its mirror (rising with distance): ρ = +1
    assert status(cfg, 3, data_metrics=_profile([0.05, 0.1, 0.2, 0.3, 0.4, 0.5], 1.0, 5)) == "fail"
    # boundaries: ρ = −0.8 and one inversion pass; two inversions or ρ = −0.7 fail
    assert status(cfg, 3, data_metrics=_profile([0.5, 0.3, 0.4, 0.2, 0.1, 0.0], -0.8, 1)) == "pass"
    assert status(cfg, 3, data_metrics=_profile([0.5, 0.3, 0.4, 0.2, 0.25, 0.0], -0.8, 2)) == "fail"
    assert status(cfg, 3, data_metrics=_profile([0.5, 0.3, 0.4, 0.2, 0.1, 0.0], -0.7, 1)) == "fail"
    assert status(cfg, 3, data_metrics=_profile([np.nan] * 6, np.nan, np.nan)) == "not_applicable"


# --------------------------------------------------------------------------------------------- 4: data ring
def _ring(adj, wind, total):
    return tidy(
        [
            ("Months", "ring_adjacent_pairs", adj),
            ("Months", "ring_winding", wind),
            ("Months", "ring_pairs_total", total),
        ]
    )


def test_c4_data_ring_pass_and_fail(cfg):
    assert status(cfg, 4, data_metrics=_ring(12, -1, 12)) == "pass"
    assert status(cfg, 4, data_metrics=_ring(10, 1, 12)) == "pass"  # ≥ 10 of 12
    assert status(cfg, 4, data_metrics=_ring(9, 1, 12)) == "fail"
    assert status(cfg, 4, data_metrics=_ring(12, 0, 12)) == "fail"  # all adjacent but not one loop
    assert status(cfg, 4, data_metrics=_ring(12, 2, 12)) == "fail"  # a double loop
    # fewer months present: the 10-of-12 rule scales to ⌈10·9/12⌉ = 8 of 9
    c = run(cfg, data_metrics=_ring(8, 1, 9))[4]
    assert c.status == "pass" and c.threshold["adjacent_min"] == 8
    assert status(cfg, 4, data_metrics=_ring(7, 1, 9)) == "fail"
    assert status(cfg, 4, data_metrics=_ring(np.nan, np.nan, 9)) == "not_applicable"


# --------------------------------------------------------------------------------------------- 5: weight ring
def _weight_ring(adj, wind, n, model=MONTHS_MODEL):
    return tidy(
        [("Months", "ring_adjacent_pairs", adj), ("Months", "ring_winding", wind), ("Months", "n_found", n)],
        model=model,
    )


def test_c5_weight_ring_pass_and_fail(cfg):
    c = run(cfg, metrics_all=_weight_ring(11, 1, 12))[5]
    assert c.status == "pass" and c.evaluated_at == MONTHS_MODEL
    assert status(cfg, 5, metrics_all=_weight_ring(6, 1, 12)) == "fail"
    assert status(cfg, 5, metrics_all=_weight_ring(12, 0, 12)) == "fail"
    # scaled by the months found: 8 of 9 needed
    assert status(cfg, 5, metrics_all=_weight_ring(8, -1, 9)) == "pass"
    assert status(cfg, 5, metrics_all=_weight_ring(7, -1, 9)) == "fail"
    # a perfect ring on another model is not the months model's ring
    other = _weight_ring(12, 1, 12, model="relu/L400_wd1.0_seed1")
    assert status(cfg, 5, metrics_all=other) == "not_applicable"
    bad_here = pd.concat([other, _weight_ring(3, 0, 12)], ignore_index=True)
    assert status(cfg, 5, metrics_all=bad_here) == "fail"


# --------------------------------------------------------------------------------------------- 6: seasonal words
def _seasonal(hits, found, total=9):
    return tidy(
        [
            ("Months", "seasonal_in_expected", hits),
            ("Months", "seasonal_found", found),
            ("Months", "seasonal_total", total),
        ],
        model=MONTHS_MODEL,
    )


def test_c6_seasonal_pass_and_fail(cfg):
    c = run(cfg, months_metrics=_seasonal(8, 9))[6]
    assert c.status == "pass" and c.value == 8
    assert status(cfg, 6, months_metrics=_seasonal(7, 9)) == "pass"  # ≥ 7 of 9
    assert status(cfg, 6, months_metrics=_seasonal(6, 9)) == "fail"
    assert status(cfg, 6, months_metrics=_seasonal(0, 9)) == "fail"
    # fewer than 7 seasonal words in the vocabulary: cannot be judged
    c = run(cfg, months_metrics=_seasonal(5, 5))[6]
    assert c.status == "not_applicable" and "5" in c.reason


# --------------------------------------------------------------------------------------------- 7: non-orthogonal months
def _months_geometry(values: dict[str, tuple[float, float, float]]) -> pd.DataFrame:
    return pd.concat(
        [
            tidy(
                [("Months", "mean_abs_cos", mac), ("Months", "adjacent_gt_opposite", ago), ("Months", "n_found", n)],
                model=m,
            )
            for m, (mac, ago, n) in values.items()
        ],
        ignore_index=True,
    )


def test_c7_nonorthogonal_months_pass_and_fail(cfg):
    models = [MONTHS_MODEL] + SWEEP_SEED1  # the months model and every sweep model with L ≤ 400 (first seed)
    good = {m: (0.3, 11, 12) for m in models}
    c = run(cfg, metrics_all=_months_geometry(good))[7]
    assert c.status == "pass" and set(c.value) == set(models)
    # the second seed and other weight decays are not part of the criterion
    extra = {**good, "relu/L400_wd1.0_seed2": (0.0, 0, 12), "relu/L400_wd0.0_seed1": (0.0, 0, 12)}
    assert status(cfg, 7, metrics_all=_months_geometry(extra)) == "pass"
    # one orthogonal model (|cos| = 0.05 < 0.2) or one with months nearer their opposite than their neighbours
    assert status(cfg, 7, metrics_all=_months_geometry({**good, SNAP_LARGE: (0.05, 11, 12)})) == "fail"
    assert status(cfg, 7, metrics_all=_months_geometry({**good, MONTHS_MODEL: (0.3, 9, 12)})) == "fail"
    # boundaries: |cos| = 0.2 and 10 of 12 pass; 8 of 10 found months (⌈10·10/12⌉ = 9 needed) fail
    assert status(cfg, 7, metrics_all=_months_geometry({m: (0.2, 10, 12) for m in models})) == "pass"
    assert status(cfg, 7, metrics_all=_months_geometry({**good, SNAP_SMALL: (0.3, 8, 10)})) == "fail"
    assert status(cfg, 7, metrics_all=_months_geometry({**good, SNAP_SMALL: (0.3, 9, 10)})) == "pass"
    assert status(cfg, 7) == "not_applicable"


# --------------------------------------------------------------------------------------------- 8 and 10: sweep
LS = [25, 50, 100, 200, 400]


def _summary(
    curves: dict[str, list[float]], sd_frac: dict[str, list[float]] | None = None, n_seeds: int = 2
) -> pd.DataFrame:
    """sweep_summary.parquet: group, variant, wd, latent, metric, mean, sd, n_seeds."""
    rows = []
    for g, curve in curves.items():
        fr = (sd_frac or {}).get(g, [0.1] * len(curve))
        for L, v, f in zip(LS, curve, fr):
            rows.append(
                {
                    "group": g,
                    "variant": "relu",
                    "wd": 1.0,
                    "latent": L,
                    "metric": "offdiag_raw",
                    "mean": v,
                    "sd": f * v,
                    "n_seeds": n_seeds,
                }
            )
    return pd.DataFrame(rows)


MONTHS_FALL = [10.0, 9.0, 4.0, 2.0, 1.5]  # below half of 10 at L = 100; ends at 15 % of its maximum
ROMAN_FALL = [8.0, 8.0, 7.0, 3.0, 1.0]  # below half of 8 at L = 200


def test_c8_orthogonalisation_pass_and_fail(cfg):
    c = run(cfg, sweep=_summary({"Months": MONTHS_FALL, "Roman numerals": ROMAN_FALL}))[8]
    assert c.status == "pass"
    assert c.value == {
        "final_fraction_of_max": pytest.approx(0.15),
        "months_first_L_below_half": 100,
        "roman_first_L_below_half": 200,
    }
    # mirrored: the groups swapped (Roman numerals orthogonalise first)
    c = run(cfg, sweep=_summary({"Months": ROMAN_FALL, "Roman numerals": MONTHS_FALL}))[8]
    assert c.status == "fail" and c.value["months_first_L_below_half"] == 200
    # months that never fall to 20 % of their maximum (ends at 30 %)
    assert (
        status(cfg, 8, sweep=_summary({"Months": [10.0, 9.0, 4.0, 3.5, 3.0], "Roman numerals": ROMAN_FALL})) == "fail"
    )
    # boundary: exactly 20 % passes
    assert (
        status(cfg, 8, sweep=_summary({"Months": [10.0, 9.0, 4.0, 3.0, 2.0], "Roman numerals": ROMAN_FALL})) == "pass"
    )
    # neither group falls below half within the grid: undecidable
    assert (
        status(cfg, 8, sweep=_summary({"Months": [10, 9, 8, 7, 6], "Roman numerals": [8, 8, 7, 6, 5]}))
        == "not_applicable"
    )
    assert status(cfg, 8) == "not_applicable"


def test_c10_seed_stability_pass_and_fail(cfg):
    c = run(cfg, sweep=_summary({"Months": MONTHS_FALL}, {"Months": [0.1, 0.2, 0.05, 0.1, 0.24]}))[10]
    assert c.status == "pass" and c.value == pytest.approx(0.24)
    # SD at 30 % of the mean where the mean is 40 % of its maximum
    c = run(cfg, sweep=_summary({"Months": MONTHS_FALL}, {"Months": [0.1, 0.1, 0.3, 0.1, 0.1]}))[10]
    assert c.status == "fail" and c.value == pytest.approx(0.3) and c.details["cv_by_L"][100] == 0.3
    # a large spread where the mean is ≤ 10 % of its maximum does not count (only the Months curve matters)
    tiny_end = [10.0, 9.0, 4.0, 2.0, 0.5]
    c = run(
        cfg,
        sweep=_summary(
            {"Months": tiny_end, "Roman numerals": ROMAN_FALL},
            {"Months": [0.1, 0.1, 0.1, 0.1, 2.0], "Roman numerals": [1.0] * 5},
        ),
    )[10]
    assert c.status == "pass" and 400 not in c.details["cv_by_L"]
    # one seed per size: not applicable
    assert status(cfg, 10, sweep=_summary({"Months": MONTHS_FALL}, n_seeds=1)) == "not_applicable"


# --------------------------------------------------------------------------------------------- 9: snapshots
def _snapshots(adj=12, wind=1, n=12, mac_months=0.05, mac_roman=0.3) -> pd.DataFrame:
    small = tidy(
        [("Months", "ring_adjacent_pairs_raw", adj), ("Months", "ring_winding_raw", wind), ("Months", "n_found", n)],
        model=SNAP_SMALL,
    )
    large = tidy(
        [("Months", "mean_abs_cos", mac_months), ("Roman numerals", "mean_abs_cos", mac_roman)], model=SNAP_LARGE
    )
    # the same metrics on other models must not be read: the second seed and a wd4.0 model carry failing values
    decoys = pd.concat(
        [
            tidy(
                [
                    ("Months", "ring_adjacent_pairs_raw", 0),
                    ("Months", "ring_winding_raw", 0),
                    ("Months", "n_found", 12),
                    ("Months", "mean_abs_cos", 0.9),
                    ("Roman numerals", "mean_abs_cos", 0.0),
                ],
                model=m,
            )
            for m in ("relu/L50_wd1.0_seed2", "relu/L400_wd1.0_seed2", MONTHS_MODEL)
        ]
    )
    return pd.concat([small, large, decoys], ignore_index=True)


def test_c9_snapshots_pass_and_fail(cfg):
    c = run(cfg, metrics_all=_snapshots())[9]
    assert c.status == "pass" and c.evaluated_at == f"{SNAP_SMALL} and {SNAP_LARGE}"
    assert status(cfg, 9, metrics_all=_snapshots(adj=8)) == "fail"  # no ring at the small L
    assert status(cfg, 9, metrics_all=_snapshots(wind=0)) == "fail"
    assert status(cfg, 9, metrics_all=_snapshots(mac_months=0.15)) == "fail"  # months not orthogonal at large L
    assert status(cfg, 9, metrics_all=_snapshots(mac_months=0.05, mac_roman=0.04)) == "fail"  # Roman more so
    assert status(cfg, 9, metrics_all=_snapshots(mac_roman=np.nan)) == "not_applicable"


# --------------------------------------------------------------------------------------------- 11–13, 16: mechanism
TARGETS = ("Beatles", "Christmas", "mbar")
CONSTRUCTIVE = {
    "onehot_z": -0.2,
    "r2_ctx": 0.4,
    "frac_pos": 0.8,
    "tower_correlated_end": 0.3,
    "sum_correlated_context": 0.6,
    "sum_uncorrelated_context": 0.01,
    "tower_correlated_no_target_end": -0.1,
}


def _mechanism(
    changes: dict[str, dict[str, float]] | None = None,
    contrib: dict[str, float] | None = None,
    months_r2: float | None = None,
) -> pd.DataFrame:
    rows = []
    for t in TARGETS:
        for k, v in {**CONSTRUCTIVE, **(changes or {}).get(t, {})}.items():
            rows.append((t, k, v))
    for w, v in (contrib or {}).items():
        rows.append(("Christmas", "month_contribution", v, w))
    if months_r2 is not None:
        rows.append(("Months", "r2_mean", months_r2, "lstsq_h"))
        rows.append(("Months", "r2_mean", 0.2, "tied_linear"))  # the other protocol must not be read
    return tidy(rows, model="relu/L400_wd1.0_seed1")


def test_c11_onehot_failure_pass_and_fail(cfg):
    c = run(cfg, mechanism=_mechanism())[11]
    assert c.status == "pass" and set(c.value) == set(TARGETS)
    # a target whose one-hot input is reconstructed (z > 0), or one not reconstructed in context either
    assert status(cfg, 11, mechanism=_mechanism({"mbar": {"onehot_z": 0.1}})) == "fail"
    assert status(cfg, 11, mechanism=_mechanism({"Beatles": {"r2_ctx": 0.0}})) == "fail"
    assert status(cfg, 11, mechanism=_mechanism({"Beatles": {"onehot_z": 0.0}})) == "fail"  # strictly < 0
    # a target without numbers is skipped and named
    c = run(cfg, mechanism=_mechanism({"mbar": {"onehot_z": np.nan}}))[11]
    assert c.status == "pass" and c.details["missing"] == ["mbar"]


@pytest.mark.parametrize(
    "target,change,check",
    [
        ("Beatles", {"frac_pos": 0.4}, "frac_pos"),
        ("Christmas", {"tower_correlated_end": -0.1}, "corr_tower_crosses_0"),
        ("mbar", {"sum_uncorrelated_context": 0.16}, "uncorr_small"),  # 0.16 ≥ 0.25 · 0.6
        ("mbar", {"sum_uncorrelated_context": -0.2}, "uncorr_small"),  # |Σ| counts
        ("Beatles", {"tower_correlated_no_target_end": 0.05}, "no_target_tower_below_0"),
    ],
)
def test_c12_constructive_context_fails_on_each_check(cfg, target, change, check):
    c = run(cfg, mechanism=_mechanism())[12]
    assert c.status == "pass"
    assert all(all(v["checks"].values()) for v in c.value.values())
    c = run(cfg, mechanism=_mechanism({target: change}))[12]
    assert c.status == "fail"
    assert c.value[target]["checks"] == {k: k != check for k in c.value[target]["checks"]}


def test_c12_boundaries(cfg):
    assert status(cfg, 12, mechanism=_mechanism({"Beatles": {"frac_pos": 0.5}})) == "pass"  # ≥ 0.5
    assert status(cfg, 12, mechanism=_mechanism({"Beatles": {"sum_uncorrelated_context": 0.149}})) == "pass"
    assert status(cfg, 12, mechanism=_mechanism({"Beatles": {"sum_uncorrelated_context": 0.15}})) == "fail"


CHRISTMAS = dict(zip(MONTHS, [0.1, -0.05, -0.05, -0.02, -0.03, -0.1, -0.1, -0.1, 0.0, 0.02, 0.05, 0.3]))


def test_c13_christmas_pass_and_fail(cfg):
    c = run(cfg, mechanism=_mechanism(contrib=CHRISTMAS))[13]
    assert c.status == "pass"
    assert c.value == {"december": 0.3, "largest": "December", "sum": pytest.approx(0.02)}
    mirrored = {**CHRISTMAS, "December": 0.1, "January": 0.3}  # January is the largest
    c = run(cfg, mechanism=_mechanism(contrib=mirrored))[13]
    assert c.status == "fail" and not c.details["checks"]["december_largest_and_positive"]
    no_summer_dip = {**CHRISTMAS, "June": 0.01, "July": 0.0, "August": 0.02}
    c = run(cfg, mechanism=_mechanism(contrib=no_summer_dip))[13]
    assert c.status == "fail" and c.details["checks"] == {
        "december_largest_and_positive": True,
        "a_summer_month_negative": False,
        "months_cancel": False,
    }
    cancels = {**CHRISTMAS, "October": 0.25}  # Σ = 0.02 − 0.02 + 0.25 = 0.25 < December's 0.3
    assert status(cfg, 13, mechanism=_mechanism(contrib=cancels)) == "pass"
    no_cancel = {**CHRISTMAS, "October": 0.29, "November": 0.29}  # Σ = 0.02 + 0.27 + 0.24 = 0.53 ≥ December's 0.3
    c = run(cfg, mechanism=_mechanism(contrib=no_cancel))[13]
    assert c.status == "fail" and c.details["checks"]["months_cancel"] is False
    all_negative = {m: -abs(v) - 0.01 for m, v in CHRISTMAS.items()}
    assert status(cfg, 13, mechanism=_mechanism(contrib=all_negative)) == "fail"
    eleven = {k: v for k, v in CHRISTMAS.items() if k != "May"}
    assert status(cfg, 13, mechanism=_mechanism(contrib=eleven)) == "not_applicable"


def test_c16_months_r2_pass_and_fail(cfg):
    c = run(cfg, mechanism=_mechanism(months_r2=0.97))[16]
    assert c.status == "pass" and c.value == 0.97 and c.details["tied_linear_r2"] == 0.2
    assert status(cfg, 16, mechanism=_mechanism(months_r2=0.95)) == "pass"  # ≥ 0.95
    assert status(cfg, 16, mechanism=_mechanism(months_r2=0.94)) == "fail"
    assert status(cfg, 16, mechanism=_mechanism()) == "not_applicable"
    strict = load(analysis={**GRID["analysis"], "thresholds": {"months_min_r2": 0.99}})
    c = run(strict, mechanism=_mechanism(months_r2=0.97))[16]
    assert c.status == "fail" and c.threshold == 0.99


# --------------------------------------------------------------------------------------------- 14: R² gap
def _gap(placed: dict[str, int], n: int = 40, delta_top: float = 0.5, freq: int = 100) -> pd.DataFrame:
    """mechanism/r2_gap.parquet: rank (1 = largest Δ), word, freq_count, r2_ctx, r2_onehot, delta."""
    words = [f"w{k}" for k in range(n)]
    for w, r in placed.items():
        words[r - 1] = w
    delta = np.linspace(delta_top, -0.2, n)
    return pd.DataFrame(
        {
            "rank": np.arange(1, n + 1),
            "word": words,
            "freq_count": freq,
            "r2_ctx": delta + 0.1,
            "r2_onehot": 0.1,
            "delta": delta,
        }
    )


PAPER_WORDS = {"mbar": 1, "inHg": 2, "Beatles": 3, "Christmas": 4}


def test_c14_gap_pass_and_fail(cfg):
    # 40 words: the top decile is ranks 1–4; Δ falls from 0.5 to −0.2
    c = run(cfg, r2_gap=_gap(PAPER_WORDS))[14]
    assert c.status == "pass" and c.threshold["top_rank_max"] == 4
    assert c.value["ranks"] == PAPER_WORDS and c.value["n_words_delta_gt"] == int(
        np.sum(np.linspace(0.5, -0.2, 40) > 0.2)
    )
    # mirrored: the paper's words at the bottom of the ranking
    c = run(cfg, r2_gap=_gap({"mbar": 37, "inHg": 38, "Beatles": 39, "Christmas": 40}))[14]
    assert c.status == "fail" and not any(c.details["in_top_decile"].values())
    assert status(cfg, 14, r2_gap=_gap({**PAPER_WORDS, "Beatles": 5})) == "fail"  # just outside the decile
    # no word with Δ > 0.2 (all at most 0.2), or only rare ones (freq < 20)
    assert status(cfg, 14, r2_gap=_gap(PAPER_WORDS, delta_top=0.2)) == "fail"
    assert status(cfg, 14, r2_gap=_gap(PAPER_WORDS, freq=19)) == "fail"
    assert status(cfg, 14, r2_gap=_gap(PAPER_WORDS, freq=20)) == "pass"
    assert status(cfg, 14) == "not_applicable"


# --------------------------------------------------------------------------------------------- 15: clusters
def _clusters(scores: dict[float, tuple[float, float]], latent: int = 400, seed: int = 1) -> pd.DataFrame:
    """clusters.parquet: one row per model × metric (silhouette_cos, knn_purity)."""
    rows = []
    for wd, (sil, knn) in scores.items():
        for metric, v in (("silhouette_cos", sil), ("knn_purity", knn)):
            rows.append(
                {
                    "model": f"relu/L{latent}_wd{wd}_seed{seed}",
                    "variant": "relu",
                    "latent": latent,
                    "wd": wd,
                    "seed": seed,
                    "metric": metric,
                    "value": v,
                    "null_mean": 0.0,
                    "null_sd": 0.01,
                    "p_value": 0.01,
                    "n_words": 300,
                    "status": "ok",
                }
            )
    return pd.DataFrame(rows)


def test_c15_clusters_pass_and_fail(cfg):
    rising = {0.0: (0.01, 0.20), 1.0: (0.03, 0.30), 4.0: (0.10, 0.50)}
    c = run(cfg, clusters=_clusters(rising))[15]
    assert c.status == "pass" and list(c.value) == ["relu/L400_seed1"]
    assert c.value["relu/L400_seed1"]["knn_purity"] == {"wd0.0": 0.2, "wd4.0": 0.5, "higher_with_wd": True}
    falling = {0.0: (0.10, 0.50), 1.0: (0.03, 0.30), 4.0: (0.01, 0.20)}
    assert status(cfg, 15, clusters=_clusters(falling)) == "fail"
    # one score up, the other down; or equal: both must rise
    assert status(cfg, 15, clusters=_clusters({0.0: (0.01, 0.5), 4.0: (0.10, 0.2)})) == "fail"
    assert status(cfg, 15, clusters=_clusters({0.0: (0.01, 0.5), 4.0: (0.10, 0.5)})) == "fail"
    # a second latent size where clustering falls makes the whole criterion fail
    both = pd.concat([_clusters(rising), _clusters(falling, latent=200)], ignore_index=True)
    assert status(cfg, 15, clusters=both) == "fail"
    # without weight decay 0 there is nothing to compare with
    assert status(cfg, 15, clusters=_clusters({1.0: (0.01, 0.2), 4.0: (0.1, 0.5)})) == "not_applicable"


# --------------------------------------------------------------------------------------------- all together
def test_statuses_and_summary_of_a_partial_run_written_by_hand(cfg):
    """Three tables: a ring in the data, a mechanism table with constructive context but a months R² below the
    threshold, and an R² gap table without its columns. Every status below is read off those tables by hand."""
    records = criteria.evaluate(
        criteria.Inputs(
            cfg,
            data_metrics=_ring(12, 1, 12),
            mechanism=_mechanism(months_r2=0.5),
            r2_gap=pd.DataFrame({"word": ["mbar"]}),
        )
    )
    expected = {k: "not_applicable" for k in range(1, 18)}
    expected.update({4: "pass", 11: "pass", 12: "pass", 16: "fail", 14: "error"})
    assert {c.id: c.status for c in records} == expected
    by = {c.id: c for c in records}
    assert by[14].reason == "KeyError: 'delta'"  # a broken table is an error, never "cannot be tested here"
    assert by[13].reason.startswith("Christmas not a mechanism target")
    assert counts(records) == {"pass": 3, "fail": 1, "not_applicable": 12, "error": 1}
    assert math.isclose(criteria.thresholds(cfg["analysis"]["thresholds"])["months_min_r2"], 0.95)


def test_a_criterion_that_raises_is_an_error_in_the_table_json_and_report(cfg, tmp_path, monkeypatch):
    """A coding error inside one criterion (here criterion 4) shows as ``error`` in criteria.{parquet,csv,json},
    in the report's criteria table and in the dashboard's counts; the other criteria are still evaluated."""
    from bows.figures import criteria as dashboard
    from bows.stages.criteria import run_criteria

    def broken(inp, th):
        return 1 / 0

    claims = [replace(c, test=broken) if c.id == 4 else c for c in criteria.CRITERIA]
    monkeypatch.setattr(criteria, "CRITERIA", claims)
    data = tmp_path / "data.parquet"
    _ring(12, 1, 12).to_parquet(data)
    doc = run_criteria(str(tmp_path / "criteria.json"), cfg, data_metrics=str(data))
    four = doc["criteria"][3]
    assert four["id"] == 4 and four["status"] == "error" and four["reason"] == "ZeroDivisionError: division by zero"
    assert doc["summary"] == {"pass": 0, "fail": 0, "not_applicable": 16, "error": 1}
    for table in (pd.read_parquet(tmp_path / "criteria.parquet"), pd.read_csv(tmp_path / "criteria.csv")):
        assert table.loc[3, "status"] == "error" and "ZeroDivisionError" in table.loc[3, "reason"]
    png = tmp_path / "dashboard.png"
    dashboard.render_criteria(tmp_path / "criteria.json", [png], {"dpi": 40}, html=tmp_path / "criteria.html")
    page = (tmp_path / "criteria.html").read_text()
    assert "0 pass · 0 fail · 16 not applicable · 1 error" in page and "ZeroDivisionError" in page
    table = dashboard.criteria_table(tmp_path / "criteria.json")
    fig = dashboard.criteria_figure(table)
    texts = " | ".join(t.get_text() for ax in fig.axes for t in ax.texts) + fig.axes[0].get_title(loc="left")
    assert "1 error" in texts and texts.count("ERROR") == 1 and "ZeroDivisionError" in texts
    assert png.read_bytes()[:4] == b"\x89PNG"
