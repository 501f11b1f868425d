"""Synthetic BOWS: generators, metrics on known matrices, the batched trainer, and the pipeline steps."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from bows.claims import claims_frame
from bows.config import defaults, section
from bows.errors import ConfigError, ShapeError
from bows.figures import drawing
from bows.figures.stages import synthetic_gram_grid, synthetic_metrics
from bows.synthetic import claims as sc
from bows.synthetic import data as sd
from bows.synthetic import metrics as sm
from bows.synthetic import pipeline as sp
from bows.synthetic import runs
from bows.synthetic import variants as sv
from bows.synthetic.summary import summarise
from bows.synthetic.train import (
    SynthModel,
    SynthTrainSettings,
    model_seed,
    reconstruction_mse,
    train_batched,
    train_reference,
    train_sequential,
)


def data_spec(**kw) -> sd.DataSpec:
    """The schema's default synthetic data with ``kw`` changed."""
    return replace(sd.DataSpec.from_config(defaults()["synthetic"]), **kw)


def train_settings(**kw) -> SynthTrainSettings:
    """The schema's default synthetic training settings with ``kw`` changed."""
    return replace(SynthTrainSettings.from_config(defaults()["synthetic"]), **kw)


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


# ----------------------------------------------------------------------------------------------- generators


def test_circular_mean_activation_matches_the_model():
    """σ = 0: the latents cycle through F angles, so E[x̄] = mean_{i,j} sigmoid(κ cos(2π(i−j)/F) + β) exactly."""
    for beta in (0.0, -2.0):
        spec = data_spec(features=12, samples=12_000, kappa=10.0, beta=beta, sigma=0.0, data_seed=1)
        x = sd.generate("circular", spec)
        assert x.dtype == np.uint8 and x.shape == (12_000, 12) and set(np.unique(x)) <= {0, 1}
        d = np.arange(12)
        p = _sigmoid(10.0 * np.cos(2 * np.pi * (d[:, None] - d[None, :]) / 12) + beta).mean()
        se = math.sqrt(p * (1 - p) / x.size)
        assert abs(x.mean() - p) < 5 * se
    # the official defaults give dense data
    dense = sd.generate("circular", data_spec(samples=6000))
    assert abs(dense.mean() - 0.5) < 0.02


def test_circular_covariance_is_circulant_and_decays_with_ring_distance():
    x = sd.generate("circular", data_spec(features=12, samples=24_000, kappa=5.0, beta=-1.0, sigma=0.3))
    cov = sd.covariance(x)
    assert sm.circulant_fit_by_offset(cov) > 0.97
    # mean covariance at circular distance k = 1..6 decreases monotonically
    c = sm.circulant_projection(cov)[0]
    by_distance = [(c[k] + c[-k]) / 2 for k in range(1, 7)]
    assert all(a > b for a, b in zip(by_distance, by_distance[1:]))
    # the exact probabilities are circulant: p_ij depends on (i − j) mod F only
    p = sd.activation_probabilities("circular", data_spec(features=8, samples=8), np.random.default_rng(0))
    assert np.allclose(p, np.stack([np.roll(p[0], k) for k in range(8)]))


def test_iid_probability_is_explicit_and_order_free():
    spec = data_spec(features=10, samples=5000, iid_p=0.2)
    x = sd.generate("iid", spec)
    assert abs(x.mean() - 0.2) < 0.01
    assert abs(np.corrcoef(x.T.astype(float))[np.triu_indices(10, 1)]).max() < 0.1
    # null = the circular data's mean activation, whatever was generated before
    null = data_spec(features=10, samples=5000, beta=-2.0, iid_p=None)
    a = sd.generate("iid", null)
    sd.generate("sphere", null)
    b = sd.generate("iid", null)
    assert np.array_equal(a, b)
    assert sd.iid_probability(null) == pytest.approx(sd.generate("circular", null).mean())


def test_generators_shapes_seeds_and_geometry():
    spec = data_spec(features=12, samples=500)
    for s in sd.STRUCTURES:
        x = sd.generate(s, spec)
        assert x.shape == (500, 12)
        assert np.array_equal(x, sd.generate(s, spec))  # deterministic
        assert not np.array_equal(x, sd.generate(s, data_spec(features=12, samples=500, data_seed=7)))
    a = sd.anchors("sphere", 12)
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0)
    u = sd.latents("sphere", 4000, 12, 0.2, np.random.default_rng(0))
    assert np.allclose(np.linalg.norm(u, axis=1), 1.0) and np.abs(u.mean(0)).max() < 0.05
    assert np.allclose(sd.anchors("figure8", 4), [[0, 0], [1, 0], [0, 0], [-1, 0]], atol=1e-12)
    with pytest.raises(ConfigError):
        sd.generate("torus", spec)


def test_split_is_a_partition_shared_by_structures():
    tr, va = sd.split_indices(100, 80, 42)
    assert len(tr) == 80 and len(va) == 20
    assert np.array_equal(np.sort(np.concatenate([tr, va])), np.arange(100))
    assert np.array_equal(tr, sd.split_indices(100, 80, 42)[0])
    with pytest.raises(ConfigError):
        sd.split_indices(100, 100, 42)


# ------------------------------------------------------------------------------------------------- metrics


def _fourier_rows(F: int, harmonics=(1,)) -> np.ndarray:
    t = 2 * np.pi * np.arange(F) / F
    rows = []
    for h in harmonics:
        rows += [np.cos(h * t), np.sin(h * t)]
    return np.sqrt(2.0 / F) * np.array(rows)  # orthonormal rows: WᵀW is a projector


def test_metrics_identity_gram():
    F = 8
    W = np.eye(F)
    assert np.allclose(sm.normalized_gram(W), np.eye(F) / F)
    assert sm.circulant_fit_by_offset(W.T @ W) == 1.0
    assert sm.antipodal_score(W.T @ W) == 0.0
    assert sm.top_eigen_share(W.T @ W, 2) == pytest.approx(2 / F)
    assert math.isnan(sm.offdiag_corr(W.T @ W, np.random.default_rng(0).normal(size=(F, F))))
    got = sm.synthetic_model_metrics(W, -np.ones(F), np.eye(F) + 0.1)
    assert got["frob_sq_per_m"] == pytest.approx(1.0) and got["features_represented"] == F
    assert got["bias_mean"] == -1.0


def test_metrics_circulant_projector():
    F = 12
    W = _fourier_rows(F)
    G = W.T @ W
    assert np.allclose(G @ G, G) and np.trace(G) == pytest.approx(2.0)
    assert np.allclose(sm.circulant_projection(G), G)
    assert sm.circulant_fit_by_offset(G) == pytest.approx(1.0)
    assert sm.top_eigen_share(G, 2) == pytest.approx(1.0)
    assert sm.antipodal_score(G) == pytest.approx(1 / 5)  # interference of a planar ring is spread, not paired
    assert sm.offdiag_corr(sm.normalized_gram(W), 3.0 * G + 1.0) == pytest.approx(1.0)
    cov = G + 0.01 * _fourier_rows(F, (2,)).T @ _fourier_rows(F, (2,))  # top-2 eigenvectors = W's rows
    assert sm.pca_overlap(W, cov) == pytest.approx(1.0)
    assert sm.pca_overlap(_fourier_rows(F, (3,)), cov) == pytest.approx(0.0, abs=1e-9)
    assert sm.synthetic_model_metrics(W, np.zeros(F), cov)["frob_sq_per_m"] == pytest.approx(1.0)


def test_metrics_antipodal_pairs():
    F, m = 6, 3
    W = np.zeros((m, F))
    for k in range(m):  # features (0,1), (2,3), (4,5) are antipodal pairs, pairs mutually orthogonal
        W[k, 2 * k], W[k, 2 * k + 1] = 1.0, -1.0
    G = W.T @ W
    assert sm.antipodal_score(G) == pytest.approx(1.0)
    assert sm.circulant_fit_by_offset(G) < 0.5
    # shuffled pairs (0,3), (1,4), (2,5) are opposite on the ring: circulant again
    W2 = np.zeros((m, F))
    for k in range(m):
        W2[k, k], W2[k, k + 3] = 1.0, -1.0
    assert sm.circulant_fit_by_offset(W2.T @ W2) == pytest.approx(1.0)
    # dead features are ignored
    W3 = np.hstack([W, np.zeros((m, 2))])
    assert sm.antipodal_score(W3.T @ W3) == pytest.approx(1.0)


def test_partner_cov_percentile_reads_the_partner_off_the_data():
    F = 6
    ring = np.array([[np.cos(2 * np.pi * (i - j) / F) for j in range(F)] for i in range(F)])  # least co-active: i+3
    opposite = np.zeros((3, F))  # pairs (0,3), (1,4), (2,5): the ring's opposite features
    adjacent = np.zeros((3, F))  # pairs (0,1), (2,3), (4,5): ring neighbours
    for k in range(3):
        opposite[k, k], opposite[k, k + 3] = 1.0, -1.0
        adjacent[k, 2 * k], adjacent[k, 2 * k + 1] = 1.0, -1.0
    assert sm.partner_cov_percentile(opposite.T @ opposite, ring) == 0.0
    # a neighbour's covariance cos(60°) is above the other three features' (cos 120°, cos 180°, cos 120°): q = 3/4
    assert sm.partner_cov_percentile(adjacent.T @ adjacent, ring) == pytest.approx(0.75)
    # no pair (identity Gram, or cosines above -0.5) gives NaN; a dead feature is no partner
    assert np.isnan(sm.partner_cov_percentile(np.eye(F), ring))
    half = opposite.copy()
    half[:, 3:] *= 0.4  # cos stays -1: still pairs
    assert sm.partner_cov_percentile(half.T @ half, ring) == 0.0
    tilted = np.vstack([opposite, np.zeros((1, F))])
    tilted[3, 3:] = 2.0  # partners at cos ≈ -0.45: not paired
    assert np.isnan(sm.partner_cov_percentile(tilted.T @ tilted, ring))
    dead = opposite.copy()
    dead[:, 3] = 0.0  # feature 3 dead: 0 has no live partner below -0.5
    assert sm.partner_cov_percentile(dead.T @ dead, ring) == 0.0  # the pairs (1,4), (2,5) remain
    # synthetic_model_metrics reads the partners off the held-out covariance when given one
    assert "partner_cov_percentile_heldout" not in sm.synthetic_model_metrics(opposite, np.zeros(F), ring)
    # held-out: the opposite feature is the most co-active
    got = sm.synthetic_model_metrics(opposite, np.zeros(F), ring, -ring)
    assert got["partner_cov_percentile"] == 0.0 and got["partner_cov_percentile_heldout"] == 1.0


# ------------------------------------------------------------------------------------------------- training


@pytest.fixture(scope="module")
def small_data():
    x = sd.generate("circular", data_spec(features=6, samples=700, kappa=5.0, beta=-1.0, sigma=0.2))
    return x[:600], x[600:]


def _models(structure="circular", F=6, seed=42):
    return [SynthModel(structure, a, wd, m, seed) for a in ("linear", "relu") for wd in (1.0, 6.0) for m in (1, 3, F)]


def test_batched_matches_stock_pytorch_training(small_data):
    x, _ = small_data
    settings = train_settings(epochs=4, batch_size=64)
    models = _models()
    out = train_batched(x, models, settings)
    for i in (0, 4, 7, 11):
        ref = train_reference(x, models[i], settings)
        np.testing.assert_allclose(out["W"][i], ref["W"][0], atol=2e-5)
        np.testing.assert_allclose(out["b"][i], ref["b"][0], atol=2e-5)
        np.testing.assert_allclose(out["loss"][i], ref["loss"][0], rtol=1e-4)


def test_batched_equals_sequential_and_is_independent_of_companions(small_data):
    x, _ = small_data
    settings = train_settings(epochs=3, batch_size=100)
    models = _models()
    together = train_batched(x, models, settings)
    alone = train_sequential(x, models, settings)
    np.testing.assert_allclose(together["W"], alone["W"], atol=1e-6)
    np.testing.assert_allclose(together["b"], alone["b"], atol=1e-6)
    # same model seed → identical weights, whoever trains alongside and in whatever order
    subset = [models[7], models[2]]
    sub = train_batched(x, subset, settings)
    assert np.array_equal(sub["W"][0], together["W"][7]) and np.array_equal(sub["W"][1], together["W"][2])
    again = train_batched(x, [models[7]], settings)
    assert np.array_equal(again["W"][0], sub["W"][0]) and np.array_equal(again["b"][0], sub["b"][0])
    # padded rows stay exactly zero
    for i, m in enumerate(models):
        assert not together["W"][i, m.latent :].any()


def test_model_seed_depends_on_every_key_only():
    base = model_seed("circular", 1.0, "relu", 4, 42)
    assert base == model_seed("circular", 1, "relu", 4, 42) == SynthModel("circular", "relu", 1.0, 4, 42).model_seed
    others = {
        model_seed("sphere", 1.0, "relu", 4, 42),
        model_seed("circular", 6.0, "relu", 4, 42),
        model_seed("circular", 1.0, "linear", 4, 42),
        model_seed("circular", 1.0, "relu", 5, 42),
        model_seed("circular", 1.0, "relu", 4, 43),
    }
    assert base not in others and len(others) == 5 and 0 <= base < 2**63


def test_linear_autoencoder_finds_the_principal_subspace(small_data):
    """Known answer: with no decay the linear tied AE converges to the top-m PCA subspace (of the second moment,
    here close to the covariance's because the bias absorbs the mean)."""
    x, _ = small_data
    out = train_batched(x, [SynthModel("circular", "linear", 0.0, 2, 1)], train_settings(epochs=60, batch_size=64))
    W, b = out["W"][0, :2], out["b"][0]
    xc = x - x.mean(0)
    assert sm.pca_overlap(W, xc.T @ xc / len(x)) > 0.95
    assert reconstruction_mse(x, W, b, "linear")[0] == pytest.approx(out["loss"][0, -1], rel=0.1)


def test_training_rejects_impossible_shapes(small_data):
    x, _ = small_data
    with pytest.raises(ShapeError):
        train_batched(x, [SynthModel("circular", "relu", 1.0, 7, 1)], train_settings(epochs=1))
    with pytest.raises(ConfigError):
        train_batched(x, [SynthModel("circular", "gelu", 1.0, 2, 1)], train_settings(epochs=1))


def test_cosine_schedule_ends_at_eta_min():
    s = train_settings(epochs=10, lr=0.01, eta_min=1e-9)
    assert s.lr_at(0) == pytest.approx(0.01)
    assert s.lr_at(5) == pytest.approx((0.01 + 1e-9) / 2)
    assert s.lr_at(10) == pytest.approx(1e-9)


# ------------------------------------------------------------------------------------------------- pipeline

#: a small synthetic section (validated, the schema's defaults elsewhere) and its one data variant, as the rules
#: pass them: the summary gets the section, the per-structure jobs the resolved variant
SECTION = section(
    "synthetic",
    {
        "structures": ["circular", "iid"],
        "features": 5,
        "samples": 300,
        "train_samples": 240,
        "latent": [2, 3],
        "weight_decay": [1.0, 6.0],
        "epochs": 3,
        "lr": 0.01,
        "batch_size": 64,
    },
)
SYN = sv.variants(SECTION)["dense"]
FIGURES = section("figures", {"dpi": 50})


def test_figure_rows_follow_the_config():
    assert sv.figure_rows(SYN) == [("linear", 1.0), ("relu", 1.0), ("relu", 6.0)]
    assert sv.figure_rows({**SYN, "figure_rows": [{"activation": "relu", "weight_decay": 6}]}) == [("relu", 6.0)]
    with pytest.raises(ConfigError):
        sv.figure_rows({**SYN, "figure_rows": [{"activation": "relu", "weight_decay": 3.0}]})


def test_variants_override_data_keys_only():
    syn = {**SECTION, "variants": [{"name": "dense"}, {"name": "sparse", "beta": -2.0, "structures": ["circular"]}]}
    v = sv.variants(syn)
    assert list(v) == ["dense", "sparse"]
    assert v["dense"]["beta"] == 0.0 and v["sparse"]["beta"] == -2.0 and v["sparse"]["kappa"] == 10.0
    assert v["sparse"]["structures"] == ["circular"] and v["sparse"]["variant"] == "sparse"
    assert "variants" not in v["dense"]
    assert list(sv.variants(SECTION)) == ["dense"]
    with pytest.raises(ConfigError):
        sv.variants({**SECTION, "variants": [{"name": "a"}, {"name": "a"}]})
    with pytest.raises(ConfigError):
        sv.variants({**SECTION, "variants": [{"name": "a", "epochs": 3}]})
    with pytest.raises(ConfigError):
        sv.variants({**SECTION, "variants": [{"name": "a", "features": 2}]})  # latent 3 > features 2


def capture_figures(monkeypatch) -> list:
    """Record every figure the figure stages save (the list fills as ``save_outputs`` is called), to read what it
    shows."""
    drawn = []
    real = drawing.save_outputs

    def keep(fig, *args, **kwargs):
        drawn.append(fig)
        return real(fig, *args, **kwargs)

    monkeypatch.setattr(drawing, "save_outputs", keep)
    return drawn


def test_pipeline_steps_end_to_end(tmp_path, monkeypatch):
    metrics, datas, trains = [], [], []
    for s in SYN["structures"]:
        d = tmp_path / s
        stats = runs.make_data(s, SYN, d / "data.npz", d / "data.json")
        assert stats["samples"] == 300 and 0.3 < stats["mean_activation"] < 0.7
        rec = runs.train_structure(s, SYN, d / "data.npz", d / "models.npz", d / "train.json")
        assert rec["models"] == 8 and len(rec["per_model"][0]["loss"]) == 3
        models = sp.load_models(d / "models.npz")
        assert [w.shape for w in models["W"]][:2] == [(2, 5), (3, 5)]
        table = sp.compute_metrics(s, SYN, d / "data.npz", d / "models.npz", d / "metrics", d / "gram")
        assert set(table.columns) == {*sc.KEYS, "metric", "value"}
        assert len(table) == 8 * table["metric"].nunique()
        gram = pd.read_parquet(d / "gram.parquet")
        assert len(gram) == 9 * 25 and (d / "gram.csv").is_file() and (d / "metrics.csv.prov.json").is_file()
        for _, mod in models.iterrows():  # WᵀW / tr(WᵀW) and ‖W‖²_F / m of every model, recomputed from its W
            W = mod["W"].astype(np.float64)
            key = (
                (gram["activation"] == mod["activation"])
                & (gram["weight_decay"] == mod["weight_decay"])
                & (gram["latent"] == mod["latent"])
            )
            G = np.zeros((5, 5))
            G[gram.loc[key, "i"], gram.loc[key, "j"]] = gram.loc[key, "value"]
            np.testing.assert_allclose(G, W.T @ W / np.sum(W * W), atol=1e-12)
            frob = table[
                (table["metric"] == "frob_sq_per_m")
                & (table["activation"] == mod["activation"])
                & (table["weight_decay"] == mod["weight_decay"])
                & (table["latent"] == mod["latent"])
            ]
            assert frob["value"].item() == pytest.approx(np.sum(W * W) / mod["latent"])
        metrics.append(d / "metrics.parquet")
        datas.append(d / "data.json")
        trains.append(d / "train.json")
    summary = summarise(
        metrics,
        datas,
        trains,
        SECTION,
        tmp_path / "metrics",
        tmp_path / "summary.json",
        tmp_path / "claims",
        tmp_path / "claims.html",
    )
    claims_csv = pd.read_csv(tmp_path / "claims.csv")
    structures = summary["claims"]["structures"]
    assert len(claims_csv) == len(structures) * len(sc.FLAG_CLAIMS)  # every claim on every structure
    assert set(claims_csv["status"]) <= {"pass", "fail", "not_applicable"}
    assert (tmp_path / "claims.json").is_file() and (tmp_path / "claims.parquet").is_file()
    assert "<table" in (tmp_path / "claims.html").read_text() and (tmp_path / "claims.html.prov.json").is_file()
    claims = summary["claims"]["structures"]["dense/circular"]
    assert set(claims["ring"]) == {"linear_wd1.0", "linear_wd6.0", "relu_wd1.0", "relu_wd6.0"}
    for key in sc.FLAG_CLAIMS:
        assert isinstance(claims[key]["holds"], bool), key
    assert claims["relu_antipodal_pairs"]["latents"] == [3]  # F/2 ≤ m < F for F = 5, latent [2, 3]
    drawn = capture_figures(monkeypatch)
    out = synthetic_gram_grid.draw_gram_grid(
        tmp_path / "circular" / "gram.parquet", "circular", SYN, FIGURES, [tmp_path / "fig.png", tmp_path / "fig.pdf"]
    )
    assert sorted(p.suffix for p in out) == [".pdf", ".png"] and all(p.is_file() for p in out)
    # the panels show the Gram matrices of the models: rows linear wd1, relu wd1, relu wd6 (figure_rows), columns
    # the data covariance then m = 2, 3
    models = sp.load_models(tmp_path / "circular" / "models.npz")
    images = [im.get_array() for ax in drawn[-1].axes for im in ax.images]
    assert len(images) == 3 * 3
    for r, (act, wd) in enumerate(sv.figure_rows(SYN)):
        for c, m in enumerate((2, 3)):
            W = (
                models[(models["activation"] == act) & (models["weight_decay"] == wd) & (models["latent"] == m)]["W"]
                .item()
                .astype(np.float64)
            )
            np.testing.assert_allclose(images[3 * r + 1 + c], W.T @ W / np.sum(W * W), atol=1e-12)
    out = synthetic_metrics.draw_metrics_figure(tmp_path / "metrics.parquet", FIGURES, [tmp_path / "m.png"])
    assert out[0].suffix == ".png" and out[0].is_file()
    # the val_mse panels: one line per (activation, wd) through the models' values at m = 2, 3
    every = pd.read_parquet(tmp_path / "metrics.parquet")
    curves = {
        tuple(np.round(np.asarray(line.get_ydata(), float), 12))
        for ax in drawn[-1].axes
        for line in ax.get_lines()
        if len(line.get_xdata()) == 2
    }
    mse = every[every["metric"] == "val_mse"]
    expect = {
        tuple(np.round(g.sort_values("latent")["value"].to_numpy(), 12))
        for _, g in mse.groupby(["structure", "activation", "weight_decay"])
    }
    assert len(expect) == 2 * 4 and expect <= curves


def test_claims_on_a_planted_table():
    """A hand-made table where every claim holds (ReLU) and fails for the mirror image."""
    rows = []
    for act in ("linear", "relu"):
        for wd in (1.0, 6.0):
            for m in range(2, 13):
                weak_relu = act == "relu" and wd == 1.0
                rows.append(
                    {
                        "variant": "v",
                        "structure": "circular",
                        "activation": act,
                        "weight_decay": wd,
                        "latent": m,
                        "seed": 42,
                        "cov_corr": 0.99 if (wd == 6.0 or m <= 3) else 0.9 - 0.05 * m,
                        "val_mse": (0.5 if weak_relu else 1.0) / m,
                        "bias_mean": -0.1 if weak_relu and m >= 4 else 0.1,
                        "antipodal_score": 0.9 if weak_relu and 6 <= m <= 10 else 0.1,
                        "partner_cov_percentile": 0.1 if weak_relu else 0.5,
                        "partner_cov_percentile_heldout": 0.15 if weak_relu else 0.5,
                    }
                )
    wide = pd.DataFrame(rows)
    for k in ("frob_sq_per_m", "circulant_fit", "features_represented"):
        wide[k] = 1.0
    syn = {**SYN, "features": 12}
    c = sc.claims(wide, syn)["structures"]["v/circular"]
    assert c["ring"]["relu_wd1.0"] == {"latents": [2, 3], "share": 2 / 11, "max_m": 3}
    assert c["per_latent"]["relu_wd1.0"]["partner_cov_percentile_heldout"]["6"] == 0.15
    assert c["strong_wd_keeps_ring_longer"]["holds"]
    assert c["relu_leaves_ring"]["spearman_m_cov_corr"] < -0.9
    assert c["relu_antipodal_pairs"]["holds"] and c["relu_antipodal_pairs"]["at_m"] == 6
    assert c["relu_antipodal_pairs"]["latents"] == [6, 7, 8, 9, 10, 11]
    assert c["relu_negative_bias"]["holds"] and c["relu_beats_linear"]["holds"]
    assert c["relu_pairs_follow_data"] == {
        "wd": 1.0,
        "at_m": 6,
        "partner_cov_percentile_heldout": 0.15,
        "partner_cov_percentile": 0.1,
        "holds": True,
    }
    # pairs chosen by the training sample's noise: low on all samples, chance on held-out ones
    chance = sc.claims(wide.assign(partner_cov_percentile_heldout=0.5), syn)["structures"]["v/circular"]
    assert chance["relu_antipodal_pairs"]["holds"] and not chance["relu_pairs_follow_data"]["holds"]
    # swap the activations: no claim holds for "ReLU" any more
    flipped = wide.assign(activation=wide["activation"].map({"linear": "relu", "relu": "linear"}))
    f = sc.claims(flipped, syn)["structures"]["v/circular"]
    assert not f["relu_antipodal_pairs"]["holds"] and not f["relu_negative_bias"]["holds"]
    assert not f["relu_beats_linear"]["holds"] and not f["relu_pairs_follow_data"]["holds"]
    # a second seed where the activations are swapped: each ReLU claim holds at one of the two seeds
    two = pd.concat([wide, flipped.assign(seed=43)], ignore_index=True)
    t = sc.claims(two, {**syn, "seeds": [42, 43]})
    c2 = t["structures"]["v/circular"]
    assert c2["relu_antipodal_pairs"] == c["relu_antipodal_pairs"]  # the details are the first seed's
    for name in ("relu_antipodal_pairs", "relu_pairs_follow_data", "relu_negative_bias", "relu_beats_linear"):
        assert c2["seeds"][name] == {"per_seed": {"42": True, "43": False}, "held_in": 1, "of": 2}, name
    # the first configured seed is the one detailed, whatever the table's order
    assert not sc.claims(two, {**syn, "seeds": [43, 42]})["structures"]["v/circular"]["relu_beats_linear"]["holds"]
    table = claims_frame(sc.claim_records(t))
    assert list(table["id"]) == list(sc.FLAG_CLAIMS)
    row = table.set_index("id").loc["relu_antipodal_pairs"]
    assert row["status"] == "pass" and row["held in seeds"] == "1/2"
    assert row["value"] == "ReLU: 0.9, at m: 6, linear: 0.1, m range: 6–11"
    assert row["evaluated_at"] == "v/circular, seed 42" and row["variant"] == "v" and row["structure"] == "circular"
    assert table.set_index("id").loc["strong_wd_keeps_ring_longer", "held in seeds"] == "2/2"
    assert set(table["holds on the iid null"]) == {"—"}  # no iid structure in this variant
    # at seed 43 (the flipped table) every ReLU claim fails
    at_43 = claims_frame(sc.claim_records(sc.claims(two, {**syn, "seeds": [43, 42]}))).set_index("id")
    assert (
        at_43.loc["relu_beats_linear", "status"] == "fail" and at_43.loc["relu_beats_linear", "held in seeds"] == "1/2"
    )
    # the flipped table as the variant's iid null: each ReLU claim that holds on the ring fails on the null
    with_null = pd.concat([wide, flipped.assign(structure="iid")], ignore_index=True)
    nt = claims_frame(sc.claim_records(sc.claims(with_null, syn))).set_index(["structure", "id"])
    assert nt.loc[("circular", "relu_beats_linear"), "holds on the iid null"] == "no"
    assert nt.loc[("circular", "strong_wd_keeps_ring_longer"), "holds on the iid null"] == "yes"
    assert nt.loc[("iid", "relu_beats_linear"), "holds on the iid null"] == "—"


def test_a_claim_the_grid_cannot_test_is_not_applicable():
    """Without a latent size F/2 ≤ m < F the antipodal claims cannot be tested; with one weight decay neither can
    the ring claim: they are not applicable, with the reason, and the other claims are still decided."""
    rows = [
        {"variant": "v", "structure": "circular", "activation": act, "weight_decay": 1.0, "latent": m, "seed": 42}
        | {"cov_corr": 0.9, "val_mse": 0.1 if act == "relu" else 0.2, "bias_mean": -0.1, "antipodal_score": 0.1}
        for act in ("linear", "relu")
        for m in (2, 3)
    ]
    syn = {**SYN, "features": 12, "weight_decay": [1.0], "seeds": [42]}
    by = {r.id: r for r in sc.claim_records(sc.claims(pd.DataFrame(rows), syn))}
    assert by["relu_antipodal_pairs"].status == "not_applicable" and "F/2 ≤ m < F" in by["relu_antipodal_pairs"].reason
    assert by["strong_wd_keeps_ring_longer"].status == "not_applicable"
    assert by["relu_negative_bias"].status == "pass" and by["relu_beats_linear"].status == "pass"


def test_load_models_rejects_bad_files(tmp_path):
    from bows.errors import CheckpointError

    bad = tmp_path / "models.npz"
    bad.write_bytes(b"not a zip")
    with pytest.raises(CheckpointError):
        sp.load_models(bad)
    np.savez(tmp_path / "partial.npz", W=np.zeros((1, 3, 3)))
    with pytest.raises(CheckpointError):
        sp.load_models(tmp_path / "partial.npz")


@pytest.mark.workflow
def test_smoke_preset_synthetic_branch(tmp_path):
    from conftest import snakemake

    snakemake(tmp_path, "--cores", "2", "synthetic")
    import json

    res = tmp_path / "results" / "synthetic"
    assert len(list((res / "figures").glob("*_gram_grid.png"))) == 2  # circular and iid in the smoke preset
    summary = json.loads((res / "summary.json").read_text())
    runs = sorted(p.parent for p in res.glob("*/*/models.npz"))
    assert sorted(summary["claims"]["structures"]) == sorted(f"{p.parent.name}/{p.name}" for p in runs)
    table = pd.read_csv(res / "metrics.csv")
    for run in runs:  # every model's ‖W‖²_F / m in the summary table, recomputed from the trained weights
        for _, mod in sp.load_models(run / "models.npz").iterrows():
            W = mod["W"].astype(np.float64)
            row = table[
                (table["variant"] == run.parent.name)
                & (table["structure"] == run.name)
                & (table["activation"] == mod["activation"])
                & (table["latent"] == mod["latent"])
                & np.isclose(table["weight_decay"], mod["weight_decay"])
                & (table["seed"] == mod["seed"])
                & (table["metric"] == "frob_sq_per_m")
            ]
            assert row["value"].item() == pytest.approx(np.sum(W * W) / mod["latent"], rel=1e-6)


def test_metrics_figure_draws_a_band_over_seeds():
    from bows.figures.synthetic import metrics_vs_latent, seed_range
    from matplotlib.collections import PolyCollection

    rows = [
        {
            "variant": "v",
            "structure": "circular",
            "activation": act,
            "weight_decay": 1.0,
            "latent": m,
            "seed": seed,
            "metric": "val_mse",
            "value": 0.1 * m + 0.01 * seed + (act == "relu"),
        }
        for act in ("linear", "relu")
        for m in (2, 3, 4)
        for seed in (1, 2, 3)
    ]
    table = pd.DataFrame(rows)
    spread = seed_range(table)
    assert list(spread[("relu", 1.0)].index) == [2, 3, 4]
    assert np.allclose(spread[("relu", 1.0)]["min"], [1.21, 1.31, 1.41])
    assert np.allclose(spread[("linear", 1.0)]["max"], [0.23, 0.33, 0.43])
    fig = metrics_vs_latent(table, metrics=("val_mse",))
    ax = fig.axes[0]
    bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(bands) == 2
    ys = np.concatenate([b.get_paths()[0].vertices[:, 1] for b in bands])
    assert np.isclose(ys.min(), 0.21) and np.isclose(ys.max(), 1.43)
    lines = {ln.get_label(): ln.get_ydata() for ln in ax.get_lines() if not ln.get_label().startswith("_")}
    assert any(np.allclose(y, [0.21, 0.31, 0.41]) for y in lines.values())  # the lowest seed's line
    # one seed: no band
    one = metrics_vs_latent(table[table["seed"] == 2], metrics=("val_mse",))
    assert not [c for c in one.axes[0].collections if isinstance(c, PolyCollection)]
