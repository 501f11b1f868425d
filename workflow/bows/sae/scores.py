"""Scores of an SAE dictionary against the ground-truth word directions (pure numpy/scipy, no torch).

With D [m, L] the decoder rows and T [K, L] the ground-truth directions w_i (columns of W, as rows), both normalised
to unit length, C = |T Dᵀ| [K, m] holds the absolute cosines.

* MCC: the mean of C over the one-to-one matching of words to latents that maximises its sum (Hungarian,
  ``scipy.optimize.linear_sum_assignment``), over the min(K, m) matched pairs; ``coverage`` is the same sum over all
  K words (unmatched words count 0 when m < K).
* best recovery of word i: max_j C_ij (latents may serve several words).
* chance: the expected best |cos| of a fixed unit vector against m independent uniformly random unit directions in
  ℝ^L. With t = |cos|, t² ~ Beta(½, (L−1)/2), so P(max ≤ t) = I_{t²}(½, (L−1)/2)^m and E[max] = ∫₀¹ 1 − P(max ≤ t) dt.
* hedging of a word group G (months, days): for each word i of G, its best latent j_i, and the share of that
  latent's (unit) direction lying on the other words of the group, s_i = Σ_{i' ∈ G, i' ≠ i} cos²(d_{j_i}, ŵ_{i'});
  ``hedging`` is the mean of s_i. A latent that merges two orthogonal words, d = (ŵ₁ + ŵ₂)/√2, gives s = ½ for both;
  separate latents give 0. Word directions in superposition are not orthogonal, so the ground-truth dictionary
  itself (D = T) has a baseline Σ_{i' ≠ i} cos²(ŵ_i, ŵ_{i'}) > 0: the table carries it beside every SAE.
  ``merged_fraction`` = 1 − (distinct best latents)/|G|: 0 when every word has its own latent, 1 − 1/|G| when one
  latent serves the whole group.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from scipy import integrate, special
from scipy.optimize import linear_sum_assignment

__all__ = ["unit_rows", "abs_cos", "mcc", "best_recovery", "chance_best_cos", "hedging", "dead_fraction"]


def unit_rows(M: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero)."""
    M = np.asarray(M, dtype=np.float64)
    n = np.linalg.norm(M, axis=1, keepdims=True)
    return np.divide(M, n, out=np.zeros_like(M), where=n > 0)


def abs_cos(truth: np.ndarray, dictionary: np.ndarray) -> np.ndarray:
    """C [K, m] = |cos| between every ground-truth row and every dictionary row."""
    return np.abs(unit_rows(truth) @ unit_rows(dictionary).T)


def mcc(C: np.ndarray) -> dict[str, Any]:
    """Hungarian-matched |cos| of C [K, m]: ``mcc`` (mean over the matched pairs), ``coverage`` (sum over the K
    words), and the matching (``rows``, ``cols``)."""
    rows, cols = linear_sum_assignment(C, maximize=True)
    matched = C[rows, cols]
    return {
        "mcc": float(matched.mean()) if len(matched) else float("nan"),
        "coverage": float(matched.sum() / C.shape[0]) if C.shape[0] else float("nan"),
        "rows": rows,
        "cols": cols,
    }


def best_recovery(C: np.ndarray) -> np.ndarray:
    """Per word, the largest |cos| with any latent, float64 [K]."""
    return C.max(axis=1) if C.shape[1] else np.zeros(C.shape[0])


def chance_best_cos(latent: int, width: int) -> float:
    """E[max_j |cos(u, d_j)|] for a fixed unit u and ``width`` uniformly random unit d_j in ℝ^latent."""
    if latent < 2:
        return 1.0
    a, b = 0.5, (latent - 1) / 2.0
    tail = lambda t: 1.0 - special.betainc(a, b, t * t) ** width  # noqa: E731
    value, _ = integrate.quad(tail, 0.0, 1.0, limit=200)
    return float(value)


def hedging(truth: np.ndarray, dictionary: np.ndarray, members: np.ndarray) -> dict[str, float]:
    """Hedging of one word group (``members``: row indices into ``truth``), see the module docstring."""
    members = np.asarray(members, dtype=np.int64)
    n = len(members)
    if n < 2:
        return {"hedging": float("nan"), "merged_fraction": float("nan"), "words": float(n)}
    T = unit_rows(truth[members])
    D = unit_rows(dictionary)
    cos = T @ D.T  # [n, m]
    best = np.abs(cos).argmax(axis=1)  # each word's best latent
    sq = cos[:, best] ** 2  # sq[i', i] = cos²(ŵ_{i'}, d_{j_i})
    shared = sq.sum(axis=0) - sq[np.arange(n), np.arange(n)]
    return {"hedging": float(shared.mean()), "merged_fraction": 1.0 - len(np.unique(best)) / n, "words": float(n)}


def dead_fraction(fires: np.ndarray) -> float:
    """Share of latents that never fire on the held-out samples."""
    fires = np.asarray(fires)
    return float(np.mean(fires == 0)) if fires.size else float("nan")


def group_members(words: np.ndarray, group_ids: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Row indices (into the ground-truth word list ``words``) of each group's words that are ground truth."""
    pos = {int(w): i for i, w in enumerate(np.asarray(words).tolist())}
    return {
        name: np.array([pos[int(i)] for i in ids if int(i) in pos], dtype=np.int64) for name, ids in group_ids.items()
    }
