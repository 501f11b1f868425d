"""The training grid: which models a config trains, and how a model is named in paths and tables."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "VARIANTS",
    "TRAINED_VARIANTS",
    "BASELINE_VARIANTS",
    "ModelSpec",
    "model_grid",
    "model_ref",
    "sweep_models",
    "subspace_k",
    "fmt_wd",
]

#: variants trained by gradient descent (rule train_model): relu = the paper's x̂ = ReLU(WᵀWx + b), linear = the same
#: without the output ReLU
TRAINED_VARIANTS = ("relu", "linear")
#: variants written from the data without training (rule pca_model): the optimal linear autoencoder
BASELINE_VARIANTS = ("pca",)
#: every model variant a grid may hold; the schema's ``variant`` enums and the workflow's wildcard match this list
VARIANTS = TRAINED_VARIANTS + BASELINE_VARIANTS


def fmt_wd(wd: float) -> str:
    """Weight decay as it appears in paths: ``str(float(wd))`` ("1.0", "4.0", "0.0", "0.0001")."""
    return str(float(wd))


@dataclass(frozen=True, order=True)
class ModelSpec:
    variant: str
    latent: int
    weight_decay: float
    seed: int

    @property
    def wd(self) -> str:
        return fmt_wd(self.weight_decay)

    @property
    def tag(self) -> str:
        """``relu/L1000_wd4.0_seed1``: the model's folder below the windows tag."""
        return f"{self.variant}/L{self.latent}_wd{self.wd}_seed{self.seed}"


def model_grid(config: Mapping[str, Any]) -> list[ModelSpec]:
    """Every model of ``train.grid`` (the union of its blocks) of a validated config (the schema fills each block's
    variant, weight_decay and seed), sorted and without duplicates."""
    specs = set()
    for block in config["train"]["grid"]:
        for variant, latent, wd, seed in itertools.product(
            block["variant"], block["latent"], block["weight_decay"], block["seed"]
        ):
            specs.add(ModelSpec(variant, int(latent), float(wd), int(seed)))
    return sorted(specs)


def model_ref(ref: Mapping[str, Any]) -> ModelSpec:
    """A validated model reference (``analysis.models`` and ``sae.models`` entries: the schema fills variant,
    weight_decay and seed) as a :class:`ModelSpec`."""
    return ModelSpec(ref["variant"], int(ref["latent"]), float(ref["weight_decay"]), int(ref["seed"]))


def sweep_models(config: Mapping[str, Any], latent: int | None = None) -> list[ModelSpec]:
    """The grid models of the structure sweep (``analysis.models.sweep``'s variant and weight decay of a validated
    config), optionally only those of latent size ``latent``, sorted by (latent, seed)."""
    sweep = config["analysis"]["models"]["sweep"]
    return sorted(
        (
            s
            for s in model_grid(config)
            if s.variant == sweep["variant"]
            and s.weight_decay == float(sweep["weight_decay"])
            and (latent is None or s.latent == int(latent))
        ),
        key=lambda s: (s.latent, s.seed),
    )


def subspace_k(config: Mapping[str, Any]) -> int:
    """Eigenvectors the overlap metric and the pca models need: the grid's largest L, capped by
    ``analysis.subspace_max_latent`` and V."""
    top = max(s.latent for s in model_grid(config))
    return int(min(top, config["analysis"]["subspace_max_latent"], config["vocab"]["size"]))
