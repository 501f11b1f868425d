"""The small SAE trainer: Adam on shuffled minibatches, decoder rows renormalised after every step, history kept.

Deterministic for a given seed on one device: the init and the batch order come from seeded generators.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from .architectures import SAE, build
from .settings import SaeSpec

__all__ = ["activation_scale", "train_sae", "evaluate"]

log = logging.getLogger("bows.sae")


def activation_scale(h: np.ndarray) -> float:
    """The scalar c with mean ‖c h‖² = 1 over the sample (1 when every h is zero)."""
    ms = float(np.mean(np.sum(np.asarray(h, np.float64) ** 2, axis=1)))
    return float(1.0 / np.sqrt(ms)) if ms > 0 else 1.0


@torch.no_grad()
def evaluate(sae: SAE, h: torch.Tensor, batch: int = 4096) -> dict[str, Any]:
    """Held-out numbers of one SAE on (scaled) activations ``h``: explained variance 1 − Σ‖h − ĥ‖² / Σ‖h − h̄‖²,
    mean L0 (active latents per sample), the firing count of every latent and the MSE."""
    sq_err = 0.0
    fires = torch.zeros(sae.spec.width, dtype=torch.int64)
    l0 = 0.0
    for start in range(0, h.shape[0], batch):
        hb = h[start : start + batch]
        a = sae.encode(hb)
        sq_err += float((hb - sae.decode(a)).pow(2).sum())
        active = a > 0
        l0 += float(active.sum())
        fires += active.sum(dim=0).cpu()
    total = float((h - h.mean(dim=0)).pow(2).sum())
    n = h.shape[0]
    return {
        "explained_variance": 1.0 - sq_err / total if total > 0 else float("nan"),
        "l0": l0 / n,
        "mse": sq_err / n,
        "fires": fires.numpy(),
    }


def train_sae(
    spec: SaeSpec, h_train: torch.Tensor, h_heldout: torch.Tensor, sae_cfg: Mapping[str, Any], seed: int
) -> tuple[SAE, dict[str, Any]]:
    """Train one SAE on scaled activations; returns it (on the CPU) and its history (per-epoch loss parts and
    held-out explained variance and L0, seconds)."""
    device = h_train.device
    sae = build(spec, h_train.shape[1], seed=seed, prefixes=tuple(float(p) for p in sae_cfg["matryoshka_prefixes"])).to(
        device
    )
    with torch.no_grad():
        sae.b_dec.copy_(h_train.mean(dim=0))
    opt = torch.optim.Adam(sae.parameters(), lr=float(sae_cfg["lr"]))
    gen = torch.Generator().manual_seed(int(seed) + 1)
    bs, n = int(sae_cfg["batch_size"]), h_train.shape[0]
    history: dict[str, Any] = {"epoch": [], "loss": [], "mse": [], "heldout_explained_variance": [], "heldout_l0": []}
    t0 = time.perf_counter()
    for epoch in range(int(sae_cfg["epochs"])):
        order = torch.randperm(n, generator=gen).to(device)
        total, parts_sum, steps = 0.0, 0.0, 0
        for start in range(0, n, bs):
            loss, parts = sae.loss(h_train[order[start : start + bs]])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sae.normalise_decoder()
            total += float(loss.detach())
            parts_sum += parts["mse"]
            steps += 1
        ev = evaluate(sae, h_heldout)
        history["epoch"].append(epoch + 1)
        history["loss"].append(total / steps)
        history["mse"].append(parts_sum / steps)
        history["heldout_explained_variance"].append(ev["explained_variance"])
        history["heldout_l0"].append(ev["l0"])
    history["seconds"] = time.perf_counter() - t0
    log.info(
        "%s: EV %.3f, L0 %.2f, %.1f s",
        spec.name,
        history["heldout_explained_variance"][-1],
        history["heldout_l0"][-1],
        history["seconds"],
    )
    return sae.cpu(), history
