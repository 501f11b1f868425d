"""The ``sae`` config section: the models it reads, the SAEs it trains, and its one-message validator.

The section's consistency checks run with :func:`bows.config.check`, before any job starts: a model missing from
``train.grid``, a width below 1, an L0 target above a dictionary width, a group size above ``windows.group_size``, or
a missing optional dependency gives one :class:`~bows.errors.BowsError` naming the fix.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError
from ..grid import ModelSpec, model_ref

__all__ = ["ARCHITECTURES", "SaeSpec", "models", "sweep", "check_backend", "memory_estimate_mb"]

#: architectures this package trains, and the sparsity knob each sweeps (config key)
ARCHITECTURES = {"relu": "l1_coefficients", "topk": "l0_targets", "matryoshka": "l0_targets"}


@dataclass(frozen=True)
class SaeSpec:
    """One SAE of the sweep: architecture, dictionary width and its sparsity setting (k, or the L1 coefficient)."""

    architecture: str
    width: int
    sparsity: float

    @property
    def name(self) -> str:
        """``topk_w256_s8`` / ``relu_w256_s0.003``: the SAE's key in saved files and tables."""
        s = int(self.sparsity) if self.architecture != "relu" else self.sparsity
        return f"{self.architecture}_w{self.width}_s{s:g}"

    @property
    def k(self) -> int | None:
        """Active latents per sample of a TopK-type SAE (None for ReLU + L1)."""
        return None if self.architecture == "relu" else int(self.sparsity)


def models(sae: Mapping[str, Any]) -> list[ModelSpec]:
    """The BOWS models of ``sae.models`` (refs like ``analysis.models`` entries), in config order."""
    return [model_ref(ref) for ref in sae["models"]]


def sweep(sae: Mapping[str, Any], architecture: str) -> list[SaeSpec]:
    """Every SAE of one architecture: widths × its sparsity settings (config order)."""
    knob = ARCHITECTURES[architecture]
    return [SaeSpec(architecture, int(w), float(s)) for w in sae["widths"] for s in sae[knob]]


def memory_estimate_mb(sae: Mapping[str, Any], latent: int, n_words: int) -> int:
    """Memory of an SAE job in MB: the float32 activations (train and held-out, a few copies while scaling) and
    the float64 cosine matrix words × widest dictionary of the scores, plus 1 GB for the libraries. ``n_words``
    stands for ``sae.words`` when that is null (every word: the vocabulary size)."""
    samples = (sae["train_samples"] or 10**6) + (sae["heldout_samples"] or 10**5)
    words = sae["words"] or n_words
    acts = 3 * 4 * samples * latent
    cos = 2 * 8 * words * max(int(w) for w in sae["widths"])
    return 1000 + (acts + cos) // 2**20


def check_backend(backend: str) -> None:
    """``sae.backend: saelens`` needs the optional ``sae-lens`` package (the ``[sae]`` extra)."""
    if backend == "saelens" and importlib.util.find_spec("sae_lens") is None:
        raise ConfigError(
            "sae.backend is saelens but the optional package sae-lens is not installed",
            "pip install -e '.[sae]' (or use the sae conda env), or set sae.backend: bows",
        )
