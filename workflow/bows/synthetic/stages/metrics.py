"""Rule synthetic_metrics: the metrics and trace-normalised Gram matrices of one structure's models
(:func:`..pipeline.compute_metrics`)."""

from __future__ import annotations

from ...stage import Job, Stage
from ..pipeline import compute_metrics

STAGE = Stage(__name__, tables=("metrics", "gram"), sections=("synthetic",))


def run(job: Job) -> None:
    out = job.tables(STAGE.tables)
    compute_metrics(
        job.wildcards["structure"],
        job.config["synthetic"],
        job.input.npz,
        job.input.models,
        out["metrics"],
        out["gram"],
    )
