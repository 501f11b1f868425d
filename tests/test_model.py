"""The tied autoencoder: init, loss and gradients against the plain dense formula, model files."""

from __future__ import annotations

import math
import os
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from bows.errors import CheckpointError
from bows.model import (
    TiedAutoencoder,
    init_bound,
    init_weights,
    load_weights,
    make_batch,
    recon_loss,
    reference_loss,
    save_weights,
)


def csr_of(x: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """CSR (offsets, cols) of a dense 0/1 matrix."""
    counts = x.sum(1).to(torch.int64).numpy()
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    cols = x.nonzero()[:, 1].numpy().astype(np.int64)
    return offsets, cols


def random_case(V: int = 40, L: int = 6, B: int = 9, seed: int = 0, scale: float = 30.0):
    """A model with large enough weights that some pre-activations are positive, and a batch with an empty row."""
    g = torch.Generator().manual_seed(seed)
    x = (torch.rand(B, V, generator=g) < 0.25).float()
    x[2] = 0
    E = (torch.rand(V, L, generator=g) - 0.5) * scale * init_bound(V)
    b = torch.rand(V, generator=g) - 0.6
    return x, E, b


# --------------------------------------------------------------------------------------------- init


def test_init_is_kaiming_uniform_a_sqrt2():
    W = init_weights(7, 10_000, torch.Generator().manual_seed(3))
    ref = torch.nn.init.kaiming_uniform_(
        torch.empty(7, 10_000), a=math.sqrt(2), generator=torch.Generator().manual_seed(3)
    )
    assert torch.equal(W, ref)
    assert init_bound(10_000) == pytest.approx(0.0141421356)
    assert W.abs().max() <= init_bound(10_000)
    assert W.abs().max() > 0.99 * init_bound(10_000)


def test_model_stores_transpose_and_zero_bias():
    m = TiedAutoencoder(50, 4, generator=torch.Generator().manual_seed(1))
    assert m.E.shape == (50, 4) and m.W.shape == (4, 50)
    assert torch.equal(m.W, init_weights(4, 50, torch.Generator().manual_seed(1)))
    assert torch.count_nonzero(m.b) == 0
    assert sum(p.numel() for p in m.parameters()) == 4 * 50 + 50


def test_init_ignores_global_rng():
    torch.manual_seed(0)
    a = TiedAutoencoder(30, 3, generator=torch.Generator().manual_seed(5)).W.detach().clone()
    torch.manual_seed(123)
    torch.rand(100)
    b = TiedAutoencoder(30, 3, generator=torch.Generator().manual_seed(5)).W.detach().clone()
    assert torch.equal(a, b)


# --------------------------------------------------------------------------------------------- loss and gradients


def test_loss_known_answer():
    # W = [[1, 1, 0]], b = [0, 0, -1], x = [1, 0, 0]: h = 1, z = [1, 1, -1], x̂ = [1, 1, 0], loss = 1/3
    W = torch.tensor([[1.0, 1.0, 0.0]])
    b = torch.tensor([0.0, 0.0, -1.0])
    x = torch.tensor([[1.0, 0.0, 0.0]])
    batch = make_batch(*csr_of(x), vocab_size=3)
    assert float(recon_loss(W.t().contiguous(), b, batch)) == pytest.approx(1 / 3)
    assert float(reference_loss(W, b, x)) == pytest.approx(1 / 3)
    # linear output: x̂ = z = [1, 1, -1] → (0 + 1 + 1)/3
    assert float(recon_loss(W.t().contiguous(), b, batch, variant="linear")) == pytest.approx(2 / 3)


@pytest.mark.parametrize("variant", ["relu", "linear"])
@pytest.mark.parametrize("latent_relu", [False, True])
@pytest.mark.parametrize("loss", ["mse", "bce"])
def test_loss_and_gradients_equal_autograd_of_dense_formula(variant, latent_relu, loss):
    x, E, b = random_case(seed=hash((variant, latent_relu, loss)) % 1000)
    batch = make_batch(*csr_of(x), vocab_size=x.shape[1])
    # reference: autograd through the plain formula on W = Eᵀ
    W_ref = E.t().clone().requires_grad_(True)
    b_ref = b.clone().requires_grad_(True)
    ref = reference_loss(W_ref, b_ref, x, variant=variant, latent_relu=latent_relu, loss=loss)
    ref.backward()
    # fused autograd function
    E1 = E.clone().requires_grad_(True)
    b1 = b.clone().requires_grad_(True)
    val = recon_loss(E1, b1, batch, variant=variant, latent_relu=latent_relu, loss=loss)
    val.backward()
    torch.testing.assert_close(val.detach(), ref.detach(), rtol=1e-5, atol=1e-7)
    scale = float(W_ref.grad.abs().max())
    torch.testing.assert_close(E1.grad, W_ref.grad.t(), rtol=1e-4, atol=1e-5 * scale)
    torch.testing.assert_close(b1.grad, b_ref.grad, rtol=1e-4, atol=1e-5 * float(b_ref.grad.abs().max()))
    # the training step's buffered path: same numbers, written into .grad
    m = TiedAutoencoder(x.shape[1], E.shape[1], variant=variant, latent_relu=latent_relu, loss=loss)
    with torch.no_grad():
        m.E.copy_(E)
        m.b.copy_(b)
    v2 = m.loss_and_grad(batch)
    assert torch.equal(v2, val.detach())
    assert torch.equal(m.E.grad, E1.grad) and torch.equal(m.b.grad, b1.grad)
    # the forward of the module agrees with the reference reconstruction
    if loss == "mse":
        y = m.forward_dense(x)
        torch.testing.assert_close(torch.nn.functional.mse_loss(y, x), ref.detach(), rtol=1e-5, atol=1e-7)


def test_gradients_have_some_dead_relu_units():
    """The test case exercises both sides of the output ReLU (otherwise the mask would be untested)."""
    x, E, b = random_case()
    z = (x @ E) @ E.t() + b
    assert (z > 0).any() and (z < 0).any()
    assert ((z < 0) & (x > 0)).any()  # a target one under a dead unit: gradient must be 0 there


@pytest.mark.parametrize("share", [0.0, 0.3, 2.0])
def test_batch_split_dense_block_plus_rest(share):
    """X = X_F P_F + X_R, and X_Rᵀ is the transpose of X_R, whatever the dense share."""
    x, _, _ = random_case(V=25, B=7)
    batch = make_batch(*csr_of(x), vocab_size=25, dense_share=share)
    assert torch.equal(batch.dense(), x)
    rebuilt = torch.zeros(7, 25)
    rebuilt[:, batch.dense_words] = batch.dense_x
    rest = batch.csr().to_dense()
    assert not (rebuilt * rest).any()  # disjoint
    assert torch.equal(rebuilt + rest, x)
    assert torch.equal(batch.csr_t().to_dense(), rest.t())
    if share == 2.0:
        assert batch.dense_words.numel() == 0
    if share == 0.0:
        assert batch.dense_words.numel() > 0


@pytest.mark.parametrize("share", [0.0, 0.3, 2.0])
def test_gradients_do_not_depend_on_the_split(share):
    x, E, b = random_case(seed=11)
    ref_batch = make_batch(*csr_of(x), vocab_size=x.shape[1], dense_share=2.0)
    batch = make_batch(*csr_of(x), vocab_size=x.shape[1], dense_share=share)
    grads = []
    for bt in (ref_batch, batch):
        E1 = E.clone().requires_grad_(True)
        b1 = b.clone().requires_grad_(True)
        recon_loss(E1, b1, bt).backward()
        grads.append((E1.grad, b1.grad))
    torch.testing.assert_close(grads[0][0], grads[1][0], rtol=1e-5, atol=1e-6 * float(grads[0][0].abs().max()))
    torch.testing.assert_close(grads[0][1], grads[1][1], rtol=1e-5, atol=1e-7)


def test_batch_of_uint16_cols():
    x, _, _ = random_case(V=25, B=7)
    offsets, cols = csr_of(x)
    a = make_batch(offsets, cols.astype(np.uint16), vocab_size=25)
    assert a.cols.dtype == torch.int64 and torch.equal(a.dense(), x)


def test_bf16_compute_is_close():
    x, E, b = random_case(V=64, L=8, B=16, seed=4, scale=5)
    batch = make_batch(*csr_of(x), vocab_size=64)
    full = recon_loss(E, b, batch)
    half = recon_loss(E, b, batch, compute_dtype=torch.bfloat16)
    assert float(half) == pytest.approx(float(full), rel=0.05)


# --------------------------------------------------------------------------------------------- files


def test_save_load_roundtrip(tmp_path):
    W = torch.randn(5, 20)
    b = torch.randn(20)
    path = tmp_path / "m" / "model.pt"
    save_weights(path, W, b)
    W2, b2 = load_weights(path)
    assert W2.dtype == np.float32 and W2.shape == (5, 20) and b2.shape == (20,)
    np.testing.assert_array_equal(W2, W.numpy())
    np.testing.assert_array_equal(b2, b.numpy())
    state = torch.load(path, weights_only=True)
    assert set(state) == {"W", "b"}
    assert not list(path.parent.glob(".*tmp*"))  # no temporary left behind
    again = tmp_path / "again.pt"
    save_weights(again, W, b)
    assert again.read_bytes() == path.read_bytes()  # same tensors, same bytes (whatever the file name)


def test_load_missing(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        load_weights(tmp_path / "nope.pt")


def test_load_empty_and_truncated_and_garbage(tmp_path):
    (tmp_path / "empty.pt").write_bytes(b"")
    with pytest.raises(CheckpointError, match="empty"):
        load_weights(tmp_path / "empty.pt")
    good = tmp_path / "good.pt"
    save_weights(good, torch.randn(3, 8), torch.randn(8))
    data = good.read_bytes()
    (tmp_path / "trunc.pt").write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="truncated or corrupted") as err:
        load_weights(tmp_path / "trunc.pt")
    assert "fix:" in str(err.value) and str(tmp_path / "trunc.pt") in str(err.value)
    (tmp_path / "junk.pt").write_bytes(os.urandom(300))
    with pytest.raises(CheckpointError) as err:
        load_weights(tmp_path / "junk.pt")
    assert "fix:" in str(err.value) and str(tmp_path / "junk.pt") in str(err.value)


class _Evil:
    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (Path(self.marker),))


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_crafted_pickle_is_refused_and_does_not_run(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    torch.save({"W": torch.zeros(2, 3), "b": torch.zeros(3), "x": _Evil(str(marker))}, path)
    assert not marker.exists()
    with pytest.raises(CheckpointError, match="weights_only") as err:
        load_weights(path)
    assert not marker.exists(), "loading a model file ran code from its pickle"
    assert "fix:" in str(err.value)
    # a plain (non-zip) pickle too
    raw = tmp_path / "raw.pt"
    raw.write_bytes(pickle.dumps(_Evil(str(marker))))
    with pytest.raises(CheckpointError):
        load_weights(raw)
    assert not marker.exists()


def test_load_wrong_content(tmp_path):
    p = tmp_path / "a.pt"
    torch.save({"weight": torch.zeros(2, 3)}, p)
    with pytest.raises(CheckpointError, match="expected tensors 'W' and 'b'"):
        load_weights(p)
    torch.save({"W": torch.zeros(2, 3), "b": torch.zeros(4)}, p)
    with pytest.raises(CheckpointError, match="shapes"):
        load_weights(p)
    torch.save({"W": torch.full((2, 3), float("nan")), "b": torch.zeros(3)}, p)
    with pytest.raises(CheckpointError, match="NaN"):
        load_weights(p)


def test_load_accepts_training_checkpoint_layout(tmp_path):
    p = tmp_path / "c.pt"
    E = torch.arange(6.0).reshape(3, 2)
    torch.save({"model": {"E": E, "b": torch.zeros(3)}, "epoch": 3}, p)
    W, b = load_weights(p)
    np.testing.assert_array_equal(W, E.t().numpy())


def test_dense_fallback_for_devices_without_sparse_kernels(monkeypatch):
    import bows.model as bm

    x, E, b = random_case(seed=5)
    batch = make_batch(*csr_of(x), vocab_size=x.shape[1])
    grads = []
    for ok in (True, False):
        monkeypatch.setitem(bm._SPARSE_OK, "cpu", ok)
        E1 = E.clone().requires_grad_(True)
        b1 = b.clone().requires_grad_(True)
        recon_loss(E1, b1, batch).backward()
        grads.append(E1.grad)
    torch.testing.assert_close(grads[0], grads[1], rtol=1e-5, atol=1e-6 * float(grads[0].abs().max()))
