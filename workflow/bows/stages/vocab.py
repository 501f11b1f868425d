"""Rule build_vocab: the vocabulary of the train split (paper §3.3)."""

from __future__ import annotations

from ..stage import Job, Stage
from ..vocab import build_vocab

STAGE = Stage(__name__, files=("vocab",), sections=("vocab",))


def run(job: Job) -> None:
    """Rule build_vocab: ``vocab.tsv`` and its sidecar from the train split's parquet."""
    build_vocab(train=job.input.train, out=job.output.vocab, cfg=job.config["vocab"], threads=job.threads)
