"""Rule metrics_subspace: the training windows' top principal subspaces (see :mod:`bows.metrics.subspace`)."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..encode import docs_prefix, load_docs
from ..stage import Job, Section, Stage
from .common import sample

log = logging.getLogger("bows.metrics")

# the sample's settings and the windows in the run's encoding (the models' input)
STAGE = Stage(
    __name__,
    files=("subspace",),
    sections=(
        Section("analysis", only=("subspace_windows", "max_windows", "seed")),
        Section("windows", without=("exclude_cooccurrence",)),
    ),
)

BATCH = 4096  # windows per dense batch of the second-moment pass


def run_subspace(train_docs: str, train_windows: str, out: str, config: Mapping[str, Any], k: int) -> dict[str, Any]:
    """Top-k eigenvectors of the windows' second moment and covariance, from a seeded sample of
    ``analysis.subspace_windows`` training windows (at most ``analysis.max_windows``). ``config`` holds the
    ``analysis`` and ``windows`` sections (:data:`STAGE`; a whole validated config also serves)."""
    # compiled kernels: not when the workflow is parsed
    from ..metrics.subspace import principal_subspaces, save_subspace, window_moments
    from ..windows import Windows

    config = STAGE.config_slice(config)
    analysis, windows = config["analysis"], config["windows"]
    docs = load_docs(train_docs, mmap=True)
    train = Windows(docs, int(windows["group_size"]), int(windows["stride"]))
    chosen = np.load(train_windows).astype(np.int64)
    cap = min(int(analysis["subspace_windows"]), int(analysis["max_windows"] or chosen.size))
    seed = int(analysis["seed"])
    chosen = chosen[sample(chosen.size, cap, seed)]
    encoding = windows["encoding"]
    t0 = time.perf_counter()
    batches = (train.batch_values(chosen[s : s + BATCH], encoding) for s in range(0, chosen.size, BATCH))
    M, mu, n = window_moments(batches, train.vocab_size)
    log.info("second moments of %d %s windows in %.1f s", n, encoding, time.perf_counter() - t0)
    sub = principal_subspaces(M, mu, min(int(k), train.vocab_size), seed)
    save_subspace(out, sub, n)
    return sub


def run(job: Job) -> None:
    """Rule metrics_subspace: ``job.params.k`` eigenvectors (the grid's largest latent size, capped)."""
    run_subspace(
        train_docs=docs_prefix(job.input.docs),
        train_windows=job.input.windows,
        out=job.output.subspace,
        config=job.config,
        k=int(job.params["k"]),
    )
