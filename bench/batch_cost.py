"""Training cost per window against the batch size, measured on the bundled corpus's real windows.

    .venv/bin/python bench/batch_cost.py [--docs results/wiki-bundled/V5000/docs/train]
        [--windows results/wiki-bundled/V5000_G20_S1/train_windows.npy] [--latents 25 400]
        [--batches 32 64 128 512] [--n 8192] [--rounds 2] [--threads 2]

The decay exposure E = wd · Σ_t lr_t grows with the number of steps, so a smaller batch buys exposure; this bench
measures what it costs. For every (latent, batch) one epoch of the real trainer (bows.train.Trainer: batches built
from the virtual windows, fast step, AdamW, cosine schedule) runs over the same ``n`` windows; rounds interleave the
settings so a shared machine's load hits all alike. Prints µs per window and the ratio to batch 512, and the load.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "workflow"))
from bows.batches import TrainData  # noqa: E402
from bows.encode import load_docs  # noqa: E402
from bows.grid import ModelSpec  # noqa: E402
from bows.train import Trainer  # noqa: E402
from bows.train_settings import TrainSettings  # noqa: E402
from bows.windows import Windows  # noqa: E402


def one_epoch(win: Windows, idx: np.ndarray, latent: int, batch: int) -> float:
    s = TrainSettings.default(epochs=1, batch_size=batch, progress=False)
    data = TrainData(win, win.vocab_size, idx, np.zeros(0, np.int64))
    tr = Trainer(data, ModelSpec("relu", latent, 1.0, 1), s)
    t0 = time.perf_counter()
    tr.train_epoch()
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", default="results/wiki-bundled/V5000/docs/train")
    ap.add_argument("--windows", default="results/wiki-bundled/V5000_G20_S1/train_windows.npy")
    ap.add_argument("--latents", type=int, nargs="+", default=[25, 400])
    ap.add_argument("--batches", type=int, nargs="+", default=[32, 64, 128, 512])
    ap.add_argument("--n", type=int, default=8192)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    win = Windows(load_docs(a.docs, mmap=True), 20, 1)
    idx = np.load(a.windows)[: a.n].astype(np.int64)
    one_epoch(win, idx[:1024], min(a.latents), min(a.batches))  # compile the kernels before timing
    times: dict[tuple[int, int], list[float]] = {}
    for _ in range(a.rounds):
        for L in a.latents:
            for B in a.batches:
                times.setdefault((L, B), []).append(one_epoch(win, idx, L, B))
    print(f"load average {os.getloadavg()}, {a.threads} threads, {len(idx)} windows, V={win.vocab_size}")
    print("latent batch us_per_window ratio_to_512")
    for L in a.latents:
        ref = statistics.median(times[(L, 512)]) if (L, 512) in times else float("nan")
        for B in a.batches:
            t = statistics.median(times[(L, B)])
            print(f"{L:6d} {B:5d} {1e6 * t / len(idx):13.1f} {t / ref:12.2f}")


if __name__ == "__main__":
    main()
