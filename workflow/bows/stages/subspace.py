"""Rule metrics_subspace: the training windows' top principal subspaces (see :mod:`bows.metrics.subspace`)."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..metrics.subspace import principal_subspaces, save_subspace, window_moments
from .common import sample

log = logging.getLogger("bows.metrics")


def run_subspace(
    train_docs: str, train_windows: str, out: str, analysis: Mapping[str, Any], windows: Mapping[str, Any], k: int
) -> dict[str, Any]:
    """Top-k eigenvectors of the windows' second moment and covariance, from a seeded sample of
    ``analysis.subspace_windows`` training windows (at most ``analysis.max_windows``)."""
    from ..encode import load_docs
    from ..windows import Windows

    docs = load_docs(train_docs, mmap=True)
    win = Windows(docs, int(windows["group_size"]), int(windows["stride"]))
    widx = np.load(train_windows).astype(np.int64)
    cap = min(int(analysis["subspace_windows"]), int(analysis["max_windows"] or widx.size))
    seed = int(analysis["seed"])
    widx = widx[sample(widx.size, cap, seed)]
    enc = windows["encoding"]
    t0 = time.perf_counter()
    batches = (win.batch_values(widx[s : s + 4096], enc) for s in range(0, widx.size, 4096))
    M, mu, n = window_moments(batches, win.vocab_size)
    log.info("second moments of %d %s windows in %.1f s", n, enc, time.perf_counter() - t0)
    sub = principal_subspaces(M, mu, min(int(k), win.vocab_size), seed)
    save_subspace(out, sub, n)
    return sub
