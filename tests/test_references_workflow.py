"""The references stage inside the smoke workflow: GloVe beside the smoke models (the smoke preset), and a tiny
random llama saved locally as reference ``hf`` through the same from_pretrained path as SmolLM2."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from bows.claims import read_claims
from conftest import snakemake
from scipy import stats
from tiny_lm import build_tiny_llama

pytestmark = pytest.mark.workflow

RES = "results/smoke"
REFS = f"{RES}/references/V400"
REF_METRICS = f"{RES}/metrics/V400_G5_S1/references"
MONTHS_MODEL = "relu/L16_wd4.0_seed1"  # analysis.models.months of presets/smoke.yaml


def _upper(M: np.ndarray) -> np.ndarray:
    return M[np.triu_indices(M.shape[0], 1)]


def _one_minus_cos(X: np.ndarray) -> np.ndarray:
    U = X / np.linalg.norm(X, axis=1, keepdims=True)
    return 1 - U @ U.T


def test_glove_beside_the_smoke_models(smoke_run: Path):
    from bows.model import load_weights
    from bows.vocab import read_vocab

    words = pd.read_parquet(smoke_run / REFS / "glove50/words.parquet")
    vocab = read_vocab(smoke_run / f"{RES}/V400/vocab.tsv")
    assert {"January", "Monday", "Mercury"} <= set(words["word"])  # group words, never dropped
    assert (words["origin"] == "Top words").sum() > 0
    assert words.loc[words["word"] == "January", "lookup"].item() == "january"
    with np.load(smoke_run / REFS / "glove50/representations.npz", allow_pickle=False) as z:
        X, rep_words = z["X"][0].astype(np.float64), [str(w) for w in z["words"]]
    # the months model's month RSA against GloVe, recomputed with scipy from the files
    folder = smoke_run / f"{RES}/models/V400_G5_S1/{MONTHS_MODEL}"
    W, _ = load_weights(next(p for p in folder.glob("model.*") if p.suffix != ".json"))
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
    ids = dict(zip(vocab["word"], vocab["index"]))
    Dm = _one_minus_cos(W[:, [ids[m] for m in months]].T.astype(np.float64))
    Dg = _one_minus_cos(X[[rep_words.index(m) for m in months]])
    expected = stats.spearmanr(_upper(Dm), _upper(Dg)).statistic
    align = pd.read_parquet(smoke_run / REF_METRICS / "alignment.parquet")
    row = align[
        (align["object"] == MONTHS_MODEL)
        & (align["reference"] == "glove50")
        & (align["scope"] == "Months")
        & (align["metric"] == "rsa")
    ].iloc[0]
    assert row["value"] == pytest.approx(expected, abs=1e-9)
    assert row["n_words"] == 12 and 0 < row["p"] <= 1
    assert {"data/ppmi", "data/phi", "control/unigram", "control/init", "pca/L16_wd0.0_seed1"} <= set(align["object"])
    geo = pd.read_parquet(smoke_run / REF_METRICS / "geometry.parquet")
    assert {"glove50", MONTHS_MODEL, "data/ppmi"} <= set(geo["object"])
    # one definition: the months model's ring measures equal those of the metrics stage, computed on all of W
    own = pd.read_parquet(smoke_run / f"{RES}/metrics/V400_G5_S1/models/{MONTHS_MODEL}/metrics.parquet")
    for metric in ("ring_adjacent_pairs", "ring_winding", "order_agreement", "circulant_r2", "offdiag_cos"):
        mine = geo[(geo["object"] == MONTHS_MODEL) & (geo["scope"] == "Months") & (geo["metric"] == metric)]
        theirs = own[(own["scope"] == "Months") & (own["metric"] == metric)]
        assert mine["value"].item() == pytest.approx(theirs["value"].item(), nan_ok=True), metric
    crit = json.loads((smoke_run / REF_METRICS / "criteria.json").read_text())
    recs = {r.id: r for r in read_claims(smoke_run / REF_METRICS / "criteria.json")}
    assert set(recs) == {"references.ring", "references.alignment", "references.beyond_pmi"}
    assert all(
        r.status in ("pass", "fail", "not_applicable") and r.keys == {"reference": "glove50"} for r in recs.values()
    )
    adj = geo[(geo["object"] == "glove50") & (geo["scope"] == "Months") & (geo["metric"] == "ring_adjacent_pairs")]
    assert recs["references.ring"].value == adj["value"].item()
    assert recs["references.alignment"].value == pytest.approx(row["p"])
    assert crit["report_numbers"]["glove50"]["best_layer"] == "vectors"
    header, line = (smoke_run / REF_METRICS / "references_this_run.tsv").read_text().splitlines()
    adjacent = int(adj["value"].item())
    assert header == "reference\tthis_run" and line.startswith(f"glove50\t**glove50**: the months are {adjacent}/")
    for name in ("references_rings", "references_layers"):
        assert (smoke_run / f"{RES}/figures/V400_G5_S1/{name}.png").stat().st_size > 1000


def test_hf_reference_on_a_tiny_local_model(smoke_run: Path, tmp_path_factory):
    wd = tmp_path_factory.mktemp("refs-hf") / "wd"
    shutil.copytree(smoke_run, wd, symlinks=True)
    folder = build_tiny_llama(tmp_path_factory.mktemp("tiny") / "llama", layers=3)
    override = wd / "hf.yaml"
    override.write_text(f"references:\n  use: [hf]\n  hf: {{model: '{folder}'}}\n  contexts: 4\n  min_contexts: 2\n")
    snakemake(wd, "--cores", "2", "references", configfiles=("presets/smoke.yaml", str(override)))
    with np.load(wd / REFS / "hf/representations.npz", allow_pickle=False) as z:
        assert [str(x) for x in z["layers"]] == ["embedding", "layer 0", "layer 1", "layer 2", "layer 3"]
    words = pd.read_parquet(wd / REFS / "hf/words.parquet")
    assert (words["n_contexts"] <= 4).all() and (words.loc[words["status"] == "ok", "n_contexts"] >= 2).all()
    align = pd.read_parquet(wd / REF_METRICS / "alignment.parquet")
    layers = align.loc[(align["reference"] == "hf") & (align["object"] == MONTHS_MODEL), "layer"].unique()
    assert {"embedding", "layer 3"} <= set(layers)
    crit = json.loads((wd / REF_METRICS / "criteria.json").read_text())
    assert [(r.id, r.keys["reference"]) for r in read_claims(wd / REF_METRICS / "criteria.json")] == [
        ("references.ring", "hf"),
        ("references.alignment", "hf"),
        ("references.beyond_pmi", "hf"),
    ]
    assert set(crit["report_numbers"]["hf"]["ring_by_layer"]) == {
        "embedding",
        "layer 0",
        "layer 1",
        "layer 2",
        "layer 3",
    }
    assert (wd / f"{RES}/figures/V400_G5_S1/references_layers.png").stat().st_size > 1000
