"""The optimiser and learning-rate schedule of the paper (§4.2): AdamW with weight decay on W (and b), cosine to 0."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from .model import TiedAutoencoder

__all__ = ["make_optimizer", "make_scheduler"]


def make_optimizer(
    model: TiedAutoencoder, lr: float, betas: Sequence[float], eps: float, weight_decay: float, decay_bias: bool = True
) -> torch.optim.AdamW:
    """AdamW: θ ← θ − lr_t (m̂/(√v̂ + eps) + wd θ), with wd on W (and on b when ``decay_bias``); PyTorch's fused
    implementation on the CPU and CUDA."""
    groups = [
        {"params": [model.E], "weight_decay": float(weight_decay)},
        {"params": [model.b], "weight_decay": float(weight_decay) if decay_bias else 0.0},
    ]
    fused = model.E.device.type in ("cpu", "cuda")
    return torch.optim.AdamW(groups, lr=float(lr), betas=tuple(float(b) for b in betas), eps=float(eps), fused=fused)


def make_scheduler(opt: torch.optim.Optimizer, total_steps: int) -> torch.optim.lr_scheduler.CosineAnnealingLR:
    """lr_t = lr · (1 + cos(π t / T)) / 2 over T = ``total_steps``, stepped after every batch, reaching 0 at the
    last step."""
    return torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(1, int(total_steps)), eta_min=0.0)
