"""Planted known answers for the per-model group metrics (bows.metrics.model_metrics) and peer metrics.

A 12-point ring in W: month k is w_k = (2 cos θ_k, 2 sin θ_k, 1) with θ_k = 2πk/12, so
⟨w_i, w_j⟩ = 4 cos Δ + 1 and cos(w_i, w_j) = (4 cos Δ + 1)/5 with Δ = 2π(i − j)/12. Over the 11 other months
Σ cos Δ = −1 and Σ cos² Δ = 5, which gives the closed forms below. The data phi matrix planted beside it is
0.02 + 0.1 cos Δ (an affine function of the weight cosine: Mantel r = 1) and PMI = −phi (Spearman −1).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from bows.grid import ModelSpec
from bows.metrics import peers
from bows.metrics.model_metrics import expand_groups, group_tables, model_metrics, top_words_mantel
from bows.metrics.tables import Rows
from bows.metrics.words import WordIndex, resolve_group

MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
ROMAN = ["I", "II", "III", "IV"]
WORDS = MONTHS + ROMAN + ["Beatles"]
N_PERM = 200


def ring_W(order=None) -> np.ndarray:
    """W [3, V]: month k on the ring at angle 2π·order[k]/12 (default: its own position), Roman numerals after."""
    order = np.arange(12) if order is None else np.asarray(order)
    th = 2 * np.pi * order / 12
    W = np.zeros((3, len(WORDS)))
    W[:, :12] = np.stack([2 * np.cos(th), 2 * np.sin(th), np.ones(12)])
    W[:, 12:16] = np.array([[1, 0, 0], [0, 1, 0], [0, 1, 1], [1, 1, 0]]).T  # I, II, III, IV
    W[:, 16] = [0.0, 0.0, 0.5]
    return W


def cooc_table(group: str, words: list[str], phi: np.ndarray, pmi: np.ndarray) -> pd.DataFrame:
    """data/cooc.parquet rows of one group (columns as documented), in shuffled row order."""
    n = len(words)
    i, j = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    i, j = i.ravel(), j.ravel()
    df = pd.DataFrame(
        {
            "group": group,
            "word_i": np.array(words, dtype=object)[i],
            "word_j": np.array(words, dtype=object)[j],
            "pos_i": i,
            "pos_j": j,
            "n_windows": 1000,
            "n_i": 100,
            "n_j": 100,
            "n_ij": 10,
            "corr_cond": phi.ravel(),
            "phi": phi.ravel(),
            "pmi": pmi.ravel(),
            "status": "ok",
        }
    )
    return df.sample(frac=1.0, random_state=0).reset_index(drop=True)


def planted_phi() -> np.ndarray:
    k = np.arange(12)
    d = np.abs(k[:, None] - k[None, :])
    phi = 0.02 + 0.1 * np.cos(2 * np.pi * d / 12)
    np.fill_diagonal(phi, 1.0)
    return phi


@pytest.fixture(scope="module")
def index():
    return WordIndex(WORDS)


def groups_of(index):
    return {
        "Months": resolve_group("Months", MONTHS, index, cyclic=True),
        "Roman numerals": resolve_group("Roman numerals", ROMAN, index),
        "Pair": resolve_group("Pair", ["Beatles", "Lennon"], index, strict=False),
    }


def metric_dict(rows: Rows, scope: str) -> dict[str, float]:
    df = rows.frame()
    df = df[df["scope"] == scope]
    return dict(zip(df["metric"], df["value"]))


def run_groups(W, index, cooc=None):
    rows = Rows(ModelSpec("relu", 3, 1.0, 1))
    gtab, gram = group_tables(W, expand_groups(groups_of(index)), rows, cooc, N_PERM, 0)
    return rows, gtab, gram


def test_ring_group_metrics_known_answers(index):
    phi = planted_phi()
    rows, gtab, gram = run_groups(ring_W(), index, cooc_table("Months", MONTHS, phi, -phi))
    m = metric_dict(rows, "Months")
    assert m["n_found"] == 12
    assert m["offdiag_raw"] == pytest.approx(math.sqrt(12 * 83))  # Σ_{Δ≠0} (4 cos Δ + 1)² = 16·5 − 8 + 11 = 83
    assert m["offdiag_cos"] == pytest.approx(math.sqrt(12 * 83) / 5)
    assert m["mean_cos"] == pytest.approx(7 / 55)  # (4·(−1) + 11) / (5·11)
    assert m["mean_abs_cos"] == pytest.approx((8 * math.sqrt(3) + 13) / 55)
    assert m["mean_norm"] == pytest.approx(math.sqrt(5))
    assert m["ring_adjacent_pairs"] == 12 and abs(m["ring_winding"]) == 1
    assert m["ring_adjacent_pairs_raw"] == 12 and abs(m["ring_winding_raw"]) == 1
    assert m["order_agreement"] == pytest.approx(1.0) and m["order_agreement_p"] <= 2 / (N_PERM + 1)
    assert m["circulant_r2"] == pytest.approx(1.0) and m["circulant_r2_p"] <= 2 / (N_PERM + 1)
    assert m["circulant_r2_null_mean"] < 0.5
    assert m["adjacent_gt_opposite"] == 12
    assert m["mantel_phi_r"] == pytest.approx(1.0) and m["mantel_phi_p"] <= 2 / (N_PERM + 1)
    # phi and the cosines tie in exact arithmetic (one value per distance; rounding noise must not break the ties):
    # the same tie structure on both sides gives a rank correlation of exactly ±1
    assert m["spearman_phi"] == pytest.approx(1.0, abs=1e-12) and m["spearman_pmi"] == pytest.approx(-1.0, abs=1e-12)
    # gram table: 144 Months entries with dot = 4 cos Δ + 1
    g = gram[gram["group"] == "Months"]
    assert len(g) == 144
    jan_jul = g[(g["word_i"] == "January") & (g["word_j"] == "July")].iloc[0]
    assert jan_jul["dot"] == pytest.approx(-3.0) and jan_jul["cos"] == pytest.approx(-0.6)
    # coordinates: norms √5, and the normalised ring's angles step by ±30°
    coords = gtab[gtab["group"] == "Months"]
    np.testing.assert_allclose(coords["norm"], math.sqrt(5))
    step = np.diff(np.unwrap(coords["angle"].to_numpy()))
    np.testing.assert_allclose(np.abs(step), 2 * np.pi / 12, atol=1e-9)
    assert coords["evr1"].iloc[0] + coords["evr2"].iloc[0] == pytest.approx(1.0)  # the offset (1) is centred away


def test_scrambled_ring_fails(index):
    """The same 12 points with the months placed out of order: no adjacent pair, and the Mantel r drops to the
    Pearson correlation of the two upper triangles."""
    order = [0, 3, 1, 7, 2, 9, 11, 4, 10, 5, 8, 6]  # no consecutive months on neighbouring points
    phi = planted_phi()
    rows, _, _ = run_groups(ring_W(order), index, cooc_table("Months", MONTHS, phi, -phi))
    m = metric_dict(rows, "Months")
    assert m["ring_adjacent_pairs"] == 0
    assert m["circulant_r2"] < 0.5 and m["adjacent_gt_opposite"] < 10
    o = np.asarray(order)
    C = (4 * np.cos(2 * np.pi * (o[:, None] - o[None, :]) / 12) + 1) / 5
    iu = np.triu_indices(12, 1)
    assert m["mantel_phi_r"] == pytest.approx(np.corrcoef(phi[iu], C[iu])[0, 1])
    assert m["mantel_phi_r"] < 0.5 and m["mantel_phi_p"] > 0.01


def test_small_groups_and_roman_without_I(index):
    rows, _, _ = run_groups(ring_W(), index, cooc=None)
    r = metric_dict(rows, "Roman numerals")
    # I·IV = 1, II·III = 1, II·IV = 1, III·IV = 1, others 0: ‖G − diag‖_F = √(2·4)
    assert r["n_found"] == 4 and r["offdiag_raw"] == pytest.approx(math.sqrt(8))
    no_i = metric_dict(rows, "Roman numerals (no I)")
    assert no_i["n_found"] == 3 and no_i["offdiag_raw"] == pytest.approx(math.sqrt(6))
    assert "circulant_r2" not in no_i and "adjacent_gt_opposite" not in no_i  # n < 4
    assert np.isnan(r["mantel_phi_r"])  # no co-occurrence table: NaN with a reason
    df = rows.frame()
    why = df[(df["scope"] == "Roman numerals") & (df["metric"] == "mantel_phi_r")]["status"].iloc[0]
    assert "no data co-occurrence" in why
    pair = df[df["scope"] == "Pair"].set_index("metric")
    assert pair.loc["n_found", "value"] == 1 and np.isnan(pair.loc["offdiag_raw", "value"])
    assert "Lennon" in pair.loc["n_found", "status"] and "fewer than 2" in pair.loc["offdiag_raw", "status"]


def test_expand_groups(index):
    g = groups_of(index)
    out = expand_groups(g)
    assert list(out) == ["Months", "Roman numerals", "Pair", "Roman numerals (no I)"]
    sub = out["Roman numerals (no I)"]
    assert sub.words == ["II", "III", "IV"] and sub.indices.tolist() == [13, 14, 15]
    other = {"Letters": resolve_group("Letters", ["I", "II"], index), "Roman": resolve_group("Roman", ["II"], index)}
    assert list(expand_groups(other)) == ["Letters", "Roman"]  # not Roman, or Roman without I


def test_top_words_mantel_known_answer():
    ang = np.deg2rad([0, 17, 41, 88, 133, 197])  # no two pairs at the same angular distance
    words = ["a", "b", "c", "d", "e", "f"]
    index = WordIndex(words + ["g"])
    W = np.zeros((2, 7))
    W[:, :6] = 3 * np.stack([np.cos(ang), np.sin(ang)])
    W[:, 6] = [1.0, 1.0]
    C = np.cos(ang[:, None] - ang[None, :])
    phi = 0.5 * C - 0.1
    listed = words + ["zzz"]  # a word the vocabulary lacks is dropped
    P = np.full((7, 7), 0.3)
    P[:6, :6] = phi
    rows = Rows(ModelSpec("relu", 2, 1.0, 1))
    top_words_mantel(W, rows, cooc_table("Top words", listed, P, np.exp(P)), index, N_PERM, 0)
    m = metric_dict(rows, "Top words")
    iu = np.triu_indices(6, 1)
    assert m["n_found"] == 6
    assert m["mantel_phi_r"] == pytest.approx(1.0) and m["spearman_phi"] == pytest.approx(1.0)
    assert m["spearman_pmi"] == pytest.approx(1.0)
    assert m["mean_abs_cos"] == pytest.approx(np.mean(np.abs(C[iu])))
    # mirrored: phi decreasing in the cosine
    rows2 = Rows(ModelSpec("relu", 2, 1.0, 1))
    top_words_mantel(W, rows2, cooc_table("Top words", listed, -P, -P), index, N_PERM, 0)
    m2 = metric_dict(rows2, "Top words")
    assert m2["mantel_phi_r"] == pytest.approx(-1.0) and m2["mantel_phi_p"] > 0.9
    # too few words, or no Top words group: nothing written
    rows3 = Rows(None)
    top_words_mantel(W, rows3, cooc_table("Top words", words[:3], phi[:3, :3], phi[:3, :3]), index, N_PERM, 0)
    top_words_mantel(W, rows3, cooc_table("Months", words, phi, phi), index, N_PERM, 0)
    assert rows3.rows == []


def test_model_metrics_on_the_ring(index):
    W = ring_W()
    b = np.array([-0.5] * 12 + [0.2] * 5)
    phi = planted_phi()
    rows = Rows(ModelSpec("relu", 3, 1.0, 1))
    words, gtab, gram = model_metrics(
        W, b, index, groups_of(index), rows, cooc_table("Months", MONTHS, phi, -phi), N_PERM, 0
    )
    m = metric_dict(rows, "model")
    assert m["bias_mean"] == pytest.approx((12 * -0.5 + 5 * 0.2) / 17)
    assert m["frac_negative_bias"] == pytest.approx(12 / 17)
    frob2 = 12 * 5 + (1 + 1 + 2 + 2) + 0.25
    assert m["frob2"] == pytest.approx(frob2) and m["d_star"] == pytest.approx(3 / frob2)
    w = words.set_index("word")
    assert w.loc["May", "onehot_z"] == pytest.approx(5 - 0.5) and w.loc["Beatles", "onehot_z"] == pytest.approx(0.45)
    assert metric_dict(rows, "Months")["circulant_r2"] == pytest.approx(1.0)
    assert "Roman numerals (no I)" in set(gtab["group"])


def test_peer_metrics_known_answers():
    """Four features in ℝ²: w1 = (2, 0), w2 = (0, 1), w3 = (0.3, 0.4), w4 = (0.6, 0)."""
    W = np.array([[2.0, 0.0, 0.3, 0.6], [0.0, 1.0, 0.4, 0.0]])
    m = peers.peer_metrics(W)
    frob2 = 4 + 1 + 0.25 + 0.36
    assert m["frob2"] == pytest.approx(frob2) and m["frob2_over_latent"] == pytest.approx(frob2 / 2)
    assert m["d_star"] == pytest.approx(2 / frob2)
    # Σ_j (ŵ_i·w_j)²: ŵ1 = ŵ4 = (1, 0) → 4 + 0.09 + 0.36; ŵ2 = (0, 1) → 1 + 0.16; ŵ3 = (0.6, 0.8)
    q13 = 4 + 0.09 + 0.36
    q2 = 1 + 0.16
    q3 = 1.2**2 + 0.8**2 + 0.5**2 + 0.36**2
    D = [4 / q13, 1 / q2, 0.25 / q3, 0.36 / q13]
    assert m["dim_frac_mean"] == pytest.approx(np.mean(D)) and m["dim_frac_sum"] == pytest.approx(sum(D))
    assert m["phi_half"] == 0.75 and m["phi_one"] == 0.25  # norms 2, 1, 0.5, 0.6: > ½ strictly
    # squared cosines: (1,3) .36, (1,4) 1, (2,3) .64, (3,4) .36, others 0
    assert m["msq_overlap"] == pytest.approx((0.36 + 1 + 0.64 + 0.36) / 6)
    assert m["msq_overlap_repr"] == pytest.approx(1 / 3)  # w1, w2, w4 only: one parallel pair of three
    assert m["msq_random"] == 0.5 and m["msq_welch"] == pytest.approx(2 / 6)
    assert m["msq_welch_repr"] == pytest.approx(1 / 4)
    # σ² = eigenvalues of W Wᵀ = [[4.45, 0.12], [0.12, 1.16]]
    a, d, c = 4.45, 1.16, 0.12
    root = math.sqrt(((a - d) / 2) ** 2 + c**2)
    s = np.sqrt([(a + d) / 2 + root, (a + d) / 2 - root])
    p = s / s.sum()
    assert m["erank"] == pytest.approx(math.exp(-np.sum(p * np.log(p))))
    assert m["stable_rank"] == pytest.approx(frob2 / s[0] ** 2)
    assert m["norm_mean"] == pytest.approx(1.025) and m["norm_median"] == pytest.approx(0.8)
