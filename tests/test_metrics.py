"""Known-answer tests of the geometry metrics (bows.metrics)."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from bows.config import section
from bows.encode import Docs
from bows.errors import VocabError
from bows.metrics import clusters, correlation, mechanism, months, peers, r2
from bows.metrics import geometry as geo
from bows.metrics.data_stats import corr_distance_tests, data_ring, group_data_stats
from bows.metrics.words import WordIndex, resolve_group, resolve_groups, semantic_assignment
from bows.windows import Windows, n_windows

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


def polygon(n: int, r: float = 1.0, phase: float = 0.0) -> np.ndarray:
    """W [2, n]: n points evenly on a circle of radius r."""
    th = phase + 2 * np.pi * np.arange(n) / n
    return r * np.stack([np.cos(th), np.sin(th)])


# ------------------------------------------------------------------------------------------------ peers
@pytest.mark.parametrize("n", [3, 4, 5, 8, 12])
@pytest.mark.parametrize("r", [1.0, 0.3])
def test_polygon_dimensionality(n, r):
    W = polygon(n, r, phase=0.3)
    np.testing.assert_allclose(peers.dim_fractions(W), 2 / n, rtol=1e-10)
    np.testing.assert_allclose(peers.d_star(W), 2 / (n * r**2), rtol=1e-10)


def test_identity_gram():
    W = np.eye(6)
    np.testing.assert_allclose(peers.dim_fractions(W), 1.0)
    assert peers.d_star(W) == pytest.approx(1.0)
    assert peers.mean_sq_overlap(W) == pytest.approx(0.0, abs=1e-12)
    assert peers.welch_bound(6, 6) == 0.0
    assert peers.effective_rank(W) == pytest.approx(6.0)
    assert peers.stable_rank(W) == pytest.approx(6.0)
    assert peers.represented_fractions(W) == (1.0, 0.0)
    G = geo.gram(W.T)
    assert geo.offdiag_norm(G) == 0.0
    assert geo.mean_abs_offdiag(geo.cosine(W.T)) == 0.0


def test_cosine_of_a_dead_row_is_the_named_choice():
    # rows (3, 4), (0, 0), (4, -3): cosines 1 on the diagonal, 0 between the two live orthogonal rows
    E = np.array([[3.0, 4.0], [0.0, 0.0], [4.0, -3.0]])
    C = geo.cosine(E)
    assert np.isnan(C[1]).all() and np.isnan(C[:, 1]).all()
    assert C[0, 2] == pytest.approx(0.0) and C[0, 0] == pytest.approx(1.0)
    Z = geo.cosine(E, dead=0.0)
    assert (Z[1] == 0).all() and (Z[:, 1] == 0).all() and Z[0, 0] == pytest.approx(1.0)
    G = E @ E.T  # the Gram of the three rows: same cosines, dead row 0 (diagonal 1) unless told otherwise
    F = geo.cosine_from_gram(G)
    np.testing.assert_allclose(np.delete(np.delete(F, 1, 0), 1, 1), np.delete(np.delete(Z, 1, 0), 1, 1), atol=1e-12)
    assert F[1, 1] == 1.0 and F[1, 0] == 0.0 and F[0, 1] == 0.0
    N = geo.cosine_from_gram(G, dead=np.nan)
    assert np.isnan(N[1, 0]) and np.isnan(N[0, 1]) and N[1, 1] == 1.0


def test_dead_feature_dimensionality_is_zero():
    W = np.concatenate([np.eye(3), np.zeros((3, 1))], axis=1)
    D = peers.dim_fractions(W)
    assert D[-1] == 0.0 and np.allclose(D[:3], 1.0)


def test_simplex_reaches_welch_bound():
    L = 4
    n = L + 1
    E = np.eye(n) - 1.0 / n  # regular simplex in the (n−1)-dim subspace
    U, s, Vt = np.linalg.svd(E)
    W = (U[:, :L] * s[:L]).T  # [L, n]
    assert peers.mean_sq_overlap(W) == pytest.approx(peers.welch_bound(n, L), rel=1e-9)


def test_random_overlap_baseline():
    rng = np.random.default_rng(0)
    W = rng.standard_normal((50, 2000))
    assert peers.mean_sq_overlap(W) == pytest.approx(1 / 50, rel=0.05)


def test_power_law_fit_recovers_exponent():
    L = np.repeat([25, 50, 100, 200, 400], 2).astype(float)
    rng = np.random.default_rng(0)
    loss = 3.0 * L**-0.5 * np.exp(rng.normal(0, 0.01, L.size))
    fit = peers.power_law_fit(L, loss, n_boot=500)
    assert fit["exponent"] == pytest.approx(0.5, abs=0.02)
    assert fit["exponent_lo"] <= 0.5 <= fit["exponent_hi"]
    assert fit["prefactor"] == pytest.approx(3.0, rel=0.1)
    assert peers.power_law_fit([10, 10], [1, 2])["status"].startswith("too few")


# ------------------------------------------------------------------------------------------------ geometry
def test_planted_cycle_order_agreement():
    n = 12
    th = 2 * np.pi * np.arange(n) / n
    assert geo.order_agreement(th + 1.0) == pytest.approx(1.0)
    assert geo.order_agreement(-th) == pytest.approx(1.0)  # reflection
    assert geo.order_agreement(th**1.3) == pytest.approx(1.0)  # uneven spacing, same order
    P = np.stack([np.cos(th), np.sin(th)], 1)
    assert geo.adjacent_pairs(geo.ring_angles(P)) == n
    assert abs(geo.winding_number(P)) == 1
    null = geo.order_agreement_null(th, 2000, seed=1)
    s = geo.null_summary(1.0, null)
    assert s["p"] < 0.01
    corrected = (null - s["null_mean"]) / (1 - s["null_mean"])
    assert abs(corrected.mean()) < 1e-9  # a shuffled order scores ≈ 0 after chance correction
    assert null.mean() < 0.5


def _circulant_by_loops(M):
    """R² of the circular-distance means over the off-diagonal entries, written out with loops."""
    n = len(M)
    by_d = {}
    for i in range(n):
        for j in range(n):
            if i != j:
                by_d.setdefault(min(abs(i - j), n - abs(i - j)), []).append(M[i, j])
    allv = [v for vs in by_d.values() for v in vs]
    mean = sum(allv) / len(allv)
    res = sum((v - sum(vs) / len(vs)) ** 2 for vs in by_d.values() for v in vs)
    return 1 - res / sum((v - mean) ** 2 for v in allv)


def _order_by_loops(theta):
    n = len(theta)
    rank = {k: r for r, k in enumerate(sorted(range(n), key=lambda k: (theta[k], k)))}
    best = 0.0
    for s in (1, -1):
        z = sum(np.exp(1j * (2 * np.pi * rank[k] / n - s * 2 * np.pi * k / n)) for k in range(n)) / n
        best = max(best, abs(z))
    return best


def test_vectorised_nulls_equal_the_statistic_on_each_permutation():
    """The nulls computed for all permutations at once are the scalar statistic (written here with loops) on each of
    the same seeded permutations; and a null from other permutations (another seed) is not."""
    rng = np.random.default_rng(5)
    X = rng.standard_normal((9, 4))
    C = X @ X.T
    perms = geo.permutations(9, 60, seed=3)
    expected = [_circulant_by_loops(C[np.ix_(p, p)]) for p in perms]
    np.testing.assert_allclose(geo.circulant_fit_null(C, 60, seed=3), expected, rtol=1e-12, atol=1e-12)
    assert not np.allclose(geo.circulant_fit_null(C, 60, seed=4), expected)
    theta = rng.uniform(-np.pi, np.pi, 11)
    perms = geo.permutations(11, 60, seed=3)
    expected = [_order_by_loops(theta[p]) for p in perms]
    np.testing.assert_allclose(geo.order_agreement_null(theta, 60, seed=3), expected, rtol=1e-12, atol=1e-12)
    assert geo.circulant_fit(C) == pytest.approx(_circulant_by_loops(C), abs=1e-12)
    assert geo.order_agreement(theta) == pytest.approx(_order_by_loops(theta), abs=1e-12)
    assert np.isnan(geo.circulant_fit_null(np.where(np.eye(9, k=1) > 0, np.nan, C), 5)).all()  # non-finite: NaN
    assert np.isnan(geo.circulant_fit_null(np.ones((9, 9)), 5)).all()  # constant off-diagonal: nothing to explain


def test_circulant_fit_and_profile():
    n = 12
    D = geo.circular_distance(n)
    C = np.cos(2 * np.pi * D / n)
    assert geo.circulant_fit(C) == pytest.approx(1.0)
    prof = geo.distance_profile(C)
    assert np.all(np.diff(prof) < 0)
    assert geo.adjacent_vs_opposite(C) == n
    rng = np.random.default_rng(0)
    p = rng.permutation(n)
    assert geo.circulant_fit(C[np.ix_(p, p)]) < 0.9


def test_pca_sign_and_evr():
    P = polygon(12).T
    X = np.concatenate([P, np.zeros((12, 3))], axis=1)
    res = geo.pca(X, 3)
    assert res.explained_variance_ratio[:2].sum() == pytest.approx(1.0)
    assert res.explained_variance_ratio[2] == pytest.approx(0.0, abs=1e-12)
    assert res.transform(X).shape == (12, 3)


# ------------------------------------------------------------------------------------------------ correlation
def test_mantel_identical_and_independent():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((10, 10))
    A = A + A.T
    r, p = correlation.mantel(A, A, n_perm=200, seed=0)
    assert r == pytest.approx(1.0)
    assert p <= 3 / 201
    B = rng.standard_normal((10, 10))
    B = B + B.T
    _, p2 = correlation.mantel(A, B, n_perm=200, seed=0)
    assert p2 > 0.01
    assert correlation.spearman_upper(A, A) == pytest.approx(1.0)


def test_phi_pmi_from_counts():
    rng = np.random.default_rng(0)
    Y = rng.random((500, 4)) < 0.3
    Y[:, 3] = Y[:, 0]
    N, ni, nij = correlation.cooc_counts(Y)
    phi = correlation.phi_from_counts(N, ni, nij)
    np.testing.assert_allclose(phi, np.corrcoef(Y.astype(float), rowvar=False), atol=1e-12)
    pmi = correlation.pmi_from_counts(N, ni, nij)
    assert pmi[0, 3] == pytest.approx(np.log(N / ni[0]))


def random_docs(n_docs=60, V=30, seed=0):
    rng = np.random.default_rng(seed)
    lens = rng.integers(0, 6, n_docs)
    indptr = np.concatenate([[0], np.cumsum(lens)]).astype(np.int64)
    indices = np.concatenate([np.sort(rng.choice(V, k, replace=False)) for k in lens]).astype(np.uint16)
    return indptr, indices


@pytest.mark.parametrize("G,S", [(1, 1), (5, 1), (4, 3)])
def test_window_builders_match_definition(G, S):
    indptr, indices = random_docs()
    V = 30
    win = Windows(Docs(indptr, indices, V), G, S)
    n = len(win)
    widx = np.random.default_rng(1).permutation(n)[: n // 2]
    ref = np.zeros((len(widx), V), dtype=bool)
    for r, w in enumerate(widx):
        ref[r, indices[indptr[w * S] : indptr[w * S + G]]] = True
    X = win.dense_array(widx)
    np.testing.assert_array_equal(X.astype(bool), ref)
    np.testing.assert_array_equal(win.dense(widx).numpy(), X)
    lut = np.full(V, -1)
    lut[[3, 7, 11]] = [0, 1, 2]
    Y = correlation.window_indicators(indptr, indices, lut, 3, G, S, widx, block_cells=2048)
    np.testing.assert_array_equal(Y, ref[:, [3, 7, 11]])


def planted_month_docs(n_docs=6000, seed=0):
    """Documents mentioning one month each, drawn near a slowly rotating 'season'; other words random."""
    rng = np.random.default_rng(seed)
    V = 40
    season = (np.arange(n_docs) / 40.0) % 12  # drifts through the year
    rows = []
    for d in range(n_docs):
        ids = set(rng.choice(np.arange(12, V), 3, replace=False).tolist())
        if rng.random() < 0.5:
            ids.add(int(np.round(season[d] + rng.normal(0, 0.7))) % 12)
        rows.append(np.array(sorted(ids)))
    lens = np.array([len(r) for r in rows])
    indptr = np.concatenate([[0], np.cumsum(lens)]).astype(np.int64)
    return indptr, np.concatenate(rows).astype(np.uint16), V


def test_month_correlation_circulant_on_planted_data():
    indptr, indices, V = planted_month_docs()
    words = MONTHS + [f"w{k}" for k in range(12, V)]
    index = WordIndex(words)
    groups = {"Months": resolve_group("Months", MONTHS, index, cyclic=True)}
    G = 3
    widx = np.arange(n_windows(len(indptr) - 1, G, 1))
    cooc, ring, met = group_data_stats(indptr, indices, V, G, 1, widx, groups, None, words, top_k=5, n_perm=50, seed=0)
    get = dict(zip(met["metric"], met["value"]))
    assert get["corr_dist_spearman"] <= -0.8
    assert get["corr_dist_inversions"] <= 1
    assert get["ring_adjacent_pairs"] >= 10
    assert abs(get["ring_winding"]) == 1
    assert get["circulant_r2"] > get["circulant_r2_null_mean"]
    m = cooc[cooc["group"] == "Months"]
    assert len(m) == 144 and set(cooc["group"]) == {"Months", "Top words"}
    # the conditional correlation equals np.corrcoef on the windows containing a month
    Y = correlation.window_indicators(indptr, indices, np.r_[np.arange(12), np.full(V - 12, -1)], 12, G, 1, widx)
    sel = Y[Y.any(1)].astype(float)
    ref = np.corrcoef(sel, rowvar=False)
    np.testing.assert_allclose(m["corr_cond"].to_numpy().reshape(12, 12), ref, atol=1e-10)
    assert len(ring) == 12


def test_data_ring_of_planted_cycle():
    n = 12
    rng = np.random.default_rng(0)
    k = rng.integers(0, n, 5000)
    Y = np.zeros((5000, n), dtype=bool)
    Y[np.arange(5000), k] = True
    Y[np.arange(5000), (k + 1) % n] = True
    P, evr = data_ring(Y)
    assert geo.adjacent_pairs(geo.ring_angles(P)) == n
    assert corr_distance_tests(np.corrcoef(Y.astype(float), rowvar=False))["corr_dist_spearman"] < -0.8


# ------------------------------------------------------------------------------------------------ R²
def small_model(L=6, V=20, seed=0):
    rng = np.random.default_rng(seed)
    W = rng.normal(0, 0.5, (L, V)).astype(np.float32)
    b = rng.normal(-0.1, 0.1, V).astype(np.float32)
    return W, b


def test_in_context_r2_matches_brute_force():
    W, b = small_model()
    rng = np.random.default_rng(1)
    X = (rng.random((300, 20)) < 0.25).astype(np.float32)
    X[:, 5] = 0  # a word that never occurs → NaN
    batches = [X[s : s + 64] for s in range(0, 300, 64)]
    D = r2.fit_linear_decoder(W, batches, ridge=1e-9)
    st = r2.reconstruction_stats(W, b, batches, decoder=D, targets=[2, 5], groups={"g": np.array([0, 1, 2])})
    Z = X.astype(np.float64) @ W.T.astype(np.float64) @ W.astype(np.float64) + b
    np.testing.assert_allclose(st.r2_ctx, r2.brute_force_r2(X, np.maximum(Z, 0)), atol=1e-5, equal_nan=True)
    np.testing.assert_allclose(st.r2_tied, r2.brute_force_r2(X, Z), atol=1e-5, equal_nan=True)
    H = np.c_[X @ W.T, np.ones(len(X))].astype(np.float64)
    coef, *_ = np.linalg.lstsq(H, X, rcond=None)
    np.testing.assert_allclose(st.r2_ls, r2.brute_force_r2(X, H @ coef), atol=1e-4, equal_nan=True)
    assert np.isnan(st.r2_ctx[5])
    np.testing.assert_allclose(st.preacts[2], Z[X[:, 2] > 0, 2], atol=1e-5)
    assert st.preacts[5].size == 0
    Wg = W[:, :3].astype(np.float64)
    np.testing.assert_allclose(st.group_tied["g"], r2.brute_force_r2(X[:, :3], X[:, :3] @ Wg.T @ Wg + b[:3]), atol=1e-5)
    assert st.freq_count.tolist() == X.sum(0).astype(int).tolist()


def test_onehot_r2_closed_form_matches_direct():
    W, b = small_model(L=5, V=23, seed=2)
    W[:, 0] *= 3  # one word with a positive one-hot pre-activation
    X = np.eye(23)
    Xhat = np.maximum(X @ W.T.astype(np.float64) @ W.astype(np.float64) + b, 0)
    np.testing.assert_allclose(r2.onehot_r2(W, b, block=7), r2.brute_force_r2(X, Xhat), atol=1e-5)


def test_strata():
    s = r2.strata(np.array([0.9, 0.9, 0.1, np.nan]), np.array([0.8, 0.2, 0.0, 0.1]), 0.5)
    assert s.tolist() == ["linear", "nonlinear", "not_represented", "undefined"]


# ------------------------------------------------------------------------------------------------ mechanism
def test_towers_and_preact_summary():
    W = np.array([[1.0, 0.5, -0.2, 0.0], [0.0, 0.5, 0.1, 1.0]])
    b = np.array([-1.5, 0, 0, 0])
    df = mechanism.towers_for_target(W, b, 0, "t", [("c", 1), ("x", -1)], [("u", 2)], [("m1", 1), ("m2", 3)])
    corr = df[df["tower"] == "correlated"]
    assert corr["contribution"].tolist()[:3] == [-1.5, 1.0, 0.5]
    assert corr["end"].iloc[-1] == pytest.approx(0.0)
    assert corr["status"].iloc[-1].startswith("missing")
    nt = df[df["tower"] == "correlated_no_target"]
    assert nt["end"].iloc[1] == pytest.approx(-1.0)
    assert df[df["tower"] == "months"]["contribution"].tolist() == [0.5, 0.0]
    s = mechanism.preact_summary(np.array([-1.0, 0.2, 0.9, 1.5]), onehot_z=-0.5)
    assert s["frac_pos"] == 0.75 and s["frac_above_onehot"] == 0.75
    assert s["frac_better_than_onehot"] == 0.75
    assert mechanism.preact_summary(np.zeros(0), 0.0)["n_windows"] == 0


# ------------------------------------------------------------------------------------------------ clusters
def test_cluster_scores_planted_and_sklearn():
    from sklearn.metrics import silhouette_score

    rng = np.random.default_rng(0)
    centers = rng.standard_normal((3, 8)) * 5
    lab = np.repeat(np.arange(3), 20)
    E = centers[lab] + rng.standard_normal((60, 8)) * 0.3
    sc = clusters.cluster_scores(E, lab, k=5, n_perm=100, seed=0)
    assert sc["knn_purity"] == pytest.approx(1.0)
    assert sc["knn_purity_p"] < 0.05 and sc["silhouette_cos_p"] < 0.05
    assert sc["knn_purity_null_mean"] < 0.6
    assert sc["silhouette_cos"] == pytest.approx(silhouette_score(E, lab, metric="cosine"), abs=1e-5)
    # the null: sklearn's silhouette of each of the same 100 shuffles (the permutations span two chunks of 64)
    rng = np.random.default_rng(0)
    null = [silhouette_score(E, rng.permutation(lab), metric="cosine") for _ in range(100)]
    assert sc["silhouette_cos_null_mean"] == pytest.approx(np.mean(null), abs=1e-6)
    assert sc["silhouette_cos_null_sd"] == pytest.approx(np.std(null, ddof=1), abs=1e-6)


def _knn_purity_2d(Y: np.ndarray, lab: np.ndarray, k: int = 5) -> float:
    """Share of each point's k nearest neighbours (Euclidean, in the layout) with its label, by brute force."""
    d = ((Y[:, None, :] - Y[None, :, :]) ** 2).sum(-1)
    np.fill_diagonal(d, np.inf)
    nn = np.argsort(d, axis=1)[:, :k]
    return float((lab[nn] == lab[:, None]).mean())


def test_umap_layout_keeps_planted_clusters_apart():
    """Three clusters of directions (cosine metric) in ℝ¹⁶ stay three clusters in the 2-D layout; i.i.d. vectors with
    the same labels give a layout where the labels are at chance."""
    from sklearn.metrics import silhouette_score

    rng = np.random.default_rng(1)
    lab = np.repeat(np.arange(3), 15)
    centers = np.linalg.qr(rng.standard_normal((16, 3)))[0].T  # three orthogonal directions
    E = centers[lab] * rng.uniform(0.5, 3.0, (45, 1)) + 0.05 * rng.standard_normal((45, 16))
    Y = clusters.umap_layout(E, seed=42)
    assert Y.shape == (45, 2) and np.isfinite(Y).all()
    assert _knn_purity_2d(Y, lab) == 1.0
    assert silhouette_score(Y, lab) > 0.5
    np.testing.assert_array_equal(clusters.umap_layout(E, seed=42), Y)  # the seed fixes the layout
    # the mirror: no structure in the vectors, none in the layout (chance purity is 14/44 ≈ 0.32)
    noise = rng.standard_normal((45, 16))
    Yn = clusters.umap_layout(noise, seed=42)
    assert _knn_purity_2d(Yn, lab) < 0.55 and silhouette_score(Yn, lab) < 0.15
    assert np.isnan(clusters.umap_layout(E[:3])).all()  # too few rows for a neighbour graph


def test_cosine_neighbours_are_the_exact_ones():
    """Against scipy's cosine distances, block by block: the row first at 0, then its 14 nearest, in order."""
    from scipy.spatial.distance import cdist

    E = np.random.default_rng(3).standard_normal((300, 20))
    idx, dist = clusters.cosine_neighbours(E, 15, block=64)
    D = cdist(E, E, "cosine")
    np.testing.assert_array_equal(idx, np.argsort(D, axis=1, kind="stable")[:, :15])
    np.testing.assert_allclose(dist, np.sort(D, axis=1)[:, :15], atol=1e-6)
    assert (idx[:, 0] == np.arange(300)).all() and (dist[:, 0] == 0).all()


def test_umap_graph_from_the_exact_neighbours_is_umaps_own():
    """Below 4,096 rows UMAP searches neighbours exactly itself: the fuzzy graph it builds from
    :func:`cosine_neighbours` is the one it builds alone (same edges, weights to float32 rounding); a graph from
    other neighbours (the wrong k) is not."""
    import warnings

    import umap

    E = np.random.default_rng(4).standard_normal((300, 20)).astype(np.float32)

    def graph(**kw):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return umap.UMAP(n_neighbors=15, metric="cosine", random_state=0, **kw).fit(E).graph_.toarray()

    own = graph()
    np.testing.assert_allclose(graph(precomputed_knn=(*clusters.cosine_neighbours(E, 15), None)), own, atol=1e-5)
    wrong = np.asarray(graph(precomputed_knn=(*clusters.cosine_neighbours(E[::-1], 15), None)))
    assert np.abs(wrong - own).max() > 0.5


# ------------------------------------------------------------------------------------------------ months
def test_seasonal_table_planted():
    th = 2 * np.pi * np.arange(12) / 12
    Wm = np.stack([np.cos(th), np.sin(th), 0.01 * np.arange(12)])  # [3, 12]
    snow = 0.9 * (Wm[:, 11] + Wm[:, 0]) / 2
    summer = 0.9 * Wm[:, 6]
    odd = np.array([0.0, 0.0, 5.0])
    W = np.concatenate([Wm, snow[:, None], summer[:, None], odd[:, None]], axis=1)
    index = WordIndex(MONTHS + ["snow", "summer", "odd"])
    g = resolve_group("Months", MONTHS, index, cyclic=True)
    df, met = months.seasonal_table(
        W, g, [("snow", "winter", 12), ("summer", "summer", 13), ("leaves", "autumn", -1), ("odd", "spring", 14)]
    )
    row = df.set_index("word")
    assert row.loc["snow", "nearest_month"] in ("December", "January") and row.loc["snow", "in_expected"]
    assert row.loc["summer", "nearest_month"] == "July"
    assert row.loc["leaves", "status"].startswith("missing")
    assert row.loc["snow", "plane_share"] > 0.9 and row.loc["odd", "plane_share"] < 0.1
    assert met["seasonal_found"] == 3
    ring = months.ring_table(W, g, None)
    sub = ring[ring["source"] == "weights_norm"]
    assert geo.adjacent_pairs(np.arctan2(sub["pc2"], sub["pc1"]).to_numpy()) == 12


# ------------------------------------------------------------------------------------------------ words
def test_word_lookup_strict_and_lenient(caplog):
    index = WordIndex(["the", "Ii", "January", "march", "III"])
    with pytest.raises(VocabError) as err:
        resolve_groups(
            section("analysis", {"word_groups": {"G": {"words": ["January", "Foo", "Bar"]}}})["word_groups"], index
        )
    assert "Foo" in str(err.value) and "Bar" in str(err.value) and "fix:" in str(err.value)
    with caplog.at_level(logging.WARNING, logger="bows.metrics"):
        g = resolve_group("R", ["II", "III", "IV"], index, strict=False, case_insensitive=True)
    assert g.indices.tolist() == [1, 4, -1] and g.missing == ["IV"]
    assert "IV" in caplog.text
    assert resolve_group("M", ["March"], index, strict=False).indices.tolist() == [-1]


def test_semantic_assignment_reverse_claims():
    index = WordIndex(["war", "Music", "music", "zebra", "yak", "x"])
    cats = {"A": ["War", "music"], "B": ["Music"]}
    df = semantic_assignment(index, cats, n_other=2, seed=0)
    got = dict(zip(df["word"], df["category"]))
    assert got["Music"] == "B"  # claimed by the later category first (reverse order), first lowercase match
    assert got["war"] == "A"
    assert "music" not in got  # its lowercase form is in a category, but another index claimed it
    assert sum(c == "Other" for c in got.values()) == 2


# ------------------------------------------------------------------------------------------------ non-trivial answers
def test_offdiag_norm_mean_abs_and_cosine_by_hand():
    G = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, -1.0], [3.0, -1.0, 9.0]])
    assert geo.offdiag_norm(G) == pytest.approx(np.sqrt(2 * (4 + 9 + 1)))
    C = np.array([[1.0, 0.5, -0.2], [0.5, 1.0, 0.3], [-0.2, 0.3, 1.0]])
    assert geo.mean_abs_offdiag(C) == pytest.approx(1 / 3)  # (0.5 + 0.2 + 0.3) · 2 / 6
    E = np.array([[3.0, 4.0], [4.0, 3.0], [1.0, 0.0], [-1.0, 1.0], [0.0, 0.0]])
    cos = geo.cosine(E)
    assert cos[0, 1] == pytest.approx(24 / 25) and cos[2, 3] == pytest.approx(-1 / np.sqrt(2))
    assert cos[0, 2] == pytest.approx(3 / 5) and cos[1, 1] == pytest.approx(1.0)
    assert np.isnan(cos[4]).all() and np.isnan(cos[:, 4]).all()  # a dead row has no direction


def test_effective_and_stable_rank_with_unequal_singular_values():
    rng = np.random.default_rng(0)
    U, _ = np.linalg.qr(rng.standard_normal((3, 3)))
    V, _ = np.linalg.qr(rng.standard_normal((7, 7)))
    W = U @ np.diag([3.0, 1.0, 0.0]) @ V[:3]  # σ = 3, 1, 0 in a random basis
    # p = (3/4, 1/4): exp(H) = (3/4)^(−3/4) · (1/4)^(−1/4)
    assert peers.effective_rank(W) == pytest.approx(0.75**-0.75 * 0.25**-0.25, rel=1e-6)
    assert peers.stable_rank(W) == pytest.approx(10 / 9)
    assert peers.effective_rank(W.T) == pytest.approx(peers.effective_rank(W), rel=1e-6)


def test_spearman_upper_by_hand():
    A = np.zeros((4, 4))
    B = np.full((4, 4), 99.0)  # the lower triangle and diagonal must not be read
    iu = np.triu_indices(4, 1)
    A[iu] = [1, 2, 3, 4, 5, 6]
    B[iu] = [2, 1, 4, 3, 6, 5]
    # Σd² = 6 over n = 6 pairs: ρ = 1 − 6·6 / (6·35) = 29/35
    assert correlation.spearman_upper(A, B) == pytest.approx(29 / 35)
    A[0, 1] = np.nan  # the pair is dropped: ranks (1..5) vs (1, 3, 2, 5, 4), Σd² = 4, ρ = 1 − 24/120
    assert correlation.spearman_upper(A, B) == pytest.approx(0.8)
    assert correlation.spearman_upper(A, -B) == pytest.approx(-0.8)


def ring_distance(n: int) -> np.ndarray:
    k = np.arange(n)
    d = np.abs(k[:, None] - k[None, :])
    return np.minimum(d, n - d).astype(float)


def test_spearman_upper_on_a_ring_with_tied_distances():
    """A 12-point ring: each circular distance 1…6 is shared by 12 pairs (6 at distance 6), so both matrices tie in
    exact arithmetic. The cosines of the points on a circle are a decreasing function of the distance, but computed in
    floating point the 12 cosines of one distance differ in their last bits; they must still rank as ties, giving
    ρ = ±1 exactly (the same tie structure on both sides)."""
    n = 12
    D = ring_distance(n)
    P = polygon(n).T
    C = P @ P.T
    assert np.unique(C[np.triu_indices(n, 1)]).size > 6  # the rounding noise the ranking must see through
    assert correlation.spearman_upper(D, -C) == pytest.approx(1.0, abs=1e-12)
    assert correlation.spearman_upper(D, C) == pytest.approx(-1.0, abs=1e-12)
    assert correlation.spearman_upper(D, np.exp(-D)) == pytest.approx(-1.0, abs=1e-12)
    # the same answer as scipy on the cosines rounded to 9 decimals (where the ties are exact again)
    from scipy import stats

    iu = np.triu_indices(n, 1)
    ref = stats.spearmanr(D[iu], np.round(-C[iu], 9)).statistic
    assert correlation.spearman_upper(D, -C) == pytest.approx(ref, abs=1e-12)
    # shuffled: the upper triangle of C in a random order carries no relation to the distances
    rng = np.random.default_rng(0)
    rhos = []
    for _ in range(200):
        S = np.zeros((n, n))
        S[iu] = rng.permutation(C[iu])
        rhos.append(correlation.spearman_upper(D, S))
    assert abs(np.mean(rhos)) < 0.05 and max(np.abs(rhos)) < 0.6


def test_tied_ranks_match_average_ranks():
    from scipy import stats

    x = np.random.default_rng(3).integers(0, 6, 40).astype(float)
    np.testing.assert_array_equal(correlation.tied_ranks(x), stats.rankdata(x))
    noisy = x * (1 + 1e-14 * np.random.default_rng(4).standard_normal(40))  # the same ties after rounding noise
    np.testing.assert_array_equal(correlation.tied_ranks(noisy), stats.rankdata(x))
    np.testing.assert_array_equal(correlation.tied_ranks(np.array([0.3, 0.1, 0.2])), [3, 1, 2])


def test_pmi_from_counts_by_hand():
    N = 100
    ni = np.array([20, 10, 50])
    nij = np.array([[20, 5, 10], [5, 10, 0], [10, 0, 50]])
    pmi = correlation.pmi_from_counts(N, ni, nij)
    assert pmi[0, 1] == pytest.approx(np.log(2.5)) and pmi[1, 0] == pytest.approx(np.log(2.5))  # 100·5 / (20·10)
    assert pmi[0, 2] == pytest.approx(0.0)  # 100·10 / (20·50): independent
    assert np.isnan(pmi[1, 2]) and np.isnan(pmi[2, 1])  # never together
    assert pmi[0, 0] == pytest.approx(np.log(5)) and pmi[2, 2] == pytest.approx(np.log(2))


def test_preact_density_is_the_gaussian_mixture():
    """scipy's KDE with bw_method = 0.1: a Gaussian of SD 0.1 · s (s the sample SD, ddof = 1) at each value."""
    z = np.array([-1.0, 1.0, 2.0])
    grid, dens = mechanism.preact_density(z, bw=0.1, points=101)
    s = np.std(z, ddof=1) * 0.1
    ref = np.mean([np.exp(-0.5 * ((grid - zi) / s) ** 2) / (s * np.sqrt(2 * np.pi)) for zi in z], axis=0)
    np.testing.assert_allclose(dens, ref, rtol=1e-10)
    pad = 3 * 0.1 * np.std(z)
    assert grid[0] == pytest.approx(-1 - pad) and grid[-1] == pytest.approx(2 + pad) and len(grid) == 101
    assert mechanism.preact_density(np.ones(5))[0].size == 0
    assert mechanism.preact_density(np.array([0.3]))[1].size == 0
