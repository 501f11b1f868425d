"""Rule index_windows: the training and held-out window indices and the windows' statistics (paper §3.4)."""

from __future__ import annotations

from pathlib import Path

from ..corpus import SPLITS
from ..encode import docs_prefix
from ..stage import Job, Section, Stage

# train_windows.npy, heldout_windows.npy and windows.json of one folder; the encoding changes what a model sees,
# not which windows exist
STAGE = Stage(
    __name__,
    files=("train", "heldout", "stats"),
    sections=(Section("windows", without=("encoding", "exclude_cooccurrence")),),
)


def run(job: Job) -> None:
    """Rule index_windows: ``job.input.docs`` holds each split's documents sidecar, in ``bows.corpus.SPLITS``
    order."""
    from ..windows import index_windows  # compiled kernels: not when the workflow is parsed

    docs = list(job.input.docs)
    if len(docs) != len(SPLITS):
        raise ValueError(f"rule {job.rule} gives {len(docs)} documents files; index_windows needs one per {SPLITS}")
    index_windows(
        docs={split: docs_prefix(path) for split, path in zip(SPLITS, docs)},
        out_dir=Path(job.output.stats).parent,
        cfg=job.config["windows"],
    )
