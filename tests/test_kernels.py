"""The compiled kernels against their references, and the step without numba."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from bows import kernels
from bows.fast_step import FastStep, make_batch
from bows.model import TiedAutoencoder, reference_loss
from conftest import ROOT

# numba is pinned in every environment: only the documented switch BOWS_NO_NUMBA may turn the compiled kernels off
# (a broken numba install fails test_numba_is_on_unless_switched_off instead of skipping these tests)
NUMBA_OFF = bool(os.environ.get("BOWS_NO_NUMBA"))
needs_numba = pytest.mark.skipif(NUMBA_OFF, reason="compiled kernels switched off by BOWS_NO_NUMBA")


def test_numba_is_on_unless_switched_off():
    assert kernels.HAVE_NUMBA is not NUMBA_OFF


def random_ranges(rng, n_rows, vocab, max_len=30, n_docs=200):
    """A document CSR (sorted unique ids per document) and, per row, the index range of ``G`` consecutive ones."""
    lens = rng.integers(0, max_len, size=n_docs)
    docs = [np.sort(rng.choice(vocab, size=k, replace=False)) for k in lens]
    indptr = np.concatenate([[0], np.cumsum(lens)]).astype(np.int64)
    indices = np.concatenate(docs).astype(np.uint16)
    first = rng.integers(0, n_docs - 5, size=n_rows)
    G = rng.integers(1, 6, size=n_rows)
    return indices, indptr[first], indptr[first + G]


def test_gather_ranges_keeps_duplicates_in_slice_order():
    indices = np.array([3, 5, 1, 5, 9, 0, 3], dtype=np.uint16)
    rows, cols = kernels.gather_ranges(indices, np.array([1, 0, 4]), np.array([4, 2, 4]))
    assert rows.tolist() == [0, 0, 0, 1, 1] and cols.tolist() == [5, 1, 5, 3, 5]
    assert rows.dtype == cols.dtype == np.int64


def test_window_union_reference_on_a_known_answer():
    indices = np.array([3, 5, 1, 5, 9, 0, 3], dtype=np.uint16)
    offsets, cols = kernels.window_union_reference(indices, np.array([0, 2, 5, 3]), np.array([4, 7, 5, 3]), 10)
    # row 0: ids 3, 5, 1, 5; row 1: 1, 5, 9, 0, 3; rows 2 and 3: empty ranges
    assert offsets.tolist() == [0, 3, 8, 8, 8]
    assert cols.tolist() == [1, 3, 5, 0, 1, 3, 5, 9]


@needs_numba
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_window_union_equals_reference(seed):
    rng = np.random.default_rng(seed)
    indices, lo, hi = random_ranges(rng, 64, 500)
    a = kernels.window_union(indices, lo, hi, 500)
    b = kernels.window_union_reference(indices, lo, hi, 500)
    assert a[0].dtype == b[0].dtype == np.int64 and a[1].dtype == b[1].dtype == np.int64
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])


def test_split_batch_reference_on_a_known_answer():
    # rows: {0, 2, 4}, {2, 3}, {2, 4}; id 2 is in 3 rows, id 4 in 2 → with threshold 2 both are dense
    offsets, cols = np.array([0, 3, 5, 7]), np.array([0, 2, 4, 2, 3, 2, 4])
    rows, flat, words, dense_x, r_off, r_cols, t_off, t_rows = kernels.split_batch_reference(offsets, cols, 5, 2)
    assert rows.tolist() == [0, 0, 0, 1, 1, 2, 2]
    assert flat.tolist() == [0, 2, 4, 7, 8, 12, 14]
    assert words.tolist() == [2, 4]
    assert dense_x.tolist() == [[1, 1], [1, 0], [1, 1]]
    assert r_off.tolist() == [0, 1, 2, 2] and r_cols.tolist() == [0, 3]
    assert t_off.tolist() == [0, 1, 1, 1, 2, 2] and t_rows.tolist() == [0, 1]


@needs_numba
@pytest.mark.parametrize("threshold", [2, 5, 10**6])
def test_split_batch_equals_reference(threshold):
    rng = np.random.default_rng(threshold)
    indices, lo, hi = random_ranges(rng, 80, 300)
    offsets, cols = kernels.window_union_reference(indices, lo, hi, 300)
    for a, b in zip(
        kernels.split_batch(offsets, cols, 300, threshold), kernels.split_batch_reference(offsets, cols, 300, threshold)
    ):
        assert a.dtype == b.dtype and np.array_equal(a, b)


def loss_inputs(seed, rows, vocab):
    """A random batch (CSR), decoder pre-activations z0 [rows, vocab] and a bias b [vocab]."""
    rng = np.random.default_rng(seed)
    offsets, cols = kernels.window_union_reference(*random_ranges(rng, rows, vocab), vocab)
    z0 = torch.from_numpy(rng.standard_normal((rows, vocab)).astype(np.float32))
    b = torch.from_numpy(rng.standard_normal(vocab).astype(np.float32))
    return offsets, cols, z0, b


@pytest.mark.parametrize("relu", [True, False])
def test_mse_pass_reference_is_the_mse_numerator_and_its_gradient(relu):
    offsets, cols, z0, b = loss_inputs(3, 16, 40)
    x = torch.zeros(16, 40)
    x[np.repeat(np.arange(16), np.diff(offsets)), cols] = 1
    zr = (z0 + b).requires_grad_(True)
    y = torch.relu(zr) if relu else zr
    expect = ((y - x) ** 2).sum()
    expect.backward()
    z = z0.clone()
    value = kernels.mse_pass_reference(z, b, torch.from_numpy(offsets), torch.from_numpy(cols), relu)
    assert value == pytest.approx(float(expect.detach()), rel=1e-5)
    assert torch.allclose(2 * z, zr.grad, atol=1e-5)  # z now holds G = ∂Σ/∂z / 2


@needs_numba
@pytest.mark.parametrize("relu", [True, False])
def test_mse_pass_equals_reference(relu):
    offsets, cols, z0, b = loss_inputs(4, 33, 700)
    za, zb = z0.clone(), z0.clone()
    va = kernels.mse_pass(za, b, torch.from_numpy(offsets), torch.from_numpy(cols), relu)
    vb = kernels.mse_pass_reference(zb, b, torch.from_numpy(offsets), torch.from_numpy(cols), relu)
    assert va == pytest.approx(vb, rel=1e-6)
    assert torch.equal(za, zb)


@needs_numba
def test_mse_pass_does_not_depend_on_the_thread_count():
    rng = np.random.default_rng(5)
    offsets, cols = kernels.window_union_reference(*random_ranges(rng, 64, 900), 900)
    z0 = torch.from_numpy(rng.standard_normal((64, 900)).astype(np.float32))
    b = torch.zeros(900)
    out = []
    try:
        for n in (1, 2):
            kernels.set_threads(n)
            z = z0.clone()
            out.append((kernels.mse_pass(z, b, torch.from_numpy(offsets), torch.from_numpy(cols), True), z))
    finally:
        kernels.set_threads(torch.get_num_threads())
    assert out[0][0] == out[1][0] and torch.equal(out[0][1], out[1][1])


_STEP = """
import sys, numpy as np, torch
sys.path.insert(0, {workflow!r})
from bows import kernels
from bows.fast_step import FastStep, make_batch
from bows.model import TiedAutoencoder
rng = np.random.default_rng(0)
x = rng.random((40, 300)) < 0.08
offsets = np.concatenate([[0], np.cumsum(x.sum(1))]); cols = np.nonzero(x)[1]
m = TiedAutoencoder(300, 17, generator=torch.Generator().manual_seed(3))
m.b.data.uniform_(-0.01, 0.01, generator=torch.Generator().manual_seed(4))
loss = FastStep(m).loss_and_grad(make_batch(offsets, cols, 300))
np.save(sys.argv[1], np.concatenate([[float(loss)], m.E.grad.numpy().ravel(), m.b.grad.numpy()]))
print(kernels.HAVE_NUMBA)
"""


def test_the_step_is_the_same_without_numba(tmp_path):
    """BOWS_NO_NUMBA=1 takes the numpy/torch references: same loss and gradients (to float rounding)."""
    script = tmp_path / "step.py"
    script.write_text(_STEP.format(workflow=str(ROOT / "workflow")))
    got = {}
    for flag in ("", "1"):
        env = {**os.environ, "BOWS_NO_NUMBA": flag}
        if not flag:
            env.pop("BOWS_NO_NUMBA")
        out = tmp_path / f"step{flag}.npy"
        res = subprocess.run(
            [sys.executable, str(script), str(out)], env=env, capture_output=True, text=True, check=True
        )
        got[flag] = (res.stdout.strip(), np.load(out))
    assert got["1"][0] == "False"
    assert np.allclose(got[""][1], got["1"][1], rtol=1e-5, atol=1e-9)


def test_fast_step_matches_autograd_of_the_dense_formula():
    rng = np.random.default_rng(6)
    x = rng.random((24, 200)) < 0.1
    offsets = np.concatenate([[0], np.cumsum(x.sum(1))])
    batch = make_batch(offsets, np.nonzero(x)[1], 200)
    m = TiedAutoencoder(200, 9, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        m.b.uniform_(-0.02, 0.02)
    loss = FastStep(m).loss_and_grad(batch)
    W = m.W.detach().clone().requires_grad_(True)
    b = m.b.detach().clone().requires_grad_(True)
    ref = reference_loss(W, b, torch.from_numpy(x.astype(np.float32)))
    ref.backward()
    assert float(loss) == pytest.approx(float(ref.detach()), rel=1e-5)
    assert torch.allclose(m.E.grad, W.grad.t(), atol=1e-8, rtol=1e-4)
    assert torch.allclose(m.b.grad, b.grad, atol=1e-9, rtol=1e-4)


_THREADS = """
import sys, numpy as np
sys.path.insert(0, {workflow!r})
from bows import jobs, kernels
import numba
jobs.limit_threads(2)  # a job's share larger than the pool numba launched with
offsets, cols = kernels.window_union(np.array([1, 4, 2, 1, 0, 3, 3], dtype=np.uint16), np.array([0, 3]),
                                     np.array([3, 7]), 8)
kernels.split_batch(offsets, cols, 8, 0.5)
jobs.limit_threads(1)
print(numba.get_num_threads(), offsets.tolist(), cols.tolist())
"""


@needs_numba
def test_job_thread_share_never_resizes_numba_pool(tmp_path):
    """A job asking for more threads than numba's pool still compiles its kernels (numba refuses a changed
    NUMBA_NUM_THREADS once its pool runs); the cap follows the job's share."""
    script = tmp_path / "threads.py"
    script.write_text(_THREADS.format(workflow=str(ROOT / "workflow")))
    env = {**os.environ, "NUMBA_NUM_THREADS": "1", "NUMBA_CACHE_DIR": str(tmp_path / "cache")}
    env.pop("BOWS_NUM_THREADS", None)
    res = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr[-2000:]
    assert res.stdout.split(" ", 1)[0] == "1"
    assert res.stdout.split(" ", 1)[1].strip() == "[0, 3, 6] [1, 2, 4, 0, 1, 3]"
