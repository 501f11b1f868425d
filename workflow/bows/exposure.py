"""Decay exposure: how much weight decay a training run applies, E = wd · Σ_t lr_t.

AdamW multiplies every decayed weight by (1 − lr_t · wd) at step t, so over a run the weights shrink by
∏_t (1 − lr_t wd) ≈ exp(−E) with E = wd · Σ_t lr_t: E, not wd, says how strongly the decay acts. lr_t is the cosine
schedule of :func:`bows.train.make_scheduler` (lr_t = lr · (1 + cos(π t / T)) / 2 at steps t = 0 … T − 1, with
T = epochs × ⌈n_train / batch_size⌉), so E ≈ wd · lr · T / 2.

The paper's value at the same wd comes from the same function with the paper's settings (:data:`PAPER`): 10 epochs
of batch 512 over WikiText-103's 1,801,331 training windows (N − 19 for the verified 1,801,350 records), lr 5e-4,
giving E ≈ 8.8 · wd. (The official script first carves 10% of the windows out for validation; with its 1,621,198
training windows E ≈ 7.9 · wd.)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

import numpy as np

__all__ = [
    "PAPER",
    "lr_schedule",
    "total_steps",
    "lr_sum",
    "decay_exposure",
    "exposure_reached",
    "paper_exposure",
    "exposure_record",
    "low_exposure",
]

#: The paper's training run (reference §4): windows of the train split, batch, epochs and peak learning rate.
PAPER = {"train_windows": 1_801_331, "batch_size": 512, "epochs": 10, "lr": 5e-4}


def total_steps(n_train: int, batch_size: int, epochs: int) -> int:
    """T = epochs × ⌈n_train / batch_size⌉: the trainer's steps (the schedule advances on every batch)."""
    return int(epochs) * math.ceil(int(n_train) / int(batch_size))


def lr_schedule(lr: float, steps: int) -> np.ndarray:
    """lr_t of every step t = 0 … T − 1 (float64): the learning rate each optimiser step uses."""
    t = np.arange(int(steps), dtype=np.float64)
    return float(lr) * (1.0 + np.cos(np.pi * t / max(1, int(steps)))) / 2.0


@lru_cache(maxsize=64)
def lr_sum(lr: float, steps: int) -> float:
    """Σ_t lr_t over the schedule of :func:`lr_schedule`."""
    return float(lr_schedule(lr, steps).sum())


def decay_exposure(weight_decay: float, lr: float, steps: int) -> float:
    """E = wd · Σ_t lr_t."""
    return float(weight_decay) * lr_sum(float(lr), int(steps))


def exposure_reached(weight_decay: float, lr: float, steps: int, at: Sequence[int]) -> np.ndarray:
    """E reached after each step count s of ``at`` (float64): wd · Σ_{t < s} lr_t, the exposure of the weights
    after s optimiser steps (0 at s = 0, :func:`decay_exposure` at s = ``steps``)."""
    at = np.asarray(at, dtype=np.int64)
    if at.size and (at.min() < 0 or at.max() > int(steps)):
        raise ValueError(f"steps {at.tolist()} outside 0 … {int(steps)}")
    cumulative = np.concatenate([[0.0], np.cumsum(lr_schedule(lr, steps))])
    return float(weight_decay) * cumulative[at]


def paper_exposure(weight_decay: float) -> float:
    """E of the paper's run at the same weight decay."""
    p = PAPER
    return decay_exposure(weight_decay, p["lr"], total_steps(p["train_windows"], p["batch_size"], p["epochs"]))


def exposure_record(weight_decay: float, lr: float, steps: int) -> dict[str, Any]:
    """What run.json stores: E, the paper's E at this wd, and the schedule it was computed from."""
    return {
        "decay_exposure": decay_exposure(weight_decay, lr, steps),
        "decay_exposure_paper": paper_exposure(weight_decay),
        "lr_sum": lr_sum(float(lr), int(steps)),
        "schedule_steps": int(steps),
    }


def low_exposure(
    grid: Any, train_cfg: Mapping[str, Any], n_train: int, minimum: float = 1.0
) -> list[tuple[str, float]]:
    """(tag, E) of every trained model (relu or linear) with wd > 0 whose E is below ``minimum``."""
    T = total_steps(n_train, int(train_cfg["batch_size"]), int(train_cfg["epochs"]))
    out = []
    for spec in grid:
        if spec.variant == "pca" or spec.weight_decay <= 0:
            continue
        E = decay_exposure(spec.weight_decay, float(train_cfg["lr"]), T)
        if E < minimum:
            out.append((spec.tag, E))
    return out
