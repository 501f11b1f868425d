"""Snapshots over training: the weights W and b at a few steps of a run, in the final model's format.

Which steps (``train.snapshots``): ``count`` distinct optimiser-step counts from 0 (the initialisation) to T (the
final model), T = the run's total steps; ``spacing: log`` places them geometrically between 1 and T (most of the
geometry forms early), ``linear`` evenly. The snapshot at step s holds the weights after s optimiser steps, so the
first equals the initialisation and the last equals the final model. ``count: 0`` turns snapshots off.

Where: while a model trains, its snapshots are staged in the resumable state's folder (``{ckpt}/snapshots/``,
beside the checkpoint), so a killed job keeps the snapshots of the steps it has passed and, resumed from its last
epoch, writes the later ones again (identical on the CPU, like the weights). When the run ends they are published
beside the final model, in ``{model folder}/snapshots/{spacing}{count}/``: ``00.safetensors`` …
(``bows.model.save_model``: the final model's format; the metadata holds the snapshot's step) and ``index.json`` (the
step of each file). The folder's name carries the settings, so another count or spacing is a new output (its models
retrain) and switching snapshots off retrains nothing.

Saving a snapshot copies the weights to the CPU and writes a file; it reads no random state and changes no tensor,
so training is bit-identical with and without snapshots (tests/test_snapshots.py).
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .errors import CheckpointError, ConfigError
from .grid import ModelSpec
from .io import atomic_path, read_json, write_json

__all__ = [
    "SPACINGS",
    "SnapshotSettings",
    "snapshot_steps",
    "snapshot_folder",
    "snapshot_files",
    "snapshot_inputs",
    "Snapshots",
    "read_index",
    "load_snapshots",
]

log = logging.getLogger("bows.snapshots")

SPACINGS = ("log", "linear")
#: The final model's file format (bows.model.save_model), which every snapshot shares.
SUFFIX = ".safetensors"
INDEX = "index.json"
STAGING = "snapshots"  # the staging folder inside a run's checkpoint folder
MARKER = "run.json"  # in the staging folder: the run (fingerprint) and steps its files belong to


@dataclass(frozen=True)
class SnapshotSettings:
    """``train.snapshots`` of a validated config: how many snapshots, and how they are spaced."""

    count: int
    spacing: str

    @classmethod
    def from_config(cls, train_cfg: Mapping[str, Any]) -> SnapshotSettings:
        cfg = train_cfg["snapshots"] if "snapshots" in train_cfg else {}
        if "count" not in cfg or "spacing" not in cfg:
            raise ConfigError(
                "the train section lacks snapshots.count / snapshots.spacing",
                "pass a validated config (bows.config.load_config or validate)",
            )
        settings = cls(int(cfg["count"]), str(cfg["spacing"]))
        if settings.count == 1 or settings.count < 0:
            raise ConfigError(
                f"train.snapshots.count is {settings.count}",
                "use 0 (no snapshots) or at least 2 (step 0 and the final step are always included)",
            )
        if settings.spacing not in SPACINGS:
            raise ConfigError(f"unknown train.snapshots.spacing {settings.spacing!r}", f"use one of {list(SPACINGS)}")
        return settings

    @property
    def enabled(self) -> bool:
        return self.count > 0

    @property
    def name(self) -> str:
        """The published folder's name: ``log12``."""
        return f"{self.spacing}{self.count}"


def snapshot_steps(total_steps: int, count: int, spacing: str = "log") -> list[int]:
    """``count`` distinct step counts from 0 to ``total_steps`` inclusive, both ends included (every step when the
    run has fewer). ``log``: 0, then geometric from 1 to T; ``linear``: evenly from 0 to T. Rounded to integers and
    pushed apart where rounding makes two equal."""
    T = int(total_steps)
    if count <= 0 or T < 0:
        return []
    n = min(int(count), T + 1)
    if n == T + 1:
        return list(range(T + 1))
    if spacing == "log":
        raw = np.concatenate([[0.0], np.geomspace(1.0, T, n - 1)])
    elif spacing == "linear":
        raw = np.linspace(0.0, T, n)
    else:
        raise ConfigError(f"unknown snapshot spacing {spacing!r}", f"use one of {list(SPACINGS)}")
    steps = [int(round(v)) for v in raw]
    steps[0], steps[-1] = 0, T
    for i in range(1, n):  # distinct and increasing ...
        steps[i] = max(steps[i], steps[i - 1] + 1)
    for i in range(n - 1, -1, -1):  # ... and within 0 … T
        steps[i] = min(steps[i], T - (n - 1 - i))
    return steps


def snapshot_folder(model_dir: str | os.PathLike, settings: SnapshotSettings) -> Path:
    """Where a model's published snapshots live: ``{model_dir}/snapshots/{spacing}{count}``."""
    return Path(model_dir) / "snapshots" / settings.name


def file_name(k: int) -> str:
    return f"{k:02d}{SUFFIX}"


def snapshot_files(model_dir: str | os.PathLike, train_cfg: Mapping[str, Any]) -> dict[str, str]:
    """The published files of a model (the rule's outputs): ``snapshot_index`` → index.json and ``snapshot_<k>`` →
    the k-th weights file; empty when snapshots are off."""
    settings = SnapshotSettings.from_config(train_cfg)
    if not settings.enabled:
        return {}
    folder = snapshot_folder(model_dir, settings)
    out = {"snapshot_index": str(folder / INDEX)}
    out.update({f"snapshot_{k:02d}": str(folder / file_name(k)) for k in range(settings.count)})
    return out


def snapshot_inputs(model_dir: str | os.PathLike, train_cfg: Mapping[str, Any]) -> dict[str, Any]:
    """The published files of a model as a reading rule's inputs: ``index`` → index.json, ``snapshots`` → the
    weights files in step order."""
    files = snapshot_files(model_dir, train_cfg)
    return {"index": files.pop("snapshot_index"), "snapshots": list(files.values())} if files else {}


class Snapshots:
    """Saves the weights at the steps of :func:`snapshot_steps` into ``staging`` and publishes them at the end.

    ``start`` once the run knows its step (0, or the step of the checkpoint it resumed), ``at`` after every optimiser
    step, ``publish`` when the run is over, ``discard`` with the checkpoint.
    """

    def __init__(self, settings: SnapshotSettings, staging: str | os.PathLike):
        self.settings = settings
        self.staging = Path(staging)
        self.steps: list[int] = []
        self.total_steps = 0

    def fingerprint(self) -> dict[str, Any]:
        """What a resumable checkpoint must share with this run (its snapshots up to its step exist)."""
        return {"snapshots": self.settings.name}

    def start(self, step: int, total_steps: int, fingerprint: str, model: Any) -> None:
        """Prepare the staging folder: kept when it belongs to this run (a resume), emptied otherwise; then save the
        snapshot of the current step if it is one (step 0 of a fresh run)."""
        self.total_steps = int(total_steps)
        self.steps = snapshot_steps(self.total_steps, self.settings.count, self.settings.spacing)
        marker = {"fingerprint": fingerprint, "steps": self.steps}
        path = self.staging / MARKER
        if step == 0 or not path.is_file() or read_json(path) != marker:
            if self.staging.exists():
                shutil.rmtree(self.staging)
            self.staging.mkdir(parents=True)
            write_json(path, marker)
        missing = [s for s in self.steps if s < step and not self._staged(s).is_file()]
        if missing:
            raise CheckpointError(
                f"the checkpoint in {self.staging.parent} resumes at step {step} but the snapshots of steps "
                f"{missing} are missing from {self.staging}",
                f"delete {self.staging.parent} and train the model again",
            )
        self.at(step, model)

    def _staged(self, step: int) -> Path:
        return self.staging / file_name(self.steps.index(step))

    def at(self, step: int, model: Any) -> None:
        """Save the weights if ``step`` is a snapshot step (a copy to the CPU and a file write; nothing else)."""
        if step not in self.steps:
            return
        from .model_files import save_model

        W, b = model.weights()
        k = self.steps.index(step)
        save_model(self._staged(step), W, b, {"snapshot": k, "step": int(step), "total_steps": self.total_steps})
        log.info("snapshot %d/%d at step %d", self.steps.index(step) + 1, len(self.steps), step)

    def publish(self, folder: str | os.PathLike, extra: Mapping[str, Any] | None = None) -> Path:
        """Copy the staged files to ``folder`` (a hard link where possible) and write its ``index.json``."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        files = []
        for k, step in enumerate(self.steps):
            src = self._staged(step)
            if not src.is_file():
                raise CheckpointError(
                    f"snapshot of step {step} is missing from {self.staging}",
                    f"delete {self.staging.parent} and train the model again",
                )
            _link_or_copy(src, folder / file_name(k))
            files.append(file_name(k))
        index = {
            "count": self.settings.count,
            "spacing": self.settings.spacing,
            "total_steps": self.total_steps,
            "steps": self.steps,
            "files": files,
            **dict(extra or {}),
        }
        write_json(folder / INDEX, index)
        return folder

    def discard(self) -> None:
        """Remove the staging folder (with the checkpoint, once the model is written)."""
        if self.staging.exists():
            shutil.rmtree(self.staging)


def _link_or_copy(src: Path, dst: Path) -> None:
    """``dst`` with the bytes of ``src``, atomically: a hard link when the file system allows, else a copy."""
    with atomic_path(dst) as tmp:
        tmp.unlink()
        try:
            os.link(src, tmp)
        except OSError:
            shutil.copyfile(src, tmp)


def read_index(folder: str | os.PathLike) -> dict[str, Any]:
    """The ``index.json`` of a published snapshot folder (count, spacing, total_steps, steps, files)."""
    path = Path(folder) / INDEX
    if not path.is_file():
        raise CheckpointError(f"no snapshot index {path}", "train the model with train.snapshots.count > 0")
    return read_json(path)


def load_snapshots(folder: str | os.PathLike) -> list[tuple[int, np.ndarray, np.ndarray]]:
    """(step, W [L, V], b [V]) of every snapshot of a published folder, in step order."""
    from .model_files import load_weights

    folder = Path(folder)
    index = read_index(folder)
    return [(int(s), *load_weights(folder / f)) for s, f in zip(index["steps"], index["files"])]


def steps_of(index: Mapping[str, Any]) -> Sequence[int]:
    return [int(s) for s in index["steps"]]


def figure_latent_of(pairs: Iterable[tuple[int, float]], latent: int | None = None) -> int | None:
    """The dynamics figure's latent size from the (latent, weight decay) pairs of its ReLU models: ``latent`` if
    given, else the latent size with the most weight decays (the largest such); None without pairs."""
    wds: dict[int, set[float]] = {}
    for L, wd in pairs:
        wds.setdefault(int(L), set()).add(float(wd))
    if not wds:
        return None
    if latent is not None:
        return int(latent)
    return max(wds, key=lambda L: (len(wds[L]), L))


def dynamics_models(specs: Sequence[ModelSpec], which: str = "figure", latent: int | None = None) -> list[ModelSpec]:
    """The trained models whose dynamics are measured: ``all`` (every model with snapshots: not PCA), or ``figure``
    (the ReLU models of the figure's latent size: :func:`figure_latent_of` the grid's)."""
    trained = [s for s in specs if s.variant != "pca"]
    if which == "all":
        return trained
    L = figure_latent_of(((s.latent, s.weight_decay) for s in trained if s.variant == "relu"), latent)
    return [s for s in trained if s.variant == "relu" and s.latent == L]
