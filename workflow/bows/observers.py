"""What watches a training run without changing it: the snapshots (:mod:`bows.snapshots`) and the TensorBoard log
(:mod:`bows.tensorboard_log`).

The trainer calls :meth:`Observers.start` once it knows its step (after a resume), :meth:`Observers.after_step`
after every optimiser step, :meth:`Observers.after_epoch` after every epoch and :meth:`Observers.close` at the end;
none of them touches a parameter, a gradient, the optimiser or a random generator. ``Observers()`` watches nothing.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .snapshots import Snapshots, SnapshotSettings, snapshot_folder
from .tensorboard_log import ScalarLog

__all__ = ["Observers", "TENSORBOARD_DIR"]

#: The TensorBoard folder beside a model file (not a tracked output: switching the log on or off retrains nothing).
TENSORBOARD_DIR = "tensorboard"


class Observers:
    def __init__(self, snapshots: Snapshots | None = None, scalars: ScalarLog | None = None):
        self.snapshots = snapshots
        self.scalars = scalars

    @classmethod
    def for_run(
        cls,
        train_cfg: Mapping[str, Any],
        ckpt_dir: str | os.PathLike | None,
        model_dir: str | os.PathLike | None,
        weight_decay: float,
    ) -> Observers:
        """The observers ``train.snapshots`` and ``train.tensorboard`` ask for: snapshots staged in ``ckpt_dir``
        (needed when they are on), the event files in ``{model_dir}/tensorboard``."""
        settings = SnapshotSettings.from_config(train_cfg)
        snapshots = None
        if settings.enabled:
            if ckpt_dir is None:
                raise ValueError("snapshots need a checkpoint folder to stage them in (ckpt_dir)")
            snapshots = Snapshots(settings, Path(ckpt_dir) / "snapshots")
        scalars = None
        if train_cfg["tensorboard"] and model_dir is not None:
            scalars = ScalarLog(Path(model_dir) / TENSORBOARD_DIR, float(train_cfg["lr"]), weight_decay)
        return cls(snapshots, scalars)

    def fingerprint(self) -> dict[str, Any]:
        """What a checkpoint must share with this run to be resumed (nothing when no snapshots are taken)."""
        return self.snapshots.fingerprint() if self.snapshots else {}

    def start(self, step: int, total_steps: int, fingerprint: str, model: Any) -> None:
        if self.snapshots:
            self.snapshots.start(step, total_steps, fingerprint, model)
        if self.scalars:
            self.scalars.start(step, total_steps)

    def after_step(self, step: int, model: Any, loss: Any) -> None:
        """Step ``step`` is done; ``loss``: the batch's loss tensor (None for a batch of empty windows)."""
        if self.snapshots:
            self.snapshots.at(step, model)
        if self.scalars:
            self.scalars.at(step, loss)

    def after_epoch(self, step: int, values: Mapping[str, float | None]) -> None:
        if self.scalars:
            self.scalars.epoch(step, values)

    def close(self) -> None:
        if self.scalars:
            self.scalars.close()

    def publish(self, model_dir: str | os.PathLike, extra: Mapping[str, Any] | None = None) -> Path | None:
        """Publish the snapshots beside the final model (their folder, or None without snapshots)."""
        if not self.snapshots:
            return None
        return self.snapshots.publish(snapshot_folder(model_dir, self.snapshots.settings), extra)

    def discard(self) -> None:
        """Drop the staged snapshots (with the checkpoint)."""
        if self.snapshots:
            self.snapshots.discard()
