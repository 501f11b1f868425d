"""Rule synthetic_train: every model of one structure, trained at once (:func:`..runs.train_structure`)."""

from __future__ import annotations

from ...stage import Job, Stage
from ..runs import train_structure

STAGE = Stage(__name__, files=("models", "json"), sections=("synthetic",))


def run(job: Job) -> None:
    train_structure(
        job.wildcards["structure"],
        job.config["synthetic"],
        job.input.npz,
        job.output.models,
        job.output.json,
        threads=job.threads,
    )
