"""Every per-model geometry metric: peers' metrics, word-group structure (paper §6.2–6.4), circularity with nulls,
data co-occurrence vs weight cosine (Mantel), and semantic cluster scores (§6.5).

Group metrics on E_g (the group's rows of E = Wᵀ):
- ``offdiag_raw`` = ‖G − diag G‖_F with G = E_g E_gᵀ (paper §6.4); ``offdiag_cos`` the same on the cosine matrix
  (scale-free companion, §12.18); ``mean_abs_cos``, ``mean_cos`` over distinct pairs.
- Ring tests on the centred 2-PC PCA of the L2-normalised rows (§6.2): adjacent pairs, winding number, order
  agreement vs shuffled-order null; ``*_raw`` variants on raw rows (§6.4 snapshots).
- ``circulant_r2`` of the cosine matrix vs a shuffled-order null; ``adjacent_gt_opposite`` (§10 item 7).
- ``mantel_phi_r/p``: Mantel test of data phi vs weight cosine; ``spearman_phi``, ``spearman_pmi``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from . import geometry as geo
from .clusters import cluster_scores
from .correlation import mantel, spearman_upper
from .data_stats import TOP, order_rows
from .peers import dim_fractions, peer_metrics
from .tables import Rows
from .words import Group, WordIndex, semantic_assignment

log = logging.getLogger("bows.metrics")

__all__ = ["expand_groups", "group_tables", "model_metrics"]


def expand_groups(groups: Mapping[str, Group]) -> dict[str, Group]:
    """Configured groups plus "Roman numerals (no I)" when that group contains "I" (pronoun confound, §6.4)."""
    out = dict(groups)
    for name, g in groups.items():
        if "roman" in name.lower() and "I" in g.words:
            out[f"{name} (no I)"] = g.subset(f"{name} (no I)", ["I"])
    return out


def _matrix(cooc: pd.DataFrame | None, group: str, words: list[str], col: str) -> np.ndarray | None:
    if cooc is None or not len(cooc):
        return None
    sub = cooc[cooc["group"] == group]
    if not len(sub):
        return None
    m = sub.pivot_table(index="word_i", columns="word_j", values=col, aggfunc="first", dropna=False)
    try:
        return m.reindex(index=words, columns=words).to_numpy(dtype=np.float64)
    except KeyError:
        return None


GROUP_COLUMNS = [
    "group",
    "word",
    "pos",
    "norm",
    "pc1",
    "pc2",
    "pc3",
    "npc1",
    "npc2",
    "angle",
    "evr1",
    "evr2",
    "evr3",
    "status",
]
GRAM_COLUMNS = ["group", "word_i", "word_j", "pos_i", "pos_j", "dot", "cos"]


def group_tables(
    W: np.ndarray, groups: Mapping[str, Group], rows: Rows, cooc: pd.DataFrame | None, n_perm: int, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Fill every group's metric rows; return (groups table: per-word coordinates, gram table: per pair)."""
    coords, grams = [], []
    for name, g in groups.items():
        ok = g.found
        idx, pos = g.indices[ok], np.flatnonzero(ok)
        words = [w for w, f in zip(g.words, ok) if f]
        n = len(idx)
        st = "ok" if ok.all() else f"{int((~ok).sum())} of {len(g.words)} words missing: {', '.join(g.missing)}"
        rows.add(name, "n_found", n, status=st)
        if n < 2:
            rows.add(name, "offdiag_raw", np.nan, status=f"fewer than 2 words found ({st})")
            continue
        E = W[:, idx].T.astype(np.float64)
        G, C, norms = geo.gram(E), geo.cosine(E), np.linalg.norm(E, axis=1)
        rows.add_many(
            name,
            {
                "offdiag_raw": geo.offdiag_norm(G),
                "offdiag_cos": geo.offdiag_norm(C),
                "mean_abs_cos": geo.mean_abs_offdiag(C),
                "mean_cos": float(np.nanmean(C[~np.eye(n, dtype=bool)])),
                "mean_norm": float(norms.mean()),
            },
            status=st,
        )
        grams.append(_gram_frame(name, words, pos, G, C))
        frame, praw, pnorm = _coords_frame(name, words, pos, E, norms)
        coords.append(frame)
        if n >= 3:
            _ring_rows(rows, name, praw, pnorm, frame["angle"].to_numpy(), n_perm, seed, st)
        if n >= 4:
            _circulant_rows(rows, name, C, n_perm, seed, st)
        _mantel_rows(rows, name, words, C, cooc, n_perm, seed, st)
    return (
        pd.concat(coords, ignore_index=True) if coords else pd.DataFrame(columns=GROUP_COLUMNS),
        pd.concat(grams, ignore_index=True) if grams else pd.DataFrame(columns=GRAM_COLUMNS),
    )


def _gram_frame(name: str, words: list[str], pos: np.ndarray, G: np.ndarray, C: np.ndarray) -> pd.DataFrame:
    """One row per ordered word pair of a group: raw dot product and cosine."""
    n = len(words)
    i, j = (a.ravel() for a in np.meshgrid(np.arange(n), np.arange(n), indexing="ij"))
    w = np.array(words, dtype=object)
    return pd.DataFrame(
        {
            "group": name,
            "word_i": w[i],
            "word_j": w[j],
            "pos_i": pos[i],
            "pos_j": pos[j],
            "dot": G.ravel(),
            "cos": C.ravel(),
        }
    )


def _coords_frame(name: str, words: list[str], pos: np.ndarray, E: np.ndarray, norms: np.ndarray):
    """Per word: norm, top-3 PCA scores of the raw vectors, top-2 of the unit vectors and the ring angle in the
    latter plane; also returns both PCA fits."""
    praw = geo.pca(E, 3)
    pnorm = geo.pca(E / np.where(norms > 1e-12, norms, 1.0)[:, None], 2)
    evr = praw.explained_variance_ratio
    frame = pd.DataFrame(
        {
            "group": name,
            "word": words,
            "pos": pos,
            "norm": norms,
            "pc1": praw.scores[:, 0],
            "pc2": praw.scores[:, 1],
            "pc3": praw.scores[:, 2],
            "npc1": pnorm.scores[:, 0],
            "npc2": pnorm.scores[:, 1],
            "angle": geo.ring_angles(pnorm.scores),
            "evr1": evr[0],
            "evr2": evr[1],
            "evr3": evr[2],
            "status": "ok",
        }
    )
    return frame, praw, pnorm


def _ring_rows(rows: Rows, name: str, praw: Any, pnorm: Any, ang: np.ndarray, n_perm: int, seed: int, st: str) -> None:
    """Ring order in the unit-vector plane and in the raw plane, and its permutation test."""
    rows.add(name, "ring_adjacent_pairs", geo.adjacent_pairs(ang), status=st)
    rows.add(name, "ring_winding", geo.winding_number(pnorm.scores), status=st)
    rows.add(name, "ring_adjacent_pairs_raw", geo.adjacent_pairs(geo.ring_angles(praw.scores[:, :2])), status=st)
    rows.add(name, "ring_winding_raw", geo.winding_number(praw.scores[:, :2]), status=st)
    order_rows(rows, name, ang, n_perm, seed, st)


def _circulant_rows(rows: Rows, name: str, C: np.ndarray, n_perm: int, seed: int, st: str) -> None:
    """Circulant R² of the cosine matrix with its permutation null, and adjacent-over-opposite."""
    cf = geo.circulant_fit(C)
    null = geo.circulant_fit_null(C, n_perm, seed)
    s = geo.null_summary(cf, null)
    rows.add_many(
        name,
        {
            "circulant_r2": cf,
            "circulant_r2_null_mean": s["null_mean"],
            "circulant_r2_null_sd": s["null_sd"],
            "circulant_r2_p": s["p"],
            "adjacent_gt_opposite": geo.adjacent_vs_opposite(C),
        },
        status=st,
    )


def _mantel_rows(
    rows: Rows, name: str, words: list[str], C: np.ndarray, cooc: pd.DataFrame | None, n_perm: int, seed: int, st: str
) -> None:
    """Mantel and Spearman agreement of the cosines with the data's phi and PMI (groups of 4 words or more)."""
    base = name[: -len(" (no I)")] if name.endswith(" (no I)") else name
    phi = _matrix(cooc, base, words, "phi")
    if phi is None:
        rows.add(name, "mantel_phi_r", np.nan, status="no data co-occurrence table for this group")
    elif len(words) >= 4:
        r, p = mantel(phi, C, n_perm, seed)
        rows.add_many(
            name,
            {
                "mantel_phi_r": r,
                "mantel_phi_p": p,
                "spearman_phi": spearman_upper(phi, C),
                "spearman_pmi": spearman_upper(_matrix(cooc, base, words, "pmi"), C),
            },
            status=st,
        )


def top_words_mantel(
    W: np.ndarray, rows: Rows, cooc: pd.DataFrame | None, index: WordIndex, n_perm: int, seed: int
) -> None:
    """Mantel / Spearman of data phi vs weight cosine over the most frequent words (scope "Top words")."""
    if cooc is None or not len(cooc) or not (cooc["group"] == TOP).any():
        return
    sub = cooc[cooc["group"] == TOP]
    words = list(dict.fromkeys(sub["word_i"]))
    idx = index.lookup_many(words)
    keep = idx >= 0
    words = [w for w, k in zip(words, keep) if k]
    if len(words) < 4:
        return
    C = geo.cosine(W[:, idx[keep]].T)
    phi = _matrix(cooc, TOP, words, "phi")
    pmi = _matrix(cooc, TOP, words, "pmi")
    r, p = mantel(phi, C, n_perm, seed)
    rows.add_many(
        TOP,
        {
            "n_found": len(words),
            "mantel_phi_r": r,
            "mantel_phi_p": p,
            "spearman_phi": spearman_upper(phi, C),
            "spearman_pmi": spearman_upper(pmi, C),
            "mean_abs_cos": geo.mean_abs_offdiag(C),
        },
    )


def model_metrics(
    W: np.ndarray,
    b: np.ndarray,
    index: WordIndex,
    groups: Mapping[str, Group],
    rows: Rows,
    cooc: pd.DataFrame | None,
    n_perm: int,
    seed: int,
    knn_k: int = 10,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """All per-model metrics; returns (words, groups, gram) tables and fills ``rows``."""
    rows.add_many("model", peer_metrics(W))
    rows.add("model", "bias_mean", float(np.mean(b)))
    rows.add("model", "frac_negative_bias", float(np.mean(b < 0)))
    norms = np.linalg.norm(W.astype(np.float64), axis=0)
    words = pd.DataFrame(
        {
            "index": np.arange(W.shape[1]),
            "word": index.words,
            "norm": norms,
            "bias": b.astype(np.float64),
            "onehot_z": norms**2 + b,
            "dim_frac": dim_fractions(W),
        }
    )
    cats = semantic_assignment(index, n_other=0)
    if len(cats) >= 3:
        sc = cluster_scores(
            W[:, cats["index"].to_numpy()].T, cats["category"].to_numpy(), k=knn_k, n_perm=n_perm, seed=seed
        )
        rows.add_many("model", {k: v for k, v in sc.items() if k not in ("n_words", "n_categories")})
        rows.add("model", "n_category_words", sc["n_words"])
        rows.add("model", "n_categories", sc["n_categories"])
    else:
        rows.add("model", "knn_purity", np.nan, status="fewer than 3 category words in the vocabulary")
    gtab, gram = group_tables(W, expand_groups(groups), rows, cooc, n_perm, seed)
    top_words_mantel(W, rows, cooc, index, n_perm, seed)
    return words, gtab, gram
