"""The ``sae`` config section: the models it reads, the SAEs it trains, and its one-message validator.

:func:`check` runs with :func:`bows.config.check`, before any job starts: a model missing from ``train.grid``, a
width below 1, an L0 target above a dictionary width, a group size above ``windows.group_size``, or a missing
optional dependency gives one :class:`~bows.errors.BowsError` naming the fix.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from typing import Any, Mapping

from ..errors import ConfigError, ShapeError
from ..grid import ModelSpec, model_grid, model_ref
from ..wordlists import resolve_group_words

__all__ = ["ARCHITECTURES", "SaeSpec", "models", "sweep", "check", "check_backend", "memory_estimate_mb"]

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
        raise ConfigError("sae.backend is saelens but the optional package sae-lens is not installed",
                          "pip install -e '.[sae]' (or use the sae conda env), or set sae.backend: bows")


def check(config: Mapping[str, Any]) -> None:
    """Consistency of the ``sae`` section with the rest of the config. Raises one error naming the fix."""
    sae = config["sae"]
    if not sae["enabled"]:
        return
    grid = set(model_grid(config))
    for i, spec in enumerate(models(sae)):
        if spec not in grid:
            raise ConfigError(f"sae.models[{i}] names {spec.tag}, which train.grid does not train",
                              f"add latent {spec.latent} at weight_decay {spec.wd}, seed {spec.seed} to train.grid "
                              "or point sae.models at a trained model")
    bad = [w for w in sae["widths"] if int(w) < 1]
    if bad:
        raise ShapeError(f"sae.widths {bad} are below 1", "give every SAE dictionary at least one latent")
    uses_k = [a for a in sae["architectures"] if ARCHITECTURES[a] == "l0_targets"]
    too_big = sorted({int(k) for k in sae["l0_targets"] if int(k) > min(int(w) for w in sae["widths"])})
    if uses_k and too_big:
        raise ShapeError(f"sae.l0_targets {too_big} exceed the latent size of the narrowest SAE "
                         f"(sae.widths min {min(sae['widths'])}): a TopK SAE cannot keep more latents than it has",
                         "lower sae.l0_targets or drop the narrow widths")
    G = int(config["windows"]["group_size"])
    if int(sae["group_size"]) > G:
        raise ConfigError(f"sae.group_size {sae['group_size']} exceeds windows.group_size {G}: the SAE samples "
                          "would reach records of the held-out blocks", f"use sae.group_size ≤ {G}")
    groups = config["analysis"]["word_groups"]
    for name in sae["groups"]:
        if name not in groups:
            raise ConfigError(f"sae.groups names {name!r}, which analysis.word_groups does not define",
                              f"use groups of analysis.word_groups: {sorted(groups)}")
        resolve_group_words(name, groups[name]["words"])
    prefixes = [float(p) for p in sae["matryoshka_prefixes"]]
    if "matryoshka" in sae["architectures"] and any(not 0 < p < 1 for p in prefixes):
        raise ConfigError(f"sae.matryoshka_prefixes {prefixes} must lie strictly between 0 and 1",
                          "give the nested dictionary sizes as fractions of the width, e.g. [0.25, 0.5]")
    check_backend(sae["backend"])
    if sae["backend"] == "saelens" and "matryoshka" in sae["architectures"]:
        raise ConfigError("sae.backend saelens trains relu and topk SAEs only, but sae.architectures lists matryoshka",
                          "drop matryoshka from sae.architectures or use sae.backend: bows")
