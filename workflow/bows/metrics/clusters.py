"""Semantic cluster scores of word vectors (paper §6.5, §10 item 15) with permutation nulls, and the UMAP layout.

- kNN purity: mean over words of the share of its k nearest neighbours (cosine similarity, self excluded) that
  carry the same category.
- Cosine silhouette: s_i = (b_i − a_i)/max(a_i, b_i) with distance 1 − cos, a_i the mean distance to the other
  words of its category, b_i the smallest mean distance to another category (s_i = 0 for singletons);
  the score is the mean of s_i (same as sklearn.metrics.silhouette_score(metric="cosine")).
- Null: the same score with the category labels permuted; p = (1 + #{null ≥ obs})/(1 + P).
"""

from __future__ import annotations

import warnings

import numpy as np

from .geometry import null_summary

__all__ = ["knn_indices", "knn_purity", "cluster_scores", "cosine_neighbours", "umap_layout"]


def _unit(E: np.ndarray) -> np.ndarray:
    E = np.asarray(E, dtype=np.float64)
    n = np.linalg.norm(E, axis=1, keepdims=True)
    return E / np.where(n > 1e-12, n, 1.0)


def knn_indices(E: np.ndarray, k: int = 10) -> np.ndarray:
    """[n, k] indices of the k most cosine-similar other rows."""
    U = _unit(E)
    S = U @ U.T
    np.fill_diagonal(S, -np.inf)
    k = min(k, len(E) - 1)
    idx = np.argpartition(-S, k - 1, axis=1)[:, :k]
    return idx


def knn_purity(nbrs: np.ndarray, labels: np.ndarray) -> float:
    return float(np.mean(labels[nbrs] == labels[:, None]))


def _silhouette_from_D(D: np.ndarray, labels: np.ndarray, n_cat: int, chunk: int = 64) -> np.ndarray:
    """Silhouette of each permutation: ``labels`` is [P, n] of ints in [0, n_cat); returns [P]. The distance sums
    to every category come from one product per ``chunk`` permutations."""
    P, n = labels.shape
    out = np.empty(P)
    rows = np.arange(n)
    for c0 in range(0, P, chunk):
        lab = labels[c0 : c0 + chunk]  # [p, n]
        p = len(lab)
        Y = np.zeros((n, p, n_cat), dtype=D.dtype)
        Y[rows[None, :], np.arange(p)[:, None], lab] = 1
        sums = (D @ Y.reshape(n, p * n_cat)).reshape(n, p, n_cat).transpose(1, 0, 2)  # [p, n, C]
        counts = Y.sum(0)  # [p, C]
        c_own = np.take_along_axis(counts, lab, 1)  # [p, n]
        own_sum = np.take_along_axis(sums, lab[:, :, None], 2)[:, :, 0]
        with np.errstate(invalid="ignore", divide="ignore"):
            a = own_sum / (c_own - 1)
            mean_other = sums / counts[:, None, :]
        np.put_along_axis(mean_other, lab[:, :, None], np.inf, 2)
        mean_other[np.broadcast_to((counts == 0)[:, None, :], mean_other.shape)] = np.inf
        bb = mean_other.min(2)
        with np.errstate(invalid="ignore", divide="ignore"):
            sil = (bb - a) / np.maximum(a, bb)
        sil[c_own <= 1] = 0.0
        with np.errstate(invalid="ignore"):
            out[c0 : c0 + p] = np.nanmean(sil, axis=1)
    return out


def cluster_scores(
    E: np.ndarray, labels: np.ndarray, k: int = 10, n_perm: int = 1000, seed: int = 0
) -> dict[str, float]:
    """kNN purity and cosine silhouette of labelled rows, each with its permutation null (mean, sd, p)."""
    labels = np.asarray(labels)
    n = len(labels)
    codes, lab = np.unique(labels, return_inverse=True)
    out: dict[str, float] = {"n_words": float(n), "n_categories": float(len(codes))}
    if n < 3 or len(codes) < 2:
        for m in ("knn_purity", "silhouette_cos"):
            out.update({m: np.nan, f"{m}_null_mean": np.nan, f"{m}_null_sd": np.nan, f"{m}_p": np.nan})
        return out
    rng = np.random.default_rng(seed)
    perms = np.array([rng.permutation(lab) for _ in range(n_perm)])
    nbrs = knn_indices(E, k)
    obs = knn_purity(nbrs, lab)
    null = np.array([knn_purity(nbrs, p) for p in perms])
    s = null_summary(obs, null)
    out.update(
        {
            "knn_purity": obs,
            "knn_purity_null_mean": s["null_mean"],
            "knn_purity_null_sd": s["null_sd"],
            "knn_purity_p": s["p"],
        }
    )
    U = _unit(E).astype(np.float32)
    D = np.clip(1 - U @ U.T, 0, 2)
    obs = float(_silhouette_from_D(D, lab[None, :], len(codes))[0])
    null = _silhouette_from_D(D, perms, len(codes))
    s = null_summary(obs, null)
    out.update(
        {
            "silhouette_cos": obs,
            "silhouette_cos_null_mean": s["null_mean"],
            "silhouette_cos_null_sd": s["null_sd"],
            "silhouette_cos_p": s["p"],
        }
    )
    return out


def cosine_neighbours(E: np.ndarray, k: int, block: int = 2048) -> tuple[np.ndarray, np.ndarray]:
    """The exact ``k`` nearest rows of each row of E by cosine distance 1 − cos, the row itself first (distance 0):
    ([n, k] indices, [n, k] float32 distances), nearest first, in the layout UMAP's ``precomputed_knn`` takes."""
    U = _unit(E).astype(np.float32)
    n = len(U)
    idx = np.empty((n, k), dtype=np.int64)
    dist = np.empty((n, k), dtype=np.float32)
    for start in range(0, n, block):
        rows = np.arange(start, min(start + block, n))
        D = 1.0 - U[rows] @ U.T
        D[np.arange(len(rows)), rows] = -np.inf  # the row itself comes first
        part = np.argpartition(D, k - 1, axis=1)[:, :k]
        order = np.argsort(np.take_along_axis(D, part, 1), axis=1, kind="stable")
        idx[rows] = np.take_along_axis(part, order, 1)
        dist[rows] = np.take_along_axis(D, idx[rows], 1)
    dist[:, 0] = 0.0
    return idx, np.clip(dist, 0.0, 2.0)


def umap_layout(E: np.ndarray, seed: int = 42, n_neighbors: int = 15, min_dist: float = 0.05) -> np.ndarray:
    """2-D UMAP (cosine metric) of the rows of E, as in the paper (n_neighbors 15, min_dist 0.05, seed 42).

    The neighbour graph is exact (:func:`cosine_neighbours`), handed to UMAP as ``precomputed_knn``: UMAP's own
    search is exact below 4,096 rows and approximate (NN-descent) above, where compiling it costs about 35 s per
    process on this project's reference CPU, longer than the layout itself."""
    n = len(E)
    if n < 4:
        return np.full((n, 2), np.nan)
    import umap  # slow import (numba); only the UMAP rule needs it

    k = min(n_neighbors, n - 1)
    reducer = umap.UMAP(
        n_neighbors=k,
        min_dist=min_dist,
        metric="cosine",
        random_state=seed,
        n_components=2,
        precomputed_knn=(*cosine_neighbours(E, k), None),
    )
    with warnings.catch_warnings():  # no search index is kept: the layout never transforms new points
        warnings.filterwarnings("ignore", message=r"precomputed_knn\[2\]", category=UserWarning)
        return reducer.fit_transform(np.asarray(E, dtype=np.float32))
