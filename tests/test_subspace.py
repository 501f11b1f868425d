"""Principal-subspace overlap (bows.metrics.subspace) against answers known without the code."""

from __future__ import annotations

import numpy as np
import pytest
from bows.metrics import subspace as sub


def _orthonormal(rng, V, k):
    return np.linalg.qr(rng.standard_normal((V, k)))[0]


def test_w_spanning_the_top_eigenvectors_has_overlap_one():
    rng = np.random.default_rng(0)
    U = _orthonormal(rng, 60, 10)
    W = rng.standard_normal((10, 10)) @ U.T  # rows: any invertible mix of the 10 eigenvectors
    assert sub.overlap(W, U) == pytest.approx(1.0, abs=1e-10)
    assert sub.excess(1.0, 10, 60) == pytest.approx(1.0)


def test_w_orthogonal_to_the_subspace_has_overlap_zero():
    rng = np.random.default_rng(1)
    Q = _orthonormal(rng, 50, 20)
    assert sub.overlap(Q[:, 10:].T, Q[:, :10]) == pytest.approx(0.0, abs=1e-12)


def test_random_w_has_overlap_l_over_v():
    # For a random L-dim row space tr(P_W P_U) has mean L²/V and SD ≈ √2·L/V, so the overlap has mean L/V = 0.05 and
    # SD ≈ √2/V ≈ 0.0035 at L=20, V=400; the mean of 50 draws lies within 10% of L/V (≈ 10 standard errors).
    rng = np.random.default_rng(2)
    L, V = 20, 400
    U = _orthonormal(rng, V, L)
    values = [sub.overlap(rng.standard_normal((L, V)), U) for _ in range(50)]
    assert np.mean(values) == pytest.approx(L / V, rel=0.1)
    assert sub.random_baseline(L, V) == L / V
    assert sub.excess(L / V, L, V) == 0.0


def _csr_batches(X, size=7):
    for s in range(0, X.shape[0], size):
        block = X[s : s + size]
        offsets = np.concatenate([[0], np.cumsum((block != 0).sum(1))]).astype(np.int64)
        rows, cols = np.nonzero(block)
        yield offsets, cols.astype(np.int64), block[rows, cols].astype(np.float32)


def test_window_moments_of_a_hand_made_matrix():
    X = np.array([[1, 1, 0], [1, 1, 0], [0, 0, 1], [0, 0, 1]], dtype=float)
    M, mu, n = sub.window_moments(_csr_batches(X, size=3), 3)
    assert n == 4
    np.testing.assert_allclose(M, [[0.5, 0.5, 0], [0.5, 0.5, 0], [0, 0, 0.5]])
    np.testing.assert_allclose(mu, [0.5, 0.5, 0.5])
    out = sub.principal_subspaces(M, mu, 1)
    # M = ½ [[1,1,0],[1,1,0],[0,0,1]]: top eigenvalue 1 with (1,1,0)/√2; covariance = v vᵀ with v = (½,½,−½)
    assert out["moment_values"][0] == pytest.approx(1.0)
    np.testing.assert_allclose(np.abs(out["moment_vectors"][:, 0]), np.array([1, 1, 0]) / np.sqrt(2), atol=1e-12)
    assert out["cov_values"][0] == pytest.approx(0.75)
    np.testing.assert_allclose(np.abs(out["cov_vectors"][:, 0]), np.ones(3) / np.sqrt(3), atol=1e-12)


def _planted(rng, n=3000, V=80, k=5):
    """Windows whose covariance is U diag(25..5) Uᵀ + 0.01 I: the top-k subspace is U."""
    U = _orthonormal(rng, V, k)
    Z = rng.standard_normal((n, k)) * np.sqrt(np.linspace(25, 5, k))
    return Z @ U.T + 0.1 * rng.standard_normal((n, V)) + 3.0, U


def test_planted_low_rank_subspace_is_recovered_exactly_and_randomised():
    rng = np.random.default_rng(3)
    X, U = _planted(rng)
    M, mu, _ = sub.window_moments(_csr_batches(X, size=512), X.shape[1])
    out = sub.principal_subspaces(M.copy(), mu, 5)  # (it centres M in place)
    assert sub.overlap(U.T, out["cov_vectors"]) > 0.99
    vals, vecs = sub.randomized_eigh(M - np.outer(mu, mu), 5, seed=0)
    assert sub.overlap(U.T, vecs) > 0.99
    np.testing.assert_allclose(vals, out["cov_values"], rtol=1e-3)
    # the uncentred second moment is dominated by the mean direction (all entries 3): its top vector is ≈ 1/√V
    top = out["moment_vectors"][:, 0]
    assert abs(top @ np.ones(80) / np.sqrt(80)) > 0.99


def test_gram_kernel_matches_its_reference():
    from bows import kernels

    rng = np.random.default_rng(4)
    X = (rng.random((40, 30)) < 0.2) * rng.integers(1, 4, (40, 30))
    offsets, cols, vals = next(_csr_batches(X, size=40))
    A, B = np.zeros((30, 30)), np.zeros((30, 30))
    kernels.gram_add(offsets, cols, vals, A)
    kernels.gram_add_reference(offsets, cols, vals, B)
    np.testing.assert_allclose(A, B)
    np.testing.assert_allclose(np.triu(X.T @ X), A)


def test_subspace_metrics_beyond_the_computed_eigenvectors_are_nan_with_a_status():
    rng = np.random.default_rng(5)
    table = {"moment_vectors": _orthonormal(rng, 30, 4), "cov_vectors": _orthonormal(rng, 30, 4)}
    values, status = sub.subspace_metrics(rng.standard_normal((6, 30)), table)
    assert np.isnan(values["overlap_cov"]) and "exceeds" in status
    assert values["random_baseline"] == pytest.approx(6 / 30)
    values, status = sub.subspace_metrics(table["cov_vectors"][:, :3].T * 2.0, table)
    assert status == "ok" and values["overlap_cov"] == pytest.approx(1.0)
    assert values["frob2_per_latent"] == pytest.approx(4.0)  # rows of norm 2
