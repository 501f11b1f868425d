"""Time and memory of the principal subspaces at the paper's V = 10,000 (bows.metrics.subspace).

    .venv/bin/python bench/subspace.py [--vocab 10000] [--windows 50000] [--ids 338] [--k 1000] [--threads 2]

Windows are drawn Zipfian over the vocabulary with about ``ids`` distinct ids each (the paper's G = 20 windows hold
338 at V = 10,000), ``windows`` of them as the metrics stage samples (analysis.subspace_windows). Times the three
steps the metrics_subspace rule runs: the second-moment accumulation (compiled kernel), the top-k eigenvectors of
the second moment and of the covariance (randomised subspace iteration above V = 6,000); prints the peak resident
memory of the process, the load average, and the accuracy of the randomised eigenvalues against an exact ``eigh``
of the same matrix when ``--check`` is given (slow at V = 10,000).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "workflow"))
from bows import kernels  # noqa: E402
from bows.metrics import subspace as sub  # noqa: E402


def zipf_batches(V: int, n: int, ids: int, seed: int = 0, batch: int = 4096):
    rng = np.random.default_rng(seed)
    p = 1.0 / np.arange(1, V + 1)
    p /= p.sum()
    for s in range(0, n, batch):
        B = min(batch, n - s)
        draws = rng.choice(V, size=(B, int(ids * 1.6)), p=p)  # duplicates drop out to about ``ids`` distinct ids
        rows = [np.unique(r) for r in draws]
        offsets = np.concatenate([[0], np.cumsum([len(r) for r in rows])]).astype(np.int64)
        cols = np.concatenate(rows).astype(np.int64)
        yield offsets, cols, np.ones(len(cols), np.float32)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--vocab", type=int, default=10000)
    ap.add_argument("--windows", type=int, default=50000)
    ap.add_argument("--ids", type=int, default=338)
    ap.add_argument("--k", type=int, default=1000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--check", action="store_true")
    a = ap.parse_args()
    kernels.set_threads(a.threads)
    batches = list(zipf_batches(a.vocab, a.windows, a.ids))
    mean_ids = batches[0][0][-1] / (len(batches[0][0]) - 1)
    t0 = time.perf_counter()
    M, mu, n = sub.window_moments(iter(batches), a.vocab)
    t1 = time.perf_counter()
    ref = M.copy() if a.check else None
    out = sub.principal_subspaces(M, mu, a.k)
    t2 = time.perf_counter()
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    print(
        f"V={a.vocab} windows={n} mean ids/window={mean_ids:.0f} k={a.k} method={out['method']} "
        f"threads={a.threads} load={os.getloadavg()}"
    )
    print(
        f"moments {t1 - t0:.1f} s, eigenvectors (moment + covariance) {t2 - t1:.1f} s, total {t2 - t0:.1f} s, "
        f"peak RSS {peak_gb:.2f} GB"
    )
    if ref is not None:
        exact = np.linalg.eigvalsh(ref)[::-1][: a.k]
        err = np.abs(out["moment_values"] - exact) / exact
        print(f"randomised vs exact eigenvalues (second moment): max rel. error {err.max():.2e}, at k: {err[-1]:.2e}")


if __name__ == "__main__":
    main()
