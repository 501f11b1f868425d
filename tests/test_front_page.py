"""The report's front page (bows.front_page) on claims and tables written here: the verdict's counts, criterion 17's
numbers, the synthetic claims, the criteria it cannot test with their reasons, an error called out, the explorers'
links and the grid table."""

from __future__ import annotations

import base64
import re

import pandas as pd
from bows import front_page as fp
from bows.claims import Record, write_claims

PNG = base64.b64decode(  # a 1 × 1 PNG
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)

SUBSPACE_17 = {
    "relu/L100_seed1": {
        "wd": [0.0, 4.0],
        "exposure": [0.0, 5.1],
        "overlap_cov": [0.35, 0.55],
        "overlap_rise": 0.2,
        "frob2_per_latent": [9.9, 4.1],
        "norm_ratio": 4.1 / 9.9,
        "pass": True,
    }
}
CRITERIA = [
    Record(1, "vocabulary integrity", 5000, 5000, "pass", "|vocab| = 10000", "V=5000"),
    Record(6, "seasonal alignment", None, 7, "not_applicable", "L1000 wd4.0", "", reason="only 1 of 9 seasonal words"),
    Record(14, "R² gap distribution", None, None, "error", "L1000 wd1.0", "", reason="KeyError: 'delta'"),
    Record(
        17,
        "weight decay moves W towards the principal subspace",
        SUBSPACE_17,
        {"min_overlap_rise": 0.05, "max_norm_ratio": 0.9},
        "pass",
        "V10000",
        "relu/L100_seed1",
    ),
]


def _synthetic(key: dict, claim_id: str, status: str, seeds: str) -> Record:
    return Record(claim_id, f"claim {claim_id}", None, None, status, "§7", "", keys=key, notes={"held in seeds": seeds})


SYNTHETIC = [
    _synthetic({"variant": "dense", "structure": "circular"}, "relu_antipodal_pairs", "fail", "0/3"),
    _synthetic({"variant": "sparse", "structure": "circular"}, "relu_antipodal_pairs", "pass", "3/3"),
    _synthetic({"variant": "sparse", "structure": "circular"}, "strong_wd_keeps_ring_longer", "pass", "3/3"),
    _synthetic({"variant": "dense", "structure": "circular"}, "relu_beats_linear", "pass", "3/3"),
]


def _subspace() -> pd.DataFrame:
    rows = [
        ("relu/L100_wd0.0_seed1", "relu", 100, 0.0, 0.0, 0.0, 0.35, 9.9),
        ("relu/L100_wd4.0_seed1", "relu", 100, 4.0, 5.1, 35.2, 0.55, 4.1),
        ("linear/L100_wd1.0_seed1", "linear", 100, 1.0, 1.27, 8.8, 0.89, 1.0),
        ("pca/L100_wd0.0_seed1", "pca", 100, 0.0, None, None, 1.0, 1.0),
    ]
    cols = ["model", "variant", "latent", "wd", "decay_exposure", "decay_exposure_paper", "overlap_cov"]
    df = pd.DataFrame([r[:7] for r in rows], columns=cols)
    return df.assign(frob2_per_latent=[r[7] for r in rows], seed=1, steps=1000, random_baseline=0.02)


def _page(tmp_path, explorers=None, off=()):
    write_claims(CRITERIA, tmp_path / "criteria")
    write_claims(SYNTHETIC, tmp_path / "claims")
    _subspace().to_parquet(tmp_path / "subspace.parquet")
    losses = pd.DataFrame(
        {"model": ["relu/L100_wd0.0_seed1"] * 2, "epoch": [1, 2], "train_loss": [0.3, 0.2], "val_loss": [0.31, 0.21]}
    )
    losses.to_parquet(tmp_path / "losses.parquet")
    for name in ("dashboard", "subspace", "dense", "sparse"):
        (tmp_path / f"{name}.png").write_bytes(PNG)
    return fp.write_front_page(
        tmp_path / "front.html",
        {"Reproduction criteria": tmp_path / "criteria.json", "Synthetic claims": tmp_path / "claims.json"},
        dashboard=tmp_path / "dashboard.png",
        subspace=tmp_path / "subspace.parquet",
        losses=tmp_path / "losses.parquet",
        subspace_figure=tmp_path / "subspace.png",
        synthetic_figures={"dense/circular": tmp_path / "dense.png", "sparse/circular": tmp_path / "sparse.png"},
        explorers=explorers,
        off=off,
    )


def _text(page: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))


def test_verdict_counts_every_set_of_claims(tmp_path):
    text = _text(_page(tmp_path))
    # 4 criteria (2 pass, 1 n/a, 1 error) and 4 synthetic claims (3 pass, 1 fail): 5 · 1 · 1 · 1 overall
    assert re.search(r"5 pass 1 fail 1 not applicable 1 error", text), text[:400]
    assert "Reproduction criteria : 2 pass · 0 fail · 1 not applicable · 1 error" in text
    assert "Synthetic claims : 3 pass · 1 fail · 0 not applicable · 0 error" in text
    assert "8 claims of the paper checked in this run" in text
    assert "1 claim(s) could not be evaluated because their test raised (Reproduction criteria 14)" in text


def test_in_short_names_the_results_this_scale_shows(tmp_path):
    text = _text(_page(tmp_path))
    short = text[text.index("In short") : text.index("What this scale does show")]
    assert "PASS weight decay moves W towards the principal subspace (criterion 17): overlap 0.350 → 0.550" in short
    assert "for relu/L100_seed1 from wd 0 to 4 at decay exposure E = 5.1" in short and "barely acts" not in short
    assert "Synthetic: claim relu_antipodal_pairs: dense/circular FAIL 0/3 · sparse/circular PASS 3/3" in short
    assert "1 of 4 criteria cannot be tested at this scale: 6 (reasons below)" in short


def test_shows_criterion_17_with_its_baselines(tmp_path):
    text = _text(_page(tmp_path))
    assert "overlap 0.350 → 0.550" in text and "‖W‖² F /L 9.900 → 4.100 from wd 0 to 4" in text
    assert "decay exposure E = 5.1" in text
    assert "a random subspace 0.020, the trained linear autoencoder 0.890, PCA 1.000" in text
    assert "this run's decay exposure is E = 5.1 (the paper's run: 35.2)." in text  # E ≥ 1: no warning
    assert "barely acts" not in text


def test_low_exposure_is_said(tmp_path):
    sub = _subspace()
    sub.loc[1, "decay_exposure"] = 0.023
    page = fp.subspace_html(CRITERIA[3], sub, None)
    assert "E = 0.023" in page and "barely acts" in page


def test_synthetic_claims_and_the_figure_of_the_passing_structure(tmp_path):
    page = _page(tmp_path)
    text = _text(page)
    assert "dense/circular" in text and "sparse/circular" in text
    assert "claim relu_antipodal_pairs FAIL 0/3 PASS 3/3" in text  # one row, one cell per structure
    assert "claim relu_beats_linear" not in text  # only the ring and pair claims are shown here
    assert "Gram grid of sparse/circular" in text  # the structure whose antipodal pairs pass
    assert page.count("data:image/png;base64,") == 3  # dashboard, subspace figure, Gram grid


def test_cannot_show_lists_untested_criteria_with_reasons(tmp_path):
    text = _text(_page(tmp_path))
    assert "1 of 4 criteria cannot be tested at this scale" in text
    assert "6. seasonal alignment : only 1 of 9 seasonal words" in text


def test_explorers_and_grid(tmp_path):
    text = _text(_page(tmp_path))
    assert "No interactive explorer was written in this run" in text
    page = _page(tmp_path, explorers={"relu/L100_wd4.0_seed1": "results/x/explorer.html"})
    assert "results['results/x/explorer.html'].data_uri" in page and ">relu/L100_wd4.0_seed1</a>" in page
    grid = fp.grid_table(_subspace(), pd.read_parquet(tmp_path / "losses.parquet"))
    assert grid["model"].tolist() == [
        "linear/L100_wd1.0_seed1",
        "pca/L100_wd0.0_seed1",
        "relu/L100_wd0.0_seed1",
        "relu/L100_wd4.0_seed1",
    ]
    assert grid["final held-out loss"].tolist()[2] == 0.21 and grid["final held-out loss"].isna().sum() == 3
    assert "principal-subspace overlap" in page and "<td>0.89</td>" in page


def test_without_any_claims_table(tmp_path):
    page = fp.write_front_page(tmp_path / "front.html", {"Reproduction criteria": tmp_path / "missing.json"})
    text = _text(page)
    assert "0 claims of the paper checked in this run" in text
    assert "not part of this run" in text and (tmp_path / "front.html.prov.json").is_file()


def test_switched_off_stages_are_listed_with_the_setting_that_adds_them(tmp_path):
    """config.yaml leaves value coding and the ablation out (their budget): the front page says so and how to add
    them; a config with everything on lists nothing."""
    from bows.config import load_config
    from conftest import ROOT

    default = fp.switched_off(load_config(ROOT / "config.yaml"))
    assert [setting for _, setting in default] == [
        "value_coding: {enabled: true}",
        "windows: {exclude_cooccurrence: [Months]}",
    ]
    assert fp.switched_off(load_config(ROOT / "config.yaml", ROOT / "presets/smoke.yaml")) == []
    text = _text(_page(tmp_path, off=default))
    assert "Switched off in this run" in text and "Value coding (the paper" in text
    assert "add value_coding: {enabled: true} to a config file" in text
    assert "Switched off" not in _text(_page(tmp_path))
