"""The training settings: the ``train`` config section as one frozen dataclass, and which of its keys change a model.

:data:`RESULT_KEYS` change the weights: they are the training rule's params (a change retrains) and make the
checkpoint fingerprint. :data:`RUN_KEYS` say where and how a job runs and how often it saves: a change reruns
nothing. Every key of the section is one or the other, or read by the rule itself (``grid``, ``gpu_model``,
``runtime``, ``threads``); tests/test_train.py checks it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from .errors import ConfigError
from .schema import defaults

__all__ = ["RESULT_KEYS", "OMIT_WHEN_NULL", "RUN_KEYS", "result_params", "TrainSettings"]

#: Keys of the ``train`` config section that change a trained model: rule params, so a change retrains.
RESULT_KEYS = (
    "epochs",
    "batch_size",
    "lr",
    "betas",
    "eps",
    "decay_bias",
    "loss",
    "latent_relu",
    "precision",
    "eval_batches",
    "max_steps",
)
#: Result keys left out of the rule params and fingerprints while null, so that adding them retrains nothing.
OMIT_WHEN_NULL = ("max_steps",)
#: Keys of the ``train`` section a job reads that do not change what is learned: where and how fast it runs, and how
#: often it saves. A change reruns nothing. (The grid, gpu_model and runtime are read by the rule, the threads are
#: the job's.)
RUN_KEYS = (
    "device",
    "checkpoint_every",
    "keep_checkpoints",
    "gpu_lease_timeout",
    "deterministic",
    "loader_threads",
    "jobs_per_gpu",
    "whole_gpu_latent",
    "snapshots",  # what a run saves over training (bows.snapshots): its own outputs, not the weights
    "tensorboard",
)


def result_params(train_cfg: Mapping[str, Any]) -> dict[str, Any]:
    """The part of the ``train`` section a trained model depends on (see :data:`RESULT_KEYS`)."""
    return {
        k: train_cfg[k] for k in RESULT_KEYS if k in train_cfg and not (k in OMIT_WHEN_NULL and train_cfg[k] is None)
    }


@dataclass(frozen=True)
class TrainSettings:
    """The training settings of the ``train`` config section. Its defaults (the paper's) live in the config schema
    only: :meth:`from_config` reads a validated section, :meth:`default` the schema's defaults."""

    epochs: int
    batch_size: int
    lr: float
    betas: tuple[float, float]
    eps: float
    decay_bias: bool
    loss: str
    latent_relu: bool
    device: str
    precision: str
    threads: int
    checkpoint_every: int
    eval_batches: int | None
    keep_checkpoints: bool
    gpu_lease_timeout: float
    max_steps: int | None  # rehearsals: stop after this many steps (the cosine schedule spans them)
    deterministic: bool
    loader_threads: int | None
    jobs_per_gpu: int
    whole_gpu_latent: int
    snapshots: Mapping[str, Any]  # {count, spacing} (bows.snapshots)
    tensorboard: bool
    progress: bool | None = None  # not a config key; None: bars only when stderr is a terminal

    def __post_init__(self):
        if min(self.epochs, self.batch_size, self.checkpoint_every) < 1:
            raise ConfigError(
                "train.epochs, train.batch_size and train.checkpoint_every must be ≥ 1",
                "fix them in the train section of the config",
            )

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any], **overrides: Any) -> TrainSettings:
        """The settings of a validated ``train`` section with ``overrides`` (every key present, except the
        :data:`OMIT_WHEN_NULL` keys, which a section slice leaves out while null; ``progress`` optional)."""
        cfg = {**{k: None for k in OMIT_WHEN_NULL}, **cfg, **overrides}
        missing = [f.name for f in fields(cls) if f.name != "progress" and f.name not in cfg]
        if missing:
            raise ConfigError(
                f"the train section lacks {missing}",
                "pass a validated config (bows.config.load_config or validate), or use TrainSettings.default(...)",
            )
        kw = {f.name: cfg[f.name] for f in fields(cls) if f.name in cfg}
        return cls(**{**kw, "betas": tuple(float(x) for x in kw["betas"])})

    @classmethod
    def default(cls, **overrides: Any) -> TrainSettings:
        """The schema's ``train`` defaults with ``overrides`` (field names), for tests and library callers."""
        return replace(cls.from_config(defaults()["train"]), **overrides)

    def fingerprint(self, **extra: Any) -> str:
        """Hash of everything that changes the trained weights (a checkpoint resumes only a run with the same)."""
        d = result_params(asdict(self))
        d["betas"] = list(d["betas"])
        d.update(extra)
        return hashlib.sha256(json.dumps(d, sort_keys=True, default=str).encode()).hexdigest()[:16]
