"""Alignment measures (bows.metrics.alignment) on inputs whose answer is known without the code."""

from __future__ import annotations

import numpy as np
import pytest
from bows.metrics.alignment import (
    align,
    dissimilarity,
    linear_cka,
    mantel_rsa,
    partial_correlation,
    procrustes_distance,
    rsa,
)
from scipy import stats


def _orthogonal(d: int, rng: np.random.Generator) -> np.ndarray:
    q, r = np.linalg.qr(rng.normal(size=(d, d)))
    return q * np.sign(np.diag(r))


def test_cka_is_one_for_a_rotated_translated_scaled_copy():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 6))
    Y = 3.5 * X @ _orthogonal(6, rng) + rng.normal(size=6)  # XQ + c, scaled
    assert linear_cka(X, Y) == pytest.approx(1.0, abs=1e-12)
    # wider copy: zero-padded columns change nothing
    assert linear_cka(X, np.hstack([X, np.zeros((20, 3))])) == pytest.approx(1.0, abs=1e-12)


def test_cka_against_the_feature_space_formula():
    """‖ỸᵀX̃‖²_F / (‖X̃ᵀX̃‖_F ‖ỸᵀỸ‖_F) (Kornblith et al., eq. 5), computed independently of the Gram form."""
    rng = np.random.default_rng(1)
    X, Y = rng.normal(size=(15, 4)), rng.normal(size=(15, 7))
    Xc, Yc = X - X.mean(0), Y - Y.mean(0)
    expected = np.linalg.norm(Yc.T @ Xc) ** 2 / (np.linalg.norm(Xc.T @ Xc) * np.linalg.norm(Yc.T @ Yc))
    assert linear_cka(X, Y) == pytest.approx(expected, rel=1e-12)


def test_procrustes_is_zero_for_a_rotated_scaled_copy_and_matches_brute_force_otherwise():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(10, 5))
    Y = 0.2 * X @ _orthogonal(5, rng) - 4.0
    assert procrustes_distance(X, Y) == pytest.approx(0.0, abs=1e-6)
    # two different planar configurations: minimise over every rotation and reflection on a fine grid
    A, B = rng.normal(size=(6, 2)), rng.normal(size=(6, 2))
    At = (A - A.mean(0)) / np.linalg.norm(A - A.mean(0))
    Bt = (B - B.mean(0)) / np.linalg.norm(B - B.mean(0))
    best = np.inf
    for theta in np.linspace(0, 2 * np.pi, 20001):
        c, s = np.cos(theta), np.sin(theta)
        for R in (np.array([[c, -s], [s, c]]), np.array([[c, s], [s, -c]])):
            best = min(best, np.linalg.norm(At - Bt @ R) / np.sqrt(2))
    assert procrustes_distance(A, B) == pytest.approx(best, abs=1e-6)
    assert 0 < procrustes_distance(A, B) < 1


def test_rsa_is_one_for_identical_geometries_and_monotone_transforms():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(12, 8))
    D = dissimilarity(X)
    assert rsa(D, D) == pytest.approx(1.0)
    assert rsa(D, np.exp(3 * D)) == pytest.approx(1.0)  # ranks only
    assert rsa(D, -D) == pytest.approx(-1.0)


def test_mantel_p_sits_at_its_floor_for_identical_geometries():
    rng = np.random.default_rng(4)
    for n in (12, 7):
        X = rng.normal(size=(n, 5))
        res = align(X, dissimilarity(X), [X], None, n_perm=499, seed=0)
        assert res.rsa[0].value == pytest.approx(1.0)
        assert res.rsa[0].p == pytest.approx(1 / 500)
        assert res.cka[0].p == pytest.approx(1 / 500)


def test_mantel_p_is_roughly_uniform_for_unrelated_geometries():
    """Over 300 seeds of independent random 12-word geometries: p is uniform (KS test), ~5 % of p ≤ 0.05."""
    ps = []
    for seed in range(300):
        rng = np.random.default_rng(1000 + seed)
        X, Y = rng.normal(size=(12, 6)), rng.normal(size=(12, 6))
        ps.append(mantel_rsa(dissimilarity(X), dissimilarity(Y), n_perm=199, seed=seed).p)
    ps = np.array(ps)
    assert stats.kstest(ps, "uniform").pvalue > 0.001
    assert 0.01 < np.mean(ps <= 0.05) < 0.10


def test_align_batches_match_one_layer_at_a_time():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(12, 4))
    layers = [X + 0.3 * rng.normal(size=X.shape), rng.normal(size=(12, 9))]
    Z = dissimilarity(rng.normal(size=(12, 3)))
    both = align(X, dissimilarity(X), layers, Z, n_perm=99, seed=7)
    for k, Y in enumerate(layers):
        one = align(X, dissimilarity(X), [Y], Z, n_perm=99, seed=7)
        assert one.rsa[0].value == pytest.approx(both.rsa[k].value)
        assert one.rsa[0].p == pytest.approx(both.rsa[k].p)
        assert one.partial[0].p == pytest.approx(both.partial[k].p)
        assert one.cka[0].value == pytest.approx(linear_cka(X, Y))
        assert both.rsa[k].value == pytest.approx(rsa(dissimilarity(X), dissimilarity(Y)))


def _stacked(*blocks: np.ndarray) -> np.ndarray:
    return np.hstack([b / np.linalg.norm(b, axis=1, keepdims=True) for b in blocks])


def test_partial_rsa_recovers_a_planted_dependence_beyond_the_control():
    """X and Y share a component U beyond the control Z: partial RSA is clearly positive and significant."""
    rng = np.random.default_rng(6)
    n = 30
    Zv, U = rng.normal(size=(n, 5)), rng.normal(size=(n, 5))
    X = _stacked(Zv, U, 0.3 * rng.normal(size=(n, 5)))
    Y = _stacked(Zv, U, 0.3 * rng.normal(size=(n, 5)))
    res = align(X, dissimilarity(X), [Y], dissimilarity(Zv), n_perm=499, seed=1)
    assert res.partial[0].value > 0.4
    assert res.partial[0].p <= 0.01


def test_partial_rsa_is_near_zero_when_the_model_equals_the_control():
    """X is the control up to a little noise: RSA with Y is high, the partial RSA given the control is ≈ 0."""
    rng = np.random.default_rng(7)
    n = 30
    Zv = rng.normal(size=(n, 5))
    X = Zv + 0.05 * rng.normal(size=(n, 5))
    Y = _stacked(Zv, rng.normal(size=(n, 5)))
    res = align(X, dissimilarity(X), [Y], dissimilarity(Zv), n_perm=499, seed=1)
    assert res.rsa[0].value > 0.5
    assert abs(res.partial[0].value) < 0.15
    assert res.partial[0].p > 0.05
    # exactly the control: nothing is left to explain
    assert np.isnan(partial_correlation(0.7, 1.0, 0.7))
    assert partial_correlation(0.5, 0.0, 0.0) == pytest.approx(0.5)


def test_partial_rsa_is_the_residual_correlation():
    """The observed partial RSA equals the Pearson correlation of the rank residuals on the control."""
    from bows.metrics.alignment import rank_vector

    rng = np.random.default_rng(8)
    X, Y, Z = (rng.normal(size=(14, 4)) for _ in range(3))
    a, b, z = (rank_vector(dissimilarity(M)) for M in (X, Y, Z))
    ea, eb = a - (a @ z) * z, b - (b @ z) * z
    expected = ea @ eb / (np.linalg.norm(ea) * np.linalg.norm(eb))
    res = align(X, dissimilarity(X), [Y], dissimilarity(Z), n_perm=19, seed=0)
    assert res.partial[0].value == pytest.approx(expected)
