"""What bench/train_step.py and bench/gpu_check.py share: WikiText-shaped windows and the timing of one step.

* data: documents drawn so that a window of G of them holds a given mean number of distinct ids, Zipfian over the
  vocabulary (:func:`zipf_docs`; at V = 10,000 and G = 20 the paper's ≈ 338 ids per window);
* the step as training runs it (:func:`step_fn`: fast step, AdamW, cosine schedule) and its floor, the three dense
  products every exact step needs (:func:`floor_ms`), timed between two synchronisations on any device
  (:func:`step_ms`: batches already on the device, and as training delivers them).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "workflow"))

from bows.batches import batches, build_batch, epoch_order  # noqa: E402
from bows.encode import Docs  # noqa: E402
from bows.fast_step import FastStep  # noqa: E402
from bows.model import TiedAutoencoder  # noqa: E402
from bows.optim import make_optimizer, make_scheduler  # noqa: E402
from bows.windows import Windows  # noqa: E402


def zipf_presence(vocab: int, mean_ids: float) -> np.ndarray:
    """p_w = min(1, c/(w+10)), c set by bisection so that Σ_w p_w = ``mean_ids``."""
    rank = np.arange(vocab, dtype=np.float64)
    lo, hi = 1e-6, 1e6
    for _ in range(100):
        c = (lo * hi) ** 0.5
        if np.minimum(1.0, c / (rank + 10)).sum() > mean_ids:
            hi = c
        else:
            lo = c
    return np.minimum(1.0, c / (rank + 10))


def zipf_docs(n_docs: int, vocab: int, mean_ids: float, group: int, rng: np.random.Generator) -> Docs:
    """Documents whose windows of ``group`` consecutive ones hold ``mean_ids`` distinct ids on average: word w is in a
    document with probability 1 − (1 − p_w)^(1/group), so in a window with probability p_w (:func:`zipf_presence`)."""
    p_doc = 1.0 - (1.0 - zipf_presence(vocab, mean_ids)) ** (1.0 / group)
    counts, cols = [], []
    for s in range(0, n_docs, 1000):
        x = rng.random((min(1000, n_docs - s), vocab)) < p_doc
        counts.append(x.sum(1))
        cols.append(np.nonzero(x)[1].astype(np.uint16))
    indptr = np.zeros(n_docs + 1, dtype=np.int64)
    np.cumsum(np.concatenate(counts), out=indptr[1:])
    return Docs(indptr=indptr, indices=np.concatenate(cols), vocab_size=vocab)


def sync(dev: torch.device) -> None:
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


def set_tf32(dev: torch.device, on: bool) -> None:
    if dev.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = on
        torch.backends.cudnn.allow_tf32 = on


def step_fn(model: TiedAutoencoder, prec: str = "fp32", total_steps: int = 100_000):
    """The training step of ``model`` (loss and gradients, AdamW, cosine schedule) as a function of a batch."""
    opt = make_optimizer(model, 5e-4, (0.9, 0.999), 1e-8, 1.0)
    sched = make_scheduler(opt, total_steps)
    fast = FastStep(model, torch.bfloat16 if prec == "bf16" else None)

    def step(batch) -> torch.Tensor:
        loss = fast.loss_and_grad(batch)
        opt.step()
        sched.step()
        return loss

    return step


def floor_ms(dev: torch.device, V: int, L: int, prec: str, reps: int = 20) -> float:
    """The three dense products of a step (z = h Eᵀ, ∂h = G E, ∂E = Gᵀ h), ms."""
    set_tf32(dev, prec == "tf32")
    dt = torch.bfloat16 if prec == "bf16" else torch.float32
    h, E, G = (torch.randn(*shape, device=dev, dtype=dt) for shape in ((512, L), (V, L), (512, V)))
    for _ in range(3):
        h @ E.t(), G @ E, G.t() @ h
    sync(dev)
    t0 = time.perf_counter()
    for _ in range(reps):
        h @ E.t(), G @ E, G.t() @ h
    sync(dev)
    set_tf32(dev, False)
    return (time.perf_counter() - t0) / reps * 1e3


def step_ms(dev: torch.device, windows: Windows, V: int, L: int, prec: str, steps: int, workers: int) -> dict:
    """ms per step with batches already on the device, and as training runs it (loader threads + copies)."""
    set_tf32(dev, prec == "tf32")
    step = step_fn(TiedAutoencoder(V, L, generator=torch.Generator().manual_seed(1)).to(dev), prec)
    idx = np.resize(epoch_order(len(windows), 1, 0), steps * 512)
    resident = [build_batch(windows, idx[k * 512 : (k + 1) * 512], V) for k in range(min(20, steps))]
    resident = [b.to(dev) for b in resident if b is not None]
    for k in range(3):
        step(resident[k % len(resident)])
    sync(dev)
    t0 = time.perf_counter()
    for k in range(steps):
        step(resident[k % len(resident)])
    sync(dev)
    device_ms = (time.perf_counter() - t0) / steps * 1e3
    t0 = time.perf_counter()
    for batch in batches(windows, idx, 512, V, workers=workers, device=dev):
        if batch is not None:
            step(batch)
    sync(dev)
    trained_ms = (time.perf_counter() - t0) / steps * 1e3
    set_tf32(dev, False)
    return {"device_batches_ms": round(device_ms, 3), "as_trained_ms": round(trained_ms, 3)}
