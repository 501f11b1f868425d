"""Training dynamics: the settling step, the held-out loss against a brute-force numpy loss, the ring angles of
the metrics table, and on planted data the overlap trajectory of a strongly decayed model rising from chance."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from bows.batches import TrainData
from bows.config import section
from bows.encode import Docs
from bows.exposure import exposure_reached, lr_schedule
from bows.grid import ModelSpec
from bows.metrics import geometry as geo
from bows.metrics.dynamics import dynamics_table, heldout_batches, heldout_loss, settle_step, settle_table
from bows.metrics.model_metrics import group_tables
from bows.metrics.subspace import principal_subspaces, random_baseline
from bows.metrics.tables import Rows
from bows.metrics.words import WordIndex, resolve_groups
from bows.observers import Observers
from bows.snapshots import load_snapshots
from bows.train import Trainer
from bows.train_settings import TrainSettings
from bows.windows import Windows, split_windows

# --------------------------------------------------------------------------------------------- settling


def test_settle_step_known_answers():
    steps = [0, 1, 2, 3, 4]
    assert settle_step(steps, [0, 5, 9, 10, 10], 0.1) == 2  # |9 − 10| = 1 is within 10 % of the change 10
    assert settle_step(steps, [0, 5, 8, 10, 10], 0.1) == 3
    assert settle_step(steps, [3, 3, 3, 3, 3], 0.1) == 0  # never moves
    assert settle_step(steps, [0, 10, 0, 10, 10], 0.1) == 3  # it left the band again at step 2
    assert settle_step(steps, [0, 1, 2, 3, 4], 0.1) == 4  # still moving at the end: the last step
    assert np.isnan(settle_step(steps, [0, np.nan, 2, 3, 4], 0.1))


def test_settle_table_reads_the_exposure_at_the_settling_step():
    rows = []
    for k, (step, loss, E) in enumerate([(0, 1.0, 0.0), (10, 0.5, 0.3), (100, 0.45, 1.2), (1000, 0.44, 2.0)]):
        for scope, metric, value in (("model", "heldout_loss", loss), ("model", "decay_exposure", E)):
            rows.append(
                {"model": "relu/L4_wd1.0_seed1", "variant": "relu", "latent": 4, "wd": 1.0, "seed": 1,
                 "snapshot": k, "step": step, "scope": scope, "item": "", "metric": metric, "value": value,
                 "status": "ok"}
            )  # fmt: skip
    out = settle_table(pd.DataFrame(rows), 0.1)
    loss = out[out["metric"] == "heldout_loss"].iloc[0]
    assert loss["settle_step"] == 100 and loss["settle_exposure"] == 1.2  # |0.45 − 0.44| ≤ 0.1 · 0.56
    assert loss["first"] == 1.0 and loss["last"] == 0.44


# --------------------------------------------------------------------------------------------- held-out loss


def _docs(rows: list[list[int]], V: int) -> Docs:
    indptr = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum([len(r) for r in rows], out=indptr[1:])
    indices = np.concatenate([np.asarray(r, dtype=np.uint16) for r in rows]) if indptr[-1] else np.zeros(0, np.uint16)
    return Docs(indptr, indices, V)


def test_heldout_loss_equals_a_brute_force_loss():
    V, L = 7, 3
    rows = [[0, 2], [], [1], [], [], [3, 4, 6], [0], [5, 6]]
    win = Windows(_docs(rows, V), group_size=2)  # windows of 2 records; window 3 (records 3, 4) is empty
    idx = np.arange(len(win))
    rng = np.random.default_rng(0)
    W, b = rng.standard_normal((L, V)).astype(np.float32), rng.standard_normal(V).astype(np.float32)
    X = []
    for w in idx:  # each window by hand: the union of its two records' words
        x = np.zeros(V)
        x[list(set(rows[w]) | set(rows[w + 1]))] = 1
        if x.any():
            X.append(x)
    X = np.array(X)
    Y = np.maximum(X @ W.T.astype(np.float64) @ W.astype(np.float64) + b, 0)
    expected = float(np.mean((Y - X) ** 2))
    got = heldout_loss([(W, b)], heldout_batches(win, idx, batch_size=3))[0]
    assert heldout_loss([(W, b)], heldout_batches(win, idx, batch_size=3, block=2))[0] == pytest.approx(got, rel=1e-6)
    assert len(X) == 6 and got == pytest.approx(expected, rel=1e-5)
    capped = heldout_loss([(W, b)], heldout_batches(win, idx, batch_size=3, max_batches=1))[0]
    first = X[:2]  # batch 1 = windows 0, 1, 2: window 1 (records 1, 2) and 2 (records 2, 3) are not empty
    assert capped != pytest.approx(got) and len(first) == 2


# --------------------------------------------------------------------------------------------- ring angles


def test_unit_ring_angles_are_those_of_the_metrics_table():
    rng = np.random.default_rng(3)
    words = [f"m{k}" for k in range(12)] + [f"w{k}" for k in range(20)]
    index = WordIndex(words)
    groups = resolve_groups(
        {"Ring": {"words": words[:12], "strict": True, "cyclic": True, "case_insensitive": False}}, index
    )
    W = rng.standard_normal((6, len(words)))
    table, _ = group_tables(W, groups, Rows(None), None, 10, 0)
    assert np.allclose(geo.unit_ring_angles(W[:, :12].T), table["angle"].to_numpy())
    theta = 2 * np.pi * np.arange(12) / 12  # a planted ring: 12 adjacent pairs, order agreement 1
    ring = np.stack([np.cos(theta), np.sin(theta), 0.05 * rng.standard_normal(12)], axis=1) * 3.0
    angles = geo.unit_ring_angles(ring)
    assert geo.adjacent_pairs(angles) == 12 and geo.order_agreement(angles) == pytest.approx(1.0)
    shuffled = geo.unit_ring_angles(ring[rng.permutation(12)])
    assert geo.adjacent_pairs(shuffled) < 12


# --------------------------------------------------------------------------------------------- planted data


def planted_docs(n_docs: int, V: int, topics: int, seed: int) -> Docs:
    """Records drawing one topic each: the topic's words with probability 0.6, others with 0.02. The windows'
    covariance then has ``topics`` large eigenvalues, along the topics' word blocks."""
    rng = np.random.default_rng(seed)
    block = V // topics
    rows = []
    for _ in range(n_docs):
        t = rng.integers(topics)
        p = np.full(V, 0.02)
        p[t * block : (t + 1) * block] = 0.6
        rows.append(np.flatnonzero(rng.random(V) < p).tolist())
    return _docs(rows, V)


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    V, L, topics = 40, 4, 4
    docs = planted_docs(1500, V, topics, seed=5)
    win = Windows(docs, group_size=1)
    tr, ho = split_windows(len(win), 1, 1, 0.1, 3, 42)
    X = win.dense_array(tr).astype(np.float64)
    M, mu = X.T @ X / len(X), X.mean(axis=0)
    sub = principal_subspaces(M.copy(), mu, L)
    runs = {}
    for wd in (0.0, 4.0):
        ck = tmp_path_factory.mktemp(f"wd{wd}")
        cfg = section("train", {"lr": 1e-2, "snapshots": {"count": 8, "spacing": "log"}})
        observers = Observers.for_run(cfg, ck / "ckpt", ck / "model", wd)
        settings = TrainSettings.default(epochs=12, batch_size=16, lr=1e-2, threads=1, progress=False)
        data = TrainData(win, V, tr, ho)
        trainer = Trainer(data, ModelSpec("relu", L, wd, 1), settings, ckpt_dir=ck / "ckpt", observers=observers)
        trainer.run()
        runs[wd] = (trainer, load_snapshots(observers.publish(ck / "model")))
    return win, ho, sub, runs


def _table(win, ho, sub, trainer, snaps, wd):
    steps = [s for s, _, _ in snaps]
    weights = [(W, b) for _, W, b in snaps]
    T, lr = trainer.total_steps, trainer.s.lr
    losses = heldout_loss(weights, heldout_batches(win, ho, trainer.s.batch_size))
    return dynamics_table(
        ModelSpec("relu", weights[0][0].shape[0], wd, 1),
        steps,
        weights,
        exposure_reached(wd, lr, T, steps),
        exposure_reached(1.0, lr, T, steps),
        losses,
        sub,
        {},
        10,
        0,
    )


def _trajectory(table, metric, scope="subspace"):
    t = table[(table["scope"] == scope) & (table["metric"] == metric)].sort_values("step")
    return t["step"].to_numpy(), t["value"].to_numpy()


def test_overlap_trajectory_rises_under_strong_decay_on_planted_data(planted):
    win, ho, sub, runs = planted
    trainer, snaps = runs[4.0]
    table = _table(win, ho, sub, trainer, snaps, 4.0)
    steps, overlap = _trajectory(table, "overlap_cov")
    chance = random_baseline(4, 40)
    assert steps[0] == 0 and steps[-1] == trainer.total_steps
    assert abs(overlap[0] - chance) < 0.15  # the random init sits near L/V = 0.1
    assert overlap[-1] > overlap[0] + 0.5  # strong decay: most of the way onto the planted topics (0.75 here)
    assert np.all(np.diff(overlap[-4:]) > -0.02)  # and stays there
    _, norm = _trajectory(table, "frob2_per_latent")
    _, loss = _trajectory(table, "heldout_loss", scope="model")
    assert loss[-1] == pytest.approx(trainer.history.heldout_loss[-1], rel=1e-4)  # the trainer's own held-out loss
    assert loss[-1] < loss[0]
    _, exposure = _trajectory(table, "decay_exposure", scope="model")
    lr_t = lr_schedule(trainer.s.lr, trainer.total_steps)
    assert exposure[0] == 0 and exposure[-1] == pytest.approx(4.0 * lr_t.sum())
    assert norm[-1] != norm[0]


def test_decay_lowers_the_norm_trajectory_on_planted_data(planted):
    win, ho, sub, runs = planted
    tables = {wd: _table(win, ho, sub, *runs[wd], wd) for wd in runs}
    _, norm0 = _trajectory(tables[0.0], "frob2_per_latent")
    _, norm4 = _trajectory(tables[4.0], "frob2_per_latent")
    assert norm0[0] == norm4[0]  # same seed, same init
    assert norm4[-1] < 0.8 * norm0[-1]


def test_figure_latent_is_the_latent_size_with_the_most_weight_decays():
    rows = [("relu", 100, 0.0), ("relu", 100, 4.0), ("relu", 400, 0.0), ("relu", 400, 4.0), ("relu", 25, 1.0),
            ("relu", 50, 1.0), ("linear", 100, 1.0), ("relu", 100, 1.0)]  # fmt: skip
    table = pd.DataFrame(rows, columns=["variant", "latent", "wd"])
    from bows.metrics.dynamics import figure_latent

    assert figure_latent(table) == 100  # three weight decays at L = 100, two at 400
    assert figure_latent(table[table["latent"] != 100]) == 400  # a tie: the larger L
    assert figure_latent(table, 50) == 50
    assert figure_latent(table[table["variant"] == "linear"]) is None


def test_dynamics_models_are_the_figures_unless_all():
    """The models measured over their snapshots: the grid's ReLU models at the figure's latent size (the same choice
    as :func:`figure_latent` on their table), every seed; ``all``: every trained model, never PCA."""
    from bows.grid import ModelSpec
    from bows.metrics.dynamics import figure_latent
    from bows.snapshots import dynamics_models

    grid = [ModelSpec("relu", L, wd, seed) for L, wd, seed in [(25, 1.0, 1), (25, 1.0, 2), (400, 0.0, 1), (400, 1.0, 1),
            (400, 4.0, 1), (400, 4.0, 2), (100, 0.0, 1), (100, 4.0, 1)]]  # fmt: skip
    grid += [ModelSpec("linear", 100, 1.0, 1), ModelSpec("linear", 100, 2.0, 1), ModelSpec("pca", 400, 0.0, 1)]
    chosen = dynamics_models(grid, "figure")
    assert [(s.latent, s.weight_decay, s.seed) for s in chosen] == [(400, 0.0, 1), (400, 1.0, 1), (400, 4.0, 1),
                                                                    (400, 4.0, 2)]  # fmt: skip
    table = pd.DataFrame([(s.variant, s.latent, s.weight_decay) for s in grid], columns=["variant", "latent", "wd"])
    assert figure_latent(table) == 400
    assert [s.latent for s in dynamics_models(grid, "figure", latent=100)] == [100, 100]
    assert dynamics_models(grid, "all") == grid[:-1]
    assert dynamics_models([ModelSpec("pca", 400, 0.0, 1)], "figure") == []
