"""Rule synthetic_data: one structure's binary samples with their split and covariance (:func:`..runs.make_data`)."""

from __future__ import annotations

from ...stage import Job, Stage
from ..runs import make_data

STAGE = Stage(__name__, files=("npz", "json"), sections=("synthetic",))


def run(job: Job) -> None:
    make_data(job.wildcards["structure"], job.config["synthetic"], job.output.npz, job.output.json)
