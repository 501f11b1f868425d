"""Data co-occurrence statistics of windows and their comparison with the weight geometry.

Windows are virtual (paper §3.4; bows.windows): window w is the union of documents [w·S, w·S + G). Indicators of a few
words over many windows are built per block of documents with a cumulative sum (no per-window Python).

Statistics for binary indicators y_i over N windows (n_i = Σ y_i, n_ij = Σ y_i y_j):
- Pearson / phi: (N n_ij − n_i n_j) / sqrt(n_i (N − n_i) n_j (N − n_j)).
- Conditional correlation (paper §6.1): the same, over the windows that contain ≥ 1 word of the group.
- PMI: log(N n_ij / (n_i n_j)), NaN when n_ij = 0.
- Mantel test: Pearson r between the upper triangles of two symmetric matrices; null by permuting the rows and
  columns of one of them jointly; one-sided p = (1 + #{r_perm ≥ r}) / (1 + P).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "window_indicators",
    "cooc_counts",
    "phi_from_counts",
    "pmi_from_counts",
    "conditional_corr",
    "mantel",
    "spearman_upper",
    "tied_ranks",
    "upper",
]


def window_indicators(
    indptr: np.ndarray,
    indices: np.ndarray,
    lut: np.ndarray,
    K: int,
    G: int,
    S: int,
    widx: np.ndarray,
    block_cells: int = 8_000_000,
) -> np.ndarray:
    """Bool [N, K]: does window ``widx[n]`` contain a word of column k? ``lut`` maps vocab id → column or -1."""
    widx = np.asarray(widx, dtype=np.int64)
    out = np.zeros((widx.size, K), dtype=bool)
    if widx.size == 0 or K == 0:
        return out
    indptr = np.asarray(indptr, dtype=np.int64)
    n_docs = indptr.size - 1
    starts = widx * S
    if starts.max() + G > n_docs:
        raise IndexError(f"window index {int(widx.max())} needs documents beyond n_docs={n_docs}")
    order = np.argsort(starts, kind="stable")
    s_sorted = starts[order]
    B = max(1024, block_cells // max(K, 1))
    lut = np.asarray(lut, dtype=np.int64)
    for b0 in range(0, n_docs, B):
        lo, hi = np.searchsorted(s_sorted, [b0, b0 + B])
        if lo == hi:
            continue
        d0, d1 = b0, min(b0 + B + G - 1, n_docs)
        ids = np.asarray(indices[indptr[d0] : indptr[d1]], dtype=np.int64)
        col = lut[ids]
        doc = np.repeat(np.arange(d1 - d0), np.diff(indptr[d0 : d1 + 1]))
        keep = col >= 0
        D = np.zeros((d1 - d0 + 1, K), dtype=np.int32)
        D[doc[keep] + 1, col[keep]] = 1
        np.cumsum(D, axis=0, out=D)
        s = s_sorted[lo:hi] - d0
        out[order[lo:hi]] = (D[s + G] - D[s]) > 0
    return out


def cooc_counts(Y: np.ndarray) -> tuple[int, np.ndarray, np.ndarray]:
    """(N, n_i, n_ij) of a bool indicator matrix [N, K] (exact integer counts)."""
    K = Y.shape[1]
    nij = np.zeros((K, K), dtype=np.int64)
    for s in range(0, Y.shape[0], 1 << 16):  # float32 products are exact below 2^24 per block
        Yf = Y[s : s + (1 << 16)].astype(np.float32)
        nij += np.rint(Yf.T @ Yf).astype(np.int64)
    return int(Y.shape[0]), Y.sum(axis=0).astype(np.int64), nij


def phi_from_counts(N: int, ni: np.ndarray, nij: np.ndarray) -> np.ndarray:
    """Pearson correlation of binary indicators from counts (NaN for constant columns)."""
    ni = ni.astype(np.float64)
    cov = N * nij.astype(np.float64) - np.outer(ni, ni)
    var = ni * (N - ni)
    with np.errstate(invalid="ignore", divide="ignore"):
        return cov / np.sqrt(np.outer(var, var))


def pmi_from_counts(N: int, ni: np.ndarray, nij: np.ndarray) -> np.ndarray:
    """log(N n_ij / (n_i n_j)); NaN where n_ij = 0."""
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.log(N * nij.astype(np.float64) / np.outer(ni, ni).astype(np.float64))
    out[nij == 0] = np.nan
    return out


def conditional_corr(Y: np.ndarray) -> tuple[np.ndarray, int]:
    """Pearson correlation over the rows of Y that contain ≥ 1 column (paper §6.1); returns (corr, n_rows)."""
    sel = Y.any(axis=1)
    N, ni, nij = cooc_counts(Y[sel])
    return phi_from_counts(N, ni, nij), N


def upper(M: np.ndarray) -> np.ndarray:
    i, j = np.triu_indices(M.shape[0], 1)
    return M[i, j]


def tied_ranks(x: np.ndarray, rtol: float = 1e-9) -> np.ndarray:
    """Average ranks (1 … n) of x, where values closer than ``rtol`` · max|x| to their sorted neighbour count as tied.

    Values that are equal in exact arithmetic often differ in the last bits once computed (the cosines of a ring's
    pairs at one circular distance, for example); plain ranking would order them by rounding noise.
    """
    x = np.asarray(x, dtype=np.float64)
    order = np.argsort(x, kind="stable")
    xs = x[order]
    tol = rtol * max(float(np.max(np.abs(xs))), np.finfo(np.float64).tiny) if xs.size else 0.0
    starts = np.concatenate([[True], np.diff(xs) > tol])  # a run of near-equal values is one tie group
    group = np.cumsum(starts) - 1
    first = np.flatnonzero(starts)
    last = np.append(first[1:], xs.size) - 1
    ranks = np.empty(xs.size)
    ranks[order] = (first + last)[group] / 2.0 + 1.0
    return ranks


def spearman_upper(A: np.ndarray, B: np.ndarray) -> float:
    """Spearman ρ (Pearson r of average ranks, ties within rounding noise; see ``tied_ranks``) between the finite
    upper-triangle entries of A and B."""
    a, b = upper(A), upper(B)
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 3:
        return float("nan")
    ra, rb = tied_ranks(a[ok]), tied_ranks(b[ok])
    if np.ptp(ra) == 0 or np.ptp(rb) == 0:
        return float("nan")
    return float(np.corrcoef(ra, rb)[0, 1])


def mantel(A: np.ndarray, B: np.ndarray, n_perm: int = 1000, seed: int = 0) -> tuple[float, float]:
    """Mantel test (Pearson r of upper triangles, joint row/column permutations of B): (r, one-sided p).

    Entries that are NaN in either matrix are dropped (the same pairs in every permutation are not guaranteed, so
    NaNs are set to the mean of the finite entries before permuting).
    """
    n = A.shape[0]
    if n < 4:
        return float("nan"), float("nan")
    A = np.array(A, dtype=np.float64)
    B = np.array(B, dtype=np.float64)
    for M in (A, B):
        m = upper(M)
        if not np.isfinite(m).any():
            return float("nan"), float("nan")
        M[~np.isfinite(M)] = np.nanmean(m)
    i, j = np.triu_indices(n, 1)
    a = A[i, j]
    a = a - a.mean()
    sa = np.sqrt(np.sum(a**2))

    def r_of(perm: np.ndarray) -> float:
        b = B[perm[i], perm[j]]
        b = b - b.mean()
        sb = np.sqrt(np.sum(b**2))
        return float(np.sum(a * b) / (sa * sb)) if sa > 0 and sb > 0 else float("nan")

    r = r_of(np.arange(n))
    if not np.isfinite(r):
        return r, float("nan")
    rng = np.random.default_rng(seed)
    chunk = max(1, 2_000_000 // max(a.size, 1))
    hits = 0
    for c0 in range(0, n_perm, chunk):
        perms = np.array([rng.permutation(n) for _ in range(min(chunk, n_perm - c0))])
        bs = B[perms[:, i], perms[:, j]]  # [P, pairs]
        bs = bs - bs.mean(axis=1, keepdims=True)
        rs = (bs @ a) / (sa * np.sqrt(np.sum(bs**2, axis=1)))
        hits += int(np.sum(rs >= r - 1e-12))
    return r, float((1 + hits) / (1 + n_perm))
