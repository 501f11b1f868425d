"""Rule references_data: the data's geometry of the analysed words (PPMI and phi rows over the vocabulary)."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

import numpy as np

from ...stage import Job, Section, Stage

log = logging.getLogger("bows.references")

STAGE = Stage(
    __name__,
    files=("rows",),
    sections=(
        Section("references", only=("top_words",)),
        Section("analysis", only=("word_groups", "max_windows", "seed")),
        Section("windows", only=("group_size", "stride")),
    ),
)


def run_data(
    vocab: str,
    docs: str,
    train_windows: str,
    out: str,
    top_words: int,
    analysis: Mapping[str, Any],
    windows: Mapping[str, Any],
    config: Mapping[str, Any] | None = None,
) -> None:
    """PPMI and phi rows of the analysed words over (a seeded sample of) the training windows, as one
    representation ``data`` with layers ``ppmi`` and ``phi``."""
    from ...encode import load_docs
    from ...io import write_sidecar
    from ...metrics.context_rows import cooccurrence_counts, phi_rows, ppmi_rows
    from ...references.store import Representation, save_representation
    from ...references.words import analysed_words_of
    from ...windows import Windows
    from ..common import sample

    analysed = analysed_words_of(vocab, analysis["word_groups"], int(top_words))
    win = Windows(load_docs(docs), int(windows["group_size"]), int(windows["stride"]))
    widx = np.load(train_windows).astype(np.int64)
    widx = widx[sample(widx.size, analysis["max_windows"], int(analysis["seed"]))]
    t0 = time.perf_counter()
    N, ni, nj, nij = cooccurrence_counts(win, widx, analysed.vocab_ids)
    log.info("co-occurrence of %d words with %d over %d windows: %.1f s", len(ni), len(nj), N, time.perf_counter() - t0)
    X = np.stack([ppmi_rows(N, ni, nj, nij, analysed.vocab_ids), phi_rows(N, ni, nj, nij, analysed.vocab_ids)])
    rep = Representation("data", analysed.words, ["ppmi", "phi"], np.zeros(2, np.int64), X.astype(np.float32))
    save_representation(out, rep)
    write_sidecar(
        out,
        config,
        {"vocab": vocab, "docs": docs + ".json", "windows": train_windows},
        windows_used=N,
        windows_per_word=dict(zip(analysed.words, ni.tolist())),
    )


def run(job: Job) -> None:
    """Rule references_data."""
    run_data(
        vocab=job.input.vocab,
        docs=str(job.input.docs).removesuffix(".json"),
        train_windows=job.input.windows,
        out=str(job.output.rows),
        top_words=int(job.config["references"]["top_words"]),
        analysis=job.config["analysis"],
        windows=job.config["windows"],
        config=job.config,
    )
