"""The smoke run's snapshots and dynamics table: every trained model has its snapshots beside the model (the last
equal to the final model), and the table of one model is recomputed in plain numpy from the snapshot files, the
documents and the eigenvectors: held-out loss, exposure, ‖W‖²_F/L, covariance overlap, effective rank and the month
ring's adjacent pairs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytestmark = pytest.mark.workflow

TAG = "relu/L16_wd4.0_seed1"


def res(smoke_run: Path) -> Path:
    return smoke_run / "results" / "smoke"


def weights(path: Path) -> tuple[np.ndarray, np.ndarray]:
    from safetensors.numpy import load_file  # the file format; all else is numpy

    state = load_file(str(path))
    return state["W"].astype(np.float64), state["b"].astype(np.float64)


def test_every_trained_model_has_its_snapshots_beside_it(smoke_run):
    models = sorted((res(smoke_run) / "models").rglob("model.safetensors"))
    trained = [p for p in models if p.parent.parent.name != "pca"]
    # the smoke grid's 9 on the full window set, and the months ablation's model on each of its two window sets
    assert len(trained) == 11
    for model in trained:
        folder = model.parent / "snapshots" / "log12"
        index = json.loads((folder / "index.json").read_text())
        run = json.loads((model.parent / "run.json").read_text())
        steps = index["steps"]
        assert len(steps) == 12 and steps[0] == 0 and steps[-1] == run["steps"] == index["total_steps"]
        assert np.all(np.diff(steps) > 0)
        W_last, b_last = weights(folder / index["files"][-1])
        W, b = weights(model)
        assert np.array_equal(W_last, W) and np.array_equal(b_last, b)  # the final model
        assert not np.array_equal(weights(folder / index["files"][0])[0], W)
    assert not list((res(smoke_run) / "checkpoints").rglob("*.safetensors"))  # staged copies left with the checkpoint


def ring_adjacent_pairs(E: np.ndarray) -> int:
    """Adjacent pairs of the months' order around the ring of their unit vectors' centred 2-PC plane."""
    U = E / np.linalg.norm(E, axis=1, keepdims=True)
    C = U - U.mean(axis=0)
    _, _, Vt = np.linalg.svd(C, full_matrices=False)
    P = C @ Vt[:2].T
    angles = np.arctan2(P[:, 1] - P[:, 1].mean(), P[:, 0] - P[:, 0].mean())
    rank = np.empty(12, dtype=int)
    rank[np.argsort(angles, kind="stable")] = np.arange(12)
    gap = np.abs(rank - np.roll(rank, -1))
    return int(np.sum((gap == 1) | (gap == 11)))


def test_dynamics_table_recomputed_in_numpy(smoke_run):
    root = res(smoke_run)
    table = pd.read_parquet(root / "metrics" / "V400_G5_S1" / "dynamics.parquet")
    mine = table[table["model"] == TAG]
    folder = root / "models" / "V400_G5_S1" / TAG / "snapshots" / "log12"
    index = json.loads((folder / "index.json").read_text())
    run = json.loads((folder.parents[1] / "run.json").read_text())
    T, lr, wd = index["total_steps"], run["train"]["lr"], 4.0
    vocab = pd.read_csv(root / "V400" / "vocab.tsv", sep="\t", keep_default_na=False)
    months = [vocab.index[vocab["word"] == m][0] for m in ("January February March April May June July August "
              "September October November December").split()]  # fmt: skip
    with np.load(root / "metrics" / "V400_G5_S1" / "data" / "subspace.npz") as z:
        cov = z["cov_vectors"]
    # held-out windows: unions of G = 5 consecutive train records (stride 1), empty windows dropped
    docs = root / "V400" / "docs"
    indptr, ids = np.load(docs / "train.indptr.npy"), np.load(docs / "train.indices.npy")
    X = []
    for w in np.load(root / "V400_G5_S1" / "heldout_windows.npy"):
        x = np.zeros(400)
        x[ids[indptr[w] : indptr[w + 5]].astype(np.int64)] = 1
        if x.any():
            X.append(x)
    X = np.array(X)

    def value(step, scope, metric):
        row = mine[(mine["step"] == step) & (mine["scope"] == scope) & (mine["metric"] == metric)]
        assert len(row) == 1, (step, scope, metric)
        return float(row["value"].iloc[0])

    t = np.arange(T)
    lr_t = lr * (1 + np.cos(np.pi * t / T)) / 2
    assert sorted(set(mine["step"])) == index["steps"]
    for step, name in zip(index["steps"], index["files"]):
        W, b = weights(folder / name)
        L = W.shape[0]
        loss = np.mean((np.maximum(X @ W.T @ W + b, 0) - X) ** 2)
        assert value(step, "model", "heldout_loss") == pytest.approx(loss, rel=1e-5)
        assert value(step, "model", "decay_exposure") == pytest.approx(wd * lr_t[:step].sum(), rel=1e-9, abs=1e-15)
        assert value(step, "subspace", "frob2_per_latent") == pytest.approx(np.sum(W**2) / L, rel=1e-9)
        Q = np.linalg.qr(W.T)[0]
        assert value(step, "subspace", "overlap_cov") == pytest.approx(np.sum((Q.T @ cov[:, :L]) ** 2) / L, rel=1e-7)
        s = np.linalg.svd(W, compute_uv=False)
        p = s / s.sum()
        assert value(step, "model", "effective_rank") == pytest.approx(np.exp(-np.sum(p * np.log(p))), rel=1e-7)
        assert value(step, "Months", "ring_adjacent_pairs") == ring_adjacent_pairs(W[:, months].T)
    assert value(T, "model", "heldout_loss") == pytest.approx(run["final_heldout_loss"], rel=1e-4)


def test_settle_table_and_figure(smoke_run):
    metrics = res(smoke_run) / "metrics" / "V400_G5_S1"
    settle = pd.read_parquet(metrics / "dynamics_settle.parquet")
    assert set(settle["model"]) == {p for p in pd.read_parquet(metrics / "dynamics.parquet")["model"]}
    row = settle[(settle["model"] == TAG) & (settle["metric"] == "overlap_cov")].iloc[0]
    assert 0 < row["settle_step"] <= row["last_step"]
    assert (res(smoke_run) / "figures" / "V400_G5_S1" / "dynamics.png").stat().st_size > 10_000
