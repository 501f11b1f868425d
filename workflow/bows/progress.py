"""What a training run reports as it goes: the per-epoch history, running losses, and progress for a reader.

In a terminal a progress bar shows the loss and steps/s; in Snakemake logs (not a terminal) one line every two
minutes. Losses are summed on the device and read back only when shown, so a step never waits for the host.
"""

from __future__ import annotations

import logging
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import torch

__all__ = ["History", "RunningMean", "Progress"]

log = logging.getLogger("bows.train")


@dataclass
class History:
    """Per epoch: its number, mean train and held-out loss, seconds (with the held-out pass) and steps."""

    epoch: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    heldout_loss: list[float | None] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    steps: list[int] = field(default_factory=list)

    def add(self, epoch: int, train_loss: float, heldout_loss: float | None, seconds: float, steps: int) -> None:
        self.epoch.append(epoch)
        self.train_loss.append(train_loss)
        self.heldout_loss.append(heldout_loss)
        self.seconds.append(seconds)
        self.steps.append(steps)


class RunningMean:
    """The mean of batch losses weighted by their rows, kept on the device."""

    def __init__(self, device: torch.device):
        self.total = torch.zeros((), dtype=torch.float64, device=device)
        self.rows = 0

    def add(self, loss: torch.Tensor, rows: int) -> None:
        self.total += loss.detach().double() * rows
        self.rows += rows

    def value(self) -> float:
        return float(self.total) / max(self.rows, 1)


class Progress:
    """A bar over ``total`` steps (from ``initial``) when ``show`` (None: when stderr is a terminal), else log lines
    every ``log_every`` seconds."""

    log_every = 120.0

    def __init__(self, total: int, initial: int, desc: str, epochs: int, steps_per_epoch: int, show: bool | None):
        from tqdm.auto import tqdm

        show = _stderr_is_terminal() if show is None else show
        self.bar = tqdm(
            total=total, initial=initial, unit="step", dynamic_ncols=True, desc=desc, disable=not show, file=sys.stderr
        )
        self.epochs, self.steps_per_epoch = epochs, steps_per_epoch
        self.t0 = self.last_log = time.perf_counter()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.bar.close()

    def update(self, epoch: int, k: int, mean: RunningMean) -> None:
        """After step ``k`` of ``epoch`` (0-based; ``mean``: the epoch's running loss)."""
        now = time.perf_counter()
        if k == 0:
            self.t0 = now
        rate = (k + 1) / max(now - self.t0, 1e-9)
        if not self.bar.disable:
            self.bar.update(1)
            if k % 20 == 0 or k + 1 == self.steps_per_epoch:
                self.bar.set_postfix(epoch=epoch + 1, loss=f"{mean.value():.5f}", steps_s=f"{rate:.2f}", refresh=False)
        elif now - self.last_log > self.log_every:
            self.last_log = now
            log.info(
                "epoch %d/%d  step %d/%d  loss %.6g  %.2f steps/s",
                epoch + 1,
                self.epochs,
                k + 1,
                self.steps_per_epoch,
                mean.value(),
                rate,
            )


def _stderr_is_terminal() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False
