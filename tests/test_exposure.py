"""Decay exposure E = wd · Σ_t lr_t (bows.exposure) against hand sums and the trainer's own scheduler."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from bows import exposure as ex
from bows.config import ModelSpec


def test_exposure_of_a_four_step_cosine_by_hand():
    # lr_t = (1 + cos(π t / 4)) / 2 for t = 0..3: 1, (1 + √½)/2, ½, (1 − √½)/2, summing to 2.5
    hand = 1 + (1 + math.sqrt(0.5)) / 2 + 0.5 + (1 - math.sqrt(0.5)) / 2
    assert hand == pytest.approx(2.5)
    assert ex.lr_sum(1.0, 4) == pytest.approx(hand)
    assert ex.decay_exposure(2.0, 1.0, 4) == pytest.approx(2 * hand)


def test_schedule_is_the_trainers_scheduler():
    from bows.optim import make_scheduler

    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.AdamW([p], lr=5e-4)
    sched = make_scheduler(opt, 37)
    seen = []
    for _ in range(37):
        seen.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    np.testing.assert_allclose(ex.lr_schedule(5e-4, 37), seen, rtol=1e-9, atol=1e-15)


def test_paper_exposure_from_its_schedule():
    # 10 epochs of ⌈1,801,331 / 512⌉ = 3,519 steps; Σ_t (1 + cos(π t/T))/2 = (T + 1)/2 since Σ_t cos(π t/T) = 1
    T = 10 * 3519
    assert ex.total_steps(1_801_331, 512, 10) == T
    assert ex.paper_exposure(1.0) == pytest.approx(5e-4 * (T + 1) / 2)
    assert ex.paper_exposure(4.0) == pytest.approx(4 * 5e-4 * (T + 1) / 2)


def test_low_exposure_names_only_decayed_trained_models():
    grid = [
        ModelSpec("relu", 8, 0.0, 1),
        ModelSpec("relu", 8, 1.0, 1),
        ModelSpec("relu", 8, 4.0, 1),
        ModelSpec("pca", 8, 0.0, 1),
    ]
    cfg = {"batch_size": 100, "epochs": 2, "lr": 5e-4}
    # 1000 windows: T = 20 steps, Σ lr = 5e-4 · 21/2 = 0.00525: both wd > 0 models are far below 1
    low = ex.low_exposure(grid, cfg, 1000)
    assert [t for t, _ in low] == ["relu/L8_wd1.0_seed1", "relu/L8_wd4.0_seed1"]
    assert low[1][1] == pytest.approx(4 * 5e-4 * 21 / 2)
    assert ex.low_exposure(grid, {"batch_size": 1, "epochs": 10, "lr": 5e-4}, 1000) == []


def test_run_summary_carries_the_exposure_of_its_steps():
    from bows.batches import TrainData
    from bows.grid import ModelSpec
    from bows.train import Trainer
    from bows.train_settings import TrainSettings

    class Toy:
        def batch_csr(self, idx):
            idx = np.asarray(idx)
            return np.arange(len(idx) + 1, dtype=np.int64), (idx % 7).astype(np.int64)

    s = TrainSettings.default(epochs=2, batch_size=4, progress=False)
    tr = Trainer(TrainData(Toy(), 7, np.arange(10), np.zeros(0, np.int64)), ModelSpec("relu", 3, 2.0, 1), s)
    tr.run()
    e = tr.summary()["exposure"]
    assert tr.step == 2 * 3  # ⌈10/4⌉ = 3 steps per epoch
    assert e["decay_exposure"] == pytest.approx(2.0 * 5e-4 * (6 + 1) / 2)
    assert e["decay_exposure_paper"] == pytest.approx(ex.paper_exposure(2.0))
