"""Resumable training state: one safetensors file per run, ``{ckpt_dir}/state.safetensors``.

Tensors: ``W`` [L, V] and ``b`` [V] (the parameters, as in a model file) and the optimiser's state tensors
(``optimizer.{param}.{name}``: AdamW's step and moments of E = Wᵀ and of b). Metadata: the format, the run's
fingerprint (a checkpoint resumes only the run it was written for), the epoch and step, the loss history, the
optimiser's remaining state and param groups, the scheduler's state, the init generator's RNG state (base64) and the
device it was written on. It loads without pickle, and with the same thread count on the CPU a resumed run ends
bit-identical to an uninterrupted one (tests/test_train.py kills a real training process to check it).
"""

from __future__ import annotations

import base64
import logging
import os
from pathlib import Path
from typing import Any

import torch

from .errors import CheckpointError
from .io import remove_stale_temps
from .model import TiedAutoencoder
from .tensor_files import read_tensors, write_tensors

__all__ = ["CHECKPOINT", "CHECKPOINT_FORMAT", "Checkpoints"]

log = logging.getLogger("bows.checkpoints")

CHECKPOINT = "state.safetensors"
LEGACY_CHECKPOINT = "state.pt"  # earlier versions' checkpoint (a torch archive): not resumed
CHECKPOINT_FORMAT = "bows-checkpoint/2"
_OPT = "optimizer."


class Checkpoints:
    """The checkpoint of the run with ``fingerprint`` in ``folder``: :meth:`save` after an epoch, :meth:`restore` at
    the start, :meth:`remove` once the model file is written."""

    def __init__(self, folder: str | os.PathLike, fingerprint: str):
        self.path = Path(folder) / CHECKPOINT
        self.fingerprint = fingerprint

    def save(self, model: TiedAutoencoder, opt: torch.optim.Optimizer, sched: Any, gen: torch.Generator, **progress):
        """Write the state atomically; ``progress`` (epoch, step, history, ...) is plain JSON data."""
        opt_state = opt.state_dict()
        tensors = {"W": model.E.detach().t(), "b": model.b.detach()}
        plain: dict[str, dict[str, Any]] = {}
        for param, entries in opt_state["state"].items():
            for name, value in entries.items():
                if torch.is_tensor(value):
                    tensors[f"{_OPT}{param}.{name}"] = value
                else:
                    plain.setdefault(str(param), {})[name] = value
        metadata = {
            "format": CHECKPOINT_FORMAT,
            "fingerprint": self.fingerprint,
            "optimizer": {"param_groups": opt_state["param_groups"], "state": plain},
            "scheduler": sched.state_dict(),
            "rng": base64.b64encode(gen.get_state().numpy().tobytes()).decode("ascii"),
            **progress,
        }
        write_tensors(self.path, tensors, metadata)

    def restore(self, model: TiedAutoencoder, opt: torch.optim.Optimizer, sched: Any, gen: torch.Generator):
        """Load the checkpoint into the model, optimiser, scheduler and generator, and return its progress entries;
        None (and nothing changed) when there is none, or it is unreadable or written for another run (logged)."""
        for stale in remove_stale_temps(self.path):  # a kill during a checkpoint write leaves its temporary file
            log.info("removed %s, left by an interrupted checkpoint write", stale)
        if self.path.with_name(LEGACY_CHECKPOINT).is_file():
            log.warning("not resuming %s, a checkpoint of an earlier version; delete it", LEGACY_CHECKPOINT)
        if not self.path.is_file():
            return None
        try:
            tensors, meta = read_tensors(self.path, "checkpoint")
        except CheckpointError as err:
            log.warning("ignoring checkpoint: %s", err)
            return None
        if meta.get("format") != CHECKPOINT_FORMAT or meta.get("fingerprint") != self.fingerprint:
            log.warning("ignoring checkpoint %s: written for other settings or data; training from scratch", self.path)
            return None
        with torch.no_grad():
            model.E.copy_(tensors["W"].t())
            model.b.copy_(tensors["b"])
        opt.load_state_dict(_optimizer_state(tensors, meta["optimizer"]))
        sched.load_state_dict(meta["scheduler"])
        gen.set_state(torch.frombuffer(bytearray(base64.b64decode(meta["rng"])), dtype=torch.uint8))
        keys = ("format", "fingerprint", "optimizer", "scheduler", "rng")
        return {k: v for k, v in meta.items() if k not in keys}

    def remove(self) -> None:
        """Delete the checkpoint, and its folder when that is left empty."""
        self.path.unlink(missing_ok=True)
        try:
            self.path.parent.rmdir()
        except OSError:
            pass


def _optimizer_state(tensors: dict[str, torch.Tensor], saved: dict[str, Any]) -> dict[str, Any]:
    """The optimiser's ``state_dict`` from the checkpoint's tensors and metadata."""
    state: dict[int, dict[str, Any]] = {int(p): dict(v) for p, v in saved["state"].items()}
    for key, value in tensors.items():
        if key.startswith(_OPT):
            param, name = key[len(_OPT) :].split(".", 1)
            state.setdefault(int(param), {})[name] = value
    groups = [{**g, "betas": tuple(g["betas"])} if "betas" in g else g for g in saved["param_groups"]]
    return {"state": state, "param_groups": groups}
