"""Geometry of a set of feature vectors: Gram matrices, PCA, rings, circularity and their null baselines.

Conventions: ``E`` holds one feature vector per **row** (E = Wᵀ, row i = w_i). PCA is centred (as sklearn), with a
deterministic sign (the largest-|loading| coordinate of each axis is positive).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "gram",
    "cosine",
    "cosine_from_gram",
    "offdiag_norm",
    "mean_abs_offdiag",
    "pca",
    "PCAResult",
    "ring_angles",
    "unit_ring_angles",
    "adjacent_pairs",
    "winding_number",
    "order_agreement",
    "circulant_fit",
    "distance_profile",
    "permutations",
    "order_agreement_null",
    "circulant_fit_null",
    "adjacent_vs_opposite",
    "circular_distance",
]


def gram(E: np.ndarray) -> np.ndarray:
    """G = E Eᵀ (raw dot products, float64)."""
    E = np.asarray(E, dtype=np.float64)
    return E @ E.T


DEAD_NORM = 1e-12  # a row this short has no direction (cosine's default ``eps``)


def has_vector(E: np.ndarray) -> np.ndarray:
    """Rows of E that are finite and longer than :data:`DEAD_NORM` (the others have no direction)."""
    E = np.asarray(E, dtype=np.float64)
    return np.isfinite(E).all(axis=1) & (np.linalg.norm(np.nan_to_num(E), axis=1) > DEAD_NORM)


def cosine(E: np.ndarray, eps: float = 1e-12, dead: float = np.nan) -> np.ndarray:
    """C_ij = ⟨w_i, w_j⟩ / (‖w_i‖‖w_j‖) of the rows of E; the rows and columns of a dead row (norm ≤ eps) are
    ``dead`` (NaN by default: a dead word has no direction, and NaN keeps it out of every nan-aware summary)."""
    E = np.asarray(E, dtype=np.float64)
    n = np.linalg.norm(E, axis=1)
    alive = n > eps
    with np.errstate(invalid="ignore", divide="ignore"):
        En = E / np.where(alive, n, np.nan)[:, None]
    C = En @ En.T
    if not np.isnan(dead):
        C[~alive, :] = dead
        C[:, ~alive] = dead
    return C


def cosine_from_gram(G: np.ndarray, min_norm: float = 1e-6, dead: float = 0.0) -> np.ndarray:
    """C_ij = G_ij / √(G_ii G_jj) from a Gram matrix G = WᵀW; features with ‖w_i‖ ≤ ``min_norm``·max‖w‖ are dead: their
    rows and columns are ``dead`` (0 by default: a dead feature interferes with nothing), the diagonal is 1.
    The same quantity as :func:`cosine` of the feature vectors, computed from G (the synthetic models' metrics)."""
    G = np.asarray(G, dtype=np.float64)
    d = np.sqrt(np.clip(np.diag(G), 0.0, None))
    alive = d > min_norm * max(d.max(), 1e-12)
    inv = np.where(alive, 1.0 / np.where(alive, d, 1.0), 0.0)
    C = G * inv[:, None] * inv[None, :]
    if dead != 0.0:
        C[~alive, :] = dead
        C[:, ~alive] = dead
    np.fill_diagonal(C, 1.0)
    return C


def offdiag_norm(G: np.ndarray) -> float:
    """‖G − diag(G)‖_F (paper §6.4)."""
    G = np.asarray(G, dtype=np.float64)
    return float(np.sqrt(np.nansum(G**2) - np.nansum(np.diag(G) ** 2)))


def mean_abs_offdiag(C: np.ndarray) -> float:
    """Mean |C_ij| over i ≠ j."""
    n = C.shape[0]
    if n < 2:
        return float("nan")
    mask = ~np.eye(n, dtype=bool)
    return float(np.nanmean(np.abs(C[mask])))


@dataclass
class PCAResult:
    scores: np.ndarray  # [n, k]
    components: np.ndarray  # [k, d]
    mean: np.ndarray  # [d]
    explained_variance_ratio: np.ndarray  # [k]

    def transform(self, X: np.ndarray) -> np.ndarray:
        return (np.asarray(X, dtype=np.float64) - self.mean) @ self.components.T


def pca(X: np.ndarray, k: int = 2, center: bool = True) -> PCAResult:
    """Principal components of the rows of X via SVD. Missing components (rank < k) are zero-filled."""
    X = np.asarray(X, dtype=np.float64)
    mu = X.mean(axis=0) if center else np.zeros(X.shape[1])
    Xc = X - mu
    _, s, Vt = np.linalg.svd(Xc, full_matrices=False)
    comps = np.zeros((k, X.shape[1]))
    r = min(k, Vt.shape[0])
    comps[:r] = Vt[:r]
    for a in range(r):  # deterministic sign
        j = int(np.argmax(np.abs(comps[a])))
        if comps[a, j] < 0:
            comps[a] = -comps[a]
    var = s**2
    total = var.sum()
    evr = np.zeros(k)
    if total > 0:
        evr[:r] = var[:r] / total
    return PCAResult(Xc @ comps.T, comps, mu, evr)


def ring_angles(P: np.ndarray) -> np.ndarray:
    """Angles (radians) of 2-D points about their centroid."""
    P = np.asarray(P, dtype=np.float64)
    c = P - P.mean(axis=0)
    return np.arctan2(c[:, 1], c[:, 0])


def unit_ring_angles(E: np.ndarray) -> np.ndarray:
    """Ring angles of a group's word vectors (rows of E) as the ring tests read them (§6.2): the angles, about their
    centroid, of the unit-length rows in their centred two-PC PCA plane (a zero row stays zero)."""
    E = np.asarray(E, dtype=np.float64)
    norms = np.linalg.norm(E, axis=1)
    return ring_angles(pca(E / np.where(norms > 1e-12, norms, 1.0)[:, None], 2).scores)


def adjacent_pairs(angles: np.ndarray) -> int:
    """Number of consecutive pairs (k, k+1 mod n) of the given order that are adjacent in the angular order."""
    n = len(angles)
    if n < 3:
        return 0
    order = np.argsort(angles, kind="stable")
    rank = np.empty(n, dtype=int)
    rank[order] = np.arange(n)
    d = np.abs(rank - np.roll(rank, -1))
    return int(np.sum((d == 1) | (d == n - 1)))


def winding_number(P: np.ndarray) -> int:
    """Winding number of the closed polygon P[0] → P[1] → … → P[0] around its centroid."""
    a = ring_angles(P)
    d = np.diff(np.concatenate([a, a[:1]]))
    d = (d + np.pi) % (2 * np.pi) - np.pi
    return int(np.round(d.sum() / (2 * np.pi)))


def order_agreement(angles: np.ndarray) -> float:
    """Agreement of the angular order of points with their list order, in [0, 1].

    With r_k = 2π·rank(θ_k)/n (rank of point k in angular order) and φ_k = 2πk/n (its position in the group),
    A = max over s ∈ {+1, −1} of |(1/n) Σ_k exp(i (r_k − s φ_k))|. A = 1 exactly when the angular order is the group
    order up to rotation and reflection; it is invariant to the spacing of the angles.
    """
    return float(_order_agreement(np.asarray(angles)[None, :])[0])


def _order_agreement(angles: np.ndarray) -> np.ndarray:
    """:func:`order_agreement` of each row of ``angles`` [P, n]."""
    P, n = angles.shape
    if n < 3 or not np.all(np.isfinite(angles)):
        return np.full(P, np.nan)
    rank = np.empty((P, n))
    np.put_along_axis(rank, np.argsort(angles, axis=1, kind="stable"), np.arange(n, dtype=float)[None, :], axis=1)
    r = 2 * np.pi * rank / n
    phi = 2 * np.pi * np.arange(n) / n
    return np.maximum(np.abs(np.exp(1j * (r - phi)).mean(1)), np.abs(np.exp(1j * (r + phi)).mean(1)))


def order_agreement_null(angles: np.ndarray, n_perm: int, seed: int = 0) -> np.ndarray:
    """:func:`order_agreement` of the angles in ``n_perm`` shuffled group orders (:func:`permutations`)."""
    angles = np.asarray(angles)
    return _order_agreement(angles[permutations(len(angles), n_perm, seed)])


def circular_distance(n: int) -> np.ndarray:
    """D_ij = min(|i−j|, n−|i−j|)."""
    i = np.arange(n)
    d = np.abs(i[:, None] - i[None, :])
    return np.minimum(d, n - d)


def distance_profile(M: np.ndarray, cyclic: bool = True) -> np.ndarray:
    """Mean of the off-diagonal entries of M at each (circular) distance k = 1..⌊n/2⌋ (or 1..n−1 if not cyclic)."""
    n = M.shape[0]
    if cyclic:
        D = circular_distance(n)
        ks = range(1, n // 2 + 1)
    else:
        D = np.abs(np.arange(n)[:, None] - np.arange(n)[None, :])
        ks = range(1, n)
    return np.array([np.nanmean(M[D == k]) for k in ks])


def circulant_fit(M: np.ndarray) -> float:
    """R² of the best circulant (function of circular distance only) fit of the off-diagonal entries of M.

    R² = 1 − Σ_{i≠j} (M_ij − m̄_{d(i,j)})² / Σ_{i≠j} (M_ij − m̄)², where m̄_d is the mean of entries at distance d.
    A constant off-diagonal (0/0: nothing to explain, e.g. orthogonal items) and non-finite entries give NaN, so
    that such a matrix never counts as a ring. The synthetic models' fit by circular offset is
    :func:`bows.synthetic.metrics.circulant_fit_by_offset`.
    """
    return float(_circulant_fit(np.asarray(M)[None])[0])


def _circulant_fit(M: np.ndarray) -> np.ndarray:
    """:func:`circulant_fit` of each matrix of ``M`` [P, n, n]."""
    P, n = M.shape[0], M.shape[1]
    if n < 4:
        return np.full(P, np.nan)
    D = circular_distance(n)
    off = D > 0
    vals = M[:, off]  # [P, m]
    if not np.all(np.isfinite(vals)):
        return np.full(P, np.nan)
    d = D[off]
    onehot = np.zeros((d.size, n // 2 + 1))
    onehot[np.arange(d.size), d] = 1.0
    means = (vals @ onehot) / np.maximum(onehot.sum(0), 1)
    ss_tot = np.sum((vals - vals.mean(1, keepdims=True)) ** 2, axis=1)
    ss_res = np.sum((vals - means[:, d]) ** 2, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(ss_tot > 0, 1 - ss_res / ss_tot, np.nan)


def circulant_fit_null(M: np.ndarray, n_perm: int, seed: int = 0) -> np.ndarray:
    """:func:`circulant_fit` of M with rows and columns in ``n_perm`` shuffled orders (:func:`permutations`)."""
    M = np.asarray(M)
    p = permutations(len(M), n_perm, seed)
    return _circulant_fit(M[p[:, :, None], p[:, None, :]])


def adjacent_vs_opposite(C: np.ndarray) -> int:
    """Number of items whose mean cosine to their two neighbours (cyclic) exceeds their cosine to the item n/2 away."""
    n = C.shape[0]
    if n < 4:
        return 0
    i = np.arange(n)
    adj = 0.5 * (C[i, (i + 1) % n] + C[i, (i - 1) % n])
    opp = C[i, (i + n // 2) % n]
    return int(np.sum(adj > opp))


def permutations(n: int, n_perm: int, seed: int = 0) -> np.ndarray:
    """[n_perm, n]: ``n_perm`` random permutations of ``range(n)``, drawn one after another from ``seed``."""
    rng = np.random.default_rng(seed)
    return np.array([rng.permutation(n) for _ in range(n_perm)], dtype=np.int64).reshape(n_perm, n)


def null_summary(observed: float, null: np.ndarray, greater: bool = True) -> dict[str, float]:
    """Mean, SD and one-sided permutation p-value (1 + #{null ≥ obs}) / (1 + N)."""
    null = null[np.isfinite(null)]
    if not np.isfinite(observed) or null.size == 0:
        return {"null_mean": float("nan"), "null_sd": float("nan"), "p": float("nan")}
    extreme = np.sum(null >= observed - 1e-12) if greater else np.sum(null <= observed + 1e-12)
    return {
        "null_mean": float(null.mean()),
        "null_sd": float(null.std(ddof=1)) if null.size > 1 else 0.0,
        "p": float((1 + extreme) / (1 + null.size)),
    }
