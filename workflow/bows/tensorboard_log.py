"""Offline TensorBoard logs of a training run: event files of the per-step and per-epoch scalars.

Written with ``torch.utils.tensorboard.SummaryWriter`` into a local folder (``train.tensorboard: true``; the
``tensorboard`` package is the ``[tensorboard]`` extra); nothing is sent anywhere. Read them with
``tensorboard --logdir results/{corpus}/models`` (the TensorBoard server runs locally) or
``tensorboard.backend.event_processing.event_accumulator.EventAccumulator``.

Scalars, by step s (optimiser steps taken):

- ``step/loss``: the training loss of the batch of step s (windows of that batch only);
- ``step/lr``: the learning rate that step used (the cosine schedule, :func:`bows.exposure.lr_schedule`);
- ``step/decay_exposure``: E reached after the step, wd · Σ_{t < s} lr_t (:func:`bows.exposure.exposure_reached`);
- ``epoch/train_loss``, ``epoch/heldout_loss``, ``epoch/steps_per_second``: once per epoch, at its last step.

The step losses stay on the device and are read in blocks of :data:`FLUSH_EVERY` (one host synchronisation per
block, not per step). A resumed run opens the log with ``purge_step`` just after its step, so TensorBoard drops the
events an interrupted run wrote after its last checkpoint; a run from step 0 removes the folder's old event files.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .errors import ConfigError
from .exposure import exposure_reached, lr_schedule

__all__ = ["ScalarLog", "EVENT_GLOB", "FLUSH_EVERY"]

EVENT_GLOB = "events.out.tfevents.*"
#: Step losses read from the device at a time.
FLUSH_EVERY = 256


def _summary_writer() -> Any:
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        raise ConfigError(
            "train.tensorboard is true but the tensorboard package is not installed",
            "install the extra (pip install -e '.[tensorboard]') or set train.tensorboard: false",
        ) from None
    return SummaryWriter


class ScalarLog:
    """The event files of one run in ``log_dir``; ``lr`` and ``weight_decay`` give the logged schedule."""

    def __init__(self, log_dir: str | os.PathLike, lr: float, weight_decay: float):
        self.writer_class = _summary_writer()  # fails here, before any training, when the package is missing
        self.log_dir = Path(log_dir)
        self.lr, self.weight_decay = float(lr), float(weight_decay)
        self.writer: Any = None
        self.pending: list[tuple[int, Any]] = []
        self.lr_t = np.zeros(0)
        self.exposure = np.zeros(1)

    def start(self, step: int, total_steps: int) -> None:
        if step == 0 and self.log_dir.is_dir():
            for old in self.log_dir.glob(EVENT_GLOB):
                old.unlink()
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.lr_t = lr_schedule(self.lr, total_steps)
        self.exposure = exposure_reached(self.weight_decay, self.lr, total_steps, range(total_steps + 1))
        # a resume from step s: the events of steps after s came from the interrupted run and are written again
        self.writer = self.writer_class(str(self.log_dir), purge_step=step + 1 if step > 0 else None)

    def at(self, step: int, loss: Any) -> None:
        """Step ``step`` is done (``loss``: its batch's loss tensor, or None for a batch of empty windows)."""
        if loss is not None:
            self.pending.append((step, loss.detach().clone()))
        if len(self.pending) >= FLUSH_EVERY:
            self.flush()

    def flush(self) -> None:
        if self.writer is None or not self.pending:
            return
        import torch

        values = torch.stack([v.float() for _, v in self.pending]).cpu().tolist()  # one synchronisation
        for (step, _), value in zip(self.pending, values):
            self.writer.add_scalar("step/loss", value, step)
            self.writer.add_scalar("step/lr", float(self.lr_t[step - 1]), step)
            self.writer.add_scalar("step/decay_exposure", float(self.exposure[step]), step)
        self.pending.clear()

    def epoch(self, step: int, values: Mapping[str, float | None]) -> None:
        """Per-epoch scalars at the epoch's last step (None values are skipped)."""
        self.flush()
        for name, value in values.items():
            if value is not None:
                self.writer.add_scalar(f"epoch/{name}", float(value), step)

    def close(self) -> None:
        if self.writer is None:
            return
        self.flush()
        self.writer.close()
        self.writer = None
