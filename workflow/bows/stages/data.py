"""Rule metrics_data: co-occurrence statistics of every word group over the training windows."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..encode import docs_prefix, load_docs
from ..errors import CorpusError
from ..metrics.tables import save
from ..metrics.words import resolve_groups
from ..stage import Job, Section, Stage
from .common import load_index, sample

# the analysis settings of the data statistics (thresholds and model choices only matter downstream) and the
# windows they count over (the encoding only changes what a model sees)
STAGE = Stage(
    __name__,
    tables=("cooc", "ring", "metrics"),
    sections=(
        Section("analysis", without=("thresholds", "models")),
        Section("windows", without=("encoding", "exclude_cooccurrence")),
    ),
)


def run_data(
    vocab: str,
    train_docs: str,
    train_windows: str,
    out: Mapping[str, str],
    config: Mapping[str, Any],
) -> None:
    """Co-occurrence of every word group over (a seeded subsample of) the training windows. ``config`` holds the
    ``analysis`` and ``windows`` sections (:data:`STAGE`; a whole validated config also serves); the tables'
    sidecars record those sections."""
    from ..metrics.data_stats import group_data_stats  # scipy: not when the workflow is parsed

    config = STAGE.config_slice(config)
    analysis, windows = config["analysis"], config["windows"]
    index, vocab_table = load_index(vocab)
    groups = resolve_groups(analysis["word_groups"], index)
    docs = load_docs(train_docs)
    chosen = np.load(train_windows).astype(np.int64)
    if chosen.size == 0:
        raise CorpusError(f"{train_windows} holds no training windows", "use a larger corpus or smaller group_size")
    chosen = chosen[sample(chosen.size, analysis["max_windows"], int(analysis["seed"]))]
    counts = vocab_table.sort_values("index")["count"].to_numpy()
    cooc, ring, metrics = group_data_stats(
        docs.indptr,
        docs.indices,
        len(index),
        int(windows["group_size"]),
        int(windows["stride"]),
        chosen,
        groups,
        counts,
        index.words,
        int(analysis["cooc_top_words"]),
        int(analysis["null_permutations"]),
        int(analysis["seed"]),
    )
    tables = {"cooc": cooc, "ring": ring, "metrics": metrics}
    inputs = {"vocab": vocab, "docs": train_docs + ".json", "windows": train_windows}
    for name in STAGE.tables:
        save(tables[name], out[name], config, inputs)


def run(job: Job) -> None:
    """Rule metrics_data: the data statistics of the training windows."""
    run_data(
        vocab=job.input.vocab,
        train_docs=docs_prefix(job.input.docs),
        train_windows=job.input.windows,
        out=job.tables(STAGE.tables),
        config=job.config,
    )
