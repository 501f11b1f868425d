"""Rule metrics_dynamics: the geometry of one trained model at each of its snapshots over training."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..grid import ModelSpec
from ..stage import Job, Section, Stage

log = logging.getLogger("bows.metrics")

STAGE = Stage(
    __name__,
    tables=("dynamics",),
    sections=(
        Section("analysis", only=("word_groups", "null_permutations", "seed")),
        # what the held-out loss is, as the trainer evaluates it
        Section("train", only=("batch_size", "eval_batches", "loss", "latent_relu")),
        Section("windows", only=("group_size", "stride", "encoding")),
    ),
)


BLOCK = 1024  # held-out windows per product (bows.metrics.dynamics.heldout_batches)


def memory_estimate_mb(latent: int, vocab_size: int, count: int) -> int:
    """The job's memory in MB: every snapshot's W in float32 and its float64 working copies for one at a time, a
    dense block of held-out windows and its activations, and 800 MB for Python, torch and the data."""
    weights = 4 * count * latent * vocab_size + 3 * 8 * latent * vocab_size
    batch = 4 * 4 * BLOCK * vocab_size
    return 800 + int(math.ceil((weights + batch) / 1e6))


def run_dynamics(
    index: str,
    run_json: str,
    vocab: str,
    subspace: str | None,
    docs: str,
    heldout_windows: str,
    out: str,
    analysis: Mapping[str, Any],
    train: Mapping[str, Any],
    windows: Mapping[str, Any],
    spec: ModelSpec,
    config: Mapping[str, Any] | None = None,
) -> None:
    """The dynamics table of the model whose snapshot ``index`` (index.json) and ``run_json`` are given."""
    import numpy as np

    from ..encode import load_docs
    from ..exposure import exposure_reached
    from ..io import read_json
    from ..metrics.dynamics import dynamics_table, heldout_batches, heldout_loss
    from ..metrics.subspace import load_subspace
    from ..metrics.tables import save
    from ..metrics.words import resolve_groups
    from ..snapshots import load_snapshots, read_index
    from ..windows import Windows
    from .common import check_vocab_size, load_index

    t0 = time.perf_counter()
    folder = Path(index).parent
    meta = read_index(folder)
    snaps = load_snapshots(folder)
    steps = [s for s, _, _ in snaps]
    weights = [(W, b) for _, W, b in snaps]
    word_index, _ = load_index(vocab)
    check_vocab_size(weights[0][0], word_index, str(folder))
    cyclic = {k: v for k, v in analysis["word_groups"].items() if v.get("cyclic")}
    groups = resolve_groups(cyclic, word_index)
    run = read_json(run_json)
    lr, total = float(run["train"]["lr"]), int(meta["total_steps"])
    exposure = exposure_reached(spec.weight_decay, lr, total, steps)
    lr_sums = exposure_reached(1.0, lr, total, steps)
    win = Windows(load_docs(docs, mmap=True), int(windows["group_size"]), int(windows["stride"]))
    batches = heldout_batches(
        win,
        np.load(heldout_windows, mmap_mode="r"),
        int(train["batch_size"]),
        str(windows["encoding"]),
        train["eval_batches"],
        BLOCK,
    )
    losses = heldout_loss(weights, batches, spec.variant, bool(train["latent_relu"]), str(train["loss"]))
    sub = load_subspace(subspace) if subspace else None
    n_perm, seed = int(analysis["null_permutations"]), int(analysis["seed"])
    table = dynamics_table(spec, steps, weights, exposure, lr_sums, losses, sub, groups, n_perm, seed)
    log.info("dynamics of %s over %d snapshots in %.1f s", spec.tag, len(steps), time.perf_counter() - t0)
    save(table, out, config, {"snapshots": index, "run": run_json, "vocab": vocab})


def run(job: Job) -> None:
    """Rule metrics_dynamics: the dynamics of the grid model that the job's wildcards name."""
    run_dynamics(
        index=job.input.index,
        run_json=job.input.run,
        vocab=job.input.vocab,
        subspace=job.input.subspace,
        docs=job.params["docs"],
        heldout_windows=job.input.heldout_windows,
        out=job.tables(STAGE.tables)["dynamics"],
        analysis=job.config["analysis"],
        train=job.config["train"],
        windows=job.config["windows"],
        spec=job.model,
        config=job.config,
    )
