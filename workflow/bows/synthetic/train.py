"""Many small tied autoencoders trained at once (paper §7.3–7.4).

Model: x̂ = act(Wᵀ W x + b), W ∈ ℝ^{m×F}, b ∈ ℝ^F, act = identity ("linear") or ReLU ("relu"). Loss: the mean squared
error over the batch's B×F entries. Optimiser: AdamW (β = (0.9, 0.999), ε = 1e-8, decoupled decay
p ← p(1 − η_t λ) applied to W and, by default, b), learning rate η_t = η_min + (η − η_min)(1 + cos(π t/T))/2 for epoch
t of T (cosine per epoch), gradient-norm clipping per model (g ← g·min(1, c/(‖g‖ + 1e-6)), ‖g‖ over W and b), batch
256, the last batch of an epoch smaller. Init: W ~ U(±1/√F) (PyTorch's ``nn.Linear`` default), b = 0.

Batching: K models (any mix of latent sizes, activations and weight decays, same data) are stacked into one tensor
W ∈ ℝ^{K×F×F} whose rows ≥ m_k are zero. Zero rows get exactly zero gradients (∂L/∂W_r = h_r g + (W g)_r x with
h_r = (Wg)_r = 0), so they stay zero and add nothing to the clipping norm. The padding is always to F, so a model's
arithmetic has the same shapes whoever trains alongside it. Gradients are written out by hand (for the batch
matrices X [B×F], H = X Wᵀ, Z = H W + b, G = ∂L/∂Z):

    ∂L/∂W = Hᵀ G + (G Wᵀ)ᵀ X,     ∂L/∂b = Σ_rows G,

which is three batched matrix products per step beyond the forward's two. Each model owns a ``torch.Generator``
seeded from (structure, weight decay, activation, m, seed) (:func:`model_seed`); it draws the model's init and then
its per-epoch batch order, so a model's result never depends on which models train before or beside it.
"""

from __future__ import annotations

import hashlib
import logging
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import torch

from ..errors import ConfigError, ShapeError

__all__ = [
    "ACTIVATIONS",
    "SynthModel",
    "SynthTrainSettings",
    "model_seed",
    "train_batched",
    "train_sequential",
    "train_reference",
    "reconstruction_mse",
]

log = logging.getLogger("bows.synthetic")

ACTIVATIONS = ("linear", "relu")


def model_seed(structure: str, weight_decay: float, activation: str, latent: int, seed: int) -> int:
    """A 63-bit seed from sha256 of ``"structure|wd|activation|m|seed"`` (wd written as ``float``'s repr)."""
    key = f"{structure}|{float(weight_decay)!r}|{activation}|{int(latent)}|{int(seed)}".encode()
    return int.from_bytes(hashlib.sha256(key).digest()[:8], "little") & (2**63 - 1)


@dataclass(frozen=True, order=True)
class SynthModel:
    """One synthetic model of the grid."""

    structure: str
    activation: str
    weight_decay: float
    latent: int
    seed: int

    @property
    def model_seed(self) -> int:
        return model_seed(self.structure, self.weight_decay, self.activation, self.latent, self.seed)

    @property
    def tag(self) -> str:
        return f"{self.activation}_wd{float(self.weight_decay)}_m{self.latent}_seed{self.seed}"


@dataclass(frozen=True)
class SynthTrainSettings:
    """Optimisation settings (the ``synthetic`` config section's training keys, whose defaults live in the config
    schema only: ``SynthTrainSettings.from_config(bows.config.defaults()["synthetic"])``); the corpus models'
    settings are :class:`bows.train.TrainSettings` (the ``train`` section). ``betas`` and ``eps`` are not config
    keys: AdamW's own defaults."""

    epochs: int
    lr: float
    batch_size: int
    grad_clip: float | None
    eta_min: float
    decay_bias: bool
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8

    @classmethod
    def from_config(cls, syn: dict) -> SynthTrainSettings:
        """The training keys of a validated ``synthetic`` section."""
        clip = syn["grad_clip"]
        return cls(
            epochs=int(syn["epochs"]),
            lr=float(syn["lr"]),
            batch_size=int(syn["batch_size"]),
            grad_clip=None if clip is None else float(clip),
            eta_min=float(syn["eta_min"]),
            decay_bias=bool(syn["decay_bias"]),
        )

    def lr_at(self, epoch: int) -> float:
        """Cosine annealing per epoch: η_min + (η − η_min)(1 + cos(π·epoch/T))/2."""
        return self.eta_min + (self.lr - self.eta_min) * (1.0 + math.cos(math.pi * epoch / self.epochs)) / 2.0

    def as_dict(self) -> dict:
        return asdict(self)


def _check(models: Sequence[SynthModel], features: int) -> None:
    if not models:
        raise ConfigError("no synthetic models to train", "list latent sizes, weight decays and activations")
    bad_act = sorted({m.activation for m in models} - set(ACTIVATIONS))
    if bad_act:
        raise ConfigError(f"unknown activations {bad_act}", f"use {list(ACTIVATIONS)}")
    bad = sorted({m.latent for m in models if not 1 <= m.latent <= features})
    if bad:
        raise ShapeError(f"latent sizes {bad} are not in 1..F={features}", "keep synthetic.latent ≤ synthetic.features")


def init_weights_linear_layer(model: SynthModel, features: int, generator: torch.Generator) -> torch.Tensor:
    """W ~ U(−1/√F, 1/√F), shape [m, F]: what ``nn.Linear(F, m)``'s kaiming_uniform(a=√5) draws with ``generator``.

    The corpus models use :func:`bows.model.init_weights` instead (a = √2, bound √(2/V), the paper's init)."""
    bound = 1.0 / math.sqrt(features)
    return torch.empty(model.latent, features).uniform_(-bound, bound, generator=generator)


@torch.no_grad()
def train_batched(
    x_train: np.ndarray, models: Sequence[SynthModel], settings: SynthTrainSettings
) -> dict[str, np.ndarray]:
    """Train ``models`` together on ``x_train`` [N, F] (0/1). Returns numpy arrays:

    ``W`` float32 [K, F, F] (rows ≥ m zero), ``b`` float32 [K, F], ``loss`` float32 [K, epochs] (per-epoch mean of
    the training batch losses, weighted by batch size), ``grad_norm`` float32 [K, epochs] (mean pre-clip norm).
    """
    x = torch.as_tensor(np.asarray(x_train), dtype=torch.float32)
    n, f = x.shape
    _check(models, f)
    k = len(models)
    # linear models first, then ReLU ones, so the ReLU is an in-place op on one contiguous slice
    order = sorted(range(k), key=lambda i: models[i].activation == "relu")
    ms = [models[i] for i in order]
    k_lin = sum(m.activation == "linear" for m in ms)
    gens = [torch.Generator().manual_seed(m.model_seed) for m in ms]
    W = torch.zeros(k, f, f)
    for i, (m, g) in enumerate(zip(ms, gens)):
        W[i, : m.latent] = init_weights_linear_layer(m, f, g)
    b = torch.zeros(k, f)
    wd = torch.tensor([float(m.weight_decay) for m in ms]).view(k, 1, 1)
    wd_b = wd.view(k, 1) if settings.decay_bias else torch.zeros(k, 1)
    b1, b2 = settings.betas
    mW, vW, mb, vb = torch.zeros_like(W), torch.zeros_like(W), torch.zeros_like(b), torch.zeros_like(b)
    losses = torch.zeros(k, settings.epochs)
    norms = torch.zeros(k, settings.epochs)
    step = 0
    bs = settings.batch_size
    for epoch in range(settings.epochs):
        lr = settings.lr_at(epoch)
        perm = torch.stack([torch.randperm(n, generator=g) for g in gens])  # [K, N], each model its own order
        xp = x.index_select(0, perm.view(-1)).view(k, n, f)  # the epoch's data in each model's order, gathered once
        loss_sum = torch.zeros(k)
        norm_sum = torch.zeros(k)
        for start in range(0, n, bs):
            xb = xp[:, start : start + bs]  # [K, B, F]
            nb = xb.shape[1]
            h = torch.bmm(xb, W.transpose(1, 2))  # H = X Wᵀ
            z = torch.baddbmm(b.unsqueeze(1), h, W)  # Z = H W + b
            r = z.clone()
            r[k_lin:].clamp_min_(0.0)  # x̂ = act(Z)
            r.sub_(xb)  # residual x̂ − x
            loss_sum += r.square().sum((1, 2))
            r.mul_(2.0 / (nb * f))  # G = ∂L/∂Z = 2(x̂ − x)/(B F) · act'(Z)
            r[k_lin:].masked_fill_(z[k_lin:] <= 0, 0.0)
            gW = torch.bmm(h.transpose(1, 2), r).baddbmm_(torch.bmm(r, W.transpose(1, 2)).transpose(1, 2), xb)
            gb = r.sum(1)
            norm = (gW.square().sum((1, 2)) + gb.square().sum(1)).sqrt_()
            norm_sum.add_(norm, alpha=nb / n)
            if settings.grad_clip is not None:
                coef = (settings.grad_clip / (norm + 1e-6)).clamp_max_(1.0)
                gW.mul_(coef.view(k, 1, 1))
                gb.mul_(coef.view(k, 1))
            step += 1
            bc1, bc2 = 1.0 - b1**step, 1.0 - b2**step
            for p, grad, m1, m2, decay in ((W, gW, mW, vW, wd), (b, gb, mb, vb, wd_b)):
                p.mul_(1.0 - lr * decay)
                m1.lerp_(grad, 1.0 - b1)
                m2.mul_(b2).addcmul_(grad, grad, value=1.0 - b2)
                denom = (m2.sqrt() / math.sqrt(bc2)).add_(settings.eps)
                p.addcdiv_(m1, denom, value=-lr / bc1)
        losses[:, epoch] = loss_sum / (f * n)
        norms[:, epoch] = norm_sum
    back = torch.as_tensor(np.argsort(order))
    return {"W": W[back].numpy(), "b": b[back].numpy(), "loss": losses[back].numpy(), "grad_norm": norms[back].numpy()}


def train_sequential(
    x_train: np.ndarray, models: Sequence[SynthModel], settings: SynthTrainSettings
) -> dict[str, np.ndarray]:
    """The same training, one model at a time (the baseline the batched run is measured against)."""
    parts = [train_batched(x_train, [m], settings) for m in models]
    return {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}


def train_reference(x_train: np.ndarray, model: SynthModel, settings: SynthTrainSettings) -> dict[str, np.ndarray]:
    """One model with stock PyTorch parts (autograd, ``torch.optim.AdamW``, ``clip_grad_norm_``,
    ``CosineAnnealingLR``): the independent implementation the batched trainer is tested against."""
    x = torch.as_tensor(np.asarray(x_train), dtype=torch.float32)
    n, f = x.shape
    g = torch.Generator().manual_seed(model.model_seed)
    W = torch.nn.Parameter(init_weights_linear_layer(model, f, g))
    b = torch.nn.Parameter(torch.zeros(f))
    groups = [
        {"params": [W], "weight_decay": float(model.weight_decay)},
        {"params": [b], "weight_decay": float(model.weight_decay) if settings.decay_bias else 0.0},
    ]
    opt = torch.optim.AdamW(groups, lr=settings.lr, betas=settings.betas, eps=settings.eps)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=settings.epochs, eta_min=settings.eta_min)
    losses = []
    for _ in range(settings.epochs):
        perm = torch.randperm(n, generator=g)
        total = 0.0
        for start in range(0, n, settings.batch_size):
            xb = x[perm[start : start + settings.batch_size]]
            z = xb @ W.T @ W + b
            xhat = torch.relu(z) if model.activation == "relu" else z
            loss = torch.nn.functional.mse_loss(xhat, xb)
            opt.zero_grad()
            loss.backward()
            if settings.grad_clip is not None:
                torch.nn.utils.clip_grad_norm_([W, b], settings.grad_clip)
            opt.step()
            total += loss.item() * len(xb) / n
        sched.step()
        losses.append(total)
    Wp = torch.zeros(f, f)
    Wp[: model.latent] = W.detach()
    return {"W": Wp.numpy()[None], "b": b.detach().numpy()[None], "loss": np.asarray([losses], dtype=np.float32)}


def reconstruction_mse(x: np.ndarray, W: np.ndarray, b: np.ndarray, activation: str | Sequence[str]) -> np.ndarray:
    """Mean squared error of each model on ``x`` [N, F]: W [K, m, F] (or [m, F]), b [K, F]; returns [K]."""
    W = np.asarray(W, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if W.ndim == 2:
        W, b = W[None], b[None]
    acts = [activation] * len(W) if isinstance(activation, str) else list(activation)
    xf = np.asarray(x, dtype=np.float64)
    out = np.empty(len(W))
    for i, (w, bias, act) in enumerate(zip(W, b, acts)):  # K ≤ a few hundred; each term is vectorised
        z = (xf @ w.T) @ w + bias
        xhat = np.maximum(z, 0.0) if act == "relu" else z
        out[i] = np.mean((xhat - xf) ** 2)
    return out
