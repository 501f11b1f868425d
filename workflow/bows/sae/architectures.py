"""Sparse autoencoders over activations h ∈ ℝ^L, with unit-norm decoder rows; saving without pickle.

Every SAE has an encoder W_enc [L, m], b_enc [m], a decoder W_dec [m, L] (rows d_j, kept at unit norm) and b_dec [L]:

    a = act(((h − b_dec) W_enc + b_enc))       the m latents
    ĥ = a W_dec + b_dec

    relu        act = ReLU;  training loss MSE + λ Σ_j a_j   (rows of unit norm: the L1 of a, weighted by ‖d_j‖ = 1)
    topk        act keeps the k largest of ReLU(·) per sample, zero elsewhere;  loss MSE
    matryoshka  TopK latents; loss = mean over nested prefixes m_1 < … < m_n = m of the MSE of the reconstruction from
                the first m_i latents only (the first latents must reconstruct alone: general features first)

MSE is the mean over samples of Σ_L (h − ĥ)². The activations arrive scaled by one scalar (``scale``: mean ‖h‖² = 1
over the training sample) so that λ means the same for every BOWS model; the scale is saved with the SAE.
To add an architecture: a subclass with its ``activate`` (and ``loss`` if not plain MSE), an entry in
:data:`CLASSES` and in :data:`bows.sae.settings.ARCHITECTURES` (the config key of its sparsity knob).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from ..errors import CheckpointError, ShapeError
from ..tensor_files import safe_load, save_state
from .settings import SaeSpec

__all__ = ["SAE", "ReluSAE", "TopKSAE", "MatryoshkaSAE", "CLASSES", "build", "save_saes", "load_saes"]


class SAE(nn.Module):
    """Base class: parameters, encode/decode, the unit-norm constraint, and the plain MSE loss."""

    def __init__(self, spec: SaeSpec, latent: int, generator: torch.Generator | None = None):
        super().__init__()
        if spec.width < 1:
            raise ShapeError(f"SAE width {spec.width} is below 1", "give the dictionary at least one latent")
        self.spec = spec
        dec = torch.randn(spec.width, latent, generator=generator)
        dec /= dec.norm(dim=1, keepdim=True).clamp_min(1e-12)
        self.W_dec = nn.Parameter(dec)
        self.W_enc = nn.Parameter(dec.t().clone())
        self.b_enc = nn.Parameter(torch.zeros(spec.width))
        self.b_dec = nn.Parameter(torch.zeros(latent))

    def preact(self, h: torch.Tensor) -> torch.Tensor:
        return (h - self.b_dec) @ self.W_enc + self.b_enc

    def activate(self, z: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def encode(self, h: torch.Tensor) -> torch.Tensor:
        return self.activate(self.preact(h))

    def decode(self, a: torch.Tensor) -> torch.Tensor:
        return a @ self.W_dec + self.b_dec

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(h))

    def loss(self, h: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        """(loss, parts): the training objective of one batch and its parts as floats."""
        mse = _mse(h, self.forward(h))
        return mse, {"mse": float(mse.detach())}

    @torch.no_grad()
    def normalise_decoder(self) -> None:
        """Rows of W_dec back to unit norm (after every optimiser step)."""
        self.W_dec /= self.W_dec.norm(dim=1, keepdim=True).clamp_min(1e-12)

    def tensors(self) -> dict[str, torch.Tensor]:
        """The saved state: encoder, decoder, biases and the threshold-like knob (k, or λ) as tensors."""
        out = {k: v.detach().cpu().float().contiguous().clone() for k, v in self.state_dict().items()}  # float32
        out["sparsity"] = torch.tensor(float(self.spec.sparsity), dtype=torch.float64)
        return out


def _mse(h: torch.Tensor, h_hat: torch.Tensor) -> torch.Tensor:
    return (h - h_hat).pow(2).sum(dim=1).mean()


class ReluSAE(SAE):
    """The standard SAE: ReLU latents, L1 penalty λ = ``spec.sparsity``."""

    def activate(self, z: torch.Tensor) -> torch.Tensor:
        return torch.relu(z)

    def loss(self, h: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        a = self.encode(h)
        mse = _mse(h, self.decode(a))
        l1 = a.sum(dim=1).mean()
        return mse + self.spec.sparsity * l1, {"mse": float(mse.detach()), "l1": float(l1.detach())}


def topk(z: torch.Tensor, k: int) -> torch.Tensor:
    """ReLU(z) with all but the k largest entries of each row set to zero."""
    k = min(int(k), z.shape[1])
    vals, idx = torch.topk(z, k, dim=1)
    return torch.zeros_like(z).scatter_(1, idx, torch.relu(vals))


class TopKSAE(SAE):
    """k = ``spec.sparsity`` active latents per sample (fewer when some of the top k are negative)."""

    def activate(self, z: torch.Tensor) -> torch.Tensor:
        return topk(z, self.spec.k)


class MatryoshkaSAE(TopKSAE):
    """TopK latents, trained so that every nested prefix of the dictionary reconstructs on its own."""

    def __init__(
        self,
        spec: SaeSpec,
        latent: int,
        generator: torch.Generator | None = None,
        prefixes: tuple[float, ...] = (0.25, 0.5),
    ):
        super().__init__(spec, latent, generator)
        sizes = {max(1, math.floor(p * spec.width)) for p in prefixes} | {spec.width}
        self.prefix_sizes = sorted(sizes)

    def loss(self, h: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        a = self.encode(h)
        parts = [_mse(h, a[:, :m] @ self.W_dec[:m] + self.b_dec) for m in self.prefix_sizes]
        total = torch.stack(parts).mean()
        return total, {"mse": float(parts[-1].detach()), "prefix_mse_first": float(parts[0].detach())}

    def tensors(self) -> dict[str, torch.Tensor]:
        out = super().tensors()
        out["prefix_sizes"] = torch.tensor(self.prefix_sizes, dtype=torch.int64)
        return out


CLASSES: dict[str, type[SAE]] = {"relu": ReluSAE, "topk": TopKSAE, "matryoshka": MatryoshkaSAE}


def build(spec: SaeSpec, latent: int, seed: int = 0, prefixes: tuple[float, ...] = (0.25, 0.5)) -> SAE:
    """A fresh SAE of ``spec`` over ℝ^latent, initialised from ``seed`` (decoder rows random unit, encoder = Wᵀ)."""
    if spec.architecture not in CLASSES:
        raise ShapeError(f"unknown SAE architecture {spec.architecture!r}", f"use one of {sorted(CLASSES)}")
    if spec.k is not None and not 1 <= spec.k <= spec.width:
        raise ShapeError(
            f"L0 target k={spec.k} is outside 1…{spec.width} (the SAE's latent size)",
            "lower sae.l0_targets or widen the SAE",
        )
    gen = torch.Generator().manual_seed(int(seed))
    if spec.architecture == "matryoshka":
        return MatryoshkaSAE(spec, latent, gen, prefixes)
    return CLASSES[spec.architecture](spec, latent, gen)


# ------------------------------------------------------------------------------------------------------ files


def save_saes(path: str | os.PathLike, saes: Mapping[str, SAE], scale: float, meta: Mapping[str, Any]) -> None:
    """One file per architecture: ``{"saes": {name: tensors}, "scale": float, "meta": plain data}`` written with
    ``torch.save`` (tensors and plain data only, loadable with ``weights_only=True``), atomically."""
    state = {"saes": {name: sae.tensors() for name, sae in saes.items()}, "scale": float(scale), "meta": dict(meta)}
    save_state(path, state)


def _spec_of(name: str, t: Mapping[str, torch.Tensor]) -> SaeSpec:
    arch = name.split("_w", 1)[0]
    return SaeSpec(arch, int(t["W_dec"].shape[0]), float(t["sparsity"]))


def load_saes(path: str | os.PathLike) -> tuple[dict[str, SAE], float, dict[str, Any]]:
    """(SAEs by name, activation scale, meta) from a file of :func:`save_saes`, opened without pickle."""
    state = safe_load(path, what="SAE file")
    if not isinstance(state, dict) or not {"saes", "scale"} <= set(state):
        raise CheckpointError(
            f"{path} is not a bows SAE file (expected keys 'saes' and 'scale')",
            "point at a saes.pt written by the sae_train rule",
        )
    out = {}
    for name, t in state["saes"].items():
        spec = _spec_of(name, t)
        sae = build(spec, int(t["W_dec"].shape[1]))
        sae.load_state_dict({k: v for k, v in t.items() if k in sae.state_dict()})
        if "prefix_sizes" in t:
            sae.prefix_sizes = [int(m) for m in t["prefix_sizes"].tolist()]
        out[name] = sae
    return out, float(state["scale"]), dict(state.get("meta", {}))
