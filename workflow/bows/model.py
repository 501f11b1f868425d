"""The tied autoencoder of the paper (§4.1), its fast training step, and model files.

Model, for a binary bag-of-words x ∈ {0,1}^V and W ∈ ℝ^{L×V}, b ∈ ℝ^V::

    h  = W x                      (optionally ReLU(W x): ``latent_relu``)
    z  = Wᵀ h + b                 (decoder pre-activation, tied weights)
    x̂ = ReLU(z)                   (variant "relu", the paper) or x̂ = z (variant "linear")

Loss: MSE averaged over all B×V entries, mean((x̂ − x)²); or, with ``loss="bce"``, binary cross-entropy with
logits z, mean(softplus(z) − x·z).

Init: W_ij ~ U(−√(2/V), +√(2/V)) (Kaiming uniform with a = √2 and fan_in = V, not PyTorch's default a = √5), b = 0.

Storage: the parameter is kept as E = Wᵀ ∈ ℝ^{V×L} (row i = the word vector w_i of the paper's figures), so that the
encoder, a sum of the rows of E for the words present in each window, reads contiguous memory. Model files always
hold ``W`` [L, V] and ``b`` [V] (see :func:`save_weights`, :func:`load_weights`).

Fast step (:meth:`TiedAutoencoder.loss_and_grad`, :func:`recon_loss`): windows arrive as CSR (offsets, cols). The
encoder is a gather-sum of rows of E (a CSR × dense product, h = X E; the few hundred words present in many
windows of the batch go through a small dense block instead, see :data:`DENSE_SHARE`), the decoder one dense
product, the target never exists as a dense tensor (its ones are scattered into the residual), and the backward
pass is two dense products (∂h = G E, ∂E = Gᵀ h) plus the gather-sum of the transposed batch (∂E += Xᵀ ∂h). The CSR
arrays are used as they come: no COO tensor, no coalescing. Gradient and [B, V] buffers are reused across steps.
"""

from __future__ import annotations

import math
import os
import pickle
import warnings
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from . import kernels
from .errors import CheckpointError, ShapeError
from .io import atomic_path
from .kernels import split_batch

__all__ = [
    "init_bound",
    "init_weights",
    "TiedAutoencoder",
    "Batch",
    "make_batch",
    "recon_loss",
    "reference_loss",
    "save_weights",
    "save_state",
    "load_weights",
    "safe_load",
    "DENSE_SHARE",
]

VARIANTS = ("relu", "linear")
LOSSES = ("mse", "bce")


# --------------------------------------------------------------------------------------------- parameters


def init_bound(vocab_size: int) -> float:
    """Half-width of the uniform init: gain·√(3/fan_in) with gain = √(2/(1+a²)), a = √2, fan_in = V → √(2/V)."""
    return math.sqrt(2.0 / vocab_size)


def init_weights(latent: int, vocab_size: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """W ∈ ℝ^{L×V} with W_ij ~ U(−√(2/V), √(2/V)), drawn in W's row-major order from ``generator``.

    Equals ``nn.init.kaiming_uniform_(torch.empty(L, V), a=math.sqrt(2), generator=generator)``.
    """
    bound = init_bound(vocab_size)
    W = torch.empty(latent, vocab_size, dtype=torch.float32)
    W.uniform_(-bound, bound, generator=generator)
    return W


class TiedAutoencoder(nn.Module):
    """x̂ = act(Wᵀ act_h(W x) + b), with the parameter stored as E = Wᵀ [V, L] (contiguous word vectors).

    Args:
        vocab_size: V.
        latent: L.
        variant: "relu" (x̂ = ReLU(z), the paper) or "linear" (x̂ = z).
        latent_relu: apply ReLU to h (off in the paper).
        loss: "mse" (the paper) or "bce" (BCE with logits z).
        generator: a torch.Generator for the init; the global RNG is never used.
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
            raise ShapeError(f"unknown model variant {variant!r}", f"use one of {list(VARIANTS)}")
        if loss not in LOSSES:
            raise ShapeError(f"unknown loss {loss!r}", f"use one of {list(LOSSES)}")
        if not 1 <= latent:
            raise ShapeError(f"latent size must be ≥ 1, got {latent}", "use a positive latent size")
        self.vocab_size = int(vocab_size)
        self.latent = int(latent)
        self.variant = variant
        self.latent_relu = bool(latent_relu)
        self.loss_name = loss
        self.E = nn.Parameter(init_weights(latent, vocab_size, generator).t().contiguous())
        self.b = nn.Parameter(torch.zeros(vocab_size, dtype=torch.float32))
        self._zbuf: torch.Tensor | None = None

    @property
    def W(self) -> torch.Tensor:
        """The encoder matrix W = Eᵀ ∈ ℝ^{L×V} (a view)."""
        return self.E.t()

    def forward_dense(self, x: torch.Tensor) -> torch.Tensor:
        """x̂ for a dense [B, V] batch (the plain formula; used for analysis and tests)."""
        h = x @ self.E
        if self.latent_relu:
            h = torch.relu(h)
        z = torch.addmm(self.b, h, self.E.t())
        if self.loss_name == "bce":
            return torch.sigmoid(z)
        return torch.relu(z) if self.variant == "relu" else z

    def loss(self, batch: Batch, compute_dtype: torch.dtype | None = None) -> torch.Tensor:
        """The training loss of a CSR batch (fast path, see :func:`recon_loss`)."""
        if isinstance(batch, DenseBatch):
            return reference_loss(self.W, self.b, batch.x, self.variant, self.latent_relu, self.loss_name)
        return recon_loss(
            self.E,
            self.b,
            batch,
            variant=self.variant,
            latent_relu=self.latent_relu,
            loss=self.loss_name,
            compute_dtype=compute_dtype,
        )

    def loss_and_grad(self, batch: Batch, compute_dtype: torch.dtype | None = None) -> torch.Tensor:
        """The loss of a CSR batch; writes ∂loss/∂E and ∂loss/∂b into ``E.grad`` and ``b.grad`` (overwritten).

        Same numbers as ``self.loss(batch).backward()`` from zero gradients, without autograd: the gradients and
        the [B, V] activations live in buffers reused from step to step (a fresh 40 MB tensor per step costs page
        faults comparable to the work itself).
        """
        E, b = self.E, self.b
        if isinstance(batch, DenseBatch):  # the counts encoding: plain autograd on the dense formula
            E.grad, b.grad = None, None
            with torch.enable_grad():
                value = self.loss(batch)
                value.backward()
            return value.detach()
        if E.grad is None or E.grad.shape != E.shape:
            E.grad = torch.empty_like(E)
        if b.grad is None or b.grad.shape != b.shape:
            b.grad = torch.empty_like(b)
        zbuf = self._zbuf
        if zbuf is None or zbuf.shape[0] < batch.size or zbuf.device != E.device:
            zbuf = self._zbuf = torch.empty(batch.size, self.vocab_size, dtype=torch.float32, device=E.device)
        with torch.no_grad():
            value, h, G, scale = _forward(
                E, b, batch, self.variant, self.latent_relu, self.loss_name, compute_dtype, z_out=zbuf[: batch.size]
            )
            _backward(E, h, G, batch, self.latent_relu, compute_dtype, dE_out=E.grad, db_out=b.grad, scale=scale)
        return value

    def weights(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(W [L, V], b [V]) as detached, contiguous float32 CPU tensors."""
        return (self.E.detach().t().contiguous().float().cpu(), self.b.detach().clone().float().cpu())


# --------------------------------------------------------------------------------------------- batches

#: Words present in at least this share of a batch's windows go through a small dense product instead of the
#: gather-sum: a gathered row costs about ten times a dense multiply-add per entry on a CPU, so above ~1/10 of the
#: rows the dense block is cheaper. In Zipfian text this covers about half of the batch's entries with a few hundred
#: words. (0 < DENSE_SHARE; a value above 1 disables the split.)
DENSE_SHARE = 0.1


class Batch:
    """A batch of binary windows X ∈ {0,1}^{B×V}, split for speed into X = X_F P_F + X_R.

    X_F [B, K] is the dense block of the K words present in many windows (``dense_words``; P_F places its columns),
    X_R the remaining entries as CSR. The encoder is h = X_F E[F] + X_R E, its gradient ∂E[F] += X_Fᵀ ∂h and
    ∂E += X_Rᵀ ∂h.

    Attributes:
        offsets, cols, rows: the whole batch as CSR (int64; ``rows`` = row of every entry), for the target;
            flat = rows·V + cols, the entries' positions in a [B, V] buffer.
        size: B (every row counts in the mean over B×V, as in a dense batch).
        dense_words: int64 [K] the words of the dense block; dense_x: float32 [B, K].
        r_offsets, r_cols: X_R as CSR; t_offsets, t_rows: X_Rᵀ as CSR (per word, its rows ascending).
    """

    __slots__ = (
        "offsets",
        "cols",
        "rows",
        "flat",
        "size",
        "vocab_size",
        "dense_words",
        "dense_x",
        "r_offsets",
        "r_cols",
        "t_offsets",
        "t_rows",
        "_x",
        "_xt",
    )

    def __init__(
        self,
        offsets: torch.Tensor,
        cols: torch.Tensor,
        rows: torch.Tensor,
        flat: torch.Tensor,
        dense_words: torch.Tensor,
        dense_x: torch.Tensor,
        r_offsets: torch.Tensor,
        r_cols: torch.Tensor,
        t_offsets: torch.Tensor,
        t_rows: torch.Tensor,
        vocab_size: int,
    ):
        self.offsets, self.cols, self.rows, self.flat = offsets, cols, rows, flat
        self.dense_words, self.dense_x = dense_words, dense_x
        self.r_offsets, self.r_cols = r_offsets, r_cols
        self.t_offsets, self.t_rows = t_offsets, t_rows
        self.size = int(offsets.numel() - 1)
        self.vocab_size = int(vocab_size)
        self._x: torch.Tensor | None = None
        self._xt: torch.Tensor | None = None

    def _fields(self) -> tuple[torch.Tensor, ...]:
        return (
            self.offsets,
            self.cols,
            self.rows,
            self.flat,
            self.dense_words,
            self.dense_x,
            self.r_offsets,
            self.r_cols,
            self.t_offsets,
            self.t_rows,
        )

    @property
    def nnz(self) -> int:
        return int(self.cols.numel())

    @property
    def rest_nnz(self) -> int:
        return int(self.r_cols.numel())

    def csr(self) -> torch.Tensor:
        """X_R as a sparse CSR tensor [B, V] of ones (built once, never coalesced)."""
        if self._x is None:
            ones = _ones(self.rest_nnz, self.cols.device)
            self._x = _csr(self.r_offsets, self.r_cols, ones, (self.size, self.vocab_size))
        return self._x

    def csr_t(self) -> torch.Tensor:
        """X_Rᵀ as a sparse CSR tensor [V, B] of ones (shares the values of :meth:`csr`)."""
        if self._xt is None:
            ones = _ones(self.rest_nnz, self.cols.device)
            self._xt = _csr(self.t_offsets, self.t_rows, ones, (self.vocab_size, self.size))
        return self._xt

    def to(self, device: torch.device | str) -> Batch:
        """The batch on ``device`` (itself when already there; pinned, asynchronous copies to CUDA)."""
        device = torch.device(device)
        if self.cols.device == device:
            return self
        pin = device.type == "cuda"
        put = (lambda t: t.pin_memory().to(device, non_blocking=True)) if pin else (lambda t: t.to(device))
        return Batch(*(put(t) for t in self._fields()), vocab_size=self.vocab_size)

    def dense(self, dtype: torch.dtype = torch.float32) -> torch.Tensor:
        """The multi-hot [B, V] matrix (for tests and references only)."""
        x = torch.zeros(self.size, self.vocab_size, dtype=dtype, device=self.cols.device)
        x[self.rows, self.cols] = 1
        return x


class DenseBatch:
    """A batch as a dense [B, V] float32 tensor of any non-negative values (the ``counts`` window encoding). It
    trains through the plain formula and autograd (:func:`reference_loss`), slower than the binary fast path."""

    __slots__ = ("x", "size", "vocab_size")

    def __init__(self, x: torch.Tensor):
        self.x = x
        self.size, self.vocab_size = int(x.shape[0]), int(x.shape[1])

    def to(self, device: torch.device | str) -> DenseBatch:
        return self if self.x.device == torch.device(device) else DenseBatch(self.x.to(device))

    @classmethod
    def from_csr(cls, offsets: np.ndarray, cols: np.ndarray, values: np.ndarray, vocab_size: int) -> DenseBatch:
        B = len(offsets) - 1
        x = torch.zeros(B, vocab_size, dtype=torch.float32)
        rows = np.repeat(np.arange(B), np.diff(offsets))
        x[torch.from_numpy(rows), torch.from_numpy(np.asarray(cols, dtype=np.int64))] = torch.from_numpy(
            np.asarray(values, dtype=np.float32)
        )
        return cls(x)


_SPARSE_OK = {"mps": False}  # device types without sparse CSR × dense kernels
_ONES: dict[torch.device, torch.Tensor] = {}


def _ones(n: int, device: torch.device) -> torch.Tensor:
    """A read-only vector of n ones, a slice of one buffer kept per device (grown when needed)."""
    buf = _ONES.get(device)
    if buf is None or buf.numel() < n:
        buf = _ONES[device] = torch.ones(max(n, 1 << 18), dtype=torch.float32, device=device)
    return buf[:n]


def _csr(crow: torch.Tensor, col: torch.Tensor, values: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "sparse CSR support is in beta"
        return torch.sparse_csr_tensor(crow, col, values, size, check_invariants=False)


def make_batch(
    offsets: np.ndarray | torch.Tensor,
    cols: np.ndarray | torch.Tensor,
    vocab_size: int,
    device: torch.device | str | None = None,
    dense_share: float = DENSE_SHARE,
) -> Batch:
    """A :class:`Batch` from CSR arrays (e.g. ``bows.windows.Windows.batch_csr``), moved to ``device``.

    Words in at least ``max(2, ⌈dense_share·B⌉)`` rows form the dense block. The arrays come from one compiled pass
    (:func:`bows.kernels.split_batch`; a numpy fallback computes the same arrays), no per-row Python.
    """
    if torch.is_tensor(offsets):
        offsets = offsets.cpu().numpy()
    if torch.is_tensor(cols):
        cols = cols.cpu().numpy()
    B = len(offsets) - 1
    threshold = max(2, math.ceil(dense_share * B))
    offsets = np.asarray(offsets, dtype=np.int64)
    cols = np.asarray(cols, dtype=np.int64)
    # split_batch gives the CSR index arrays in int32 (the sparse kernels' index type): no conversion per product
    arrays = (offsets, cols) + tuple(split_batch(offsets, cols, vocab_size, threshold))
    batch = Batch(*(torch.from_numpy(np.ascontiguousarray(a)) for a in arrays), vocab_size=vocab_size)
    return batch if device is None else batch.to(device)


# --------------------------------------------------------------------------------------------- the fast step


def _mm(a: torch.Tensor, b: torch.Tensor, dtype: torch.dtype | None, out: torch.Tensor | None = None) -> torch.Tensor:
    """a @ b (in ``dtype`` when given, result in float32), into ``out`` when given."""
    if dtype is None or dtype == torch.float32:
        return torch.mm(a, b) if out is None else torch.mm(a, b, out=out)
    r = (a.to(dtype) @ b.to(dtype)).float()
    return r if out is None else out.copy_(r)


def _encode(E: torch.Tensor, batch: Batch) -> torch.Tensor:
    """h = X E = X_F E[F] + X_R E: a small dense product for the frequent words, a gather-sum for the rest."""
    if not _SPARSE_OK.get(E.device.type, True):  # no sparse CSR kernels (Apple MPS): dense multi-hot product
        return batch.dense() @ E
    if batch.dense_words.numel():
        h = torch.mm(batch.dense_x, E.index_select(0, batch.dense_words))
        if batch.rest_nnz:
            h.addmm_(batch.csr(), E)
        return h
    return torch.sparse.mm(batch.csr(), E)


def _forward(
    E: torch.Tensor,
    b: torch.Tensor,
    batch: Batch,
    variant: str,
    latent_relu: bool,
    loss: str,
    compute_dtype: torch.dtype | None,
    z_out: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, float]:
    """(loss, h, G, s): the loss of the batch, the latent h [B, L], and G [B, V] (in ``z_out`` if given) with
    ∂loss/∂z = s·G.

    h = X E (sparse CSR × dense), z = h Eᵀ + b, then in place: x̂ = act(z); with x the multi-hot target,
    Σ(x̂ − x)² = Σ x̂² + Σ_{x=1} ((x̂ − 1)² − x̂²), G = (x̂ − x)·act'(z) and s = 2/n, n = B·V. The constant s is
    applied to the small factors of the backward products, not to G: one pass over [B, V] less per step.
    """
    B, V = batch.size, batch.vocab_size
    n = float(B * V)
    h = _encode(E, batch)  # [B, L] = X E
    if latent_relu:
        h = torch.relu_(h)
    fp32 = compute_dtype is None or compute_dtype == torch.float32
    if fp32 and loss == "mse" and E.device.type == "cpu" and kernels.HAVE_NUMBA:
        # CPU: the bias, the activation, the loss and G in one compiled pass over z (bows.kernels.mse_pass)
        z = torch.mm(h, E.t()) if z_out is None else torch.mm(h, E.t(), out=z_out)
        value = kernels.mse_pass(z, b, batch.offsets, batch.cols, relu=variant == "relu")
        return torch.tensor(value / n, dtype=torch.float32), h, z, 2.0 / n
    if fp32:
        z = torch.addmm(b, h, E.t()) if z_out is None else torch.addmm(b, h, E.t(), out=z_out)
    else:
        z = _mm(h, E.t(), compute_dtype, out=z_out).add_(b)
    if loss == "bce":
        # mean(softplus(z) − x z); ∂/∂z = (σ(z) − x)/n
        zt = z.view(-1)[batch.flat]
        value = (F.softplus(z).sum() - zt.sum()) / n
        G = torch.sigmoid_(z)
        G.view(-1)[batch.flat] -= 1.0  # entries unique: no accumulation needed
        return value, h, G, 1.0 / n
    y = torch.relu_(z) if variant == "relu" else z  # x̂, in place
    flat = y.view(-1)
    yt = flat[batch.flat]  # x̂ at the ones of x
    # Σ(x̂ − x)² = Σ x̂² + Σ_{x=1} ((x̂ − 1)² − x̂²) = Σ x̂² + nnz − 2 Σ_{x=1} x̂
    value = (torch.dot(flat, flat) + (batch.nnz - 2.0 * yt.sum())) / n
    # G = x̂ off the ones (0 where x̂ = 0); at the ones x̂ − 1 times ReLU'(z) = 1[x̂ > 0] (x̂ − 1[x̂ > 0] does both)
    flat[batch.flat] = yt - (yt > 0).to(yt.dtype) if variant == "relu" else yt - 1.0
    return value, h, y, 2.0 / n


def _backward(
    E: torch.Tensor,
    h: torch.Tensor,
    G: torch.Tensor,
    batch: Batch,
    latent_relu: bool,
    compute_dtype: torch.dtype | None,
    dE_out: torch.Tensor | None = None,
    db_out: torch.Tensor | None = None,
    scale: float = 1.0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(∂E, ∂b) = (Gₛᵀ h + Xᵀ ∂h, Σ_rows Gₛ) with ∂h = Gₛ E (· 1[h > 0] with the latent ReLU) and Gₛ = scale·G."""
    db = G.sum(0) if db_out is None else torch.sum(G, 0, out=db_out)  # first, while G is warm in the cache
    if scale != 1.0:
        db.mul_(scale)
    dh = _mm(G, E, compute_dtype)  # [B, L]
    if scale != 1.0:
        dh.mul_(scale)
    if latent_relu:
        dh.mul_(h > 0)
    hs = h if scale == 1.0 else h * scale  # [B, L]: the scale on the small factor
    dE = _mm(G.t(), hs, compute_dtype, out=dE_out)  # [V, L], decoder part
    if not _SPARSE_OK.get(E.device.type, True):
        dE.addmm_(batch.dense().t(), dh)
    elif batch.rest_nnz:
        dE.addmm_(batch.csr_t(), dh)  # + X_Rᵀ dh, encoder part (gather-sum)
    if batch.dense_words.numel() and _SPARSE_OK.get(E.device.type, True):  # + X_Fᵀ dh (dense block)
        # rows gathered, updated by one product, written back (index_add_ on CPU is a slow element-wise scatter)
        words = batch.dense_words
        dE[words] = torch.addmm(dE.index_select(0, words), batch.dense_x.t(), dh)
    return dE, db


class _ReconLoss(torch.autograd.Function):
    """Autograd wrapper of :func:`_forward` / :func:`_backward` (G is computed with the loss and kept)."""

    @staticmethod
    def forward(
        ctx,
        E: torch.Tensor,
        b: torch.Tensor,
        batch: Batch,
        variant: str,
        latent_relu: bool,
        loss: str,
        compute_dtype: torch.dtype | None,
    ) -> torch.Tensor:
        value, h, G, scale = _forward(E, b, batch, variant, latent_relu, loss, compute_dtype)
        ctx.batch, ctx.latent_relu, ctx.compute_dtype, ctx.scale = batch, latent_relu, compute_dtype, scale
        ctx.save_for_backward(E, h, G)
        return value

    @staticmethod
    def backward(ctx, grad_out: torch.Tensor):
        E, h, G = ctx.saved_tensors
        dE, db = _backward(E, h, G, ctx.batch, ctx.latent_relu, ctx.compute_dtype, scale=ctx.scale * float(grad_out))
        return dE, db, None, None, None, None, None


def recon_loss(
    E: torch.Tensor,
    b: torch.Tensor,
    batch: Batch,
    variant: str = "relu",
    latent_relu: bool = False,
    loss: str = "mse",
    compute_dtype: torch.dtype | None = None,
) -> torch.Tensor:
    """Training loss of a CSR batch, differentiable in E (= Wᵀ, [V, L]) and b; see the module docstring."""
    return _ReconLoss.apply(E, b, batch, variant, latent_relu, loss, compute_dtype)


def reference_loss(
    W: torch.Tensor,
    b: torch.Tensor,
    x: torch.Tensor,
    variant: str = "relu",
    latent_relu: bool = False,
    loss: str = "mse",
) -> torch.Tensor:
    """The plain dense formula, for tests: mean((act(Wᵀ(W x) + b) − x)²) over B×V (or BCE with logits)."""
    h = x @ W.t()
    if latent_relu:
        h = torch.relu(h)
    z = h @ W + b
    if loss == "bce":
        return F.binary_cross_entropy_with_logits(z, x)
    y = torch.relu(z) if variant == "relu" else z
    return F.mse_loss(y, x, reduction="mean")


# --------------------------------------------------------------------------------------------- files


def save_weights(path: str | os.PathLike, W: torch.Tensor, b: torch.Tensor) -> None:
    """Write ``{"W": float32 [L, V], "b": float32 [V]}`` (plain tensors) atomically; same tensors, same bytes."""
    state = {
        "W": W.detach().to("cpu", torch.float32).contiguous().clone(),
        "b": b.detach().to("cpu", torch.float32).contiguous().clone(),
    }
    save_state(path, state)


def save_state(path: str | os.PathLike, state: Any) -> None:
    """``torch.save`` atomically, through a file handle: the archive's inner name is then the fixed "archive" rather
    than the (random) temporary file name, so equal content gives byte-identical files."""
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        torch.save(state, fh)


def safe_load(path: str | os.PathLike, what: str = "model file") -> Any:
    """``torch.load(path, weights_only=True)`` with one clear :class:`CheckpointError` per way of failing."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(
            f"{what} {path} does not exist",
            "train it first (snakemake train) or check the latent/weight decay/seed in the path",
        )
    if path.stat().st_size == 0:
        raise CheckpointError(
            f"{what} {path} is empty (an interrupted write?)", f"delete {path} and train the model again"
        )
    with open(path, "rb") as fh:
        magic = fh.read(4)
    if magic != b"PK\x03\x04":  # every file bows writes is a torch zip archive
        raise CheckpointError(
            f"{what} {path} is not a PyTorch archive: corrupted, or not written by bows",
            f"delete {path} and rerun snakemake to train the model again",
        )
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise CheckpointError(
            f"{what} {path} holds objects other than tensors and plain data, refused by the safe loader "
            f"(weights_only=True): {first}",
            "use a file written by bows (tensors only); never load files from untrusted sources unsafely",
        ) from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, OSError, ValueError) as err:
        raise CheckpointError(
            f"{what} {path} is truncated or corrupted ({type(err).__name__}: "
            f"{str(err).strip().splitlines()[0] if str(err).strip() else ''})",
            f"delete {path} and train the model again",
        ) from None


def load_weights(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """(W float32 [L, V], b float32 [V]) from a ``model.pt`` written by :func:`save_weights`.

    Opens the file with ``torch.load(..., weights_only=True)`` (no code runs). Also accepts a training checkpoint
    of this package (``{"model": {"E" = Wᵀ, "b"}, ...}``). Raises :class:`CheckpointError` for a missing, empty,
    truncated, corrupted or unsafe file, or one without tensors W [L, V] and b [V].
    """
    path = Path(path)
    state = safe_load(path)
    if isinstance(state, dict) and "model" in state and isinstance(state["model"], dict):
        state = dict(state["model"])  # a training checkpoint (bows.train): parameters stored as E = Wᵀ
        if "E" in state and "W" not in state and torch.is_tensor(state["E"]):
            state["W"] = state["E"].t()
    if not isinstance(state, dict) or not {"W", "b"} <= set(state):
        keys = sorted(state) if isinstance(state, dict) else type(state).__name__
        raise CheckpointError(
            f"{path} is not a bows model file: expected tensors 'W' and 'b', found {keys}",
            "point at a model.pt written by the train_model rule",
        )
    W, b = state["W"], state["b"]
    if not (torch.is_tensor(W) and torch.is_tensor(b) and W.ndim == 2 and b.ndim == 1 and b.shape[0] == W.shape[1]):
        shapes = tuple(getattr(W, "shape", ())), tuple(getattr(b, "shape", ()))
        raise CheckpointError(
            f"{path}: W and b have shapes {shapes}, expected W [L, V] and b [V]",
            f"delete {path} and train the model again",
        )
    W_np = W.detach().to(torch.float32).contiguous().numpy()
    b_np = b.detach().to(torch.float32).contiguous().numpy()
    if not (np.isfinite(W_np).all() and np.isfinite(b_np).all()):
        raise CheckpointError(
            f"{path}: the weights contain NaN or infinity (training diverged?)",
            "lower train.lr or check the data, then train again",
        )
    return W_np, b_np
