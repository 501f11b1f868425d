"""Rule explorer_model: the interactive HTML explorer of one analysed model (bows.explorer)."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

from ..grid import ModelSpec
from ..stage import Job, Section, Stage

log = logging.getLogger("bows.explorer")

STAGE = Stage(
    __name__,
    files=("html",),
    sections=(Section("analysis", only=("word_groups", "seed")), Section("explorer", only=("neighbours",))),
)


def run_explorer(
    model: str,
    vocab: str,
    out: str,
    analysis: Mapping[str, Any],
    explorer: Mapping[str, Any],
    spec: ModelSpec,
    config: Mapping[str, Any] | None = None,
) -> int:
    """Write the explorer page of ``model``; returns its size in bytes."""
    from ..explorer import explorer_data, write_explorer
    from ..io import write_sidecar
    from .common import load_index, load_model

    t0 = time.perf_counter()
    index, groups, W, _b = load_model(model, vocab, analysis)
    _, table = load_index(vocab)
    cyclic = [k for k, v in analysis["word_groups"].items() if v.get("cyclic")]
    title = f"bows explorer: {spec.variant} L{spec.latent} wd {spec.weight_decay:g} seed {spec.seed}"
    data = explorer_data(W, table, groups, cyclic, int(explorer["neighbours"]), int(analysis["seed"]), title)
    size = write_explorer(out, data)
    write_sidecar(out, config=config, inputs={"model": model, "vocab": vocab}, hash_inputs=False)
    log.info("explorer of %s: %.2f MB in %.1f s", spec.tag, size / 1e6, time.perf_counter() - t0)
    return size


def run(job: Job) -> None:
    run_explorer(
        model=job.input.model,
        vocab=job.input.vocab,
        out=str(job.output.html),
        analysis=job.config["analysis"],
        explorer=job.config["explorer"],
        spec=job.model,
        config=job.config,
    )
