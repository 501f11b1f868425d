"""Alignment of two representations of the same words: RSA, linear CKA, Procrustes, partial RSA, permutation nulls.

For n words with vectors X [n, d₁] and Y [n, d₂] (rows: the same words in the same order):

- **RSA**: Spearman ρ between the upper triangles of the dissimilarity matrices D = 1 − cos (``geometry.cosine``);
  Spearman is :func:`bows.metrics.correlation.spearman_upper` (ties within rounding noise share their rank). A
  geometry given as a dissimilarity matrix directly (the unigram control |log f_i − log f_j|) enters as it is.
- **Mantel p** of RSA: the words of one side are relabelled by P sampled permutations (rows and columns together);
  p = (1 + #{ρ_perm ≥ ρ}) / (1 + P), so its floor is 1/(1 + P). With 12 or 7 words (12! and 7! orderings) sampled
  permutations, never all of them.
- **Linear CKA** (Kornblith et al. 2019): with K = X̃X̃ᵀ, L = ỸỸᵀ of the column-centred matrices,
  CKA = ⟨K, L⟩_F / (‖K‖_F ‖L‖_F); invariant to rotations, isotropic scaling and translations of either side. Its
  null relabels one side as RSA's does.
- **Procrustes distance**: both sides centred and scaled to unit Frobenius norm (the narrower one padded with zero
  columns), d = min over orthogonal Q of ‖X̃ − ỸQ‖_F / √2 = √(1 − ‖X̃ᵀỸ‖_*) ∈ [0, 1]; 0 for a rotated, scaled,
  translated copy.
- **Partial RSA** of X and Y controlling for Z: the partial correlation of the three rank vectors,
  (ρ_xy − ρ_xz ρ_yz) / √((1 − ρ_xz²)(1 − ρ_yz²)), i.e. the correlation of the residuals e_x, e_y of X's and Y's
  rank vectors after their least-squares fit on Z's. Its null relabels the words of X's residual matrix (Smouse,
  Long & Sokal 1986): what X shares with Z stays in place, so the test asks whether the rest of X's geometry follows
  Y's rest. Only the part of Z's geometry that is linear in ranks is removed: a non-linear function of Z that both
  X and Y carry still counts as shared (docs/references.md).

Batched: one relabelling of X serves every layer of a reference at once (the permuted rank vectors times the
matrix of every layer's rank vectors).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .correlation import spearman_upper, tied_ranks, upper
from .geometry import cosine

__all__ = [
    "dissimilarity",
    "rsa",
    "linear_cka",
    "procrustes_distance",
    "partial_correlation",
    "rank_vector",
    "Null",
    "AlignmentSet",
    "align",
    "mantel_rsa",
]


def dissimilarity(X: np.ndarray) -> np.ndarray:
    """D = 1 − cos of the rows of X (NaN rows and columns for a zero row)."""
    return 1.0 - cosine(X)


def rsa(D1: np.ndarray, D2: np.ndarray) -> float:
    """Spearman ρ between the upper triangles of two dissimilarity matrices."""
    return spearman_upper(D1, D2)


def _centred(X: np.ndarray) -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    if X.ndim == 1:
        X = X[:, None]
    return X - X.mean(axis=0)


def _centred_gram(X: np.ndarray) -> np.ndarray:
    Xc = _centred(X)
    return Xc @ Xc.T


def linear_cka(X: np.ndarray, Y: np.ndarray) -> float:
    """Linear CKA of two representations of the same rows (NaN when either side is constant)."""
    K, L = _centred_gram(X), _centred_gram(Y)
    nk, nl = np.linalg.norm(K), np.linalg.norm(L)
    if nk <= 0 or nl <= 0:
        return float("nan")
    return float(np.sum(K * L) / (nk * nl))


def procrustes_distance(X: np.ndarray, Y: np.ndarray) -> float:
    """Normalised orthogonal Procrustes distance √(1 − ‖X̃ᵀỸ‖_*) of the centred, unit-norm sides (see the module)."""
    return _procrustes_from_grams(_centred_gram(X), _centred_gram(Y))


def _gram_sqrt(K: np.ndarray) -> np.ndarray:
    """The PSD square root of a centred Gram matrix (n × n)."""
    w, U = np.linalg.eigh(K)
    return (U * np.sqrt(np.clip(w, 0, None))) @ U.T


def _procrustes_from_grams(K: np.ndarray, L: np.ndarray, K_sqrt: np.ndarray | None = None) -> float:
    """Procrustes distance from the centred Gram matrices K = X̃X̃ᵀ, L = ỸỸᵀ: the singular values of X̃ᵀỸ are the
    square roots of the eigenvalues of K^½ L K^½, so ‖X̃ᵀỸ‖_* needs only n × n matrices however wide X and Y are;
    dividing by √(tr K · tr L) scales both sides to unit Frobenius norm."""
    tk, tl = float(np.trace(K)), float(np.trace(L))
    if tk <= 0 or tl <= 0:
        return float("nan")
    S = _gram_sqrt(K) if K_sqrt is None else K_sqrt
    w = np.linalg.eigvalsh(S @ L @ S)
    nuclear = float(np.sqrt(np.clip(w, 0, None)).sum()) / np.sqrt(tk * tl)
    return float(np.sqrt(max(0.0, 1.0 - nuclear)))


def partial_correlation(r_xy, r_xz, r_yz):
    """Partial correlation of x and y given z from the three pairwise correlations (NaN when z explains x or y)."""
    r_xy, r_xz, r_yz = (np.asarray(a, dtype=np.float64) for a in (r_xy, r_xz, r_yz))
    den = np.sqrt(np.clip((1 - r_xz**2) * (1 - r_yz**2), 0, None))
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(den > 1e-12, (r_xy - r_xz * r_yz) / np.where(den > 1e-12, den, 1.0), np.nan)
    return out


def rank_vector(D: np.ndarray) -> np.ndarray:
    """The upper triangle of D as tied ranks, centred and scaled to unit norm (a dot product of two is their
    Spearman ρ); NaN entries are not allowed (select the words first)."""
    r = tied_ranks(upper(D))
    r = r - r.mean()
    n = np.linalg.norm(r)
    return r / n if n > 0 else np.full_like(r, np.nan)


def _rank_matrix(D: np.ndarray) -> np.ndarray:
    """The symmetric matrix whose upper triangle is :func:`rank_vector` of D (diagonal 0): relabelled by index."""
    n = D.shape[0]
    R = np.zeros((n, n))
    i, j = np.triu_indices(n, 1)
    r = rank_vector(D)
    R[i, j] = r
    R[j, i] = r
    return R


@dataclass
class Null:
    """Observed value, its permutation null's mean, SD, 2.5 % and 97.5 % quantiles, and the one-sided p."""

    value: float
    mean: float = float("nan")
    sd: float = float("nan")
    lo: float = float("nan")
    hi: float = float("nan")
    p: float = float("nan")


def _summary(observed: np.ndarray, null: np.ndarray) -> list[Null]:
    """Per column: observed[k] against null[:, k] (one-sided, greater)."""
    out = []
    for k in range(observed.shape[0]):
        obs = float(observed[k])
        v = null[:, k]
        v = v[np.isfinite(v)]
        if not np.isfinite(obs) or v.size == 0:
            out.append(Null(obs))
            continue
        out.append(
            Null(
                obs,
                float(v.mean()),
                float(v.std(ddof=1)) if v.size > 1 else 0.0,
                float(np.quantile(v, 0.025)),
                float(np.quantile(v, 0.975)),
                float((1 + np.sum(v >= obs - 1e-12)) / (1 + v.size)),
            )
        )
    return out


def _permutations(n: int, n_perm: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.array([rng.permutation(n) for _ in range(n_perm)], dtype=np.int64).reshape(n_perm, n)


@dataclass
class AlignmentSet:
    """Every measure of one object against several layers of a reference on one word set; lists per layer."""

    rsa: list[Null]
    cka: list[Null]
    procrustes: list[float]
    partial: list[Null] | None


def align(
    X: np.ndarray | None,
    DX: np.ndarray,
    layers: Sequence[np.ndarray],
    control: np.ndarray | None,
    n_perm: int,
    seed: int,
    chunk: int = 200,
) -> AlignmentSet:
    """RSA (Mantel null), CKA (null), Procrustes and partial RSA (given the dissimilarities ``control``) of one object
    against each layer matrix in ``layers`` ([n, d_l] each, rows: the same n words).

    ``X`` [n, d] is the object's vectors (None: it has only the dissimilarities ``DX``; CKA and Procrustes are then
    computed on X = DX's words' single coordinate only when given). The same ``n_perm`` relabellings of the object
    (seeded) give every null.
    """
    n = DX.shape[0]
    Ys = [np.asarray(Y, dtype=np.float64) for Y in layers]
    B = np.stack([rank_vector(dissimilarity(Y)) for Y in Ys], axis=1)  # [pairs, layers]
    RX = _rank_matrix(DX)
    a = upper(RX)
    rsa_obs = a @ B
    i, j = np.triu_indices(n, 1)
    chunk = max(1, min(chunk, 4_000_000 // max(n * n, 1)))
    perms = _permutations(n, n_perm, seed)
    rsa_null = np.empty((n_perm, B.shape[1]))
    z = rank_vector(control) if control is not None else None
    partial_null = np.empty((n_perm, B.shape[1])) if z is not None else None
    if z is not None:  # residuals on the control, as matrices (X's relabelled) and unit columns (Y's layers)
        ex = a - (a @ z) * z
        EX = np.zeros((n, n))
        EX[i, j] = ex
        EX[j, i] = ex
        EY = B - np.outer(z, z @ B)
        ny = np.linalg.norm(EY, axis=0)
        EY = EY / np.where(ny > 1e-12, ny, np.nan)
        nx = np.linalg.norm(ex)
    have_x = X is not None
    if have_x:
        K0 = _centred_gram(X)
        L0 = [_centred_gram(Y) for Y in Ys]
        K = K0 / (np.linalg.norm(K0) or 1.0)
        Ls = np.stack([L.ravel() for L in L0], axis=1)  # [n², layers]
        Ls /= np.where(np.linalg.norm(Ls, axis=0) > 0, np.linalg.norm(Ls, axis=0), np.nan)
        cka_obs = K.ravel() @ Ls
        cka_null = np.empty((n_perm, B.shape[1]))
    for c0 in range(0, n_perm, chunk):
        p = perms[c0 : c0 + chunk]
        ap = RX[p[:, i], p[:, j]]  # [chunk, pairs]: the object's rank vector, relabelled
        rsa_null[c0 : c0 + len(p)] = ap @ B
        if z is not None:
            partial_null[c0 : c0 + len(p)] = (EX[p[:, i], p[:, j]] @ EY) / (nx if nx > 1e-12 else np.nan)
        if have_x:
            kp = K[p[:, :, None], p[:, None, :]].reshape(len(p), -1)
            cka_null[c0 : c0 + len(p)] = kp @ Ls
    partial = None
    if z is not None:
        obs = partial_correlation(rsa_obs, float(a @ z), z @ B)
        partial = _summary(obs, partial_null)
    if have_x:
        cka = _summary(cka_obs, cka_null)
        K_sqrt = _gram_sqrt(K0)
        proc = [_procrustes_from_grams(K0, L, K_sqrt) for L in L0]
    else:
        cka = [Null(float("nan")) for _ in Ys]
        proc = [float("nan") for _ in Ys]
    return AlignmentSet(_summary(rsa_obs, rsa_null), cka, proc, partial)


def mantel_rsa(D1: np.ndarray, D2: np.ndarray, n_perm: int, seed: int) -> Null:
    """RSA of two dissimilarity matrices with its Mantel permutation null (one layer)."""
    n = D1.shape[0]
    B = rank_vector(D2)[:, None]
    R = _rank_matrix(D1)
    i, j = np.triu_indices(n, 1)
    perms = _permutations(n, n_perm, seed)
    null = R[perms[:, i], perms[:, j]] @ B
    return _summary(upper(R) @ B, null)[0]
