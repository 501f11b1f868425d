"""The analysis rules' entry points (bows.stages) on small synthetic files, and the criteria on known tables."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch
from bows.config import load_config, paper_forced_tokens, word_lists
from bows.metrics import criteria, peers
from bows.metrics.tables import Rows, save, spec_from_tag
from conftest import ROOT


def test_singular_values_match_svd():
    rng = np.random.default_rng(0)
    for shape in ((20, 90), (90, 20)):
        W = rng.standard_normal(shape)
        np.testing.assert_allclose(peers.singular_values(W), np.linalg.svd(W, compute_uv=False), atol=1e-9)


def test_save_keeps_dotted_stems(tmp_path):
    df = pd.DataFrame({"a": [1.0]})
    save(df, tmp_path / "L16_wd1.0_seed1.parquet")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "L16_wd1.0_seed1.csv",
        "L16_wd1.0_seed1.parquet",
        "L16_wd1.0_seed1.parquet.prov.json",
    ]
    assert spec_from_tag("relu/L16_wd1.0_seed1").weight_decay == 1.0


@pytest.fixture(scope="module")
def synthetic_run(tmp_path_factory):
    """A tiny vocabulary, documents and model written with the pipeline's own writers."""
    from bows import encode, model, vocab
    from bows.io import save_npy

    t = tmp_path_factory.mktemp("run")
    forced = paper_forced_tokens()
    wl = word_lists()
    extra = (
        ["Christmas", "snow", "summer", "December", "Beatles", "Lennon", "orange", "milk", "II", "III"]
        + wl["semantic_categories"]["Verbs"][:40]
        + wl["semantic_categories"]["Music & Audio"][:40]
    )
    words = list(dict.fromkeys(forced + extra))
    V = len(words)
    vocab.write_vocab(t / "vocab.tsv", words, np.arange(V, 0, -1), len(forced))
    rng = np.random.default_rng(0)

    def docs(n):
        ids = [np.unique(rng.choice(V, rng.integers(1, 8))) for _ in range(n)]
        indptr = np.concatenate([[0], np.cumsum([len(x) for x in ids])]).astype(np.int64)
        return encode.Docs(indptr, np.concatenate(ids).astype(np.uint16), V)

    for split, n in (("train", 400), ("validation", 80), ("test", 60)):
        encode.save_docs(t / split, docs(n))
    save_npy(t / "train_windows.npy", np.arange(390, dtype=np.int64))
    g = torch.Generator().manual_seed(0)
    model.save_weights(t / "model.safetensors", torch.randn(8, V, generator=g) * 0.3, -0.05 * torch.ones(V))
    cfg = load_config(
        ROOT / "config.yaml",
        overrides={
            "vocab": {"size": V},
            "windows": {"group_size": 5},
            "train": {"grid": [{"latent": [8], "weight_decay": [0.0, 1.0], "seed": [1]}]},
            "analysis": {
                "models": {
                    "months": {"latent": 8, "weight_decay": 1.0},
                    "mechanism": {"latent": 8},
                    "umap": [{"latent": 8}],
                },
                "null_permutations": 20,
                "cooc_top_words": 20,
                "decoder_fit_windows": 200,
            },
            "sae": {"enabled": False},
        },
    )
    return t, cfg


def test_stages_end_to_end(synthetic_run):
    from bows.grid import ModelSpec
    from bows.stages.criteria import run_criteria
    from bows.stages.data import run_data
    from bows.stages.mechanism import run_mechanism
    from bows.stages.model import run_model
    from bows.stages.months import run_months
    from bows.stages.sweep import run_sweep

    t, cfg = synthetic_run
    an = cfg["analysis"]
    run_data(
        str(t / "vocab.tsv"),
        str(t / "train"),
        str(t / "train_windows.npy"),
        {n: str(t / f"d_{n}.parquet") for n in ("cooc", "ring", "metrics")},
        an,
        cfg["windows"],
    )
    out = {n: str(t / f"m_{n}.parquet") for n in ("metrics", "words", "groups", "gram")}
    run_model(
        str(t / "model.safetensors"),
        str(t / "vocab.tsv"),
        str(t / "d_cooc.parquet"),
        out,
        an,
        ModelSpec("relu", 8, 1.0, 1),
    )
    m = pd.read_parquet(out["metrics"])
    assert {"d_star", "phi_half", "erank", "knn_purity_p", "mantel_phi_p"} <= set(m["metric"])
    assert set(m["scope"]) >= {"model", "Months", "Days", "Roman numerals", "Top words"}
    roman = m[(m["scope"] == "Roman numerals") & (m["metric"] == "n_found")]
    assert roman["value"].iloc[0] == 2  # II and III; the other numerals are missing (group not strict)
    run_months(
        str(t / "model.safetensors"),
        str(t / "vocab.tsv"),
        str(t / "d_ring.parquet"),
        {n: str(t / f"mo_{n}.parquet") for n in ("ring", "seasonal", "metrics")},
        an,
        "relu/L8_wd1.0_seed1",
    )
    seas = pd.read_parquet(t / "mo_seasonal.parquet")
    assert (seas["status"].str.startswith("missing")).sum() == 6  # 3 of 9 seasonal words exist
    names = ("r2", "r2_gap", "preact", "density", "towers", "months_r2", "strata", "metrics")
    tm = run_mechanism(
        str(t / "model.safetensors"),
        str(t / "vocab.tsv"),
        [str(t / "validation"), str(t / "test")],
        str(t / "train"),
        str(t / "train_windows.npy"),
        {n: str(t / f"x_{n}.parquet") for n in names},
        an,
        cfg["windows"],
        "relu/L8_wd1.0_seed1",
    )
    assert set(tm) == {"decoder_fit", "heldout_pass", "onehot", "total"}
    assert tm["total"] >= tm["decoder_fit"] + tm["heldout_pass"] + tm["onehot"]  # the parts run inside the total
    r2 = pd.read_parquet(t / "x_r2.parquet")
    assert len(r2) == len(pd.read_csv(t / "vocab.tsv", sep="\t"))
    mech = pd.read_parquet(t / "x_metrics.parquet")
    assert mech[(mech["scope"] == "mbar")]["status"].iloc[0].startswith("missing")
    assert (mech["scope"] == "Christmas").any()
    tw = pd.read_parquet(t / "x_towers.parquet")
    assert set(tw["tower"]) >= {"correlated", "uncorrelated", "correlated_no_target", "months"}
    # sweep + criteria over the one model
    run = t / "run.json"
    run.write_text(json.dumps({"history": {"epoch": [1, 2], "train_loss": [0.3, 0.2], "heldout_loss": [0.31, 0.21]}}))
    sw = {n: str(t / f"s_{n}.parquet") for n in ("all", "sweep", "summary", "losses", "loss_fit", "clusters")}
    run_sweep([out["metrics"]], str(t / "d_metrics.parquet"), [str(run)], sw, an, ["relu/L8_wd1.0_seed1"])
    assert len(pd.read_parquet(sw["losses"])) == 2
    assert pd.read_parquet(sw["loss_fit"])["status"].str.startswith("too few").all()
    res = run_criteria(
        str(t / "criteria.json"),
        cfg,
        vocab=str(t / "vocab.tsv"),
        data_metrics=str(t / "d_metrics.parquet"),
        metrics_all=sw["all"],
        months_metrics=str(t / "mo_metrics.parquet"),
        mechanism=str(t / "x_metrics.parquet"),
        r2_gap=str(t / "x_r2_gap.parquet"),
        sweep_summary=sw["summary"],
        clusters=sw["clusters"],
    )
    text = (t / "criteria.json").read_text()
    assert "NaN" not in text and "Infinity" not in text
    data = json.loads(text)
    assert [c["id"] for c in data["criteria"]] == list(range(1, 18))
    assert all(c["status"] in ("pass", "fail", "not_applicable") for c in data["criteria"])
    assert "The_present" in data["criteria"][0]["details"]["failed_checks"]  # this vocabulary has no "The"
    assert res["summary"] == {
        s: sum(c["status"] == s for c in data["criteria"]) for s in ("pass", "fail", "not_applicable")
    }
    assert len(data["criteria"]) == 17


def _cfg():
    return load_config(ROOT / "config.yaml")


def test_criteria_known_answers():
    cfg = _cfg()
    rows = Rows(None)
    for k, v in enumerate([0.5, 0.4, 0.3, 0.2, 0.1, 0.05], start=1):
        rows.add("Months", f"corr_dist_{k}", v)
    rows.add("Months", "corr_dist_spearman", -1.0)
    rows.add("Months", "corr_dist_inversions", 0)
    rows.add("Months", "ring_adjacent_pairs", 12)
    rows.add("Months", "ring_winding", -1)
    rows.add("Months", "ring_pairs_total", 12)
    mech = Rows(spec_from_tag("relu/L500_wd1.0_seed1"))
    months = [
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
    contrib = [0.1, -0.05, -0.05, -0.02, -0.03, -0.1, -0.1, -0.1, 0.0, 0.02, 0.05, 0.3]
    for w, c in zip(months, contrib):
        mech.add("Christmas", "month_contribution", c, item=w)
    for t in ("Beatles", "Christmas", "mbar"):
        mech.add_many(
            t,
            {
                "onehot_z": -0.2,
                "r2_ctx": 0.4,
                "frac_pos": 0.8,
                "tower_correlated_end": 0.3,
                "sum_correlated_context": 0.6,
                "sum_uncorrelated_context": 0.01,
                "tower_correlated_no_target_end": -0.1,
            },
        )
    mech.add("Months", "r2_mean", 0.97, item="lstsq_h")
    inp = criteria.Inputs(cfg, data_metrics=rows.frame(), mechanism=mech.frame())
    res = {c["id"]: c for c in criteria.evaluate(inp)["criteria"]}
    assert res[3]["status"] == "pass" and res[4]["status"] == "pass"
    assert res[11]["status"] == "pass" and res[12]["status"] == "pass"
    assert res[13]["status"] == "pass" and res[13]["value"]["largest"] == "December"
    assert res[16]["status"] == "pass"
    assert res[5]["status"] == "not_applicable" and res[15]["status"] == "not_applicable"
    # thresholds come from config and are applied as given
    cfg2 = load_config(ROOT / "config.yaml", overrides={"analysis": {"thresholds": {"months_min_r2": 0.99}}})
    res2 = {c["id"]: c for c in criteria.evaluate(criteria.Inputs(cfg2, mechanism=mech.frame()))["criteria"]}
    assert res2[16]["status"] == "fail" and res2[16]["threshold"] == 0.99


def test_misspelt_threshold_is_a_config_error():
    from bows.errors import ConfigError

    with pytest.raises(ConfigError, match=r"analysis/thresholds.*'months_min_R2' was unexpected"):
        load_config(ROOT / "config.yaml", overrides={"analysis": {"thresholds": {"months_min_R2": 0.99}}})
    with pytest.raises(ConfigError, match=r"analysis/thresholds/months_min_r2"):
        load_config(ROOT / "config.yaml", overrides={"analysis": {"thresholds": {"months_min_r2": "high"}}})
    # one threshold given: the others keep their schema defaults
    cfg = load_config(ROOT / "config.yaml", overrides={"analysis": {"thresholds": {"months_min_r2": 0.99}}})
    assert cfg["analysis"]["thresholds"]["months_min_r2"] == 0.99
    assert cfg["analysis"]["thresholds"]["gap_min_freq"] == 20


def test_unknown_strict_words_fail_before_work(synthetic_run, tmp_path):
    from bows.errors import VocabError
    from bows.stages.data import run_data

    t, cfg = synthetic_run
    an = {
        **cfg["analysis"],
        "word_groups": {
            **cfg["analysis"]["word_groups"],
            "Mine": {"words": ["January", "Notaword"], "strict": True, "case_insensitive": False, "cyclic": False},
        },
    }
    with pytest.raises(VocabError, match="Notaword"):
        run_data(
            str(t / "vocab.tsv"),
            str(t / "train"),
            str(t / "train_windows.npy"),
            {n: str(tmp_path / f"{n}.parquet") for n in ("cooc", "ring", "metrics")},
            an,
            cfg["windows"],
        )
    assert not list(tmp_path.iterdir())


def test_sweep_criteria_known_answers():
    cfg = load_config(ROOT / "config.yaml")
    Ls = [25, 50, 100, 200, 500, 1000]
    months_curve = [10.0, 9.0, 4.0, 2.0, 1.5, 1.0]  # below half at L=100, 10% of max at the end
    roman_curve = [8.0, 8.0, 7.0, 6.0, 3.0, 2.0]  # below half at L=500
    rows = []
    for g, curve in (("Months", months_curve), ("Roman numerals", roman_curve)):
        for L, v in zip(Ls, curve):
            rows.append(
                {
                    "group": g,
                    "variant": "relu",
                    "wd": 1.0,
                    "latent": L,
                    "metric": "offdiag_raw",
                    "mean": v,
                    "sd": 0.1 * v,
                    "n_seeds": 2,
                }
            )
    summ = pd.DataFrame(rows)
    res = {c["id"]: c for c in criteria.evaluate(criteria.Inputs(cfg, sweep=summ))["criteria"]}
    assert res[8]["status"] == "pass"
    assert res[8]["value"]["months_first_L_below_half"] == 100 and res[8]["value"]["roman_first_L_below_half"] == 500
    assert res[10]["status"] == "pass" and res[10]["value"] == pytest.approx(0.1)
    swapped = summ.assign(group=summ["group"].map({"Months": "Roman numerals", "Roman numerals": "Months"}))
    res2 = {c["id"]: c for c in criteria.evaluate(criteria.Inputs(cfg, sweep=swapped))["criteria"]}
    assert res2[8]["status"] == "fail"


def test_metric_job_memory_covers_the_rehearsal_peaks():
    """metrics_model asks SLURM for memory_estimate_mb(L, V): at the paper's V = 10,000 the rehearsal measured peaks
    of 774 / 1,696 / 3,955 MB at L = 1,000 / 4,000 / 10,000 (bench/README.md); each request leaves 20 % headroom."""
    from bows.stages.model import memory_estimate_mb

    for latent, peak in ((1000, 774), (4000, 1696), (10000, 3955)):
        assert memory_estimate_mb(latent, 10000) >= 1.2 * peak
    assert memory_estimate_mb(20000, 10000) - memory_estimate_mb(10000, 10000) == memory_estimate_mb(
        10000, 10000
    ) - memory_estimate_mb(0, 10000)  # linear in L·V
