"""Known answers for the aggregates across the training grid (bows.metrics.sweep): planted tables in, hand-derived
means, SDs, final losses and power-law exponents out."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from bows.config import ModelSpec
from bows.metrics.sweep import cluster_table, loss_fits, losses_table, read_history, sweep_tables

COLS = ["model", "variant", "latent", "wd", "seed", "scope", "item", "metric", "value", "status"]


def tidy(rows: list[tuple]) -> pd.DataFrame:
    """Tidy rows (model tag, scope, metric, value[, status]) with the model's keys spelled out."""
    out = []
    for r in rows:
        tag, scope, metric, value = r[:4]
        if tag == "data":
            keys = dict(variant=None, latent=None, wd=None, seed=None)
        else:
            variant, rest = tag.split("/")
            L, wd, seed = rest.split("_")
            keys = dict(variant=variant, latent=int(L[1:]), wd=float(wd[2:]), seed=int(seed[4:]))
        out.append(
            {
                "model": tag,
                **keys,
                "scope": scope,
                "item": "",
                "metric": metric,
                "value": float(value),
                "status": r[4] if len(r) > 4 else "ok",
            }
        )
    return pd.DataFrame(out, columns=COLS).astype({"latent": "Int64", "seed": "Int64", "wd": "Float64"})


def test_sweep_tables_mean_sd_over_seeds():
    rows = [
        ("relu/L25_wd1.0_seed1", "Months", "offdiag_raw", 4.0),
        ("relu/L25_wd1.0_seed2", "Months", "offdiag_raw", 6.0),
        ("relu/L25_wd1.0_seed1", "Months", "mean_abs_cos", 0.3),
        ("relu/L25_wd1.0_seed2", "Months", "mean_abs_cos", 0.5),
        ("relu/L50_wd1.0_seed1", "Months", "offdiag_raw", 2.0, "1 of 12 words missing: May"),
        ("relu/L50_wd1.0_seed2", "Months", "offdiag_raw", float("nan")),
        ("relu/L25_wd1.0_seed1", "Days", "offdiag_raw", 1.0),
        # not part of the sweep: another weight decay, the data, model-level rows, other metrics
        ("relu/L25_wd4.0_seed1", "Months", "offdiag_raw", 100.0),
        ("data", "Months", "offdiag_raw", 100.0),
        ("relu/L25_wd1.0_seed1", "model", "offdiag_raw", 100.0),
        ("relu/L25_wd1.0_seed1", "Months", "circulant_r2", 0.9),
    ]
    wide, summ = sweep_tables(tidy(rows), "relu", 1.0)
    assert len(wide) == 5  # Days L25 s1; Months L25 s1, s2; Months L50 s1, s2
    assert set(wide["wd"]) == {1.0}
    row = wide[(wide["group"] == "Months") & (wide["latent"] == 50) & (wide["seed"] == 1)].iloc[0]
    assert row["offdiag_raw"] == 2.0 and row["status"].startswith("1 of 12") and np.isnan(row["offdiag_cos"])
    s = summ.set_index(["group", "latent", "metric"])
    assert s.loc[("Months", 25, "offdiag_raw"), "mean"] == pytest.approx(5.0)
    assert s.loc[("Months", 25, "offdiag_raw"), "sd"] == pytest.approx(math.sqrt(2))  # ddof = 1
    assert s.loc[("Months", 25, "mean_abs_cos"), "mean"] == pytest.approx(0.4)
    assert s.loc[("Months", 25, "mean_abs_cos"), "sd"] == pytest.approx(math.sqrt(0.02))
    assert s.loc[("Months", 25, "offdiag_raw"), "n_seeds"] == 2
    assert s.loc[("Months", 50, "offdiag_raw"), "mean"] == 2.0 and s.loc[("Months", 50, "offdiag_raw"), "n_seeds"] == 1
    assert np.isnan(s.loc[("Months", 50, "offdiag_raw"), "sd"])
    assert s.loc[("Days", 25, "offdiag_raw"), "mean"] == 1.0
    empty_wide, empty_summ = sweep_tables(tidy(rows), "relu", 2.0)
    assert not len(empty_wide) and list(empty_summ.columns) == [
        "group",
        "variant",
        "wd",
        "latent",
        "metric",
        "mean",
        "sd",
        "n_seeds",
    ]


def test_read_history_formats(tmp_path):
    (tmp_path / "a.json").write_text(
        json.dumps({"history": {"epoch": [1, 2], "train_loss": [0.5, 0.4], "heldout_loss": [0.6, 0.45], "note": "x"}})
    )
    (tmp_path / "b.json").write_text(json.dumps({"summary": {"history": {"train_loss": [0.3], "val_loss": [0.35]}}}))
    (tmp_path / "c.json").write_text(json.dumps({"losses": {"train_loss": [0.2]}}))
    assert read_history(tmp_path / "a.json") == {"epoch": [1, 2], "train_loss": [0.5, 0.4], "heldout_loss": [0.6, 0.45]}
    assert read_history(tmp_path / "b.json") == {"train_loss": [0.3], "val_loss": [0.35]}
    assert read_history(tmp_path / "c.json") == {"train_loss": [0.2]}
    assert read_history(tmp_path / "missing.json") == {}


def _run(tmp_path, name: str, train: list[float], val: list[float], key: str = "heldout_loss"):
    p = tmp_path / f"{name}.json"
    p.write_text(json.dumps({"history": {"epoch": list(range(1, len(train) + 1)), "train_loss": train, key: val}}))
    return p


def test_losses_table(tmp_path):
    a = ModelSpec("relu", 25, 1.0, 1)
    b = ModelSpec("relu", 50, 4.0, 2)
    t = losses_table(
        [
            (a, _run(tmp_path, "a", [0.5, 0.4], [0.6, 0.45])),
            (b, _run(tmp_path, "b", [0.3], [0.35], key="val_loss")),
            (ModelSpec("relu", 100, 1.0, 1), tmp_path / "absent.json"),
        ]
    )
    assert t["model"].tolist() == ["relu/L25_wd1.0_seed1"] * 2 + ["relu/L50_wd4.0_seed2"]
    assert t["epoch"].tolist() == [1, 2, 1] and t["val_loss"].tolist() == [0.6, 0.45, 0.35]
    assert t["train_loss"].tolist() == [0.5, 0.4, 0.3]
    assert t.iloc[2][["latent", "wd", "seed"]].tolist() == [50, 4.0, 2]


def test_loss_fits_recover_a_planted_power_law(tmp_path):
    """Final losses 2·L^−0.3 (held-out) and 1.5·L^−0.5 (training) over four L and two seeds; earlier epochs are
    far off the law and must not be used. A second weight decay with two models is too small to fit."""
    runs = []
    for L in (25, 50, 100, 200):
        for seed in (1, 2):
            jitter = 1.02 if seed == 1 else 1 / 1.02  # symmetric in log: the fit's centre stays on the law
            runs.append(
                (
                    ModelSpec("relu", L, 1.0, seed),
                    _run(
                        tmp_path, f"L{L}s{seed}", [9.0, 5.0, 1.5 * L**-0.5 * jitter], [9.0, 5.0, 2.0 * L**-0.3 * jitter]
                    ),
                )
            )
    for L in (25, 50):
        runs.append((ModelSpec("relu", L, 4.0, 1), _run(tmp_path, f"wd4L{L}", [1.0], [1.0])))
    losses = losses_table(runs).sample(frac=1.0, random_state=0)  # row order must not matter
    fits = loss_fits(losses, n_boot=400, seed=0).set_index(["wd", "split"])
    val = fits.loc[(1.0, "val")]
    assert val["exponent"] == pytest.approx(0.3, abs=1e-9) and val["prefactor"] == pytest.approx(2.0, rel=1e-9)
    assert val["exponent_lo"] <= 0.3 <= val["exponent_hi"] and val["exponent_hi"] - val["exponent_lo"] < 0.05
    assert val["n_models"] == 8 and val["n_latents"] == 4 and val["status"] == "ok"
    assert 0.99 < val["r2_log"] < 1.0
    tr = fits.loc[(1.0, "train")]
    assert tr["exponent"] == pytest.approx(0.5, abs=1e-9) and tr["prefactor"] == pytest.approx(1.5, rel=1e-9)
    small = fits.loc[(4.0, "val")]
    assert small["status"].startswith("too few") and np.isnan(small["exponent"])
    assert not len(loss_fits(losses.iloc[:0]))


def test_cluster_table():
    rows = [
        ("relu/L400_wd0.0_seed1", "model", m, v)
        for m, v in (
            ("knn_purity", 0.3),
            ("knn_purity_null_mean", 0.1),
            ("knn_purity_null_sd", 0.02),
            ("knn_purity_p", 0.01),
            ("silhouette_cos", 0.05),
            ("silhouette_cos_null_mean", 0.0),
            ("silhouette_cos_null_sd", 0.01),
            ("silhouette_cos_p", 0.2),
            ("n_category_words", 250),
            ("d_star", 0.5),
        )
    ]
    rows += [
        ("relu/L400_wd4.0_seed1", "model", "knn_purity", 0.6, "few words"),
        ("relu/L400_wd4.0_seed1", "Months", "silhouette_cos", 0.9),  # not a model-level row
        ("data", "model", "knn_purity", 0.99),
    ]
    t = cluster_table(tidy(rows))
    assert len(t) == 3
    a = t[(t["model"] == "relu/L400_wd0.0_seed1") & (t["metric"] == "silhouette_cos")].iloc[0]
    assert a[["value", "null_mean", "null_sd", "p_value", "n_words"]].tolist() == [0.05, 0.0, 0.01, 0.2, 250]
    assert a["wd"] == 0.0 and a["latent"] == 400 and a["status"] == "ok"
    b = t[t["model"] == "relu/L400_wd4.0_seed1"].iloc[0]
    assert b["metric"] == "knn_purity" and b["value"] == 0.6 and b["status"] == "few words"
    assert np.isnan(b["null_mean"]) and np.isnan(b["n_words"])
