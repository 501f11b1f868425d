"""Geometry of a trained synthetic model's feature vectors (the columns w_i of W ∈ ℝ^{m×F}).

All functions take plain numpy arrays. G denotes the Gram matrix WᵀW (G_ij = ⟨w_i, w_j⟩), Ĝ = G / tr(G) its
trace-normalised version (what the Gram-grid figure shows), and C the cosine matrix C_ij = G_ij / (‖w_i‖‖w_j‖).
"""

from __future__ import annotations

import numpy as np

from ..metrics.geometry import cosine_from_gram

__all__ = [
    "normalized_gram",
    "offdiag_corr",
    "circulant_projection",
    "circulant_fit_by_offset",
    "antipodal_score",
    "partner_cov_percentile",
    "top_eigen_share",
    "pca_overlap",
    "synthetic_model_metrics",
    "METRIC_NAMES",
]

_TINY = 1e-12


def normalized_gram(W: np.ndarray) -> np.ndarray:
    """Ĝ = WᵀW / tr(WᵀW) = (W/‖W‖_F)ᵀ(W/‖W‖_F), [F, F]; all zeros when W = 0."""
    W = np.asarray(W, dtype=np.float64)
    G = W.T @ W
    tr = np.trace(G)
    return G / tr if tr > _TINY else np.zeros_like(G)


def _offdiag(A: np.ndarray) -> np.ndarray:
    iu = np.triu_indices(A.shape[0], k=1)
    return np.asarray(A)[iu]


def offdiag_corr(G: np.ndarray, cov: np.ndarray) -> float:
    """Pearson correlation between the off-diagonal (i < j) entries of G and of the data covariance (NaN if either
    is constant): 1 when the features are arranged exactly by their co-activation pattern."""
    a, b = _offdiag(G), _offdiag(cov)
    if a.std() < _TINY or b.std() < _TINY:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


def circulant_projection(G: np.ndarray) -> np.ndarray:
    """The nearest circulant matrix (Frobenius): c_k = mean_i G_{i,(i+k) mod F}, placed on every circular diagonal."""
    G = np.asarray(G, dtype=np.float64)
    F = G.shape[0]
    i = np.arange(F)
    k = (i[None, :] - i[:, None]) % F  # circular offset of entry (i, j)
    c = np.bincount(k.ravel(), weights=G.ravel(), minlength=F) / F
    return c[k]


def circulant_fit_by_offset(G: np.ndarray) -> float:
    """Share of the off-diagonal variation of G explained by the circular offset (j − i) mod F:

        1 − Σ_{i≠j} (G_ij − c_{(j−i) mod F})² / Σ_{i≠j} (G_ij − ḡ)²,

    with ḡ the mean off-diagonal entry. 1 for any circulant matrix (a ring in feature order, and the identity, whose
    off-diagonal is constant); near 0 when the off-diagonal structure ignores the ring order (e.g. antipodal pairs
    of non-opposite features). Depends on the feature order, so it is meaningful for the circular structure.

    Differs from :func:`bows.metrics.geometry.circulant_fit`, which groups entries by circular *distance*
    min(|i − j|, F − |i − j|) (a symmetric ring) and gives NaN for a constant off-diagonal: here entries are
    grouped by *offset* (j − i) mod F (any circulant, symmetric or not) and a constant off-diagonal, which every
    circulant fits exactly, gives 1.0 (the synthetic summaries and figures rely on this value).
    """
    G = np.asarray(G, dtype=np.float64)
    F = G.shape[0]
    off = ~np.eye(F, dtype=bool)
    resid = ((G - circulant_projection(G))[off] ** 2).sum()
    total = ((G[off] - G[off].mean()) ** 2).sum()
    scale = (G**2).sum()
    if total <= 1e-12 * max(scale, _TINY):
        return 1.0
    return float(1.0 - resid / total)


def antipodal_score(G: np.ndarray, min_norm: float = 1e-6) -> float:
    """How much each feature's interference is one antipodal partner, averaged over live features:

        s_i = max(0, −C_ij*) · C_ij*² / Σ_{j≠i} C_ij²,   j* = argmin_{j≠i} C_ij.

    1 for exact antipodal pairs with the rest orthogonal; 0 for orthogonal features (identity Gram); small for a
    ring, whose interference is spread over its neighbours (a planar ring of 12 features: 1/5). Dead features
    (‖w_i‖ ≈ 0) are left out; 0 if fewer than two are alive.
    """
    G = np.asarray(G, dtype=np.float64)
    d = np.sqrt(np.clip(np.diag(G), 0.0, None))
    alive = d > min_norm * max(d.max(), _TINY)
    if alive.sum() < 2:
        return 0.0
    C = cosine_from_gram(G, min_norm)[np.ix_(alive, alive)]
    np.fill_diagonal(C, np.inf)
    j = C.argmin(1)
    cmin = C[np.arange(len(C)), j]
    np.fill_diagonal(C, 0.0)
    energy = (C**2).sum(1)
    s = np.where(energy > _TINY, np.maximum(0.0, -cmin) * cmin**2 / np.where(energy > _TINY, energy, 1.0), 0.0)
    return float(s.mean())


def partner_cov_percentile(G: np.ndarray, cov: np.ndarray, pair_cos: float = -0.5, min_norm: float = 1e-6) -> float:
    """Where a feature's antipodal partner sits among its data covariances, averaged over the paired features:

        q_i = #{j ∉ {i, j*} : cov_ij < cov_ij*} / (F − 2),   j* = argmin_{j≠i, alive} cos(w_i, w_j),

    over live features i with cos(w_i, w_j*) ≤ ``pair_cos``. 0 when every partner is the feature least co-active
    with i in the data (the correlation mechanism: anti-correlated features share a direction), about ½ when partners
    ignore the data (chance), 1 when they are the most co-active. NaN when no feature has a partner.
    """
    G = np.asarray(G, dtype=np.float64)
    cov = np.asarray(cov, dtype=np.float64)
    F = G.shape[0]
    if F < 3:
        return float("nan")
    d = np.sqrt(np.clip(np.diag(G), 0.0, None))
    alive = d > min_norm * max(d.max(), _TINY)
    C = cosine_from_gram(G, min_norm)
    C[~alive, :] = np.inf
    C[:, ~alive] = np.inf
    np.fill_diagonal(C, np.inf)
    q = []
    for i in np.flatnonzero(alive):
        j = int(C[i].argmin())
        if not C[i, j] <= pair_cos:
            continue
        others = np.ones(F, dtype=bool)
        others[[i, j]] = False
        q.append(float((cov[i, others] < cov[i, j]).sum()) / (F - 2))
    return float(np.mean(q)) if q else float("nan")


def top_eigen_share(G: np.ndarray, k: int = 2) -> float:
    """(λ₁ + … + λ_k) / Σλ of G (λ sorted descending; the squared singular values of W). 1 for a planar ring."""
    lam = np.clip(np.linalg.eigvalsh(np.asarray(G, dtype=np.float64)), 0.0, None)[::-1]
    total = lam.sum()
    return float(lam[:k].sum() / total) if total > _TINY else float("nan")


def pca_overlap(W: np.ndarray, cov: np.ndarray) -> float:
    """tr(P_W P_m) / m: overlap of W's row space (rank m) with the top-m eigenvectors of the data covariance.

    1 when the model spans exactly the principal subspace (the optimal linear autoencoder with a bias), m/F in
    expectation for a random subspace.
    """
    W = np.asarray(W, dtype=np.float64)
    m = W.shape[0]
    u, s, vt = np.linalg.svd(W, full_matrices=False)
    rank = int((s > 1e-6 * max(s.max(initial=0.0), _TINY)).sum())
    if rank == 0:
        return 0.0
    Q = vt[:rank].T  # [F, rank] orthonormal basis of the row space
    lam, vec = np.linalg.eigh(np.asarray(cov, dtype=np.float64))
    top = vec[:, np.argsort(lam)[::-1][:m]]
    return float(np.sum((Q.T @ top) ** 2) / m)


METRIC_NAMES = (
    "cov_corr",
    "circulant_fit",
    "antipodal_score",
    "partner_cov_percentile",
    "partner_cov_percentile_heldout",
    "top2_share",
    "pca_overlap",
    "frob_sq_per_m",
    "frob_sq",
    "mean_feature_norm",
    "features_represented",
    "bias_mean",
    "bias_min",
    "train_mse",
    "val_mse",
    "final_train_loss",
)


def synthetic_model_metrics(
    W: np.ndarray, b: np.ndarray, cov: np.ndarray, cov_heldout: np.ndarray | None = None
) -> dict[str, float]:
    """Every geometry metric of one model: W [m, F] (unpadded), b [F], cov [F, F] (the data covariance), and
    ``cov_heldout`` the covariance of samples the model never trained on: ``partner_cov_percentile_heldout`` reads
    the antipodal partners off it, so a model that pairs features by the noise of its training sample scores about
    ½ there, one that follows the data's correlation structure stays near 0.

    ``frob_sq_per_m`` = ‖W‖_F²/m (1 for a rank-m orthogonal projector WᵀW; a ReLU model keeping every feature at
    unit norm needs ‖W‖_F² ≈ F, i.e. F/m); ``features_represented`` = #{i : ‖w_i‖² > ½}.
    """
    W = np.asarray(W, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    m = W.shape[0]
    G = W.T @ W
    Gn = normalized_gram(W)
    norms_sq = np.diag(G)
    return {
        "cov_corr": offdiag_corr(Gn, cov),
        "circulant_fit": circulant_fit_by_offset(Gn),
        "antipodal_score": antipodal_score(G),
        "partner_cov_percentile": partner_cov_percentile(G, cov),
        "top2_share": top_eigen_share(G, 2),
        "pca_overlap": pca_overlap(W, cov),
        "frob_sq_per_m": float(np.trace(G) / m),
        "frob_sq": float(np.trace(G)),
        "mean_feature_norm": float(np.sqrt(norms_sq).mean()),
        "features_represented": float((norms_sq > 0.5).sum()),
        "bias_mean": float(b.mean()),
        "bias_min": float(b.min()),
        **({} if cov_heldout is None else {"partner_cov_percentile_heldout": partner_cov_percentile(G, cov_heldout)}),
    }
