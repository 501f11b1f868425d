"""Per-word reconstruction R²: in context (held-out windows), one-hot (closed form) and linear decoders.

Model: z(x) = Wᵀ W x + b, x̂ = ReLU(z); W ∈ ℝ^{L×V}.

- In context (paper §6.6): over N held-out windows, SS_res,i = Σ_n (y_ni − x̂_ni)², SS_tot,i = Σ_n y_ni² − (Σ_n y_ni)²/N,
  R²_i = 1 − SS_res,i/SS_tot,i, NaN when SS_tot,i ≤ 1e-12. float64 accumulators.
- Tied linear read-out (§6.8, protocol a): the same with x̂ = z (no ReLU).
- Least-squares linear decoder ψ_lin (§6.8, protocol b): x̂ = [h, 1] D with h = W x, D fitted by (ridge-stabilised)
  least squares on training windows, evaluated on the held-out windows: the best affine read-out of the latent.
- One-hot (paper §6.6): the dataset is the V one-hot inputs e_k; for word i,
  R²_1hot,i = 1 − [(1 − ReLU(‖w_i‖² + b_i))² + Σ_{k≠i} ReLU(⟨w_i,w_k⟩ + b_i)²] / (1 − 1/V), computed in blocks of the
  V×V Gram matrix (never held whole).
- Strata (§6.8(2), protocol chosen here): linear if R²_lin ≥ τ; non-linear if R²_ctx ≥ τ > R²_lin; else not represented.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

__all__ = [
    "R2Stats",
    "reconstruction_stats",
    "fit_linear_decoder",
    "onehot_r2",
    "r2_from_sums",
    "strata",
    "brute_force_r2",
]


def _t(a: np.ndarray, dtype=torch.float32) -> torch.Tensor:
    return torch.as_tensor(np.ascontiguousarray(a), dtype=dtype)


def r2_from_sums(ss_res: np.ndarray, s1: np.ndarray, s2: np.ndarray, N: int) -> np.ndarray:
    """R² from Σ(y−ŷ)², Σy, Σy² over N rows; NaN where SS_tot ≤ 1e-12."""
    ss_tot = s2 - s1**2 / max(N, 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        r2 = 1.0 - ss_res / ss_tot
    r2[~(ss_tot > 1e-12)] = np.nan
    return r2


@dataclass
class R2Stats:
    n_windows: int
    freq_count: np.ndarray  # windows containing word i
    r2_ctx: np.ndarray
    r2_tied: np.ndarray
    r2_ls: np.ndarray | None
    preacts: dict[int, np.ndarray] = field(default_factory=dict)  # target index → z_t over windows containing t
    group_tied: dict[str, np.ndarray] = field(default_factory=dict)  # group → R² of the group-restricted tied read-out


def fit_linear_decoder(W: np.ndarray, batches: Iterable[np.ndarray], ridge: float = 1e-6) -> np.ndarray:
    """Least-squares affine decoder D ∈ ℝ^{(L+1)×V} from h = W x to x over the given window batches.

    D = (H̃ᵀH̃ + λ tr(H̃ᵀH̃)/(L+1) I)⁻¹ H̃ᵀ X with H̃ = [h, 1]; λ = ``ridge`` only stabilises the solve.
    """
    Wt = _t(W)
    L, V = W.shape
    A = torch.zeros(L + 1, L + 1, dtype=torch.float64)
    B = torch.zeros(L + 1, V, dtype=torch.float64)
    n = 0
    for X in batches:
        Xt = _t(X)
        H = torch.cat([Xt @ Wt.T, torch.ones(Xt.shape[0], 1)], dim=1)
        A += (H.T @ H).double()
        B += (H.T @ Xt).double()
        n += Xt.shape[0]
    if n == 0:
        raise ValueError("no windows to fit the linear decoder")
    lam = ridge * float(torch.trace(A)) / (L + 1)
    D = torch.linalg.solve(A + lam * torch.eye(L + 1, dtype=torch.float64), B)
    return D.numpy()


def reconstruction_stats(
    W: np.ndarray,
    b: np.ndarray,
    batches: Iterable[np.ndarray],
    decoder: np.ndarray | None = None,
    targets: Sequence[int] = (),
    groups: dict[str, np.ndarray] | None = None,
) -> R2Stats:
    """One pass over held-out window batches (dense multi-hot [B, V]) accumulating every per-word R² above.

    ``targets``: vocab indices whose pre-activation z_t is kept for every window containing t (mechanism §6.7).
    ``groups``: name → vocab indices; R² of the group-restricted tied linear read-out x̂_g = W_gᵀ W_g x_g + b_g.
    """
    Wt, bt = _t(W), _t(b)
    V = W.shape[1]
    Dt = _t(decoder) if decoder is not None else None
    s1 = np.zeros(V)
    ss_relu = np.zeros(V)
    ss_tied = np.zeros(V)
    ss_ls = np.zeros(V) if decoder is not None else None
    groups = {k: np.asarray(v, dtype=np.int64) for k, v in (groups or {}).items()}
    gram_g = {k: (Wt[:, v].T @ Wt[:, v]) for k, v in groups.items()}
    ss_g = {k: np.zeros(len(v)) for k, v in groups.items()}
    pre: dict[int, list[np.ndarray]] = {int(t): [] for t in targets}
    tidx = torch.as_tensor(np.asarray(list(pre), dtype=np.int64))
    N = 0
    for X in batches:
        Xt = _t(X)
        H = Xt @ Wt.T
        Z = H @ Wt + bt
        s1 += Xt.sum(0, dtype=torch.float64).numpy()
        ss_relu += ((Xt - torch.relu(Z)) ** 2).sum(0, dtype=torch.float64).numpy()
        ss_tied += ((Xt - Z) ** 2).sum(0, dtype=torch.float64).numpy()
        if Dt is not None:
            P = H @ Dt[:-1] + Dt[-1]
            ss_ls += ((Xt - P) ** 2).sum(0, dtype=torch.float64).numpy()
        for k, v in groups.items():
            Xg = Xt[:, v]
            ss_g[k] += ((Xg - (Xg @ gram_g[k] + bt[v])) ** 2).sum(0, dtype=torch.float64).numpy()
        if len(pre):
            zt, xt = Z[:, tidx], Xt[:, tidx]
            for c, t in enumerate(pre):
                pre[t].append(zt[xt[:, c] > 0, c].double().numpy())
        N += Xt.shape[0]
    s2 = s1  # binary targets: y² = y
    return R2Stats(
        n_windows=N,
        freq_count=np.rint(s1).astype(np.int64),
        r2_ctx=r2_from_sums(ss_relu, s1, s2, N),
        r2_tied=r2_from_sums(ss_tied, s1, s2, N),
        r2_ls=r2_from_sums(ss_ls, s1, s2, N) if ss_ls is not None else None,
        preacts={t: (np.concatenate(v) if v else np.zeros(0)) for t, v in pre.items()},
        group_tied={k: r2_from_sums(ss_g[k], s1[v], s2[v], N) for k, v in groups.items()},
    )


def onehot_r2(W: np.ndarray, b: np.ndarray, block: int = 1024) -> np.ndarray:
    """Closed-form one-hot R² of every word (paper §6.6), in blocks of rows of the Gram matrix."""
    Wt, bt = _t(W), _t(b)
    V = W.shape[1]
    out = np.empty(V)
    for s in range(0, V, block):
        e = min(V, s + block)
        Z = Wt[:, s:e].T @ Wt + bt[s:e, None]  # row i: z_i(e_k) = ⟨w_i, w_k⟩ + b_i over k
        R = torch.relu(Z)
        r = torch.arange(e - s)
        diag = R[r, r + s].double()
        tot = (R**2).sum(1, dtype=torch.float64) - diag**2 + (1 - diag) ** 2
        out[s:e] = (1 - tot / (1 - 1 / V)).numpy()
    return out


def brute_force_r2(Y: np.ndarray, Yhat: np.ndarray) -> np.ndarray:
    """Direct per-column R² = 1 − Σ(y−ŷ)²/Σ(y−ȳ)² (reference implementation for tests)."""
    Y = np.asarray(Y, dtype=np.float64)
    ss_res = np.sum((Y - Yhat) ** 2, axis=0)
    ss_tot = np.sum((Y - Y.mean(0)) ** 2, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = 1 - ss_res / ss_tot
    r[~(ss_tot > 1e-12)] = np.nan
    return r


def strata(r2_relu: np.ndarray, r2_lin: np.ndarray, threshold: float) -> np.ndarray:
    """'linear' (R²_lin ≥ τ), 'nonlinear' (R²_relu ≥ τ > R²_lin), 'not_represented', or 'undefined' (NaN R²)."""
    out = np.full(r2_relu.shape, "not_represented", dtype=object)
    out[(r2_relu >= threshold) & ~(r2_lin >= threshold)] = "nonlinear"
    out[r2_lin >= threshold] = "linear"
    out[~np.isfinite(r2_relu) | ~np.isfinite(r2_lin)] = "undefined"
    return out
