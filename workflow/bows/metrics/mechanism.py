"""Mechanism of constructive interference for a target word t (paper §6.7 and §6.8(3)).

z_t(S) = b_t + Σ_{j∈S} ⟨w_t, w_j⟩ for a window S containing t (self term ‖w_t‖² included); one-hot value
z_t({t}) = ‖w_t‖² + b_t. A window is "reconstructed better than the one-hot input" when
(1 − ReLU(z_t(S)))² < (1 − ReLU(z_t({t})))² (protocol chosen for the paper's 81% Beatles number; the fractions with
z > 0 and z > one-hot are reported beside it).
Towers: cumulative stacks starting at b_t: (1) self + correlated context, (2) self + uncorrelated context,
(3) correlated context without the target, (4) Christmas only: the 12 month contributions ⟨w_t, w_month⟩.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = ["better_than_onehot", "preact_summary", "preact_density", "tower", "towers_for_target"]


def better_than_onehot(z: np.ndarray, onehot_z: float) -> np.ndarray:
    """Per window: is (1 − ReLU(z))² smaller than the one-hot input's (1 − ReLU(z₁))² (by more than 1e-15)?"""
    return (1 - np.maximum(np.asarray(z), 0)) ** 2 < (1 - max(onehot_z, 0.0)) ** 2 - 1e-15


def preact_summary(z: np.ndarray, onehot_z: float) -> dict[str, float]:
    """Fractions of a target's windows with z > 0, z > one-hot, and smaller squared error than the one-hot input."""
    z = np.asarray(z, dtype=np.float64)
    n = z.size
    if n == 0:
        return {
            "n_windows": 0,
            "frac_pos": np.nan,
            "frac_above_onehot": np.nan,
            "frac_better_than_onehot": np.nan,
            "z_median": np.nan,
            "z_mean": np.nan,
        }
    return {
        "n_windows": n,
        "frac_pos": float(np.mean(z > 0)),
        "frac_above_onehot": float(np.mean(z > onehot_z)),
        "frac_better_than_onehot": float(np.mean(better_than_onehot(z, onehot_z))),
        "z_median": float(np.median(z)),
        "z_mean": float(z.mean()),
    }


def preact_density(z: np.ndarray, bw: float = 0.1, points: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian KDE of the pre-activations (scipy, ``bw_method=bw`` as the paper's Panel B) on an even grid.

    Returns (grid, density); empty arrays when fewer than 2 distinct values.
    """
    from scipy.stats import gaussian_kde

    z = np.asarray(z, dtype=np.float64)
    if z.size < 2 or np.ptp(z) == 0:
        return np.zeros(0), np.zeros(0)
    kde = gaussian_kde(z, bw_method=bw)
    pad = 3 * bw * z.std()
    grid = np.linspace(z.min() - pad, z.max() + pad, points)
    return grid, kde(grid)


def tower(
    W: np.ndarray,
    b: np.ndarray,
    t: int,
    context: Sequence[int],
    words: Sequence[str],
    target_word: str,
    include_self: bool = True,
) -> list[dict]:
    """Rows of one cumulative tower: bias, (self), then ⟨w_t, w_c⟩ per context word (index -1 = missing → NaN)."""
    wt = W[:, t].astype(np.float64)
    rows = []
    level = float(b[t])
    rows.append(
        {
            "step": 0,
            "word": target_word,
            "kind": "bias",
            "contribution": level,
            "start": 0.0,
            "end": level,
            "status": "ok",
        }
    )
    steps: list[tuple[str, str, int]] = []
    if include_self:
        steps.append((target_word, "self", t))
    steps += [(w, "context", int(c)) for w, c in zip(words, context)]
    for k, (w, kind, c) in enumerate(steps, start=1):
        if c < 0:
            rows.append(
                {
                    "step": k,
                    "word": w,
                    "kind": kind,
                    "contribution": np.nan,
                    "start": level,
                    "end": level,
                    "status": "missing: word not in vocabulary",
                }
            )
            continue
        v = float(wt @ W[:, c].astype(np.float64))
        rows.append(
            {"step": k, "word": w, "kind": kind, "contribution": v, "start": level, "end": level + v, "status": "ok"}
        )
        level += v
    return rows


def towers_for_target(
    W: np.ndarray,
    b: np.ndarray,
    t: int,
    target: str,
    correlated: list[tuple[str, int]],
    uncorrelated: list[tuple[str, int]],
    months: list[tuple[str, int]] | None = None,
) -> pd.DataFrame:
    """All towers of a target as a tidy table (columns: target, tower, step, word, kind, contribution, start, end)."""
    parts = []
    for name, ctx, self_ in (
        ("correlated", correlated, True),
        ("uncorrelated", uncorrelated, True),
        ("correlated_no_target", correlated, False),
    ):
        rows = tower(W, b, t, [c for _, c in ctx], [w for w, _ in ctx], target, include_self=self_)
        parts.append(pd.DataFrame(rows).assign(tower=name))
    if months:
        wt = W[:, t].astype(np.float64)
        rows = []
        for k, (w, c) in enumerate(months, start=1):
            v = float(wt @ W[:, c].astype(np.float64)) if c >= 0 else np.nan
            rows.append(
                {
                    "step": k,
                    "word": w,
                    "kind": "context",
                    "contribution": v,
                    "start": 0.0,
                    "end": v,
                    "status": "ok" if c >= 0 else "missing: word not in vocabulary",
                }
            )
        parts.append(pd.DataFrame(rows).assign(tower="months"))
    df = pd.concat(parts, ignore_index=True).assign(target=target)
    return df[["target", "tower", "step", "word", "kind", "contribution", "start", "end", "status"]]
