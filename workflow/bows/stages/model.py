"""Rule metrics_model: every per-model metric of one grid model."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping
from typing import Any

from ..grid import ModelSpec
from ..stage import Job, Section, Stage

log = logging.getLogger("bows.metrics")

# the analysis settings a per-model job depends on (thresholds and model choices only matter downstream)
STAGE = Stage(
    __name__,
    tables=("metrics", "words", "groups", "gram"),
    sections=(Section("analysis", without=("thresholds", "models")),),
)

# Peak bytes per weight of the metric job, above a fixed 800 MB: float64 working copies of W and of its normalised
# columns, the SVD's factors and the Gram blocks. The paper-shape rehearsal (V = 10,000; bench/README.md) measured
# 774 / 1,696 / 3,955 MB at L = 1,000 / 4,000 / 10,000, i.e. about 31 bytes per weight above ~450 MB.
BYTES_PER_WEIGHT = 48
BASE_MB = 800


def memory_estimate_mb(latent: int, vocab_size: int) -> int:
    """The memory a metrics_model job asks for, in MB (the rule's ``mem_mb``; SLURM kills a job above it)."""
    return BASE_MB + int(math.ceil(BYTES_PER_WEIGHT * latent * vocab_size / 1e6))


def run_model(
    model: str,
    vocab: str,
    cooc: str | None,
    out: Mapping[str, str],
    spec: ModelSpec,
    config: Mapping[str, Any],
    subspace: str | None = None,
) -> None:
    """Every per-model metric of the model ``spec`` (file ``model``), with the principal-subspace overlap when
    ``subspace`` names the eigenvector file. ``config`` holds the ``analysis`` section (:data:`STAGE`; a whole
    validated config also serves)."""
    # imported here: metrics.smk reads memory_estimate_mb when the workflow is parsed, and should not load scipy
    import pandas as pd

    from ..metrics.model_metrics import model_metrics
    from ..metrics.subspace import load_subspace, subspace_metrics
    from ..metrics.tables import Rows, save
    from .common import load_model

    config = STAGE.config_slice(config)
    analysis = config["analysis"]
    index, groups, W, b = load_model(model, vocab, analysis)
    cooc_df = pd.read_parquet(cooc) if cooc else None
    rows = Rows(spec)
    t0 = time.perf_counter()
    words, groups_table, gram = model_metrics(
        W,
        b,
        index,
        groups,
        rows,
        cooc_df,
        int(analysis["null_permutations"]),
        int(analysis["seed"]),
        int(analysis["knn_k"]),
    )
    values, status = subspace_metrics(W, load_subspace(subspace) if subspace else None)
    always = ("frob2_per_latent", "random_baseline")
    rows.add_many("subspace", {k: values.pop(k) for k in always})
    rows.add_many("subspace", values, status=status)
    log.info("model metrics of %s in %.1f s", spec.tag, time.perf_counter() - t0)
    tables = {"metrics": rows.frame(), "words": words, "groups": groups_table, "gram": gram}
    for name in STAGE.tables:
        save(tables[name], out[name], config, {"model": model, "vocab": vocab})


def run(job: Job) -> None:
    """Rule metrics_model: the metrics of the grid model that the job's wildcards name."""
    run_model(
        model=job.input.model,
        vocab=job.input.vocab,
        cooc=job.input.cooc,
        out=job.tables(STAGE.tables),
        spec=job.model,
        config=job.config,
        subspace=job.input.subspace,
    )
