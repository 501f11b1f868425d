"""SAELens (the optional ``[sae]`` extra) on BOWS activations: its TopK SAE and trainer, for the comparison with
this package's own (tests/test_sae.py, docs/sae.md). Imported only where sae-lens is installed.

SAELens' ``SAETrainer`` takes any iterator of activation batches as its data provider (its ``synthetic`` module
trains that way), so a BOWS activation matrix fits it without a transformer; what does not fit the default workflow
is the install (about 90 packages: transformers, transformer-lens, wandb) and its import time.
"""

from __future__ import annotations

from typing import Iterator

import numpy as np
import torch

__all__ = ["batches", "train_topk"]


def batches(h: torch.Tensor, batch_size: int, seed: int = 0) -> Iterator[torch.Tensor]:
    """Shuffled minibatches of ``h``, epoch after epoch, without end (SAELens' trainer stops by sample count)."""
    gen = torch.Generator().manual_seed(int(seed))
    while True:
        order = torch.randperm(h.shape[0], generator=gen)
        for start in range(0, h.shape[0] - batch_size + 1, batch_size):
            yield h[order[start:start + batch_size]]


def train_topk(h: torch.Tensor, width: int, k: int, lr: float, batch_size: int, epochs: int, seed: int = 0
               ) -> np.ndarray:
    """Train SAELens' TopK training SAE on ``h`` [n, L] for about ``epochs`` passes; returns its decoder [width, L]."""
    from sae_lens.config import LoggingConfig, SAETrainerConfig
    from sae_lens.saes.topk_sae import TopKTrainingSAE, TopKTrainingSAEConfig
    from sae_lens.training.sae_trainer import SAETrainer

    torch.manual_seed(int(seed))  # SAELens initialises from the global generator
    sae = TopKTrainingSAE(TopKTrainingSAEConfig(d_in=int(h.shape[1]), d_sae=int(width), k=int(k)))
    steps = epochs * (h.shape[0] // batch_size)
    cfg = SAETrainerConfig(total_training_samples=steps * batch_size, train_batch_size_samples=batch_size, lr=lr,
                           lr_end=lr, device="cpu", logger=LoggingConfig(log_to_wandb=False,
                                                                           eval_every_n_wandb_logs=2**31 - 1))
    SAETrainer(cfg=cfg, sae=sae, data_provider=batches(h, batch_size, seed),
               save_checkpoint_fn=lambda *a, **kw: None).fit()
    return sae.W_dec.detach().cpu().numpy()
