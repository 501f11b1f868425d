"""The pca baseline model and the counts window encoding, against answers computed by hand or by brute force."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
import torch
from bows.baselines import pca_weights, write_pca_model
from bows.encode import Docs
from bows.errors import ConfigError
from bows.grid import ModelSpec
from bows.metrics.subspace import principal_subspaces, save_subspace, window_moments
from bows.model import load_weights
from bows.windows import Windows


def _docs(rows, V):
    indptr = np.zeros(len(rows) + 1, dtype=np.int64)
    indptr[1:] = np.cumsum([len(r) for r in rows])
    return Docs(indptr, np.array([j for r in rows for j in r], dtype=np.uint16), V)


def _hand_subspace():
    # windows (1,1,0), (1,1,0), (0,0,1), (0,0,1): mean ½·1, covariance v vᵀ with v = (½, ½, −½): rank one, top
    # eigenvector u = (1, 1, −1)/√3 (eigenvalue ¾)
    X = np.array([[1, 1, 0], [1, 1, 0], [0, 0, 1], [0, 0, 1]], dtype=np.float32)
    rows, cols = np.nonzero(X)
    batch = (np.array([0, 2, 4, 5, 6]), cols.astype(np.int64), X[rows, cols])
    M, mu, _ = window_moments([batch], 3)
    return principal_subspaces(M, mu, 1), X


def test_pca_model_is_the_top_covariance_eigenvector_of_a_hand_made_matrix():
    table, X = _hand_subspace()
    W, b = pca_weights(table, 1)
    u = np.array([1, 1, -1]) / np.sqrt(3)
    np.testing.assert_allclose(W[0], u, atol=1e-6)  # sign: the largest-magnitude entry (first of equals) positive
    # b = (I − u uᵀ) μ with μ = ½·1 and u·μ = ½/√3: b = (⅓, ⅓, ⅔)
    np.testing.assert_allclose(b, [1 / 3, 1 / 3, 2 / 3], atol=1e-6)
    # the rank-one affine reconstruction is exact on these windows
    np.testing.assert_allclose(X @ W.T @ W + b, X, atol=1e-6)


def test_pca_model_file_loads_like_a_trained_model(tmp_path):
    table, _ = _hand_subspace()
    save_subspace(tmp_path / "subspace.npz", table, 4)
    spec = ModelSpec("pca", 1, 0.0, 1)
    rec = write_pca_model(tmp_path / "subspace.npz", tmp_path / "model.safetensors", tmp_path / "run.json", spec)
    W, b = load_weights(tmp_path / "model.safetensors")
    np.testing.assert_allclose(W[0], np.array([1, 1, -1]) / np.sqrt(3), atol=1e-6)
    assert rec["model"]["variant"] == "pca" and rec["subspace_windows"] == 4 and rec["exposure"] is None
    assert rec["model"]["latent"] == 1 and rec["model"]["weight_decay"] == 0.0 and rec["model"]["seed"] == 1
    with pytest.raises(ConfigError, match="cannot write a 'relu' model"):
        write_pca_model(
            tmp_path / "subspace.npz", tmp_path / "relu.pt", tmp_path / "relu.json", ModelSpec("relu", 1, 0.0, 1)
        )
    assert not (tmp_path / "relu.pt").exists() and not (tmp_path / "relu.json").exists()


def test_count_windows_against_brute_force():
    rng = np.random.default_rng(0)
    V, G = 12, 4
    rows = [sorted(set(rng.integers(0, V, size=rng.integers(0, 6)).tolist())) for _ in range(30)]
    win = Windows(_docs(rows, V), G, 2)
    idx = np.arange(len(win))
    offsets, cols, vals = win.batch_counts(idx)
    for k, w in enumerate(idx):
        brute = Counter(j for r in rows[2 * w : 2 * w + G] for j in r)
        got = dict(zip(cols[offsets[k] : offsets[k + 1]].tolist(), vals[offsets[k] : offsets[k + 1]].tolist()))
        assert got == {j: float(c) for j, c in brute.items()}
        assert list(cols[offsets[k] : offsets[k + 1]]) == sorted(brute)
    b_off, b_cols, b_vals = win.batch_values(idx, "binary")
    u_off, u_cols = win.batch_csr(idx)
    assert np.array_equal(b_off, u_off) and np.array_equal(b_cols, u_cols) and (b_vals == 1).all()
    assert np.array_equal(b_off, offsets) and np.array_equal(b_cols, cols)  # same support as the binary union


def test_counts_training_minimises_the_dense_loss():
    from bows.batches import TrainData, build_batch
    from bows.grid import ModelSpec
    from bows.model import reference_loss
    from bows.train import Trainer
    from bows.train_settings import TrainSettings

    rng = np.random.default_rng(1)
    V = 10
    rows = [sorted(set(rng.integers(0, V, size=3).tolist())) for _ in range(40)]
    win = Windows(_docs(rows, V), 3, 1)
    s = TrainSettings.default(epochs=3, batch_size=8, progress=False, lr=1e-2)
    data = TrainData(win, V, np.arange(len(win)), np.arange(5), encoding="counts")
    tr = Trainer(data, ModelSpec("relu", 4, 0.0, 1), s)
    batch = build_batch(win, np.arange(len(win)), V, encoding="counts")
    assert batch.x.max() > 1  # counts, not a multi-hot
    with torch.no_grad():
        before = float(reference_loss(tr.model.W, tr.model.b, batch.x))
    tr.run()
    with torch.no_grad():
        after = float(reference_loss(tr.model.W, tr.model.b, batch.x))
    assert after < before
    # the held-out loss is the plain formula's mean over the held-out windows (the first five)
    held = build_batch(win, np.arange(5), V, encoding="counts")
    with torch.no_grad():
        expect = float(reference_loss(tr.model.W, tr.model.b, held.x))
    assert tr.history.heldout_loss[-1] == pytest.approx(expect, rel=1e-5)
