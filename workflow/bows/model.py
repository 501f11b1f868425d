"""The tied autoencoder of the paper (§4.1); its model files are :mod:`bows.model_files` (re-exported here).

For a bag-of-words window x ∈ {0,1}^V and weights W ∈ ℝ^{L×V}, b ∈ ℝ^V::

    h  = W x                      (optionally ReLU(W x): ``latent_relu``)
    z  = Wᵀ h + b                 (tied decoder)
    x̂ = ReLU(z)                   (variant "relu", the paper) or x̂ = z (variant "linear")

Loss: mean((x̂ − x)²) over all B×V entries of a batch; or, with ``loss="bce"``, binary cross-entropy with logits z.
Init: W_ij ~ U(−√(2/V), +√(2/V)) (Kaiming uniform with a = √2 and fan_in = V, not PyTorch's default a = √5), b = 0.

The parameter is stored as E = Wᵀ ∈ ℝ^{V×L}: row i is the word vector w_i of the paper's figures, and the encoder,
a sum of the rows of E for the words of a window, reads contiguous memory. Training runs the loss and its gradients
through :mod:`bows.fast_step`, tested against :func:`reference_loss`.

"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .errors import ConfigError, ShapeError
from .grid import TRAINED_VARIANTS as VARIANTS
from .model_files import LEGACY_FILE, MODEL_FORMAT, load_model, load_weights, save_model, save_weights

LOSSES = ("mse", "bce")


def init_bound(vocab_size: int) -> float:
    """Half-width of the uniform init: gain·√(3/fan_in) with gain = √(2/(1+a²)), a = √2, fan_in = V → √(2/V)."""
    return math.sqrt(2.0 / vocab_size)


def init_weights(latent: int, vocab_size: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """W ∈ ℝ^{L×V} with W_ij ~ U(−√(2/V), √(2/V)), drawn in W's row-major order from ``generator``.

    Equals ``nn.init.kaiming_uniform_(torch.empty(L, V), a=math.sqrt(2), generator=generator)``.
    """
    bound = init_bound(vocab_size)
    return torch.empty(latent, vocab_size, dtype=torch.float32).uniform_(-bound, bound, generator=generator)


class TiedAutoencoder(nn.Module):
    """x̂ = act(Wᵀ act_h(W x) + b), with the parameter stored as E = Wᵀ [V, L] (contiguous word vectors).

    ``variant``: "relu" (x̂ = ReLU(z), the paper) or "linear" (x̂ = z); ``latent_relu``: ReLU on h (off in the
    paper); ``loss``: "mse" (the paper) or "bce"; ``generator``: the init's torch.Generator (no global RNG).
    """

    def __init__(
        self,
        vocab_size: int,
        latent: int,
        variant: str = "relu",
        latent_relu: bool = False,
        loss: str = "mse",
        generator: torch.Generator | None = None,
    ):
        super().__init__()
        if variant not in VARIANTS:
            raise ConfigError(f"unknown model variant {variant!r}", f"use one of {list(VARIANTS)}")
        if loss not in LOSSES:
            raise ConfigError(f"unknown loss {loss!r}", f"set train.loss to one of {list(LOSSES)}")
        if latent < 1:
            raise ShapeError(f"latent size must be ≥ 1, got {latent}", "use a positive latent size")
        self.vocab_size, self.latent = int(vocab_size), int(latent)
        self.variant, self.latent_relu, self.loss_name = variant, bool(latent_relu), loss
        self.E = nn.Parameter(init_weights(latent, vocab_size, generator).t().contiguous())
        self.b = nn.Parameter(torch.zeros(vocab_size, dtype=torch.float32))

    @property
    def W(self) -> torch.Tensor:
        """The encoder matrix W = Eᵀ ∈ ℝ^{L×V} (a view)."""
        return self.E.t()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x̂ for a dense batch x [B, V] (σ(z) with the BCE loss)."""
        h = x @ self.W.t()
        if self.latent_relu:
            h = torch.relu(h)
        z = h @ self.W + self.b
        if self.loss_name == "bce":
            return torch.sigmoid(z)
        return torch.relu(z) if self.variant == "relu" else z

    def weights(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(W [L, V], b [V]) as detached, contiguous float32 CPU tensors."""
        return self.E.detach().t().contiguous().float().cpu(), self.b.detach().clone().float().cpu()


def reference_loss(
    W: torch.Tensor, b: torch.Tensor, x: torch.Tensor, variant: str = "relu", latent_relu: bool = False, loss="mse"
) -> torch.Tensor:
    """The plain dense formula: mean((act(Wᵀ(W x) + b) − x)²) over B×V (or BCE with logits Wᵀh + b)."""
    h = x @ W.t()
    if latent_relu:
        h = torch.relu(h)
    z = h @ W + b
    if loss == "bce":
        return F.binary_cross_entropy_with_logits(z, x)
    return F.mse_loss(torch.relu(z) if variant == "relu" else z, x, reduction="mean")


__all__ = [
    "VARIANTS",
    "init_bound",
    "init_weights",
    "TiedAutoencoder",
    "reference_loss",
    "MODEL_FORMAT",
    "LEGACY_FILE",
    "save_model",
    "save_weights",
    "load_model",
    "load_weights",
]
