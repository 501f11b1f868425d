"""SAEs on BOWS: scores with known answers, training on planted ground truth, files, claims, config errors, and the
stage on the smoke preset."""

from __future__ import annotations

import importlib.util
import itertools
import math
import pickle

import numpy as np
import pandas as pd
import pytest
import torch
from bows.config import load_config, section
from bows.errors import CheckpointError, ConfigError, ShapeError
from bows.sae import scores as sc
from bows.sae.activations import choose_words, restrict, true_l0
from bows.sae.architectures import build, load_saes, save_saes, topk
from bows.sae.claims import claim_records, claims, hedging_narrow_wide, l0_peak
from bows.sae.settings import SaeSpec
from bows.sae.training import activation_scale, train_sae
from bows.tensor_files import save_state
from conftest import ROOT, snakemake

TRAIN = section("sae", {"lr": 0.01, "batch_size": 128, "epochs": 10})


def planted(seed: int, V: int = 8, L: int = 16, N: int = 4000, p: float = 0.15):
    """Orthonormal word directions (V ≤ L) and activations h = Σ_{i ∈ x} w_i of sparse binary codes x."""
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.normal(size=(L, V)))
    x = (rng.random((N, V)) < p).astype(np.float32)
    h = (x @ Q.T).astype(np.float32)
    h = torch.from_numpy(h * np.float32(activation_scale(h)))
    return Q.T, h[: N * 3 // 4], h[N * 3 // 4 :]


# ------------------------------------------------------------------------------------------------ scores


def test_mcc_equals_brute_force_assignment():
    rng = np.random.default_rng(3)
    for K, m in ((5, 4), (4, 5), (5, 5)):
        C = rng.random((K, m))
        brute = max(
            sum(C[i, j] for i, j in zip(rows, perm))
            for rows in itertools.combinations(range(K), min(K, m))
            for perm in itertools.permutations(range(m), min(K, m))
        )
        got = sc.mcc(C)
        assert got["mcc"] == pytest.approx(brute / min(K, m))
        assert got["coverage"] == pytest.approx(brute / K)
        greedy = C[np.arange(K), C.argmax(axis=1)]
        assert got["mcc"] <= greedy.mean() + 1e-12 or K > m  # per-word best bounds the matching when m ≥ K


def test_ground_truth_against_itself_is_one_and_a_permuted_scaled_copy_too():
    rng = np.random.default_rng(0)
    T = rng.normal(size=(30, 10))
    assert sc.mcc(sc.abs_cos(T, T))["mcc"] == pytest.approx(1.0)
    D = -3.0 * T[rng.permutation(30)]  # sign and scale do not matter, order does not matter
    assert sc.mcc(sc.abs_cos(T, D))["mcc"] == pytest.approx(1.0)


def test_chance_baseline_known_answers():
    # E|cos| of two random directions: 2/π in the plane, 1/2 in 3-D (|cos| is uniform on [0, 1] there)
    assert sc.chance_best_cos(2, 1) == pytest.approx(2 / math.pi, abs=1e-6)
    assert sc.chance_best_cos(3, 1) == pytest.approx(0.5, abs=1e-6)
    # in 3-D the best of m has P(max ≤ t) = t^m, so E = m/(m+1)
    assert sc.chance_best_cos(3, 4) == pytest.approx(4 / 5, abs=1e-6)


def test_random_dictionary_is_near_its_analytic_baseline_and_far_from_one():
    rng = np.random.default_rng(1)
    L, m, K = 32, 64, 2000
    T, D = rng.normal(size=(K, L)), rng.normal(size=(m, L))
    C = sc.abs_cos(T, D)
    chance = sc.chance_best_cos(L, m)
    assert sc.best_recovery(C).mean() == pytest.approx(chance, rel=0.03)
    square = C[:m]  # as many words as latents: a one-to-one matching
    assert sc.chance_best_cos(L, 1) < sc.mcc(square)["mcc"] <= sc.best_recovery(square).mean() < 0.6


def test_hedging_known_answers_and_its_failing_case():
    w = np.eye(4)[:2]  # two orthogonal word directions
    merged = ((w[0] + w[1]) / math.sqrt(2))[None, :]  # one latent for both
    h = sc.hedging(w, merged, np.array([0, 1]))
    assert h["hedging"] == pytest.approx(0.5) and h["merged_fraction"] == pytest.approx(0.5)
    separate = sc.hedging(w, w.copy(), np.array([0, 1]))
    assert separate["hedging"] == pytest.approx(0.0) and separate["merged_fraction"] == 0.0
    assert math.isnan(sc.hedging(w, merged, np.array([0]))["hedging"])  # a group needs two words


def test_dead_fraction():
    assert sc.dead_fraction(np.array([0, 3, 0, 1])) == 0.5


# ------------------------------------------------------------------------------------------------ activations


def test_word_choice_restriction_and_true_l0():
    import scipy.sparse as sp

    X = sp.csr_matrix(np.array([[1, 1, 0, 0], [0, 0, 1, 0], [1, 0, 0, 1], [0, 0, 0, 0]], dtype=np.float32))
    freq = np.asarray(X.sum(axis=0)).ravel() / 4  # [0.5, 0.25, 0.25, 0.25]
    assert choose_words(freq, 1).tolist() == [0]
    assert choose_words(freq, 1, forced=[3]).tolist() == [0, 3]
    assert choose_words(freq, None).tolist() == [0, 1, 2, 3]
    Xs, kept = restrict(X, np.array([0, 3]))
    assert kept.tolist() == [0, 2]  # rows 1 and 3 have no ground-truth word
    assert true_l0(Xs) == pytest.approx(1.5)  # {0} and {0, 3}


# ------------------------------------------------------------------------------------------------ training


@pytest.mark.parametrize("seed", [0, 1])
def test_orthonormal_ground_truth_is_recovered_by_a_width_V_sae(seed):
    T, h_tr, h_ho = planted(seed)
    sae, hist = train_sae(SaeSpec("relu", 8, 0.1), h_tr, h_ho, TRAIN, seed=seed)
    assert sc.mcc(sc.abs_cos(T, sae.W_dec.detach().numpy()))["mcc"] >= 0.99
    assert hist["heldout_explained_variance"][-1] > 0.95


@pytest.mark.parametrize("arch,k", [("topk", 3), ("matryoshka", 3)])
def test_every_architecture_finds_the_planted_directions_far_above_chance(arch, k):
    T, h_tr, h_ho = planted(0)
    sae, _ = train_sae(SaeSpec(arch, 8, k), h_tr, h_ho, TRAIN, seed=0)
    assert sc.mcc(sc.abs_cos(T, sae.W_dec.detach().numpy()))["mcc"] >= 0.9 > 2 * sc.chance_best_cos(16, 8)


def test_two_perfectly_correlated_features_are_merged_by_a_width_one_sae():
    rng = np.random.default_rng(0)
    w = np.linalg.qr(rng.normal(size=(6, 2)))[0].T  # two orthonormal directions in ℝ^6
    both = (rng.random(3000) < 0.3).astype(np.float32)  # the two words always occur together
    h = torch.from_numpy((both[:, None] * (w[0] + w[1])[None, :]).astype(np.float32))
    sae, _ = train_sae(SaeSpec("topk", 1, 1), h[:2000], h[2000:], TRAIN, seed=0)
    got = sc.hedging(w, sae.W_dec.detach().numpy(), np.array([0, 1]))
    assert got["hedging"] == pytest.approx(0.5, abs=0.02)
    assert got["merged_fraction"] == pytest.approx(0.5)


def test_topk_keeps_k_positive_entries():
    z = torch.tensor([[3.0, -1.0, 2.0, 0.5], [-1.0, -2.0, -3.0, 4.0]])
    assert topk(z, 2).tolist() == [[3.0, 0.0, 2.0, 0.0], [0.0, 0.0, 0.0, 4.0]]


def test_sae_spec_bounds():
    with pytest.raises(ShapeError, match="width 0"):
        build(SaeSpec("relu", 0, 0.1), 4)
    with pytest.raises(ShapeError, match="k=5"):
        build(SaeSpec("topk", 4, 5), 4)


# ------------------------------------------------------------------------------------------------ files


def test_saes_round_trip_without_pickle(tmp_path):
    saes = {s.name: build(s, 6, seed=1) for s in (SaeSpec("relu", 4, 0.1), SaeSpec("matryoshka", 8, 2))}
    path = tmp_path / "saes.pt"
    save_saes(path, saes, scale=0.5, meta={"architecture": "mixed"})
    torch.load(path, weights_only=True)  # tensors and plain data only
    back, scale, meta = load_saes(path)
    assert scale == 0.5 and meta["architecture"] == "mixed" and set(back) == set(saes)
    for name, s in saes.items():
        assert torch.equal(back[name].W_dec, s.W_dec) and torch.equal(back[name].W_enc, s.W_enc)
        assert back[name].spec == s.spec
    assert back["matryoshka_w8_s2"].prefix_sizes == saes["matryoshka_w8_s2"].prefix_sizes


class _Evil:
    def __reduce__(self):
        return (print, ("ran",))


def test_a_file_with_objects_is_refused(tmp_path):
    path = tmp_path / "saes.pt"
    with open(path, "wb") as fh:
        torch.save({"saes": {}, "scale": _Evil()}, fh, pickle_protocol=pickle.DEFAULT_PROTOCOL)
    with pytest.raises(CheckpointError, match="safe loader"):
        load_saes(path)
    save_state(path, {"W": torch.zeros(2)})
    with pytest.raises(CheckpointError, match="not a bows SAE file"):
        load_saes(path)


# ------------------------------------------------------------------------------------------------ claims


def _scores(model, arch, width, ks, mccs):
    return pd.DataFrame({"model": model, "architecture": arch, "width": width, "sparsity": ks, "mcc": mccs})


def test_l0_peak_claim_holds_and_fails():
    wide = _scores("m", "topk", 64, [1.0, 2.0, 4.0, 8.0, 16.0], [0.3, 0.5, 0.7, 0.6, 0.4])
    ok = l0_peak(wide, true_l0=3.5, n_words=60, factor=2.0)
    assert ok["holds"] and ok["peak_k"] == 4.0 and not ok["at_edge"]
    far = l0_peak(wide, true_l0=12.0, n_words=60, factor=2.0)
    assert not far["holds"] and far["ratio"] == pytest.approx(4 / 12)


def test_merging_claim_holds_and_fails():
    wide = pd.concat([_scores("m", "topk", w, [2.0, 4.0], [0.5, 0.5]) for w in (16, 128)])

    def hedge(narrow, wide_):
        return pd.DataFrame(
            [
                {"architecture": "topk", "width": w, "sparsity": 4.0, "group": "Months", "metric": met, "value": v}
                for w, v in ((16, narrow), (128, wide_))
                for met in ("merged_fraction", "hedging")
            ]
        )

    assert hedging_narrow_wide(wide, hedge(0.6, 0.1), true_l0=4.0)["holds"]
    assert not hedging_narrow_wide(wide, hedge(0.1, 0.6), true_l0=4.0)["holds"]


def test_claim_records_pass_fail_and_not_applicable():
    """The two claims of one model as records: the L0 peak fails (peak at k = 4, true L0 12, factor 2), the merging
    claim cannot be tested (one width only)."""
    scores = _scores("m", "topk", 64, [1.0, 2.0, 4.0, 8.0, 16.0], [0.3, 0.5, 0.7, 0.6, 0.4]).melt(
        id_vars=["model", "architecture", "width", "sparsity"], var_name="metric"
    )
    hedge = pd.DataFrame(columns=["model", "architecture", "width", "sparsity", "group", "metric", "value"])
    numbers = claims(scores, hedge, {"m": {"true_l0_heldout": 12.0, "n_words": 60}}, {"claims": {"l0_peak_factor": 2}})
    by = {r.id: r for r in claim_records(numbers, {"m": "60 words in L = 8"})}
    assert by["mcc_peaks_near_true_l0"].status == "fail" and by["mcc_peaks_near_true_l0"].value["best k"] == 4.0
    assert by["mcc_peaks_near_true_l0"].evaluated_at == "60 words in L = 8" and by["mcc_peaks_near_true_l0"].keys == {
        "model": "m"
    }
    assert by["narrow_merges_more"].status == "not_applicable" and "two TopK widths" in by["narrow_merges_more"].reason
    near = claims(scores, hedge, {"m": {"true_l0_heldout": 3.5, "n_words": 60}}, {"claims": {"l0_peak_factor": 2}})
    assert claim_records(near, {})[0].status == "pass"


# ------------------------------------------------------------------------------------------------ config


def _load(**sae):
    return load_config(ROOT / "config.yaml", overrides={"sae": sae})


def test_default_config_is_valid():
    cfg = _load()
    assert cfg["sae"]["enabled"] and cfg["sae"]["architectures"] == ["relu", "topk", "matryoshka"]


@pytest.mark.parametrize(
    "override,error,match",
    [
        ({"models": [{"latent": 77, "weight_decay": 1.0, "seed": 1}]}, ConfigError, "train.grid does not train"),
        ({"widths": [0, 64]}, ConfigError, "sae/widths"),
        ({"widths": [4, 64], "l0_targets": [2, 8]}, ShapeError, r"l0_targets \[8\] exceed"),
        ({"group_size": 50}, ConfigError, "exceeds windows.group_size"),
        ({"groups": ["Seasons"]}, ConfigError, "does not define"),
    ],
)
def test_bad_sae_config_gives_one_clear_message(override, error, match):
    with pytest.raises(error, match=match) as err:
        _load(**override)
    assert "fix:" in str(err.value)


def test_missing_optional_dependency(monkeypatch):
    import bows.sae.settings as settings

    monkeypatch.setattr(settings.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ConfigError, match=r"sae-lens is not installed.*\n  fix: pip install -e '.\[sae\]'"):
        _load(backend="saelens")


def test_saelens_backend_refuses_matryoshka(monkeypatch):
    import bows.sae.settings as settings

    monkeypatch.setattr(settings.importlib.util, "find_spec", lambda name: object())  # as if installed
    with pytest.raises(ConfigError, match="relu and topk SAEs only"):
        _load(backend="saelens")
    assert _load(backend="saelens", architectures=["relu", "topk"])["sae"]["backend"] == "saelens"


def test_bad_config_stops_snakemake_before_any_job(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("sae:\n  models: [{latent: 77}]\n")
    proc = snakemake(tmp_path, "-n", "sae", configfiles=("presets/smoke.yaml", str(bad)), check=False)
    assert proc.returncode != 0
    assert "train.grid does not train" in proc.stderr + proc.stdout
    assert not (tmp_path / "results").exists()


# ------------------------------------------------------------------------------------------------ SAELens

NO_SAELENS = importlib.util.find_spec("sae_lens") is None


@pytest.mark.skipif(NO_SAELENS, reason="the optional [sae] extra is not installed")
def test_own_topk_against_saelens_on_a_toy():
    from bows.sae.saelens import to_bows, train

    T, h_tr, h_ho = planted(0)
    spec = SaeSpec("topk", 8, 3)
    ours, _ = train_sae(spec, h_tr, h_ho, TRAIN, seed=0)
    theirs = to_bows(spec, train(spec, h_tr, TRAIN["lr"], TRAIN["batch_size"], TRAIN["epochs"], seed=0))
    m_ours = sc.mcc(sc.abs_cos(T, ours.W_dec.detach().numpy()))["mcc"]
    m_theirs = sc.mcc(sc.abs_cos(T, theirs.W_dec.detach().numpy()))["mcc"]
    assert m_theirs >= 0.9 and m_ours >= 0.9
    assert abs(m_ours - m_theirs) < 0.08


@pytest.mark.skipif(NO_SAELENS, reason="the optional [sae] extra is not installed")
@pytest.mark.parametrize("spec", [SaeSpec("topk", 6, 2), SaeSpec("relu", 6, 0.1)])
def test_saelens_sae_converts_exactly(spec):
    from bows.sae.saelens import _make, to_bows

    torch.manual_seed(0)
    theirs = _make(spec, 5)
    with torch.no_grad():  # decoder rows of unequal norms, non-zero biases
        theirs.W_dec.mul_(torch.linspace(0.3, 2.0, 6)[:, None])
        theirs.b_enc.normal_()
        theirs.b_dec.normal_()
    h = torch.randn(50, 5)
    ours = to_bows(spec, theirs)
    with torch.no_grad():
        assert torch.allclose(ours(h), theirs.decode(theirs.encode(h)), atol=1e-5)
        assert torch.allclose(ours.W_dec.norm(dim=1), torch.ones(6))


# ------------------------------------------------------------------------------------------------ the stage


def test_paper_preset_lists_the_paper_scale_sae_jobs(tmp_path):
    proc = snakemake(tmp_path, "-n", "sae", configfiles=("presets/paper.yaml",))
    jobs = {
        line.split()[0]: int(line.split()[1])
        for line in proc.stdout.splitlines()
        if len(line.split()) == 2 and line.split()[1].isdigit()
    }
    assert jobs["sae_activations"] == 1 and jobs["sae_train"] == 3 and jobs["sae_scores"] == 1
    assert "sae_summary" in jobs and "sae_figures" in jobs
    # memory of the paper's SAE jobs: 550k samples × L 1000 float32 (3 copies) + the 10000 × 20000 float64 cosines
    expected = 1000 + (3 * 4 * 550_000 * 1000 + 2 * 8 * 10_000 * 20_000) // 2**20
    assert f"mem_mb={expected}," in proc.stdout


@pytest.mark.workflow
def test_sae_stage_on_the_smoke_preset(smoke_run):
    base = next((smoke_run / "results").glob("*/sae/*"))  # the shared smoke run holds the SAE stage
    scores = pd.read_parquet(base / "scores.parquet")
    truth = scores[(scores["architecture"] == "ground_truth") & (scores["metric"] == "mcc")]
    assert truth["value"].tolist() == pytest.approx([1.0])
    mcc = scores[(scores["architecture"] != "ground_truth") & (scores["metric"] == "mcc")]
    assert len(mcc) == 2 * (3 + 3 + 1) and mcc["value"].between(0, 1).all()
    assert (base / "figures" / "sae_benchmark.png").is_file()
    path = next(base.glob("*/*/topk/saes.pt"))
    saes, scale, _ = load_saes(path)
    assert len(saes) == 6
    # the SAEs train on c·h with mean ‖c·h‖² = 1 over the training activations, recomputed here
    h = np.load(path.parent.parent / "activations.npz")["h_train"].astype(np.float64)
    assert scale == pytest.approx(1 / np.sqrt(np.mean(np.sum(h**2, axis=1))), rel=1e-6)
    summary = pd.read_json(base / "summary.json", typ="series")
    assert all(0 < rec["true_l0_heldout"] <= rec["n_words"] for rec in summary["models"].values())
    claims = pd.read_csv(base / "claims.csv")
    assert set(claims["model"]) <= set(summary["models"]) and set(claims["status"]) <= {
        "pass",
        "fail",
        "not_applicable",
    }
    assert len(claims) == len(claims.drop_duplicates(["model", "id"])) == 2 * len(summary["models"])
