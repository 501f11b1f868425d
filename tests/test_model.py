"""The tied autoencoder: init, the fast step against autograd of the plain dense formula, model files."""

from __future__ import annotations

import itertools
import json
import logging
import math
import os
import pickle
import struct
from pathlib import Path

import numpy as np
import pytest
import torch
from bows import fast_step
from bows.errors import CheckpointError, ConfigError, ShapeError
from bows.fast_step import FastStep, make_batch, recon_loss
from bows.model import (
    TiedAutoencoder,
    init_bound,
    init_weights,
    load_model,
    load_weights,
    reference_loss,
    save_model,
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


def model_with(E: torch.Tensor, b: torch.Tensor, **options) -> TiedAutoencoder:
    m = TiedAutoencoder(E.shape[0], E.shape[1], **options)
    with torch.no_grad():
        m.E.copy_(E)
        m.b.copy_(b)
    return m


def autograd_reference(x, E, b, **options):
    """(loss, ∂E, ∂b) by autograd through the plain formula on W = Eᵀ."""
    W = E.t().clone().requires_grad_(True)
    b = b.clone().requires_grad_(True)
    loss = reference_loss(W, b, x, **options)
    loss.backward()
    return loss.detach(), W.grad.t(), b.grad


def assert_grads_close(got, ref, rtol=1e-4):
    torch.testing.assert_close(got, ref, rtol=rtol, atol=1e-5 * float(ref.abs().max()))


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


def test_unknown_variant_or_loss_is_a_config_error_and_a_bad_latent_a_shape_error():
    with pytest.raises(ConfigError, match="variant 'tanh'"):
        TiedAutoencoder(10, 2, variant="tanh")
    with pytest.raises(ConfigError, match="loss 'l1'") as err:
        TiedAutoencoder(10, 2, loss="l1")
    assert "train.loss" in str(err.value)
    with pytest.raises(ShapeError):
        TiedAutoencoder(10, 0)


# --------------------------------------------------------------------------------------------- the formula


def test_forward_and_loss_known_answer():
    # W = [[1, 1, 0]], b = [0, 0, -1], x = [1, 0, 0]: h = 1, z = [1, 1, -1], x̂ = ReLU(z) = [1, 1, 0], loss = 1/3
    W = torch.tensor([[1.0, 1.0, 0.0]])
    b = torch.tensor([0.0, 0.0, -1.0])
    x = torch.tensor([[1.0, 0.0, 0.0]])
    m = model_with(W.t(), b)
    assert torch.equal(m(x), torch.tensor([[1.0, 1.0, 0.0]]))
    assert torch.equal(model_with(W.t(), b, variant="linear")(x), torch.tensor([[1.0, 1.0, -1.0]]))
    batch = make_batch(*csr_of(x), vocab_size=3)
    assert float(recon_loss(W.t().contiguous(), b, batch)) == pytest.approx(1 / 3)
    assert float(reference_loss(W, b, x)) == pytest.approx(1 / 3)
    # linear output: x̂ = z = [1, 1, -1] → (0 + 1 + 1)/3
    assert float(recon_loss(W.t().contiguous(), b, batch, variant="linear")) == pytest.approx(2 / 3)
    # BCE with logits z: mean(softplus(z) − x z) = (softplus(1) − 1 + softplus(1) + softplus(−1)) / 3
    sp = math.log1p(math.e)
    expect = (sp - 1 + sp + math.log1p(math.exp(-1))) / 3
    assert float(recon_loss(W.t().contiguous(), b, batch, loss="bce")) == pytest.approx(expect, rel=1e-6)
    assert float(FastStep(model_with(W.t(), b, loss="bce")).loss(batch)) == pytest.approx(expect, rel=1e-6)


def test_forward_is_the_reference_reconstruction():
    x, E, b = random_case(seed=3)
    for variant in ("relu", "linear"):
        m = model_with(E, b, variant=variant)
        mse = torch.nn.functional.mse_loss(m(x), x)
        torch.testing.assert_close(mse, reference_loss(E.t(), b, x, variant=variant), rtol=1e-6, atol=0)


# --------------------------------------------------------------------------------------------- the fast step

#: every option combination, each with its own fixed seed
CASES = [
    (variant, latent_relu, loss, seed)
    for seed, (variant, latent_relu, loss) in enumerate(
        itertools.product(("relu", "linear"), (False, True), ("mse", "bce")), start=100
    )
]


@pytest.mark.parametrize("variant,latent_relu,loss,seed", CASES)
@pytest.mark.parametrize("share", [0.1, 2.0])
def test_fast_loss_and_gradients_equal_autograd_of_dense_formula(variant, latent_relu, loss, seed, share):
    x, E, b = random_case(seed=seed)
    options = {"variant": variant, "latent_relu": latent_relu, "loss": loss}
    ref, dE_ref, db_ref = autograd_reference(x, E, b, **options)
    batch = make_batch(*csr_of(x), vocab_size=x.shape[1], dense_share=share)
    # the autograd function
    E1, b1 = E.clone().requires_grad_(True), b.clone().requires_grad_(True)
    val = recon_loss(E1, b1, batch, **options)
    val.backward()
    torch.testing.assert_close(val.detach(), ref, rtol=1e-5, atol=1e-7)
    assert_grads_close(E1.grad, dE_ref)
    assert_grads_close(b1.grad, db_ref)
    # the training step's buffered path: the same numbers, written into .grad
    m = model_with(E, b, **options)
    step = FastStep(m)
    assert torch.equal(step.loss_and_grad(batch), val.detach())
    assert torch.equal(m.E.grad, E1.grad) and torch.equal(m.b.grad, b1.grad)
    assert torch.equal(step.loss(batch), val.detach())  # the held-out loss: the same forward


def test_test_cases_cross_both_sides_of_every_relu():
    """The cases exercise both sides of the output ReLU (otherwise its mask would be untested), a target one under
    a dead unit, and, with the latent ReLU, dead latent units."""
    for _v, _l, _loss, seed in CASES:
        x, E, b = random_case(seed=seed)
        h = x @ E
        z = torch.relu(h) @ E.t() + b
        assert (z > 0).any() and (z < 0).any() and ((z < 0) & (x > 0)).any()
        assert (h[x.sum(1) > 0] < 0).any() and (h > 0).any()


def test_buffer_reuse_across_batch_sizes_changes_nothing():
    """A smaller batch after a larger one reuses part of the [B, V] buffer: same loss and gradients as a fresh
    step, and as autograd of the dense formula."""
    x_big, E, b = random_case(B=12, seed=21)
    x_small, _, _ = random_case(B=5, seed=22)
    m = model_with(E, b)
    step = FastStep(m)
    step.loss_and_grad(make_batch(*csr_of(x_big), vocab_size=40))
    small = make_batch(*csr_of(x_small), vocab_size=40)
    reused = step.loss_and_grad(small)
    dE, db = m.E.grad.clone(), m.b.grad.clone()
    fresh_model = model_with(E, b)
    fresh = FastStep(fresh_model).loss_and_grad(small)
    assert torch.equal(reused, fresh) and torch.equal(dE, fresh_model.E.grad) and torch.equal(db, fresh_model.b.grad)
    ref, dE_ref, db_ref = autograd_reference(x_small, E, b)
    torch.testing.assert_close(reused, ref, rtol=1e-5, atol=1e-7)
    assert_grads_close(dE, dE_ref)
    assert_grads_close(db, db_ref)


def test_reference_check_fails_on_a_wrong_gradient():
    """The comparison above can fail: a gradient off by one entry's sign is caught."""
    x, E, b = random_case(seed=7)
    _, dE_ref, _ = autograd_reference(x, E, b)
    wrong = dE_ref.clone()
    k = int(dE_ref.abs().argmax())
    wrong.view(-1)[k] *= -1
    with pytest.raises(AssertionError):
        assert_grads_close(wrong, dE_ref)


@pytest.mark.parametrize("share", [0.0, 0.3, 2.0])
def test_batch_split_dense_block_plus_rest(share):
    """X = X_F P_F + X_R, and X_Rᵀ is the transpose of X_R, whatever the dense share."""
    x, _, _ = random_case(V=25, B=7)
    batch = make_batch(*csr_of(x), vocab_size=25, dense_share=share)
    assert torch.equal(batch.dense(), x)
    rebuilt = torch.zeros(7, 25)
    rebuilt[:, batch.dense_words] = batch.dense_x
    rest = batch.rest.to_dense()
    assert not (rebuilt * rest).any()  # disjoint
    assert torch.equal(rebuilt + rest, x)
    assert torch.equal(batch.rest_t.to_dense(), rest.t())
    if share == 2.0:
        assert batch.dense_words.numel() == 0
    if share == 0.0:
        assert batch.dense_words.numel() > 0


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


def test_dense_fallback_for_devices_without_sparse_kernels(monkeypatch):
    x, E, b = random_case(seed=5)
    batch = make_batch(*csr_of(x), vocab_size=x.shape[1])
    grads = []
    for missing in (frozenset(), frozenset({"cpu"})):
        monkeypatch.setattr(fast_step, "NO_SPARSE_KERNELS", missing)
        E1 = E.clone().requires_grad_(True)
        b1 = b.clone().requires_grad_(True)
        recon_loss(E1, b1, batch).backward()
        grads.append(E1.grad)
    assert_grads_close(grads[1], grads[0], rtol=1e-5)


def test_counts_batches_train_through_the_dense_formula():
    x, E, b = random_case(seed=9)
    x = x * torch.arange(1, 41)  # values > 1: not a multi-hot
    offsets, cols = csr_of((x > 0).float())
    batch = fast_step.DenseBatch.from_csr(offsets, cols, x[x > 0].numpy(), 40)
    assert torch.equal(batch.x, x)
    m = model_with(E, b)
    loss = FastStep(m).loss_and_grad(batch)
    ref, dE_ref, db_ref = autograd_reference(x, E, b)
    assert torch.equal(loss, ref) and torch.equal(m.E.grad, dE_ref) and torch.equal(m.b.grad, db_ref)


# --------------------------------------------------------------------------------------------- model files


def raw_header(path: Path) -> dict:
    """The JSON header of a safetensors file, parsed by hand (8-byte little-endian length, then JSON)."""
    data = path.read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    return json.loads(data[8 : 8 + n])


def test_save_load_roundtrip_with_metadata(tmp_path):
    W = torch.randn(5, 20, generator=torch.Generator().manual_seed(1))
    b = torch.randn(20, generator=torch.Generator().manual_seed(2))
    path = tmp_path / "m" / "model.safetensors"
    save_model(path, W, b, {"variant": "relu", "seed": 3, "final_train_loss": 0.125, "code": None})
    W2, b2, meta = load_model(path)
    assert W2.dtype == np.float32 and W2.shape == (5, 20) and b2.shape == (20,)
    np.testing.assert_array_equal(W2, W.numpy())
    np.testing.assert_array_equal(b2, b.numpy())
    assert meta == {"variant": "relu", "seed": 3, "final_train_loss": 0.125, "code": None, "V": 20, "L": 5} | {
        "format": "bows-model/1"
    }
    header = raw_header(path)  # the file as any safetensors reader sees it
    assert header["W"]["dtype"] == "F32" and header["W"]["shape"] == [5, 20] and header["b"]["shape"] == [20]
    assert json.loads(header["__metadata__"]["bows"])["V"] == 20
    assert not list(path.parent.glob(".*tmp*"))  # no temporary left behind
    again = tmp_path / "again.safetensors"
    save_model(again, W.numpy(), b.numpy(), {"code": None, "final_train_loss": 0.125, "seed": 3, "variant": "relu"})
    assert again.read_bytes() == path.read_bytes()  # same content, same bytes (key order and file name aside)
    np.testing.assert_array_equal(load_weights(again)[0], W.numpy())


def test_save_refuses_inconsistent_shapes_or_metadata(tmp_path):
    with pytest.raises(ShapeError):
        save_model(tmp_path / "a.safetensors", torch.zeros(2, 3), torch.zeros(4), {})
    with pytest.raises(ShapeError, match="metadata V"):
        save_model(tmp_path / "a.safetensors", torch.zeros(2, 3), torch.zeros(3), {"V": 4})
    assert not list(tmp_path.iterdir())


def test_legacy_model_pt_still_loads(tmp_path, caplog):
    W, b = torch.randn(3, 8), torch.randn(8)
    legacy = tmp_path / "model.pt"
    torch.save({"W": W, "b": b}, legacy)
    W2, b2, meta = load_model(legacy)
    assert meta == {} and np.array_equal(W2, W.numpy()) and np.array_equal(b2, b.numpy())
    # a model.safetensors path in a folder holding only the legacy file reads that file, and says so
    with caplog.at_level(logging.WARNING, logger="bows.model"):
        W3, _ = load_weights(tmp_path / "model.safetensors")
    assert np.array_equal(W3, W.numpy()) and "legacy model file" in caplog.text


def test_load_missing(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        load_weights(tmp_path / "nope.safetensors")


@pytest.mark.parametrize("suffix", [".safetensors", ".pt"])
def test_load_empty_and_truncated_and_garbage(tmp_path, suffix):
    (tmp_path / f"empty{suffix}").write_bytes(b"")
    with pytest.raises(CheckpointError, match="empty"):
        load_weights(tmp_path / f"empty{suffix}")
    good = tmp_path / f"good{suffix}"
    if suffix == ".pt":
        torch.save({"W": torch.randn(3, 8), "b": torch.randn(8)}, good)
    else:
        save_weights(good, torch.randn(3, 8), torch.randn(8))
    data = good.read_bytes()
    for name, content in (("trunc", data[: len(data) // 2]), ("junk", os.urandom(300)), ("head", data[:6])):
        bad = tmp_path / f"{name}{suffix}"
        bad.write_bytes(content)
        with pytest.raises(CheckpointError, match="truncated or corrupted|not a PyTorch archive") as err:
            load_weights(bad)
        assert "fix:" in str(err.value) and str(bad) in str(err.value)


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
    # a plain (non-zip) pickle, under either name
    for name in ("raw.pt", "raw.safetensors"):
        raw = tmp_path / name
        raw.write_bytes(pickle.dumps(_Evil(str(marker))))
        with pytest.raises(CheckpointError):
            load_weights(raw)
    assert not marker.exists()


def test_load_wrong_content(tmp_path):
    from bows.tensor_files import write_tensors

    p = tmp_path / "a.safetensors"
    write_tensors(p, {"weight": torch.zeros(2, 3)}, {})
    with pytest.raises(CheckpointError, match="expected tensors 'W' and 'b'"):
        load_weights(p)
    write_tensors(p, {"W": torch.zeros(2, 3), "b": torch.zeros(4)}, {})
    with pytest.raises(CheckpointError, match="shapes"):
        load_weights(p)
    write_tensors(p, {"W": torch.full((2, 3), float("nan")), "b": torch.zeros(3)}, {})
    with pytest.raises(CheckpointError, match="NaN"):
        load_weights(p)


def test_load_accepts_legacy_training_checkpoint_layout(tmp_path):
    p = tmp_path / "c.pt"
    E = torch.arange(6.0).reshape(3, 2)
    torch.save({"model": {"E": E, "b": torch.zeros(3)}, "epoch": 3}, p)
    W, b = load_weights(p)
    np.testing.assert_array_equal(W, E.t().numpy())
