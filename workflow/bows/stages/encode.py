"""Rule encode_docs: one split's records as CSR token ids (paper §3.4)."""

from __future__ import annotations

from ..encode import docs_prefix, encode_docs
from ..stage import Job, Stage

# the split's two CSR arrays and its JSON sidecar, written under one prefix (bows.encode.SUFFIXES)
STAGE = Stage(__name__, files=("indptr", "indices", "meta"), sections=("vocab",))


def run(job: Job) -> None:
    """Rule encode_docs: tokenise the split's parquet with the vocabulary's tokeniser settings."""
    encode_docs(
        corpus=job.input.corpus,
        vocab=job.input.vocab,
        out=docs_prefix(job.output.meta),
        cfg=job.config["vocab"],
        threads=job.threads,
    )
