"""The exposure, subspace, pca and linear outputs inside the smoke workflow."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from conftest import snakemake

pytestmark = pytest.mark.workflow

RES = "results/smoke"
METRICS = f"{RES}/metrics/V400_G5_S1"
MODELS = f"{RES}/models/V400_G5_S1"


def test_run_json_carries_the_decay_exposure(smoke_run):
    run = json.loads((smoke_run / MODELS / "relu/L16_wd4.0_seed1/run.json").read_text())
    e = run["exposure"]
    # E = wd · lr · (T + 1)/2 for the cosine schedule over T steps (Σ_t cos(π t/T) = 1)
    assert e["schedule_steps"] == run["steps"]
    assert e["decay_exposure"] == pytest.approx(4.0 * run["train"]["lr"] * (run["steps"] + 1) / 2)
    assert e["decay_exposure_paper"] > 30  # 4 × 8.8


def test_pca_model_and_subspace_table(smoke_run):
    from bows.model import load_weights

    W, _ = load_weights(smoke_run / MODELS / "pca/L8_wd0.0_seed1/model.safetensors")
    np.testing.assert_allclose(W @ W.T, np.eye(8), atol=1e-5)  # orthonormal rows
    sub = pd.read_parquet(smoke_run / METRICS / "subspace.parquet")
    assert set(sub["variant"]) == {"relu", "linear", "pca"}
    assert (sub["status"] == "ok").all()
    np.testing.assert_allclose(sub["random_baseline"], sub["latent"] / 400)
    pca = sub[sub["variant"] == "pca"]
    np.testing.assert_allclose(pca["overlap_cov"], 1.0, atol=1e-5)
    np.testing.assert_allclose(pca["frob2_per_latent"], 1.0, atol=1e-5)
    assert sub["overlap_moment"].between(0, 1 + 1e-9).all() and sub["overlap_cov"].between(0, 1 + 1e-9).all()
    trained = sub[sub["variant"] != "pca"]
    assert (trained["decay_exposure"] == trained["wd"] * trained["decay_exposure"].max() / 4.0).all()
    assert np.isnan(pca["decay_exposure"]).all()


def test_criterion_and_figure(smoke_run):
    crit = json.loads((smoke_run / METRICS / "criteria.json").read_text())["criteria"]
    c17 = next(c for c in crit if c["id"] == 17)
    assert c17["status"] in ("pass", "fail") and "relu/L16_seed1" in c17["value"]
    # the criterion recomputed from the subspace table: overlap and ‖W‖²_F/L at the largest wd against wd 0
    sub = pd.read_parquet(smoke_run / METRICS / "subspace.parquet")
    rows = sub[(sub["variant"] == "relu") & (sub["latent"] == 16) & (sub["seed"] == 1)].sort_values("wd")
    lo, hi = rows.iloc[0], rows.iloc[-1]
    assert lo["wd"] == 0.0 and hi["wd"] > 0
    rise = hi["overlap_cov"] - lo["overlap_cov"]
    ratio = hi["frob2_per_latent"] / lo["frob2_per_latent"]
    got = c17["value"]["relu/L16_seed1"]
    assert got["overlap_rise"] == pytest.approx(rise) and got["norm_ratio"] == pytest.approx(ratio)
    th = c17["threshold"]
    assert got["pass"] == bool(rise >= th["min_overlap_rise"] and ratio <= th["max_norm_ratio"])
    assert (c17["status"] == "pass") == all(v["pass"] for v in c17["value"].values())
    from matplotlib.image import imread

    img = imread(next((smoke_run / "results").glob("smoke/figures/*/sweeps_subspace.png")))
    assert img.ndim == 3 and (img[..., :3].min(-1) < 0.9).mean() > 0.02  # a drawn figure, not an empty page


def test_low_exposure_warns_once_at_start(smoke_run):
    proc = snakemake(smoke_run, "-n", "--quiet")
    lines = [ln for ln in proc.stderr.splitlines() if "decay exposure" in ln]
    assert len(lines) == 1
    assert "relu/L16_wd4.0_seed1" in lines[0] and "relu/L16_wd0.0_seed1" not in lines[0]
    assert "pca/" not in lines[0]
