"""The fast training step of the tied autoencoder: the loss and its gradients for a sparse batch, without autograd.

Same numbers as autograd of the plain dense formula (:func:`bows.model.reference_loss`, tested in
tests/test_model.py), computed the way a sparse batch allows:

* Batch: windows arrive as CSR (offsets, cols). :func:`make_batch` splits them into X = X_F P_F + X_R: the K words
  present in at least :data:`DENSE_SHARE` of the batch's windows form a small dense block X_F [B, K], the rest X_R
  stays CSR (with its transpose X_Rᵀ for the backward pass).
* Encoder: h = X E = X_F E[F] + X_R E, a small dense product plus a gather-sum of rows of E = Wᵀ (CSR × dense).
* Decoder: z = h Eᵀ + b, one dense product into a [B, V] buffer reused from step to step.
* Loss and output gradient in place on that buffer: x̂ = act(z); with x the multi-hot target,
  Σ(x̂ − x)² = Σ x̂² + Σ_{x=1} ((x̂ − 1)² − x̂²), so the target never exists as a dense matrix; the buffer then holds
  G = (x̂ − x)·act'(z) with ∂loss/∂z = s·G, s = 2/(B·V). On the CPU one compiled pass does it
  (:func:`bows.kernels.mse_pass`).
* Backward: ∂b = s Σ_rows G, ∂h = s G E, ∂E = Gᵀ (s h) + X_Rᵀ ∂h + P_Fᵀ X_Fᵀ ∂h. The constant s goes onto the small
  factors, not onto G: one pass over [B, V] less per step.

:class:`FastStep` runs this for a :class:`~bows.model.TiedAutoencoder`, writing ``E.grad`` and ``b.grad`` into
buffers it reuses (a fresh [B, V] tensor per step costs page faults comparable to the work itself).
:func:`recon_loss` wraps the same forward and backward as an autograd function. A :class:`DenseBatch` (the
``counts`` window encoding: any non-negative values) trains through the plain formula and autograd instead.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import torch
import torch.nn.functional as F

from . import kernels
from .kernels import split_batch
from .model import TiedAutoencoder, reference_loss

__all__ = ["DENSE_SHARE", "NO_SPARSE_KERNELS", "Batch", "DenseBatch", "make_batch", "FastStep", "recon_loss"]

#: Words present in at least this share of a batch's windows go through a small dense product instead of the
#: gather-sum: a gathered row costs about ten times a dense multiply-add per entry on a CPU, so above ~1/10 of the
#: rows the dense block is cheaper. In Zipfian text this covers about half of the batch's entries with a few hundred
#: words. (0 < DENSE_SHARE; a value above 1 disables the split.)
DENSE_SHARE = 0.1

#: Device types without sparse CSR × dense kernels: there the batch is multiplied as a dense multi-hot matrix.
NO_SPARSE_KERNELS = frozenset({"mps"})


# --------------------------------------------------------------------------------------------- batches


@dataclass(frozen=True, eq=False)
class Batch:
    """A batch of binary windows X ∈ {0,1}^{B×V}, split for speed into X = X_F P_F + X_R.

    offsets, cols: the whole batch as CSR (int64), for the target; flat = row·V + col of every entry, its position in
    a [B, V] buffer. dense_words: int64 [K], the words of the dense block; dense_x: float32 [B, K]. rest_offsets,
    rest_cols: X_R as CSR; rest_t_offsets, rest_t_rows: X_Rᵀ as CSR (per word, its rows ascending); int32 indices.
    Every row counts in the mean over B×V, as in a dense batch.
    """

    offsets: torch.Tensor
    cols: torch.Tensor
    flat: torch.Tensor
    dense_words: torch.Tensor
    dense_x: torch.Tensor
    rest_offsets: torch.Tensor
    rest_cols: torch.Tensor
    rest_t_offsets: torch.Tensor
    rest_t_rows: torch.Tensor
    vocab_size: int

    @property
    def size(self) -> int:
        return int(self.offsets.numel() - 1)

    @property
    def nnz(self) -> int:
        return int(self.cols.numel())

    @property
    def rest_nnz(self) -> int:
        return int(self.rest_cols.numel())

    def tensors(self) -> tuple[torch.Tensor, ...]:
        """The index and value arrays, in field order."""
        return (
            self.offsets,
            self.cols,
            self.flat,
            self.dense_words,
            self.dense_x,
            self.rest_offsets,
            self.rest_cols,
            self.rest_t_offsets,
            self.rest_t_rows,
        )

    @cached_property
    def _ones(self) -> torch.Tensor:
        return torch.ones(self.rest_nnz, dtype=torch.float32, device=self.cols.device)

    @cached_property
    def rest(self) -> torch.Tensor:
        """X_R as a sparse CSR tensor [B, V] of ones (built once, never coalesced)."""
        return _csr(self.rest_offsets, self.rest_cols, self._ones, (self.size, self.vocab_size))

    @cached_property
    def rest_t(self) -> torch.Tensor:
        """X_Rᵀ as a sparse CSR tensor [V, B] of ones."""
        return _csr(self.rest_t_offsets, self.rest_t_rows, self._ones, (self.vocab_size, self.size))

    def to(self, device: torch.device | str) -> Batch:
        """The batch on ``device`` (itself when already there; pinned, asynchronous copies to CUDA)."""
        device = torch.device(device)
        if self.cols.device == device:
            return self
        if device.type == "cuda":
            return Batch(*(t.pin_memory().to(device, non_blocking=True) for t in self.tensors()), self.vocab_size)
        return Batch(*(t.to(device) for t in self.tensors()), self.vocab_size)

    def dense(self, dtype: torch.dtype = torch.float32) -> torch.Tensor:
        """The multi-hot [B, V] matrix (for tests, references and devices without sparse kernels)."""
        x = torch.zeros(self.size, self.vocab_size, dtype=dtype, device=self.cols.device)
        x.view(-1)[self.flat] = 1
        return x


class DenseBatch:
    """A batch as a dense [B, V] float32 tensor of any non-negative values (the ``counts`` window encoding). It
    trains through the plain formula and autograd (:func:`bows.model.reference_loss`), slower than the binary path."""

    __slots__ = ("x", "size", "vocab_size")

    def __init__(self, x: torch.Tensor):
        self.x = x
        self.size, self.vocab_size = int(x.shape[0]), int(x.shape[1])

    def to(self, device: torch.device | str) -> DenseBatch:
        return self if self.x.device == torch.device(device) else DenseBatch(self.x.to(device))

    def tensors(self) -> tuple[torch.Tensor, ...]:
        return (self.x,)

    @classmethod
    def from_csr(cls, offsets: np.ndarray, cols: np.ndarray, values: np.ndarray, vocab_size: int) -> DenseBatch:
        B = len(offsets) - 1
        x = torch.zeros(B, vocab_size, dtype=torch.float32)
        rows = np.repeat(np.arange(B), np.diff(offsets))
        x[torch.from_numpy(rows), torch.from_numpy(np.asarray(cols, dtype=np.int64))] = torch.from_numpy(
            np.asarray(values, dtype=np.float32)
        )
        return cls(x)


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
    offsets = np.asarray(offsets.cpu().numpy() if torch.is_tensor(offsets) else offsets, dtype=np.int64)
    cols = np.asarray(cols.cpu().numpy() if torch.is_tensor(cols) else cols, dtype=np.int64)
    threshold = max(2, math.ceil(dense_share * (len(offsets) - 1)))
    # split_batch gives the CSR index arrays in int32 (the sparse kernels' index type): no conversion per product
    _rows, *split = split_batch(offsets, cols, vocab_size, threshold)
    arrays = (offsets, cols, *split)
    batch = Batch(*(torch.from_numpy(np.ascontiguousarray(a)) for a in arrays), vocab_size=int(vocab_size))
    return batch if device is None else batch.to(device)


# --------------------------------------------------------------------------------------------- forward and backward


def _mm(a: torch.Tensor, b: torch.Tensor, dtype: torch.dtype | None, out: torch.Tensor | None = None) -> torch.Tensor:
    """a @ b (in ``dtype`` when given, result in float32), into ``out`` when given."""
    if dtype is None or dtype == torch.float32:
        return torch.mm(a, b) if out is None else torch.mm(a, b, out=out)
    r = (a.to(dtype) @ b.to(dtype)).float()
    return r if out is None else out.copy_(r)


def _sparse_ok(device: torch.device) -> bool:
    return device.type not in NO_SPARSE_KERNELS


def _encode(E: torch.Tensor, batch: Batch) -> torch.Tensor:
    """h = X E = X_F E[F] + X_R E: a small dense product for the frequent words, a gather-sum for the rest."""
    if not _sparse_ok(E.device):
        return batch.dense() @ E
    if batch.dense_words.numel():
        h = torch.mm(batch.dense_x, E.index_select(0, batch.dense_words))
        if batch.rest_nnz:
            h.addmm_(batch.rest, E)
        return h
    return torch.sparse.mm(batch.rest, E)


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
    ∂loss/∂z = s·G (see the module docstring)."""
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
    if not _sparse_ok(E.device):
        dE.addmm_(batch.dense().t(), dh)
        return dE, db
    if batch.rest_nnz:
        dE.addmm_(batch.rest_t, dh)  # + X_Rᵀ dh, encoder part (gather-sum)
    if batch.dense_words.numel():  # + X_Fᵀ dh (dense block)
        # rows gathered, updated by one product, written back (index_add_ on CPU is a slow element-wise scatter)
        words = batch.dense_words
        dE[words] = torch.addmm(dE.index_select(0, words), batch.dense_x.t(), dh)
    return dE, db


# --------------------------------------------------------------------------------------------- entry points


class FastStep:
    """The training step's loss and gradients of ``model``, in buffers reused from step to step.

    :meth:`loss_and_grad` gives the same numbers as ``reference_loss(...).backward()`` from zero gradients;
    :meth:`loss` the loss alone (held-out evaluation). ``compute_dtype`` (e.g. bfloat16) runs the dense products
    in that type on devices that support it.
    """

    def __init__(self, model: TiedAutoencoder, compute_dtype: torch.dtype | None = None):
        self.model = model
        self.compute_dtype = compute_dtype
        self._z: torch.Tensor | None = None  # the [B, V] buffer of z, x̂ and G

    def _options(self) -> tuple[str, bool, str]:
        return self.model.variant, self.model.latent_relu, self.model.loss_name

    def loss(self, batch: Batch | DenseBatch) -> torch.Tensor:
        """The loss of a batch, without gradients."""
        m = self.model
        with torch.no_grad():
            if isinstance(batch, DenseBatch):
                return reference_loss(m.W, m.b, batch.x, *self._options())
            return _forward(m.E, m.b, batch, *self._options(), self.compute_dtype)[0]

    def loss_and_grad(self, batch: Batch | DenseBatch) -> torch.Tensor:
        """The loss of a batch; writes ∂loss/∂E and ∂loss/∂b into ``E.grad`` and ``b.grad`` (overwritten)."""
        E, b = self.model.E, self.model.b
        if isinstance(batch, DenseBatch):  # the counts encoding: plain autograd on the dense formula
            E.grad, b.grad = None, None
            with torch.enable_grad():
                value = reference_loss(self.model.W, b, batch.x, *self._options())
                value.backward()
            return value.detach()
        if E.grad is None or E.grad.shape != E.shape:
            E.grad = torch.empty_like(E)
        if b.grad is None or b.grad.shape != b.shape:
            b.grad = torch.empty_like(b)
        z = self._z
        if z is None or z.shape[0] < batch.size or z.device != E.device:
            z = self._z = torch.empty(batch.size, E.shape[0], dtype=torch.float32, device=E.device)
        variant, latent_relu, loss = self._options()
        with torch.no_grad():
            value, h, G, scale = _forward(E, b, batch, variant, latent_relu, loss, self.compute_dtype, z[: batch.size])
            _backward(E, h, G, batch, latent_relu, self.compute_dtype, dE_out=E.grad, db_out=b.grad, scale=scale)
        return value


class _ReconLoss(torch.autograd.Function):
    """Autograd wrapper of :func:`_forward` / :func:`_backward` (G is computed with the loss and kept)."""

    @staticmethod
    def forward(ctx, E, b, batch, variant, latent_relu, loss, compute_dtype):
        value, h, G, scale = _forward(E, b, batch, variant, latent_relu, loss, compute_dtype)
        ctx.batch, ctx.latent_relu, ctx.compute_dtype, ctx.scale = batch, latent_relu, compute_dtype, scale
        ctx.save_for_backward(E, h, G)
        return value

    @staticmethod
    def backward(ctx, grad_out):
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
    """The training loss of a CSR batch, differentiable in E (= Wᵀ, [V, L]) and b (the fast forward and backward)."""
    return _ReconLoss.apply(E, b, batch, variant, latent_relu, loss, compute_dtype)
