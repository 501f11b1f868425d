"""Data statistics of word groups over training windows (paper §6.1 and the co-occurrence side of the Mantel test).

For every word group (and the ``analysis.cooc_top_words`` most frequent words) over a seeded subsample of the
training windows: counts, conditional correlation (windows with ≥ 1 group word, paper §6.1), phi, PMI; for cyclic
groups the data PCA ring (rows of the conditional indicator matrix centred by their own mean, then a centred 2-PC PCA;
word k sits at (e_k − μ)·Cᵀ) and the circulant tests of §10 item 3–4.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import numpy as np
import pandas as pd

from . import geometry as geo
from .correlation import conditional_corr, cooc_counts, phi_from_counts, pmi_from_counts, window_indicators
from .tables import Rows
from .words import Group

log = logging.getLogger("bows.metrics")

TOP = "Top words"

__all__ = ["TOP", "group_data_stats", "data_ring", "corr_distance_tests"]


def data_ring(Y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Paper §6.1 data ring of indicator rows Y [N, n] (rows with ≥ 1 word): ([n, 2] coordinates, explained var)."""
    X = Y[Y.any(axis=1)].astype(np.float64)
    n = Y.shape[1]
    if X.shape[0] < 3:
        return np.full((n, 2), np.nan), np.full(2, np.nan)
    Xr = X - X.mean(axis=1, keepdims=True)
    p = geo.pca(Xr, 2)
    return p.transform(np.eye(n)), p.explained_variance_ratio


def corr_distance_tests(C: np.ndarray) -> dict[str, float]:
    """§10 item 3: mean correlation per circular distance k, Spearman ρ(k, mean), number of inversions."""
    prof = geo.distance_profile(C, cyclic=True)
    out = {f"corr_dist_{k}": float(v) for k, v in enumerate(prof, start=1)}
    ok = np.isfinite(prof)
    if ok.sum() >= 3:
        from scipy import stats  # here: the metric jobs that import this module for its ring tests need not load it

        out["corr_dist_spearman"] = float(stats.spearmanr(np.arange(1, len(prof) + 1)[ok], prof[ok]).statistic)
        out["corr_dist_inversions"] = float(np.sum(np.diff(prof[ok]) > 0))
    else:
        out["corr_dist_spearman"] = float("nan")
        out["corr_dist_inversions"] = float("nan")
    return out


RING_COLUMNS = ["group", "word", "pos", "pc1", "pc2", "evr1", "evr2", "status"]


def group_data_stats(
    indptr: np.ndarray,
    indices: np.ndarray,
    V: int,
    G: int,
    S: int,
    widx: np.ndarray,
    groups: Mapping[str, Group],
    counts: np.ndarray | None,
    words: list[str],
    top_k: int,
    n_perm: int,
    seed: int,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(cooc, ring, metrics) tables. ``counts`` = vocabulary counts used to pick the top-k words."""
    all_groups = _analysed_groups(groups, V, words, counts, top_k)
    cols = sorted({int(i) for _, idx, _ in all_groups.values() for i in idx if i >= 0})
    lut = np.full(V, -1, dtype=np.int64)
    lut[cols] = np.arange(len(cols))
    log.info("data statistics: %d windows x %d words", len(widx), len(cols))
    Y = window_indicators(indptr, indices, lut, len(cols), G, S, widx)
    cooc, ring, rows = [], [], Rows(None)
    for name, (gw, gidx, cyclic) in all_groups.items():
        found = gidx >= 0
        Yg = np.zeros((Y.shape[0], len(gw)), dtype=bool)
        Yg[:, found] = Y[:, lut[gidx[found]]]
        Nn, ni, nij = cooc_counts(Yg)
        cc, n_cond = conditional_corr(Yg)
        status = np.where(~found, "missing: word not in vocabulary", np.where(ni == 0, "rare: 0 windows", "ok"))
        cooc.append(_cooc_frame(name, gw, Nn, ni, nij, cc, status))
        if name == TOP:
            continue
        rows.add(name, "n_windows_with_group", n_cond)
        rows.add(name, "n_windows", Nn)
        for k, w in enumerate(gw):
            rows.add(name, "window_rate", ni[k] / max(Nn, 1), item=w, status=status[k])
        if cyclic:
            ring.append(_data_ring_rows(rows, name, gw, Yg, found & (ni > 0), cc, status, n_perm, seed))
    ring = [r for r in ring if r is not None]
    return (
        pd.concat(cooc, ignore_index=True) if cooc else pd.DataFrame(),
        pd.concat(ring, ignore_index=True) if ring else pd.DataFrame(columns=RING_COLUMNS),
        rows.frame(),
    )


def _analysed_groups(
    groups: Mapping[str, Group], V: int, words: list[str], counts: np.ndarray | None, top_k: int
) -> dict[str, tuple[list[str], np.ndarray, bool]]:
    """name → (words, vocabulary indices, cyclic) of every group, plus the ``top_k`` most frequent words."""
    out = {name: (g.words, g.indices, g.cyclic) for name, g in groups.items()}
    if top_k > 0:
        order = np.argsort(-np.asarray(counts), kind="stable")[:top_k] if counts is not None else np.arange(top_k)
        order = order[order < V]
        out[TOP] = ([words[i] for i in order], order.astype(np.int64), False)
    return out


def _cooc_frame(
    name: str, gw: list[str], Nn: int, ni: np.ndarray, nij: np.ndarray, cc: np.ndarray, status: np.ndarray
) -> pd.DataFrame:
    """One row per ordered word pair: counts, conditional correlation, phi and PMI (a pair's status is its first
    word's if that is not ok, else its second's)."""
    phi, pmi = phi_from_counts(Nn, ni, nij), pmi_from_counts(Nn, ni, nij)
    n = len(gw)
    i, j = (a.ravel() for a in np.meshgrid(np.arange(n), np.arange(n), indexing="ij"))
    w = np.array(gw, dtype=object)
    return pd.DataFrame(
        {
            "group": name,
            "word_i": w[i],
            "word_j": w[j],
            "pos_i": i,
            "pos_j": j,
            "n_windows": Nn,
            "n_i": ni[i],
            "n_j": ni[j],
            "n_ij": nij[i, j],
            "corr_cond": cc[i, j],
            "phi": phi[i, j],
            "pmi": pmi[i, j],
            "status": np.where(status[i] != "ok", status[i], status[j]),
        }
    )


def _data_ring_rows(
    rows: Rows,
    name: str,
    gw: list[str],
    Yg: np.ndarray,
    ok: np.ndarray,
    cc: np.ndarray,
    status: np.ndarray,
    n_perm: int,
    seed: int,
) -> pd.DataFrame | None:
    """A cyclic group's ring in the data: its top-2 principal plane (returned, one row per word) and its ring
    metrics (into ``rows``); None with a status row when fewer than 4 of its words occur."""
    if ok.sum() < 4:
        rows.add(name, "ring_adjacent_pairs", np.nan, status="too few words occur in the windows")
        return None
    n = len(gw)
    P, evr = data_ring(Yg[:, ok])
    full = np.full((n, 2), np.nan)
    full[ok] = P
    frame = pd.DataFrame(
        {
            "group": name,
            "word": gw,
            "pos": np.arange(n),
            "pc1": full[:, 0],
            "pc2": full[:, 1],
            "evr1": evr[0],
            "evr2": evr[1],
            "status": status,
        }
    )
    sub = cc[np.ix_(ok, ok)]
    st = "ok" if ok.all() else f"{int((~ok).sum())} words missing or absent"
    for k, v in corr_distance_tests(sub).items():
        rows.add(name, k, v, status=st)
    cf = geo.circulant_fit(sub)
    rows.add(name, "circulant_r2", cf, status=st)
    s = geo.null_summary(cf, geo.circulant_fit_null(sub, n_perm, seed))
    rows.add_many(
        name,
        {"circulant_r2_null_mean": s["null_mean"], "circulant_r2_null_sd": s["null_sd"], "circulant_r2_p": s["p"]},
        status=st,
    )
    ang = geo.ring_angles(P)
    rows.add(name, "ring_adjacent_pairs", geo.adjacent_pairs(ang), status=st)
    rows.add(name, "ring_pairs_total", len(ang), status=st)
    rows.add(name, "ring_winding", geo.winding_number(P), status=st)
    order_rows(rows, name, ang, n_perm, seed, st)
    return frame


def order_rows(
    rows: Rows, scope: str, ang: np.ndarray, n_perm: int, seed: int, status: str = "ok", prefix: str = ""
) -> None:
    """order_agreement + permutation null (shuffled group order) + chance-corrected value."""
    a = geo.order_agreement(ang)
    null = geo.order_agreement_null(ang, n_perm, seed)
    s = geo.null_summary(a, null)
    corrected = (a - s["null_mean"]) / (1 - s["null_mean"]) if np.isfinite(a) and s["null_mean"] < 1 else np.nan
    rows.add_many(
        scope,
        {
            f"{prefix}order_agreement": a,
            f"{prefix}order_agreement_null_mean": s["null_mean"],
            f"{prefix}order_agreement_null_sd": s["null_sd"],
            f"{prefix}order_agreement_p": s["p"],
            f"{prefix}order_agreement_corrected": corrected,
        },
        status=status,
    )
