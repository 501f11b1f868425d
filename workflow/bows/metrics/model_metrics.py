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
from typing import Mapping

import numpy as np
import pandas as pd

from . import geometry as geo
from .clusters import cluster_scores
from .correlation import mantel, spearman_upper
from .data_stats import TOP, _order_rows
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


def group_tables(W: np.ndarray, groups: Mapping[str, Group], rows: Rows, cooc: pd.DataFrame | None,
                 n_perm: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Fill group metric rows; return (groups table, gram table)."""
    coords, grams = [], []
    for name, g in groups.items():
        ok = g.found
        idx = g.indices[ok]
        words = [w for w, f in zip(g.words, ok) if f]
        n = len(idx)
        st = "ok" if ok.all() else f"{int((~ok).sum())} of {len(g.words)} words missing: {', '.join(g.missing)}"
        rows.add(name, "n_found", n, status=st)
        if n < 2:
            rows.add(name, "offdiag_raw", np.nan, status=f"fewer than 2 words found ({st})")
            continue
        E = W[:, idx].T.astype(np.float64)
        G = geo.gram(E)
        C = geo.cosine(E)
        norms = np.linalg.norm(E, axis=1)
        rows.add_many(name, {"offdiag_raw": geo.offdiag_norm(G), "offdiag_cos": geo.offdiag_norm(C),
                             "mean_abs_cos": geo.mean_abs_offdiag(C),
                             "mean_cos": float(np.nanmean(C[~np.eye(n, dtype=bool)])),
                             "mean_norm": float(norms.mean())}, status=st)
        pos = np.flatnonzero(ok)
        i, j = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
        grams.append(pd.DataFrame({"group": name, "word_i": np.array(words, dtype=object)[i.ravel()],
                                   "word_j": np.array(words, dtype=object)[j.ravel()], "pos_i": pos[i.ravel()],
                                   "pos_j": pos[j.ravel()], "dot": G.ravel(), "cos": C.ravel()}))
        praw = geo.pca(E, 3)
        unit = E / np.where(norms > 1e-12, norms, 1.0)[:, None]
        pnorm = geo.pca(unit, 2)
        ang = geo.ring_angles(pnorm.scores)
        coords.append(pd.DataFrame({
            "group": name, "word": words, "pos": pos, "norm": norms, "pc1": praw.scores[:, 0],
            "pc2": praw.scores[:, 1], "pc3": praw.scores[:, 2], "npc1": pnorm.scores[:, 0],
            "npc2": pnorm.scores[:, 1], "angle": ang, "evr1": praw.explained_variance_ratio[0],
            "evr2": praw.explained_variance_ratio[1], "evr3": praw.explained_variance_ratio[2], "status": "ok"}))
        if n >= 3:
            rows.add(name, "ring_adjacent_pairs", geo.adjacent_pairs(ang), status=st)
            rows.add(name, "ring_winding", geo.winding_number(pnorm.scores), status=st)
            rows.add(name, "ring_adjacent_pairs_raw", geo.adjacent_pairs(geo.ring_angles(praw.scores[:, :2])),
                     status=st)
            rows.add(name, "ring_winding_raw", geo.winding_number(praw.scores[:, :2]), status=st)
            _order_rows(rows, name, ang, n_perm, seed, st)
        if n >= 4:
            cf = geo.circulant_fit(C)
            null = geo.permutation_null(lambda p: geo.circulant_fit(C[np.ix_(p, p)]), n, n_perm, seed)
            s = geo.null_summary(cf, null)
            rows.add_many(name, {"circulant_r2": cf, "circulant_r2_null_mean": s["null_mean"],
                                 "circulant_r2_null_sd": s["null_sd"], "circulant_r2_p": s["p"],
                                 "adjacent_gt_opposite": geo.adjacent_vs_opposite(C)}, status=st)
        base = name[:-len(" (no I)")] if name.endswith(" (no I)") else name
        phi = _matrix(cooc, base, words, "phi")
        pmi = _matrix(cooc, base, words, "pmi")
        if phi is None:
            rows.add(name, "mantel_phi_r", np.nan, status="no data co-occurrence table for this group")
        elif n >= 4:
            r, p = mantel(phi, C, n_perm, seed)
            rows.add_many(name, {"mantel_phi_r": r, "mantel_phi_p": p, "spearman_phi": spearman_upper(phi, C),
                                 "spearman_pmi": spearman_upper(pmi, C)}, status=st)
    gcols = ["group", "word", "pos", "norm", "pc1", "pc2", "pc3", "npc1", "npc2", "angle", "evr1", "evr2", "evr3",
             "status"]
    gram_cols = ["group", "word_i", "word_j", "pos_i", "pos_j", "dot", "cos"]
    return (pd.concat(coords, ignore_index=True) if coords else pd.DataFrame(columns=gcols),
            pd.concat(grams, ignore_index=True) if grams else pd.DataFrame(columns=gram_cols))


def top_words_mantel(W: np.ndarray, rows: Rows, cooc: pd.DataFrame | None, index: WordIndex, n_perm: int,
                     seed: int) -> None:
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
    rows.add_many(TOP, {"n_found": len(words), "mantel_phi_r": r, "mantel_phi_p": p,
                        "spearman_phi": spearman_upper(phi, C), "spearman_pmi": spearman_upper(pmi, C),
                        "mean_abs_cos": geo.mean_abs_offdiag(C)})


def model_metrics(W: np.ndarray, b: np.ndarray, index: WordIndex, groups: Mapping[str, Group], rows: Rows,
                  cooc: pd.DataFrame | None, n_perm: int, seed: int, knn_k: int = 10
                  ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """All per-model metrics; returns (words, groups, gram) tables and fills ``rows``."""
    rows.add_many("model", peer_metrics(W))
    rows.add("model", "bias_mean", float(np.mean(b)))
    rows.add("model", "frac_negative_bias", float(np.mean(b < 0)))
    norms = np.linalg.norm(W.astype(np.float64), axis=0)
    words = pd.DataFrame({"index": np.arange(W.shape[1]), "word": index.words, "norm": norms,
                          "bias": b.astype(np.float64), "onehot_z": norms ** 2 + b, "dim_frac": dim_fractions(W)})
    cats = semantic_assignment(index, n_other=0)
    if len(cats) >= 3:
        sc = cluster_scores(W[:, cats["index"].to_numpy()].T, cats["category"].to_numpy(), k=knn_k,
                            n_perm=n_perm, seed=seed)
        rows.add_many("model", {k: v for k, v in sc.items() if k not in ("n_words", "n_categories")})
        rows.add("model", "n_category_words", sc["n_words"])
        rows.add("model", "n_categories", sc["n_categories"])
    else:
        rows.add("model", "knn_purity", np.nan, status="fewer than 3 category words in the vocabulary")
    gtab, gram = group_tables(W, expand_groups(groups), rows, cooc, n_perm, seed)
    top_words_mantel(W, rows, cooc, index, n_perm, seed)
    return words, gtab, gram
