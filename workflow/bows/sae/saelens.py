"""SAELens (the optional ``[sae]`` extra) on BOWS activations: its ReLU + L1 ("standard") and TopK SAEs and its
trainer, for ``sae.backend: saelens`` and the comparison with this package's own (tests/test_sae.py, docs/sae.md).
Imported only where sae-lens is installed.

SAELens' ``SAETrainer`` takes any iterator of activation batches as its data provider (its ``synthetic`` module
trains that way), so a BOWS activation matrix fits it without a transformer; what keeps it out of the default
workflow is the install (about 90 packages: transformers, transformer-lens, wandb) and its import time.

A trained SAELens SAE converts exactly into this package's classes (:func:`to_bows`): with n_j = ‖d_j‖ its decoder
norms, SAELens computes a = act(((h − b_dec) W_enc + b_enc) ⊙ n) and ĥ = (a ⊘ n) W_dec + b_dec for TopK (with
``rescale_acts_by_decoder_norm``, set here), and a = ReLU((h − b_dec) W_enc + b_enc), ĥ = a W_dec + b_dec for the
standard SAE; since ReLU and TopK commute with a positive per-latent scale, W_enc ⊙ n, b_enc ⊙ n and the unit rows
W_dec ⊘ n give the same latents (up to that scale for ReLU) and the same reconstruction.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch

from .architectures import SAE, build
from .settings import SaeSpec

__all__ = ["batches", "train", "to_bows"]


def batches(h: torch.Tensor, batch_size: int, seed: int = 0) -> Iterator[torch.Tensor]:
    """Shuffled minibatches of ``h``, epoch after epoch, without end (SAELens' trainer stops by sample count)."""
    gen = torch.Generator().manual_seed(int(seed))
    batch_size = min(int(batch_size), h.shape[0])
    while True:
        order = torch.randperm(h.shape[0], generator=gen)
        for start in range(0, h.shape[0] - batch_size + 1, batch_size):
            yield h[order[start : start + batch_size]]


def _make(spec: SaeSpec, d_in: int):
    if spec.architecture == "topk":
        from sae_lens.saes.topk_sae import TopKTrainingSAE, TopKTrainingSAEConfig

        return TopKTrainingSAE(
            TopKTrainingSAEConfig(d_in=d_in, d_sae=spec.width, k=int(spec.k), rescale_acts_by_decoder_norm=True)
        )
    from sae_lens.saes.standard_sae import StandardTrainingSAE, StandardTrainingSAEConfig

    return StandardTrainingSAE(
        StandardTrainingSAEConfig(d_in=d_in, d_sae=spec.width, l1_coefficient=float(spec.sparsity))
    )


def to_bows(spec: SaeSpec, theirs) -> SAE:
    """The SAELens SAE ``theirs`` as this package's SAE of ``spec`` (unit decoder rows, same reconstruction)."""
    n = theirs.W_dec.detach().norm(dim=1).clamp_min(1e-12)
    ours = build(spec, int(theirs.W_dec.shape[1]))
    with torch.no_grad():
        ours.W_enc.copy_(theirs.W_enc.detach() * n)
        ours.b_enc.copy_(theirs.b_enc.detach() * n)
        ours.W_dec.copy_(theirs.W_dec.detach() / n[:, None])
        ours.b_dec.copy_(theirs.b_dec.detach())
    return ours


def train(spec: SaeSpec, h: torch.Tensor, lr: float, batch_size: int, epochs: int, seed: int = 0):
    """Train SAELens' SAE of ``spec`` (relu or topk) on ``h`` [n, L] for about ``epochs`` passes with its trainer;
    returns the SAELens SAE."""
    from sae_lens.config import LoggingConfig, SAETrainerConfig
    from sae_lens.training.sae_trainer import SAETrainer

    if spec.architecture not in ("relu", "topk"):
        raise ValueError(f"SAELens backend: no {spec.architecture} SAE here (relu and topk only)")
    torch.manual_seed(int(seed))  # SAELens initialises from the global generator
    sae = _make(spec, int(h.shape[1]))
    bs = min(int(batch_size), h.shape[0])
    steps = max(1, epochs * (h.shape[0] // bs))
    cfg = SAETrainerConfig(
        total_training_samples=steps * bs,
        train_batch_size_samples=bs,
        lr=lr,
        lr_end=lr,
        device=str(h.device),
        logger=LoggingConfig(log_to_wandb=False, eval_every_n_wandb_logs=2**31 - 1),
    )
    SAETrainer(
        cfg=cfg, sae=sae, data_provider=batches(h.cpu(), bs, seed), save_checkpoint_fn=lambda *a, **kw: None
    ).fit()
    return sae
