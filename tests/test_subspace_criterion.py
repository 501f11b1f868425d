"""Criterion 17 (weight decay moves W towards the principal subspace) on tables where it must pass and fail."""

from __future__ import annotations

import pandas as pd
from bows.claims import evaluate_one
from bows.config import defaults
from bows.metrics.criteria import CRITERIA, Inputs, thresholds
from bows.metrics.sweep import SUBSPACE_COLUMNS

DEFAULT_THRESHOLDS = thresholds(defaults()["analysis"]["thresholds"])  # the schema defaults

CFG = {"analysis": {"models": {}}}


def c17_subspace(inp, th):
    """Criterion 17's record on ``inp`` (by its id, not its place in the list)."""
    return evaluate_one(next(c for c in CRITERIA if c.id == 17), inp, th)


def _table(rows):
    out = []
    for variant, L, wd, overlap, frob in rows:
        out.append(
            {c: None for c in SUBSPACE_COLUMNS}
            | {
                "model": f"{variant}/L{L}_wd{wd}_seed1",
                "variant": variant,
                "latent": L,
                "wd": wd,
                "seed": 1,
                "decay_exposure": 1.27 * wd,
                "overlap_cov": overlap,
                "frob2_per_latent": frob,
                "status": "ok",
            }
        )
    return pd.DataFrame(out, columns=SUBSPACE_COLUMNS)


# the 60-epoch measurement on the bundled corpus (overlap 0.25 / 0.30 / 0.41, ‖W‖²/L 9.9 / 7.0 / 4.1)
PASSING = [
    ("relu", 100, 0.0, 0.25, 9.9),
    ("relu", 100, 1.0, 0.30, 7.0),
    ("relu", 100, 4.0, 0.41, 4.1),
    ("pca", 100, 0.0, 1.0, 1.0),
]


def test_passes_when_overlap_rises_and_norm_falls():
    res = c17_subspace(Inputs(CFG, subspace=_table(PASSING)), DEFAULT_THRESHOLDS)
    assert res.status == "pass"
    v = res.value["relu/L100_seed1"]
    assert v["wd"] == [0.0, 4.0]  # wd 0 against the largest weight decay
    assert abs(v["overlap_rise"] - 0.16) < 1e-12 and abs(v["norm_ratio"] - 4.1 / 9.9) < 1e-12
    assert list(res.value) == ["relu/L100_seed1"]  # the pca baseline is no weight-decay pair


def test_fails_on_the_mirrored_table():
    mirrored = [(v, L, wd, o, f) for (v, L, wd, _, _), (_, _, _, o, f) in zip(PASSING[:3], PASSING[2::-1])]
    res = c17_subspace(Inputs(CFG, subspace=_table(mirrored + PASSING[3:])), DEFAULT_THRESHOLDS)
    assert res.status == "fail"


def test_fails_when_only_one_direction_holds():
    rows = [("relu", 100, 0.0, 0.25, 9.9), ("relu", 100, 4.0, 0.41, 9.5)]  # overlap rises, norm hardly falls
    assert c17_subspace(Inputs(CFG, subspace=_table(rows)), DEFAULT_THRESHOLDS).status == "fail"
    rows = [("relu", 100, 0.0, 0.25, 9.9), ("relu", 100, 4.0, 0.26, 4.1)]  # norm falls, overlap hardly rises
    assert c17_subspace(Inputs(CFG, subspace=_table(rows)), DEFAULT_THRESHOLDS).status == "fail"


def test_not_applicable_without_a_weight_decay_pair():
    rows = [("relu", 100, 1.0, 0.3, 7.0), ("relu", 100, 4.0, 0.41, 4.1)]
    assert c17_subspace(Inputs(CFG, subspace=_table(rows)), DEFAULT_THRESHOLDS).status == "not_applicable"
    assert c17_subspace(Inputs(CFG), DEFAULT_THRESHOLDS).status == "not_applicable"
