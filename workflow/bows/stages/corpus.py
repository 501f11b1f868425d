"""Rule prepare_corpus: the configured corpus source as one parquet per split and a summary."""

from __future__ import annotations

from ..corpus import SPLITS, prepare_corpus
from ..stage import Job, Section, Stage

# every split must hold a window, so the corpus checks the group size too
STAGE = Stage(
    __name__,
    files=(*SPLITS, "summary"),
    sections=("corpus", Section("windows", only=("group_size",))),
)


def run(job: Job) -> None:
    """Rule prepare_corpus: ``{split}.parquet`` of every split and ``summary.json``."""
    prepare_corpus(
        cfg=job.config["corpus"],
        out={split: job.output[split] for split in SPLITS},
        summary=job.output.summary,
        group_size=int(job.config["windows"]["group_size"]),
    )
