"""The tied autoencoder of the paper (§4.1) and its model files.

For a bag-of-words window x ∈ {0,1}^V and weights W ∈ ℝ^{L×V}, b ∈ ℝ^V::

    h  = W x                      (optionally ReLU(W x): ``latent_relu``)
    z  = Wᵀ h + b                 (tied decoder)
    x̂ = ReLU(z)                   (variant "relu", the paper) or x̂ = z (variant "linear")

Loss: mean((x̂ − x)²) over all B×V entries of a batch; or, with ``loss="bce"``, binary cross-entropy with logits z.
Init: W_ij ~ U(−√(2/V), +√(2/V)) (Kaiming uniform with a = √2 and fan_in = V, not PyTorch's default a = √5), b = 0.

The parameter is stored as E = Wᵀ ∈ ℝ^{V×L}: row i is the word vector w_i of the paper's figures, and the encoder,
a sum of the rows of E for the words of a window, reads contiguous memory. Training runs the loss and its gradients
through :mod:`bows.fast_step`, tested against :func:`reference_loss`.

Model file (``model.safetensors``): tensors ``W`` float32 [L, V] and ``b`` float32 [V], with JSON metadata in the
header (V, L, and what the writer adds: variant, weight decay, seed, decay exposure, final losses, code and config
hashes). :func:`save_model` writes it, :func:`load_model` and :func:`load_weights` read it, and also read the legacy
``model.pt`` archives (with ``torch.load(weights_only=True)``, never unpickled); a ``model.safetensors`` path
whose folder holds only a legacy ``model.pt`` reads that file, saying so in the log.
"""

from __future__ import annotations

import logging
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .errors import CheckpointError, ConfigError, ShapeError
from .grid import TRAINED_VARIANTS as VARIANTS
from .tensor_files import is_torch_archive, read_tensors, safe_load, write_tensors

log = logging.getLogger("bows.model")

LOSSES = ("mse", "bce")
MODEL_FORMAT = "bows-model/1"  # the ``format`` entry of a model file's metadata
LEGACY_FILE = "model.pt"


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


# --------------------------------------------------------------------------------------------- model files


def save_model(path: str | os.PathLike, W: Any, b: Any, metadata: dict[str, Any]) -> None:
    """Write ``W`` float32 [L, V] and ``b`` float32 [V] (tensors or arrays) and the JSON ``metadata`` as a
    safetensors file, atomically; V, L and the format are added to the metadata. Same content, same bytes."""
    W = torch.as_tensor(W).detach().to("cpu", torch.float32)
    b = torch.as_tensor(b).detach().to("cpu", torch.float32)
    if W.ndim != 2 or b.shape != (W.shape[1],):
        raise ShapeError(f"W {tuple(W.shape)} and b {tuple(b.shape)} are not [L, V] and [V]", "pass W [L, V], b [V]")
    meta = {**metadata, "format": MODEL_FORMAT, "V": int(W.shape[1]), "L": int(W.shape[0])}
    for key in ("V", "L"):
        if key in metadata and metadata[key] != meta[key]:
            raise ShapeError(f"metadata {key} = {metadata[key]} but W has {key} = {meta[key]}", "fix the metadata")
    write_tensors(path, {"W": W, "b": b}, meta)


def save_weights(path: str | os.PathLike, W: Any, b: Any) -> None:
    """:func:`save_model` without metadata beyond V and L."""
    save_model(path, W, b, {})


def load_model(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """(W float32 [L, V], b float32 [V], metadata) of a model file: safetensors, a legacy ``model.pt`` (metadata
    {}), or a training checkpoint. Raises :class:`CheckpointError` for a missing, empty, truncated, corrupted or
    unsafe file, or one without finite tensors W [L, V] and b [V]."""
    path = _existing(Path(path))
    if path.is_file() and is_torch_archive(path):
        tensors, metadata = _legacy_tensors(safe_load(path)), {}
    else:
        tensors, metadata = read_tensors(path)
    if not {"W", "b"} <= set(tensors):
        raise CheckpointError(
            f"{path} is not a bows model file: expected tensors 'W' and 'b', found {sorted(tensors)}",
            "point at a model.safetensors written by the train_model rule",
        )
    W, b = tensors["W"], tensors["b"]
    if not (torch.is_tensor(W) and torch.is_tensor(b) and W.ndim == 2 and b.ndim == 1 and b.shape[0] == W.shape[1]):
        shapes = tuple(getattr(W, "shape", ())), tuple(getattr(b, "shape", ()))
        raise CheckpointError(
            f"{path}: W and b have shapes {shapes}, expected W [L, V] and b [V]", f"delete {path} and train again"
        )
    W_np, b_np = (t.detach().to(torch.float32).contiguous().numpy() for t in (W, b))
    if not (np.isfinite(W_np).all() and np.isfinite(b_np).all()):
        raise CheckpointError(
            f"{path}: the weights contain NaN or infinity (training diverged?)",
            "lower train.lr or check the data, then train again",
        )
    return W_np, b_np, metadata


def load_weights(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """(W float32 [L, V], b float32 [V]) of a model file (see :func:`load_model`)."""
    W, b, _ = load_model(path)
    return W, b


def _existing(path: Path) -> Path:
    """``path``, or the legacy ``model.pt`` beside a missing ``.safetensors`` path (logged)."""
    legacy = path.with_name(LEGACY_FILE)
    if path.suffix == ".safetensors" and not path.exists() and legacy.is_file():
        log.warning("%s does not exist; reading the legacy model file %s beside it", path.name, legacy)
        return legacy
    return path


def _legacy_tensors(state: Any) -> dict[str, Any]:
    """W and b of a legacy archive: a model file {"W", "b"} or a training checkpoint {"model": {"E" = Wᵀ, "b"}}."""
    if isinstance(state, dict) and isinstance(state.get("model"), dict):
        state = dict(state["model"])
        if torch.is_tensor(state.get("E")) and "W" not in state:
            state["W"] = state["E"].t()
    return state if isinstance(state, dict) else {}
